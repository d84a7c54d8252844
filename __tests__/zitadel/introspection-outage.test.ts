import { IntrospectionUnavailableError } from '../../lib/errors';
import {
  introspectToken,
  RateLimitedError,
  ServerBusyError,
} from '../../lib/zitadel/introspection';
import { closedPortUrl, json, type Handler } from './helpers';
import { attempts, failure, options, other, serve, server, TOKEN } from './introspection-fixture';

describe('introspectToken: outages → IntrospectionUnavailableError', () => {
  it.each([
    ['429 with Retry-After seconds', 429, '30', 30],
    ['503 with a Retry-After over 60', 503, '120', 60],
    ['429 with Retry-After 1', 429, '1', 1],
  ])('%s → ServerBusyError, not retried', async (_what, status, retryAfter, seconds) => {
    server.handler = (_req, res) => json(res, status, {}, { 'retry-after': retryAfter });
    const error = await failure(introspectToken(TOKEN, options({ retries: 2 })));
    expect(error).toBeInstanceOf(ServerBusyError);
    expect(error).toBeInstanceOf(IntrospectionUnavailableError);
    expect((error as ServerBusyError).retryAfterSeconds).toBe(seconds);
    expect((error as ServerBusyError).headers['Retry-After']).toBe(String(seconds));
    expect(attempts).toBe(1);
  });

  it.each([
    ['no Retry-After', undefined],
    ['Retry-After 0', '0'],
    ['Retry-After as an HTTP-date', new Date(Date.now() + 20_000).toUTCString()],
  ])('429 with %s → RateLimitedError, not retried (the caller backs off)', async (_w, value) => {
    const headers: Record<string, string> = value === undefined ? {} : { 'retry-after': value };
    server.handler = (_req, res) => json(res, 429, {}, headers);
    const error = await failure(introspectToken(TOKEN, options({ retries: 2 })));
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).not.toBeInstanceOf(ServerBusyError);
    expect(error.message).toMatch(/rate limiting \(HTTP 429 without Retry-After\)/);
    expect(attempts).toBe(1);
  });

  it.each([
    ['Retry-After 0', '0'],
    ['Retry-After as an HTTP-date', new Date(Date.now() + 20_000).toUTCString()],
  ])('503 with %s counts as none: retried as a 5xx, no ServerBusyError', async (_w, value) => {
    server.handler = (_req, res) => json(res, 503, {}, { 'retry-after': value });
    const error = await failure(introspectToken(TOKEN, options({ retries: 1 })));
    expect(error).not.toBeInstanceOf(ServerBusyError);
    expect((error as IntrospectionUnavailableError).retryAfterSeconds).toBe(5);
    expect(attempts).toBe(2);
  });

  it.each<[string, Handler, RegExp, number]>([
    ['404', (_r, res) => json(res, 404, {}), /answered HTTP 404/, 5],
    [
      '403 with Retry-After',
      (_r, res) => json(res, 403, {}, { 'retry-after': '9' }),
      /HTTP 403/,
      9,
    ],
    ['204', (_r, res) => res.writeHead(204).end(), /answered HTTP 204/, 5],
    [
      '503 with an unparsable Retry-After',
      (_r, res) => json(res, 503, {}, { 'retry-after': 'soon' }),
      /answered HTTP 503/,
      5,
    ],
  ])('%s → no ServerBusyError', async (_what, handler, message, retryAfter) => {
    server.handler = handler;
    const error = await failure(introspectToken(TOKEN, options()));
    expect(error).toBeInstanceOf(IntrospectionUnavailableError);
    expect(error).not.toBeInstanceOf(ServerBusyError);
    expect(error.message).toMatch(message);
    expect((error as IntrospectionUnavailableError).retryAfterSeconds).toBe(retryAfter);
  });

  it('a 4xx is never retried', async () => {
    server.handler = (_r, res) => json(res, 404, {});
    await failure(introspectToken(TOKEN, options({ retries: 3 })));
    expect(attempts).toBe(1);
  });

  it('a 5xx is retried `retries` times, keeping its Retry-After', async () => {
    serve((_r, res) => json(res, 500, {}, { 'retry-after': '7' }));
    const error = await failure(introspectToken(TOKEN, options({ retries: 2 })));
    expect(error.message).toBe('introspection endpoint answered HTTP 500');
    expect((error as IntrospectionUnavailableError).retryAfterSeconds).toBe(7);
    expect(attempts).toBe(3);
    expect(server.requests).toHaveLength(3);
  });

  it('a 503 without Retry-After is retried, then succeeds', async () => {
    serve(
      (_r, res) => json(res, 503, {}),
      (_r, res) => json(res, 200, { active: true }),
    );
    await expect(introspectToken(TOKEN, options({ retries: 1 }))).resolves.toEqual({
      active: true,
    });
    expect(attempts).toBe(2);
  });

  it('a redirect is not followed and not retried', async () => {
    server.handler = (_r, res) =>
      res.writeHead(307, { location: `${other.url}/oauth/v2/introspect` }).end();
    const error = await failure(introspectToken(TOKEN, options({ retries: 2 })));
    expect(error).toBeInstanceOf(IntrospectionUnavailableError);
    expect(error.message).toMatch(/redirected \(HTTP 307\); redirects are not followed/);
    expect(other.requests).toHaveLength(0);
    expect(attempts).toBe(1);
  });

  it.each<[string, string]>([
    ['not JSON', '<html>oops</html>'],
    ['not a JSON object', '[{"active":true}]'],
    ['not a JSON object', 'null'],
    ['active is missing or not a boolean', '{"sub":"x"}'],
    ['active is missing or not a boolean', '{"active":"true"}'],
  ])('a malformed answer (%s: %s) → outage, not retried', async (why, body) => {
    serve((_r, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
    const error = await failure(introspectToken(TOKEN, options({ retries: 2 })));
    expect(error).toBeInstanceOf(IntrospectionUnavailableError);
    expect(error.message).toBe(`malformed introspection answer: ${why}`);
    expect(attempts).toBe(1);
  });

  it('a 10 MiB body is abandoned, not read to the end', async () => {
    let written = 0;
    let closed!: Promise<boolean>;
    serve((_r, res) => {
      closed = new Promise((resolve) => res.on('close', () => resolve(res.writableFinished)));
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (written < 10 * 1024 * 1024) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    const error = await failure(introspectToken(TOKEN, options({ retries: 2, timeoutMs: 10_000 })));
    expect(error.message).toBe('malformed introspection answer: larger than 1 MiB, not read');
    expect(await closed).toBe(false);
    expect(written).toBeLessThan(10 * 1024 * 1024);
    expect(attempts).toBe(1);
  });

  it('a content-length over 1 MiB is refused before reading', async () => {
    serve((_r, res) => {
      res.writeHead(200, { 'content-length': String(10 * 1024 * 1024) });
      res.write('{"active":true');
    });
    // A long timeout: had the body been awaited, this would end in a timeout instead.
    const error = await failure(introspectToken(TOKEN, options({ timeoutMs: 20_000 })));
    expect(error.message).toBe('malformed introspection answer: larger than 1 MiB, not read');
  });

  it('an unreachable endpoint is retried, then reported', async () => {
    const endpoint = `${await closedPortUrl()}/oauth/v2/introspect`;
    const error = await failure(introspectToken(TOKEN, options({ endpoint, retries: 1 })));
    expect(error).toBeInstanceOf(IntrospectionUnavailableError);
    expect(error.message).toBe('introspection endpoint unreachable (ECONNREFUSED)');
    expect(attempts).toBe(2);
  });

  it('a fetch that throws something without a code', async () => {
    const broken: typeof fetch = () => Promise.reject(new RangeError('whatever'));
    const error = await failure(introspectToken(TOKEN, options({ fetch: broken })));
    expect(error.message).toBe('introspection endpoint unreachable (RangeError)');
    const odd: typeof fetch = () => Promise.reject('a string');
    const oddError = await failure(introspectToken(TOKEN, options({ fetch: odd })));
    expect(oddError.message).toBe('introspection endpoint unreachable (network error)');
  });

  it('a timeout is retried; the retry can succeed', async () => {
    serve(
      () => undefined, // never answers
      (_r, res) => json(res, 200, { active: true }),
    );
    const answer = await introspectToken(TOKEN, options({ timeoutMs: 150, retries: 1 }));
    expect(answer).toEqual({ active: true });
    expect(attempts).toBe(2);
  });

  it('a timeout while the body is read is reported as a timeout', async () => {
    serve((_r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"active":');
    });
    const error = await failure(introspectToken(TOKEN, options({ timeoutMs: 150, retries: 1 })));
    expect(error.message).toBe('introspection timed out after 150 ms');
    expect(attempts).toBe(2);
  });
});

describe('introspectToken: abort', () => {
  it('an abort ends a pending request without retry', async () => {
    serve(() => undefined);
    const controller = new AbortController();
    const pending = failure(
      introspectToken(TOKEN, options({ retries: 3, signal: controller.signal })),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    const error = await pending;
    expect(error).toBeInstanceOf(IntrospectionUnavailableError);
    expect(error.message).toBe('introspection aborted: the introspector is closing');
    expect(attempts).toBe(1);
  });

  it('an aborted signal sends nothing', async () => {
    const error = await failure(introspectToken(TOKEN, options({ signal: AbortSignal.abort() })));
    expect(error.message).toMatch(/aborted/);
    expect(attempts).toBe(0);
  });

  it('an abort during the pause between attempts ends the call', async () => {
    serve((_r, res) => json(res, 500, {}));
    const controller = new AbortController();
    const abortingFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      controller.abort();
      return response;
    };
    const error = await failure(
      introspectToken(
        TOKEN,
        options({ retries: 3, fetch: abortingFetch, signal: controller.signal }),
      ),
    );
    expect(error.message).toMatch(/aborted/);
    expect(attempts).toBe(1);
  });
});
