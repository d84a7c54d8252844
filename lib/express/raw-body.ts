/**
 * The raw bytes of a request, as a signature check needs them: read from the
 * stream with a cap enforced while reading, or taken as is from
 * `express.raw()`. A body some parser already turned into an object has lost
 * its bytes — a set-up fault, not a bad request.
 */
import type { Request } from 'express';
import { ConfigError } from '../errors';

/** The body, or the answer to send instead (the body was never complete). */
export type RawBody = { body: Buffer } | { status: 400 | 413; reason: string };

/** Options of {@link readRawBody}. */
export interface RawBodyOptions {
  /** Bytes past which the read stops with 413. */
  limit: number;
  /** A sender that stalls longer than this gets 400 (its connection is then closed). */
  timeoutMs: number;
}

/**
 * Reads `req`'s body. Throws {@link ConfigError} when a body parser ran
 * before (the bytes are gone); never rejects otherwise.
 *
 * @example
 * ```ts
 * const read = await readRawBody(req, { limit: 64 * 1024, timeoutMs: 10_000 });
 * if ('status' in read) return res.status(read.status).end();
 * ```
 */
export async function readRawBody(req: Request, options: RawBodyOptions): Promise<RawBody> {
  const parsed: unknown = req.body;
  if (Buffer.isBuffer(parsed)) {
    return parsed.length > options.limit ? tooLarge(options.limit) : { body: parsed };
  }
  if (alreadyParsed(req, parsed)) {
    throw new ConfigError(
      'the ZITADEL event webhook needs the raw request body: mount it before any body parser (express.json(), express.text(), …), or after express.raw({ type: "*/*" })',
      { field: 'body' },
    );
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > options.limit) return tooLarge(options.limit);
  return readStream(req, options);
}

/**
 * body-parser 1 (Express 4) sets `req.body = {}` even when it skips a
 * request of another type, leaving the stream unread: that one is still ours.
 */
function alreadyParsed(req: Request, parsed: unknown): boolean {
  const marked = (req as { _body?: unknown })._body === true;
  if (marked || req.readableEnded) return true;
  if (parsed === undefined) return false;
  return !(
    typeof parsed === 'object' &&
    parsed !== null &&
    Object.getPrototypeOf(parsed) === Object.prototype &&
    Object.keys(parsed).length === 0
  );
}

function readStream(req: Request, options: RawBodyOptions): Promise<RawBody> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const finish = (result: RawBody) => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onError);
      if ('status' in result) req.pause();
      resolve(result);
    };
    const onData = (chunk: Buffer | string) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      length += bytes.length;
      // Enforced while reading: a huge body is never held in memory.
      if (length > options.limit) return finish(tooLarge(options.limit));
      chunks.push(bytes);
    };
    const onEnd = () => finish({ body: Buffer.concat(chunks, length) });
    const onError = () => finish({ status: 400, reason: 'the request body could not be read' });
    const timer = setTimeout(
      () => finish({ status: 400, reason: `no complete body within ${options.timeoutMs} ms` }),
      options.timeoutMs,
    );
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onError);
  });
}

function tooLarge(limit: number): RawBody {
  return { status: 413, reason: `body larger than ${limit} bytes` };
}
