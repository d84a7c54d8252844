/**
 * The small encodings of the wire to ZITADEL: form values, Basic
 * credentials, `Retry-After`, JSON bodies, and what a server's words may
 * carry back into our errors.
 */

/**
 * `Retry-After` in whole seconds from now (delta-seconds or an HTTP-date,
 * RFC 9110 §10.2.3), or `undefined` when absent or unparsable. Not capped.
 *
 * @example
 * ```ts
 * parseRetryAfter('120', Date.now()); // 120
 * ```
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const at = Date.parse(text);
  if (!/[a-z]/i.test(text) || Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/**
 * `application/x-www-form-urlencoded` encoding of one value, as RFC 6749
 * §2.3.1 asks for the client id and secret before they go into Basic.
 *
 * @example
 * ```ts
 * formUrlEncode('a:b@c'); // 'a%3Ab%40c'
 * ```
 */
export function formUrlEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

/**
 * The credentials of `client_secret_basic`: Base64 of the form-encoded id and
 * secret joined by `:` (RFC 6749 §2.3.1), without the `Basic ` prefix.
 *
 * @example
 * ```ts
 * headers.authorization = `Basic ${basicCredentials(clientId, clientSecret)}`;
 * ```
 */
export function basicCredentials(clientId: string, clientSecret: string): string {
  return Buffer.from(`${formUrlEncode(clientId)}:${formUrlEncode(clientSecret)}`).toString(
    'base64',
  );
}

/**
 * Parses JSON, returning `undefined` for text that is not JSON (the parser's
 * own message may quote the input, so it is never passed on).
 *
 * @example
 * ```ts
 * parseJson('{"a":1}'); // { a: 1 }
 * ```
 */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * A plain JSON object (not an array, not null).
 *
 * @example
 * ```ts
 * isPlainObject(parseJson('[]')); // false
 * ```
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Cleans text a server sent back before it goes into an error: the server's
 * own words may echo what we sent, so every secret is cut out, control
 * characters are blanked and the length is capped.
 *
 * @example
 * ```ts
 * redactSecrets(body.error_description, [token, assertion], 200);
 * ```
 */
export function redactSecrets(text: string, secrets: string[], maxLength: number): string {
  let safe = text;
  // A server echoing our request body echoes the secrets form-encoded.
  const variants = secrets.flatMap((s) => [s, formUrlEncode(s), encodeURIComponent(s)]);
  for (const secret of variants) {
    if (secret) safe = safe.split(secret).join('[redacted]');
  }
  // eslint-disable-next-line no-control-regex
  return safe.replace(/[\x00-\x1f\x7f]/g, ' ').slice(0, maxLength);
}
