/**
 * `npm start`: the example API against a local ZITADEL, called by three
 * service users (a key file, a client secret, a PAT), an anonymous caller
 * and a garbage token. Prints who got what and why, the cache counters,
 * then keeps the API running with ready-to-paste curl lines.
 *
 *   npm start              the table, then the API stays up until Ctrl-C
 *   npm start -- --once    the table and exit: 0 when every status is as expected
 *   PORT=3000 npm start    the API on a fixed port (default: a free one)
 */
import { serviceUserTokenSource, zitadelAuth, type IntrospectorStats } from '../lib';
import { startLocalZitadel } from '../lib/testing';
import { createApi } from './api';
import {
  ACME_ORG,
  CALLERS,
  DEMO_PLAN,
  GLOBEX_ORG,
  formatTable,
  makeCalls,
  type CallResult,
  type Caller,
  type PlannedCall,
} from './demo-calls';
import { formatStats, listen, projectScopes, type Output } from './shared';

/**
 * The demo after its calls: what happened, and the running API.
 *
 * @example
 * ```ts
 * const demo = await startDemo();
 * process.exitCode = demo.ok ? 0 : 1;
 * await demo.close();
 * ```
 */
export interface Demo {
  /** Every status as expected, and `GET /api/me` did not give the token away. */
  ok: boolean;
  results: CallResult[];
  stats: IntrospectorStats;
  apiUrl: string;
  /** Ready-to-paste curl lines with tokens of the local issuer. */
  curlLines: string[];
  /** Stops the API, the introspector and the local ZITADEL. */
  close(): Promise<void>;
}

/**
 * Options of {@link startDemo}.
 *
 * @example
 * ```ts
 * const demo = await startDemo({ port: 3000, out: console });
 * ```
 */
export interface DemoOptions {
  /** Port of the example API (default 0: a free one). */
  port?: number;
  out?: Output;
  /** The calls to make (default {@link DEMO_PLAN}). */
  plan?: readonly PlannedCall[];
}

/**
 * Starts the local ZITADEL and the example API, makes the demo's calls and
 * prints the table and the cache counters to `out`.
 *
 * @example
 * ```ts
 * const demo = await startDemo({ port: 3000 });
 * console.log(demo.curlLines.join('\n'));
 * ```
 */
export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const out = options.out ?? console;
  out.log('Starting a local ZITADEL (oidc-provider) and the example API …');
  const zitadel = await startLocalZitadel();
  const closers: (() => Promise<void>)[] = [() => zitadel.close()];
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      for (const closer of [...closers].reverse()) await closer();
    })());
  try {
    const scope = projectScopes(zitadel.projectId);
    const reader = await zitadel.createServiceUser({
      name: 'reader',
      roles: { reader: [ACME_ORG] },
      auth: 'key',
      orgId: ACME_ORG,
    });
    const admin = await zitadel.createServiceUser({
      name: 'globex-admin',
      roles: { admin: [GLOBEX_ORG], 'billing-admin': [GLOBEX_ORG] },
      auth: 'secret',
      orgId: GLOBEX_ORG,
    });
    const cron = await zitadel.createServiceUser({ name: 'cron', auth: 'pat' });
    const { issuer } = zitadel;
    const sources = {
      // The reader also asks for `profile`, which GET /api/profile requires.
      [CALLERS.reader]: serviceUserTokenSource({
        issuer,
        key: reader.keyPath,
        scope: [...scope, 'profile'],
      }),
      [CALLERS.admin]: serviceUserTokenSource({
        issuer,
        clientId: admin.clientId,
        clientSecret: admin.clientSecret,
        scope,
      }),
      [CALLERS.pat]: serviceUserTokenSource({ issuer, pat: cron.pat }),
    };

    const auth = zitadelAuth({ issuer, key: zitadel.apiKeyPath, projectId: zitadel.projectId });
    closers.push(() => auth.introspector.close());
    const api = await listen(createApi({ auth }), options.port ?? 0);
    closers.push(() => api.close());

    const callers: Caller[] = [
      ...(await Promise.all(
        Object.entries(sources).map(async ([label, source]) => ({
          label,
          authorization: await source.authorizationHeader(),
        })),
      )),
      { label: CALLERS.anonymous, authorization: undefined },
      { label: CALLERS.garbage, authorization: 'Bearer this-is-not-a-zitadel-token' },
    ];

    out.log(`Local ZITADEL  ${issuer} (project ${zitadel.projectId})`);
    out.log(`Example API    ${api.url}`);
    out.log('Service users  reader: JWT-bearer grant with a key file; role reader in acme');
    out.log(
      '               globex-admin: client credentials; roles admin, billing-admin in globex',
    );
    out.log('               cron: personal access token; no role\n');

    const results = await makeCalls(api.url, callers, options.plan ?? DEMO_PLAN);
    out.log(formatTable(results));
    const tokenHidden = meHidesToken(results, callers);
    out.log(
      `\n${tokenHidden ? '✓' : '✗'} GET /api/me answers req.auth as JSON: ` +
        `${tokenHidden ? 'the raw token is not in it' : 'THE TOKEN IS IN IT'}`,
    );
    const stats = auth.introspector.stats();
    out.log(`\nCache stats  ${formatStats(stats)}`);
    out.log(
      `(${stats.introspections} introspection calls for ${stats.misses} distinct tokens; ` +
        `${stats.hits} calls were answered from the cache)`,
    );

    return {
      ok: tokenHidden && results.every((result) => result.status === result.expected),
      results,
      stats,
      apiUrl: api.url,
      curlLines: curlLines(api.url, callers),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Runs the demo as `npm start` does; with `--once` it stops after the table
 * and resolves to the exit code, else it keeps the API up until SIGINT or
 * SIGTERM.
 *
 * @example
 * ```ts
 * process.exitCode = await main(['--once']);
 * ```
 */
export async function main(argv: string[], out: Output = console): Promise<number> {
  const demo = await startDemo({ port: process.env.PORT ? Number(process.env.PORT) : 0, out });
  const verdict = demo.ok
    ? '\nEvery status is as expected.'
    : '\nSome statuses differ from the expected ones (✗ above).';
  out.log(verdict);
  if (argv.includes('--once')) {
    await demo.close();
    return demo.ok ? 0 : 1;
  }
  out.log(
    '\nThe API keeps running. Try it (the tokens are from this local demo issuer and die with it):\n',
  );
  out.log(demo.curlLines.join('\n'));
  out.log('\nCtrl-C stops the API and the local ZITADEL.');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  out.log('\nStopping …');
  await demo.close();
  return demo.ok ? 0 : 1;
}

/** The reader's GET /api/me body must not contain its token, in any field. */
function meHidesToken(results: CallResult[], callers: Caller[]): boolean {
  const me = results.find((r) => r.caller === CALLERS.reader && r.path === '/api/me');
  const authorization = callers.find((c) => c.label === CALLERS.reader)?.authorization;
  if (!me || me.status !== 200 || !authorization || typeof me.body !== 'object') return false;
  const token = authorization.slice('Bearer '.length);
  return !JSON.stringify(me.body).includes(token) && !('token' in (me.body as object));
}

function curlLines(apiUrl: string, callers: Caller[]): string[] {
  const header = (label: string) => {
    const authorization = callers.find((caller) => caller.label === label)?.authorization;
    return `-H 'Authorization: ${authorization}'`;
  };
  return [
    `# no token → 401`,
    `curl -i ${apiUrl}/api/reports`,
    `# reader → 200`,
    `curl -i ${header(CALLERS.reader)} ${apiUrl}/api/reports`,
    `# globex-admin → 200 in globex, 403 in acme`,
    `curl -i ${header(CALLERS.admin)} ${apiUrl}/api/orgs/${GLOBEX_ORG}/invoices`,
    `curl -i -X POST ${header(CALLERS.admin)} ${apiUrl}/api/admin`,
    `# cron (PAT) → req.auth as JSON`,
    `curl -s ${header(CALLERS.pat)} ${apiUrl}/api/me`,
  ];
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: Error) => {
      console.error(`the demo failed: ${error.message}`);
      process.exitCode = 1;
    },
  );
}
