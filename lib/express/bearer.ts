/**
 * Takes the bearer token off a request (RFC 6750 §2): the `Authorization`
 * header, and — only when listed — a form body or the query string. Strict on
 * purpose: whatever is not exactly one well-formed token is refused here,
 * before any call to ZITADEL.
 */
import type { Request } from 'express';
import { ConfigError, InvalidRequestError, UnauthorizedError } from '../errors';

/** Where a token may be read from (RFC 6750 §2.1–2.3). */
export type TokenLocation = 'header' | 'body' | 'query';

/** Where a token was found; `custom` when a `getToken` function supplied it. */
export type TokenOrigin = TokenLocation | 'custom';

/** How to look for the token. */
export interface ExtractTokenOptions {
  /** Locations to read, already validated by `zitadelAuth()`. */
  tokenLocations: readonly TokenLocation[];
  /** Replaces the built-in locations; `undefined` (or `null`) means no credentials. */
  getToken?: (req: Request) => string | undefined;
  /** Realm of the challenges of the errors thrown. */
  realm: string;
}

/** A token that passed the syntax checks, and where it was. */
export interface ExtractedToken {
  token: string;
  location: TokenOrigin;
}

/** Longest token accepted, in bytes; longer ones are refused without introspection. */
export const MAX_TOKEN_BYTES = 8192;

/** RFC 6750 §2.1 `b64token`. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** RFC 9110 `token`, the syntax of an auth scheme. */
const AUTH_SCHEME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;
const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

/**
 * Finds the request's bearer token.
 *
 * Returns `undefined` when the request carries no credentials. Throws
 * {@link InvalidRequestError} (400) for a malformed header, a malformed or
 * over-long token, or a token sent in two places; {@link UnauthorizedError}
 * (401, bare challenge) for another scheme such as `Basic`; {@link ConfigError}
 * when `body` is a location but no body parser ran. No error description
 * contains the token.
 *
 * @example
 * ```ts
 * const found = extractToken(req, { tokenLocations: ['header'], realm: 'api' });
 * const where = found?.location; // 'header'
 * ```
 */
export function extractToken(
  req: Request,
  options: ExtractTokenOptions,
): ExtractedToken | undefined {
  const { realm } = options;
  if (options.getToken) {
    const token: unknown = options.getToken(req);
    if (token === undefined || token === null) return undefined;
    return { token: checkToken(token, realm), location: 'custom' };
  }

  const header = req.headers.authorization || undefined;
  const { tokenLocations } = options;
  // The default, header only: nothing else to look at (and no list to build).
  if (tokenLocations.length === 1 && tokenLocations[0] === 'header') {
    return header === undefined
      ? undefined
      : { token: parseAuthorization(header, realm), location: 'header' };
  }
  const elsewhere: ExtractedToken[] = [];
  if (options.tokenLocations.includes('query')) {
    const token = queryToken(req, realm);
    if (token !== undefined) elsewhere.push({ token, location: 'query' });
  }
  if (options.tokenLocations.includes('body')) {
    const token = bodyToken(req, realm);
    if (token !== undefined) elsewhere.push({ token, location: 'body' });
  }

  // One method per request (RFC 6750 §2): which one would we believe?
  if (elsewhere.length > 1 || (elsewhere.length === 1 && header !== undefined)) {
    throw new InvalidRequestError('the request carries a token in more than one place', { realm });
  }
  if (elsewhere.length === 1) {
    const [{ token, location }] = elsewhere;
    return { token: checkToken(token, realm), location };
  }
  if (header === undefined || !options.tokenLocations.includes('header')) return undefined;
  return { token: parseAuthorization(header, realm), location: 'header' };
}

/** `Bearer` + 1*SP + one b64token (RFC 6750 §2.1); ASCII only, so length is bytes. */
const WELL_FORMED_BEARER = /^bearer +[A-Za-z0-9\-._~+/]+=*$/i;
/** Where the token starts in a well-formed header: after `Bearer` and its first space. */
const AFTER_SCHEME = 'bearer '.length;

/**
 * `Bearer` (any case), one or more spaces, one b64token, nothing else. Node
 * has already trimmed the value and kept only the first of two headers.
 */
function parseAuthorization(value: string, realm: string): string {
  // The common, well-formed header in one match; anything else takes the
  // slower path below, which says what is wrong with it.
  // `test` and a slice: no match array per request.
  if (WELL_FORMED_BEARER.test(value)) {
    let start = AFTER_SCHEME;
    while (value.charCodeAt(start) === 0x20) start++;
    if (value.length - start <= MAX_TOKEN_BYTES) return value.slice(start);
  }
  const scheme = AUTH_SCHEME.exec(value)?.[0];
  if (scheme === undefined) {
    throw new InvalidRequestError('the Authorization header is malformed', { realm });
  }
  if (scheme.toLowerCase() !== 'bearer') {
    // An unsupported method counts as no credentials (RFC 6750 §3.1).
    throw new UnauthorizedError('the Authorization scheme is not Bearer', { realm });
  }
  const rest = value.slice(scheme.length);
  const credentials = rest.replace(/^ +/, '');
  if (credentials === '') {
    throw new InvalidRequestError('the Bearer credentials hold no token', { realm });
  }
  if (credentials === rest || /[\s,]/.test(credentials)) {
    throw new InvalidRequestError(
      'the Authorization header must hold Bearer, a space and exactly one token',
      { realm },
    );
  }
  return checkToken(credentials, realm);
}

function queryToken(req: Request, realm: string): string | undefined {
  // Read from the URL itself, so the app's `query parser` setting cannot hide
  // a token or turn it into an object.
  const url = req.originalUrl;
  const start = url.indexOf('?');
  if (start === -1) return undefined;
  const values = new URLSearchParams(url.slice(start + 1)).getAll('access_token');
  if (values.length > 1) {
    throw new InvalidRequestError('the access_token query parameter appears more than once', {
      realm,
    });
  }
  return values[0];
}

function bodyToken(req: Request, realm: string): string | undefined {
  // RFC 6750 §2.2: form-encoded, and never on a method without body semantics.
  if (req.method === 'GET' || req.method === 'HEAD' || !req.is(FORM_CONTENT_TYPE)) {
    return undefined;
  }
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null) {
    throw new ConfigError(
      "tokenLocations includes 'body' but the form body was not parsed: mount express.urlencoded() before zitadelAuth()",
      { field: 'tokenLocations' },
    );
  }
  if (!Object.prototype.hasOwnProperty.call(body, 'access_token')) return undefined;
  const value = (body as Record<string, unknown>).access_token;
  if (typeof value !== 'string') {
    throw new InvalidRequestError('the access_token body parameter must appear once, as text', {
      realm,
    });
  }
  return value;
}

function checkToken(token: unknown, realm: string): string {
  if (typeof token !== 'string' || token === '') {
    throw new InvalidRequestError('the access token is empty or not text', { realm });
  }
  if (token.length > MAX_TOKEN_BYTES) {
    throw new InvalidRequestError(`the access token is longer than ${MAX_TOKEN_BYTES} bytes`, {
      realm,
    });
  }
  if (!B64TOKEN.test(token)) {
    throw new InvalidRequestError('the access token has characters outside the b64token syntax', {
      realm,
    });
  }
  return token;
}
