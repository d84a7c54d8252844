/**
 * Load generation: autocannon runs with a rotating `Authorization` header,
 * and the cold burst (N concurrent requests on fresh sockets).
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';

/**
 * One autocannon run, reduced to what the report needs.
 *
 * @example
 * ```ts
 * const { rps, failures } = await load({ port, tokens: [token], connections: 50, duration: 5 });
 * ```
 */
export interface LoadResult {
  /** 2xx answers per second over the whole run. */
  rps: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  requests: number;
  /** Non-2xx answers, socket errors and timeouts: a valid run has none. */
  failures: number;
  /** CPU time (user + system) the server spent per request; set by the caller. */
  serverCpuMicrosPerRequest?: number;
}

/**
 * How to load one server.
 *
 * @example
 * ```ts
 * const options: LoadOptions = { port, tokens, connections: 50, amount: tokens.length };
 * ```
 */
export interface LoadOptions {
  port: number;
  /** Sent round-robin, one per request, across all connections. */
  tokens: readonly string[];
  connections: number;
  /** Seconds; ignored when `amount` is set. */
  duration?: number;
  /** Stop after this many requests. */
  amount?: number;
  /** Requests per second across all connections (default: as fast as the server answers). */
  rate?: number;
}

/**
 * Runs autocannon against `GET /hello`. Every variant goes through the same
 * `setupRequest`, so the client's own cost per request is the same for all
 * (the baseline ignores the header).
 *
 * @example
 * ```ts
 * const result = await load({ port, tokens: [token], connections: 50, duration: 5 });
 * ```
 */
export async function load(options: LoadOptions): Promise<LoadResult> {
  const { tokens } = options;
  let next = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${options.port}`,
    connections: options.connections,
    ...(options.amount
      ? // autocannon ends an `amount` run at its next sample tick (default every 1 s), so
        // its duration, and req/s with it, was rounded up to whole seconds (a 7.1 s run
        // read as 8 s); a 100 ms tick bounds that error to 0.1 s.
        { amount: options.amount, sampleInt: 100 }
      : { duration: options.duration ?? 5 }),
    timeout: 30,
    ...(options.rate ? { overallRate: options.rate } : {}),
    requests: [
      {
        method: 'GET',
        path: '/hello',
        setupRequest: (req) => {
          req.headers = { ...req.headers, authorization: `Bearer ${tokens[next]}` };
          next = (next + 1) % tokens.length;
          return req;
        },
      },
    ],
  });
  return {
    rps: result['2xx'] / result.duration,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    requests: result.requests.total,
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

/**
 * What a cold burst saw.
 *
 * @example
 * ```ts
 * const { ms, statuses } = await burst(port, freshToken, 500); // statuses['200'] === 500
 * ```
 */
export interface BurstResult {
  /** From the first request sent until the last answer arrived. */
  ms: number;
  /** HTTP status → count. */
  statuses: Record<string, number>;
}

/**
 * Sends `count` requests with one token at once, each on its own socket,
 * and waits for every answer.
 *
 * @example
 * ```ts
 * const { ms, statuses } = await burst(port, freshToken, 500);
 * ```
 */
export async function burst(port: number, token: string, count: number): Promise<BurstResult> {
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const statuses: Record<string, number> = {};
  const started = performance.now();
  const one = () =>
    new Promise<void>((resolve) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/hello',
          agent,
          headers: { authorization: `Bearer ${token}` },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
            resolve();
          });
        },
      );
      req.on('error', (error: NodeJS.ErrnoException) => {
        statuses[error.code ?? 'error'] = (statuses[error.code ?? 'error'] ?? 0) + 1;
        resolve();
      });
      req.end();
    });
  await Promise.all(Array.from({ length: count }, one));
  const ms = performance.now() - started;
  agent.destroy();
  return { ms, statuses };
}
