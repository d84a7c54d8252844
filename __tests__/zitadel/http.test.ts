import { getEventListeners } from 'node:events';
import {
  BodyTooLargeError,
  MAX_BODY_BYTES,
  pause,
  readBoundedText,
  RequestFailure,
  send,
} from '../../lib/zitadel/http';
import { closedPortUrl, json, startServer, type TestServer } from './helpers';

let server: TestServer;
beforeAll(async () => {
  server = await startServer((_req, res) => json(res, 200, { ok: true }));
});
afterAll(() => server.close());

describe('send', () => {
  it('leaves no listener on the caller signal once an exchange ends', async () => {
    const closing = new AbortController();
    const listeners = () => getEventListeners(closing.signal, 'abort').length;

    const read = await send(fetch, server.url, {}, 1000, closing.signal);
    expect(listeners()).toBe(1);
    await expect(read.read(readBoundedText)).resolves.toBe('{"ok":true}');
    expect(listeners()).toBe(0);

    const discarded = await send(fetch, server.url, {}, 1000, closing.signal);
    discarded.discard();
    expect(listeners()).toBe(0);

    const unreachable = await closedPortUrl();
    await expect(send(fetch, unreachable, {}, 1000, closing.signal)).rejects.toMatchObject({
      reason: 'network',
      detail: 'ECONNREFUSED',
    });
    expect(listeners()).toBe(0);
  });

  it('an already aborted signal sends nothing', async () => {
    server.requests.length = 0;
    await expect(send(fetch, server.url, {}, 1000, AbortSignal.abort())).rejects.toMatchObject({
      reason: 'aborted',
    });
    expect(server.requests).toHaveLength(0);
  });
});

describe('readBoundedText', () => {
  it('bounds at 1 MiB by default', async () => {
    expect(MAX_BODY_BYTES).toBe(1024 * 1024);
    const big = new Response('x'.repeat(MAX_BODY_BYTES + 1));
    await expect(readBoundedText(big)).rejects.toBeInstanceOf(BodyTooLargeError);
  });

  it('reads a body without content-length up to the bound, and an empty one', async () => {
    await expect(readBoundedText(new Response(null))).resolves.toBe('');
    await expect(readBoundedText(new Response('héllo'), 6)).resolves.toBe('héllo');
    await expect(readBoundedText(new Response('héllo!'), 6)).rejects.toBeInstanceOf(
      BodyTooLargeError,
    );
  });
});

describe('pause', () => {
  it('waits, or rejects as aborted when the signal fires first', async () => {
    await expect(pause(5)).resolves.toBeUndefined();
    const controller = new AbortController();
    const waiting = pause(10_000, controller.signal);
    setTimeout(() => controller.abort(), 10);
    await expect(waiting).rejects.toMatchObject({ reason: 'aborted' });
    await expect(pause(10, AbortSignal.abort())).rejects.toBeInstanceOf(RequestFailure);
  });
});
