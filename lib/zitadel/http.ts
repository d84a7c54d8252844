/**
 * Shared plumbing of the calls to ZITADEL: one request with a per-attempt
 * timeout that also covers the body, a body read that gives up beyond a
 * bound, and an abortable pause. Callers turn the outcomes into their own
 * error classes.
 */

/**
 * Largest body read from ZITADEL; a bigger one is abandoned unread.
 *
 * @example
 * ```ts
 * await readBoundedText(response, MAX_BODY_BYTES);
 * ```
 */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Why a request produced no response.
 *
 * @example
 * ```ts
 * const retryable = (reason: RequestFailureReason) => reason !== 'aborted';
 * ```
 */
export type RequestFailureReason = 'timeout' | 'network' | 'aborted';

/**
 * A request that produced no (complete) response. `detail` is a short
 * code such as `ECONNREFUSED`, never anything from the request itself.
 *
 * @example
 * ```ts
 * try { await send(fetch, url, init, 5000); } catch (e) {
 *   if (e instanceof RequestFailure && e.reason === 'timeout') retry();
 * }
 * ```
 */
export class RequestFailure extends Error {
  readonly reason: RequestFailureReason;
  readonly detail: string;

  constructor(reason: RequestFailureReason, detail: string) {
    super(`${reason}: ${detail}`);
    this.name = 'RequestFailure';
    this.reason = reason;
    this.detail = detail;
  }
}

/**
 * The body was larger than {@link MAX_BODY_BYTES}; it was not read to the end.
 *
 * @example
 * ```ts
 * await readBoundedText(response).catch((e) => e instanceof BodyTooLargeError);
 * ```
 */
export class BodyTooLargeError extends Error {
  constructor() {
    super(`response body larger than ${MAX_BODY_BYTES} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/**
 * A response whose timeout still runs while its body is read. Finish every
 * exchange with exactly one of `read` or `discard`: both stop the timer and
 * detach from the caller's signal.
 *
 * @example
 * ```ts
 * const exchange = await send(fetch, url, { method: 'GET' }, 5000);
 * if (exchange.response.ok) return exchange.read(readBoundedText);
 * exchange.discard();
 * ```
 */
export interface Exchange {
  response: Response;
  /** Runs `read` under the exchange's timeout, mapping an abort to a {@link RequestFailure}. */
  read<T>(read: (response: Response) => Promise<T>): Promise<T>;
  /** Drops a body we will not read. */
  discard(): void;
}

/**
 * Sends one request with `redirect: 'manual'` and a timeout that also covers
 * reading the body. Rejects with {@link RequestFailure} when no response came.
 *
 * `outer` is typically one long-lived signal (an introspector's `close()`);
 * the listener on it is removed when the exchange ends, since Node 20's
 * `AbortSignal.any` keeps every combined signal alive as long as `outer`.
 *
 * @example
 * ```ts
 * const exchange = await send(fetch, url, { method: 'GET' }, 5000, closing.signal);
 * const text = await exchange.read(readBoundedText);
 * ```
 */
export async function send(
  fetchFn: typeof fetch,
  url: string,
  init: RequestInit,
  timeoutMs: number,
  outer?: AbortSignal,
): Promise<Exchange> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  timer.unref(); // like AbortSignal.timeout: a pending call alone does not keep the process up
  const onOuterAbort = () => controller.abort();
  if (outer?.aborted) controller.abort();
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  const finish = () => {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onOuterAbort);
  };
  const classify = (error: unknown): RequestFailure => {
    if (outer?.aborted) return new RequestFailure('aborted', 'aborted');
    if (timedOut) return new RequestFailure('timeout', `timed out after ${timeoutMs} ms`);
    return new RequestFailure('network', networkDetail(error));
  };

  let response: Response;
  try {
    response = await fetchFn(url, { ...init, redirect: 'manual', signal: controller.signal });
  } catch (error) {
    finish();
    throw classify(error);
  }
  return {
    response,
    read: async (read) => {
      try {
        return await read(response);
      } catch (error) {
        if (error instanceof BodyTooLargeError) throw error;
        throw classify(error);
      } finally {
        finish();
      }
    },
    discard: () => {
      finish();
      discardBody(response);
    },
  };
}

/**
 * Reads a body as UTF-8 text through the stream reader and stops (cancelling
 * the stream) once more than `maxBytes` arrived, or at once when
 * `content-length` already says so.
 *
 * @example
 * ```ts
 * const text = await readBoundedText(response); // throws BodyTooLargeError beyond 1 MiB
 * ```
 */
export async function readBoundedText(
  response: Response,
  maxBytes: number = MAX_BODY_BYTES,
): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    discardBody(response);
    throw new BodyTooLargeError();
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received += value.byteLength;
    if (received > maxBytes) {
      reader.cancel().catch(ignore);
      throw new BodyTooLargeError();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Drops a body we will not read, so the connection is not left half-read. */
function discardBody(response: Response): void {
  response.body?.cancel().catch(ignore);
}

/**
 * Waits `ms`, or rejects with an `aborted` {@link RequestFailure} when
 * `signal` fires first.
 *
 * @example
 * ```ts
 * await pause(100, controller.signal);
 * ```
 */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new RequestFailure('aborted', 'aborted'));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new RequestFailure('aborted', 'aborted'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A cancel that fails (the stream already errored) changes nothing for us. */
function ignore(): void {}

/** Only a code or a class name: never a message that could echo request data. */
function networkDetail(error: unknown): string {
  // fetch wraps the socket error in `cause`; a host with several addresses
  // (localhost → ::1 and 127.0.0.1) wraps them once more in an AggregateError.
  const cause = (error as { cause?: { code?: unknown; errors?: { code?: unknown }[] } } | undefined)
    ?.cause;
  const code =
    cause?.code ?? cause?.errors?.[0]?.code ?? (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && /^[A-Z0-9_]{1,64}$/.test(code)) return code;
  return error instanceof Error ? error.name : 'network error';
}
