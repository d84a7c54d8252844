/**
 * What `introspect` prints: the caller behind an active token, or the likely
 * reasons a token is inactive (ZITADEL only answers `active: false`; a JWT's
 * own claims, read unverified, can point at one of them). Never the token.
 */
import { audienceOf, toAuthInfo } from '../token-info';
import { describeLocal, type LocalVerificationReport } from './introspect-local';

/** One possible reason for an inactive token; `seen` when the token itself shows it. */
export interface InactiveReason {
  reason: 'expired' | 'audience' | 'revoked' | 'issuer';
  hint: string;
  seen?: string;
}

/** The result, ready for `--json` or for {@link formatReport}. */
export interface IntrospectionReport {
  active: boolean;
  subject?: string;
  clientId?: string;
  username?: string;
  orgId?: string;
  scopes?: string[];
  /** role → orgId → org domain. */
  roles?: Record<string, Record<string, string>>;
  expiresAt?: string;
  /** Negative once expired. */
  expiresInSeconds?: number;
  audience?: string[];
  reasons?: InactiveReason[];
  /** For a JWT: what local verification (`jwt: { verify: 'local' }`) would decide. */
  localVerification?: LocalVerificationReport;
}

/** What the report needs besides ZITADEL's answer. */
export interface ReportContext {
  token: string;
  /** The issuer as discovery names it. */
  issuer: string;
  /** The API application's client id. */
  clientId: string;
  projectId?: string;
  now: number;
}

const CLOCK_TOLERANCE_SECONDS = 5;
const ROLES_SCOPE = 'urn:zitadel:iam:org:projects:roles';

/**
 * Builds the report from ZITADEL's answer. An answer that is active but past
 * its `exp` counts as inactive, as the middleware treats it.
 *
 * @example
 * ```ts
 * const report = buildReport(answer, { token, issuer, clientId, now: Date.now() });
 * if (!report.active) console.log(report.reasons);
 * ```
 */
export function buildReport(
  answer: Record<string, unknown>,
  context: ReportContext,
): IntrospectionReport {
  if (answer.active !== true) {
    return { active: false, reasons: likelyReasons(context) };
  }
  const auth = toAuthInfo(answer, { projectId: context.projectId });
  const expiresInSeconds = auth.expiresAt
    ? Math.round((auth.expiresAt.getTime() - context.now) / 1000)
    : undefined;
  const expired = expiresInSeconds !== undefined && expiresInSeconds < -CLOCK_TOLERANCE_SECONDS;
  return {
    active: !expired,
    subject: auth.subject,
    clientId: auth.clientId,
    username: auth.username,
    orgId: auth.orgId,
    scopes: auth.scopes,
    roles: { ...auth.roles },
    expiresAt: auth.expiresAt?.toISOString(),
    expiresInSeconds,
    audience: auth.audience,
    reasons: expired
      ? [{ ...EXPIRED, seen: `ZITADEL answered active, but exp passed ${ago(expiresInSeconds)}` }]
      : undefined,
  };
}

/**
 * The report as aligned lines for a terminal.
 *
 * @example
 * ```ts
 * formatReport(report).forEach((line) => io.out(line));
 * ```
 */
export function formatReport(report: IntrospectionReport): string[] {
  const lines = [field('active', report.active ? 'yes' : 'no')];
  if (report.subject !== undefined) {
    lines.push(field('subject', report.subject || '(none)'));
    if (report.clientId) lines.push(field('client id', report.clientId));
    if (report.username) lines.push(field('username', report.username));
    if (report.orgId) lines.push(field('org', report.orgId));
    lines.push(field('scopes', report.scopes?.join(' ') || '(none)'));
    lines.push(...roleLines(report));
    lines.push(field('expires', expiryText(report)));
    lines.push(field('audience', report.audience?.join(', ') || '(none)'));
  }
  if (report.localVerification) {
    lines.push(field('local JWT', describeLocal(report.localVerification)));
  }
  if (report.reasons) {
    lines.push('ZITADEL does not say why a token is inactive; the likely reasons:');
    for (const { reason, hint, seen } of report.reasons) {
      lines.push(`  - ${REASON_TITLES[reason]}: ${hint}${seen ? ` [seen: ${seen}]` : ''}`);
    }
  }
  return lines;
}

const REASON_TITLES: Record<InactiveReason['reason'], string> = {
  expired: 'expired',
  audience: 'not meant for this API',
  revoked: 'revoked',
  issuer: 'issued by another instance',
};

const EXPIRED: InactiveReason = {
  reason: 'expired',
  hint: "the token's lifetime is over; get a new one",
};

function likelyReasons(context: ReportContext): InactiveReason[] {
  const claims = unverifiedJwtClaims(context.token);
  const audienceScope = `urn:zitadel:iam:org:project:id:${context.projectId ?? '<projectId>'}:aud`;
  const reasons: InactiveReason[] = [
    { ...EXPIRED },
    {
      reason: 'audience',
      hint: `the service user must request the scope ${audienceScope}${
        context.projectId ? '' : ' (pass --project-id to name the project)'
      }`,
    },
    { reason: 'revoked', hint: 'the token, the service user or its key was removed in ZITADEL' },
    { reason: 'issuer', hint: `the token does not come from ${context.issuer}` },
  ];
  if (claims) {
    const [expired, audience, , issuer] = reasons;
    const exp = claims.exp;
    if (typeof exp === 'number' && exp * 1000 < context.now) {
      expired.seen = `the token, a JWT, expired ${ago(Math.round(exp - context.now / 1000))}`;
    }
    const aud = audienceOf(claims.aud);
    const ours = [context.clientId, context.projectId];
    if (!aud.some((value) => ours.includes(value))) {
      audience.seen = aud.length > 0 ? `its audience is ${aud.join(', ')}` : 'it has no audience';
    }
    if (typeof claims.iss === 'string' && trimSlash(claims.iss) !== trimSlash(context.issuer)) {
      issuer.seen = `it was issued by ${claims.iss}`;
    }
  }
  // What the token itself shows comes first.
  return [...reasons.filter((r) => r.seen), ...reasons.filter((r) => !r.seen)];
}

/** The payload of a JWT, read without verification (only to explain a rejection). */
function unverifiedJwtClaims(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return typeof payload === 'object' && payload !== null && !Array.isArray(payload)
      ? (payload as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function roleLines(report: IntrospectionReport): string[] {
  // Set on every report that has a subject, the only ones that list roles.
  const roles = Object.entries(report.roles as Record<string, Record<string, string>>);
  if (roles.length === 0) {
    const hint = report.scopes?.includes(ROLES_SCOPE) ? '' : ` (ask for the scope ${ROLES_SCOPE})`;
    return [field('roles', `(none)${hint}`)];
  }
  const width = Math.max(...roles.map(([role]) => role.length));
  return roles.map(([role, orgs], index) => {
    const where = Object.entries(orgs).map(([orgId, domain]) =>
      domain ? `${orgId} (${domain})` : orgId,
    );
    return field(index === 0 ? 'roles' : '', `${role.padEnd(width)}  ${where.join(', ')}`);
  });
}

function expiryText(report: IntrospectionReport): string {
  const seconds = report.expiresInSeconds;
  if (report.expiresAt === undefined || seconds === undefined) return '(no exp)';
  return `${report.expiresAt} (${seconds >= 0 ? `in ${span(seconds)}` : `expired ${ago(seconds)}`})`;
}

function ago(seconds: number): string {
  return `${span(-seconds)} ago`;
}

/** `45 s`, `59 min`, `30 h`, `29 d`. */
function span(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 120 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 48 * 3600) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}

function field(label: string, value: string): string {
  return `${label.padEnd(11)} ${value}`;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
