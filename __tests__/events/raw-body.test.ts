/**
 * readRawBody() on real streams: the cap while streaming, a stalled or
 * broken sender, and what a body parser left behind.
 */
import { PassThrough } from 'node:stream';
import type { Request } from 'express';
import { ConfigError } from '../../lib/errors';
import { readRawBody } from '../../lib/express/raw-body';

const options = { limit: 1024, timeoutMs: 200 };

/** A request-shaped stream: headers, and whatever a parser may have set. */
function incoming(extra: Record<string, unknown> = {}): PassThrough & Request {
  return Object.assign(new PassThrough(), { headers: {}, ...extra }) as unknown as PassThrough &
    Request;
}

it('reads the whole body in pieces, strings included', async () => {
  const req = incoming();
  const read = readRawBody(req, options);
  req.write(Buffer.from('{"a":'));
  req.setEncoding('utf8'); // chunks now arrive as strings
  req.end('1}');
  expect(await read).toEqual({ body: Buffer.from('{"a":1}') });
});

it('stops at the cap while streaming, before the body ends', async () => {
  const req = incoming();
  const read = readRawBody(req, options);
  req.write(Buffer.alloc(1000));
  req.write(Buffer.alloc(100)); // never ended: the answer does not wait for the rest
  expect(await read).toEqual({ status: 413, reason: 'body larger than 1024 bytes' });
  expect(req.isPaused()).toBe(true);
});

it('a declared Content-Length over the cap is refused without reading', async () => {
  const req = incoming({ headers: { 'content-length': '5000' } });
  expect(await readRawBody(req, options)).toMatchObject({ status: 413 });
});

it('a sender that stalls gets 400 after the timeout', async () => {
  const req = incoming();
  const started = Date.now();
  const read = readRawBody(req, options);
  req.write('{"partial":');
  expect(await read).toEqual({ status: 400, reason: 'no complete body within 200 ms' });
  expect(Date.now() - started).toBeGreaterThanOrEqual(150);
});

it('a broken or aborted stream gets 400', async () => {
  const broken = incoming();
  const read = readRawBody(broken, options);
  broken.destroy(new Error('socket hang up'));
  expect(await read).toMatchObject({ status: 400 });
  const aborted = incoming();
  const readAborted = readRawBody(aborted, options);
  aborted.emit('aborted');
  expect(await readAborted).toMatchObject({ status: 400 });
});

it('a Buffer from express.raw() is used as is; over the cap it is 413', async () => {
  const body = Buffer.from('{"ok":true}');
  expect(await readRawBody(incoming({ body }), options)).toEqual({ body });
  expect(await readRawBody(incoming({ body: Buffer.alloc(2000) }), options)).toMatchObject({
    status: 413,
  });
});

it.each([
  ['an object from express.json()', { body: { event_type: 'user.deactivated' } }],
  ['a string from express.text()', { body: '{"event_type":"user.deactivated"}' }],
  ['an empty object whose stream body-parser read', { body: {}, _body: true }],
  ['an array', { body: [] }],
])('%s → ConfigError', async (_name, extra) => {
  await expect(readRawBody(incoming(extra), options)).rejects.toThrow(ConfigError);
});

it('a stream someone else already read to the end → ConfigError', async () => {
  const req = incoming();
  req.end('x');
  req.resume();
  await new Promise((resolve) => req.once('end', resolve));
  await expect(readRawBody(req, options)).rejects.toThrow(ConfigError);
});

it('the {} body-parser 1 leaves on a request it skipped is still read', async () => {
  const req = incoming({ body: {} });
  const read = readRawBody(req, options);
  req.end('{"a":1}');
  expect(await read).toEqual({ body: Buffer.from('{"a":1}') });
});
