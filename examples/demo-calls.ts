/**
 * What the demo asks the example API and what it expects back, and how the
 * answers are printed.
 */
/** Organizations of the demo (ZITADEL's are numeric ids; these read better in a table). */
export const ACME_ORG = 'acme';
export const GLOBEX_ORG = 'globex';

/**
 * One caller of the demo: a label and the `Authorization` header it sends
 * (`undefined`: none).
 *
 * @example
 * ```ts
 * const caller: Caller = { label: 'no token', authorization: undefined };
 * ```
 */
export interface Caller {
  label: string;
  authorization: string | undefined;
}

/**
 * One call of the plan.
 *
 * @example
 * ```ts
 * const call: PlannedCall = { caller: 'reader', method: 'GET', path: '/api/reports', expected: 200 };
 * ```
 */
export interface PlannedCall {
  /** The `label` of a {@link Caller}. */
  caller: string;
  method: 'GET' | 'POST';
  path: string;
  expected: number;
}

/**
 * A call made: the plan plus what the API answered.
 *
 * @example
 * ```ts
 * const [first] = await makeCalls(api.url, callers, plan);
 * first.status === first.expected;
 * ```
 */
export interface CallResult extends PlannedCall {
  status: number;
  /** `ok` for 2xx, else `error: error_description` of the JSON body. */
  why: string;
  body: unknown;
}

/**
 * The callers the demo creates, by label.
 *
 * @example
 * ```ts
 * const reader = callers.find((caller) => caller.label === CALLERS.reader);
 * ```
 */
export const CALLERS = {
  reader: 'reader (JWT-bearer key)',
  admin: 'globex-admin (client credentials)',
  pat: 'cron (PAT, no roles)',
  anonymous: 'no token',
  garbage: 'garbage token',
} as const;

const invoices = (orgId: string) => `/api/orgs/${orgId}/invoices`;

/**
 * Every route of the example API for each service user, and the two calls
 * that never reach a guard. The reader has `reader` in acme and asked for
 * the `profile` scope; globex-admin has `admin` and `billing-admin` in
 * globex; the PAT has no role (PATs carry `profile`).
 *
 * @example
 * ```ts
 * for (const call of DEMO_PLAN) console.log(call.method, call.path, call.expected);
 * ```
 */
export const DEMO_PLAN: readonly PlannedCall[] = [
  { caller: CALLERS.reader, method: 'GET', path: '/api/me', expected: 200 },
  { caller: CALLERS.reader, method: 'GET', path: '/api/reports', expected: 200 },
  { caller: CALLERS.reader, method: 'POST', path: '/api/admin', expected: 403 },
  { caller: CALLERS.reader, method: 'GET', path: invoices(ACME_ORG), expected: 403 },
  { caller: CALLERS.reader, method: 'GET', path: '/api/profile', expected: 200 },
  { caller: CALLERS.admin, method: 'GET', path: '/api/me', expected: 200 },
  { caller: CALLERS.admin, method: 'GET', path: '/api/reports', expected: 403 },
  { caller: CALLERS.admin, method: 'POST', path: '/api/admin', expected: 200 },
  { caller: CALLERS.admin, method: 'GET', path: invoices(GLOBEX_ORG), expected: 200 },
  { caller: CALLERS.admin, method: 'GET', path: invoices(ACME_ORG), expected: 403 },
  { caller: CALLERS.admin, method: 'GET', path: '/api/profile', expected: 403 },
  { caller: CALLERS.pat, method: 'GET', path: '/api/me', expected: 200 },
  { caller: CALLERS.pat, method: 'GET', path: '/api/reports', expected: 403 },
  { caller: CALLERS.pat, method: 'POST', path: '/api/admin', expected: 403 },
  { caller: CALLERS.pat, method: 'GET', path: invoices(GLOBEX_ORG), expected: 403 },
  { caller: CALLERS.pat, method: 'GET', path: '/api/profile', expected: 200 },
  { caller: CALLERS.anonymous, method: 'GET', path: '/api/reports', expected: 401 },
  { caller: CALLERS.garbage, method: 'GET', path: '/api/reports', expected: 401 },
];

/**
 * Makes the planned calls one after another against `baseUrl`.
 *
 * @example
 * ```ts
 * const results = await makeCalls('http://127.0.0.1:3000', callers, DEMO_PLAN);
 * ```
 */
export async function makeCalls(
  baseUrl: string,
  callers: readonly Caller[],
  plan: readonly PlannedCall[],
): Promise<CallResult[]> {
  const results: CallResult[] = [];
  for (const call of plan) {
    const caller = callers.find((candidate) => candidate.label === call.caller);
    if (!caller) throw new Error(`no caller labelled ${call.caller}`);
    const headers: Record<string, string> = caller.authorization
      ? { authorization: caller.authorization }
      : {};
    const response = await fetch(`${baseUrl}${call.path}`, { method: call.method, headers });
    const body = parseBody(await response.text());
    results.push({ ...call, status: response.status, why: whyOf(response.ok, body), body });
  }
  return results;
}

/**
 * The results as a table: ✓/✗, caller, request, status (with the expected
 * one when it differs), why.
 *
 * @example
 * ```ts
 * console.log(formatTable(results));
 * ```
 */
export function formatTable(results: readonly CallResult[]): string {
  const rows = results.map((result) => [
    result.status === result.expected ? '✓' : '✗',
    result.caller,
    `${result.method} ${result.path}`,
    result.status === result.expected
      ? String(result.status)
      : `${result.status} (expected ${result.expected})`,
    result.why,
  ]);
  const header = [' ', 'caller', 'request', 'status', 'why'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column].length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column])))
      .join('  ');
  const rule = widths.map((width) => '─'.repeat(width)).join('  ');
  return [line(header), rule, ...rows.map(line)].join('\n');
}

function whyOf(ok: boolean, body: unknown): string {
  if (ok) return 'ok';
  const { error, error_description: description } = (body ?? {}) as Record<string, unknown>;
  if (typeof error !== 'string') return 'no error in the body';
  return typeof description === 'string' ? `${error}: ${description}` : error;
}

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
