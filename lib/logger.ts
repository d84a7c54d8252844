/**
 * A pino-, winston- or console-compatible logger. It never sees a token, a
 * key or a secret: every line the package writes is built from descriptions
 * and counts only.
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * zitadelAuth({ issuer, key, logger: pino() });
 * ```
 */
export interface Logger {
  /** Detail for troubleshooting (e.g. a store value that did not decode). */
  debug(message: string, ...rest: unknown[]): void;
  /** Normal operation worth a line. */
  info(message: string, ...rest: unknown[]): void;
  /** Degraded but working: an outage, a slow store, a plain-http issuer. */
  warn(message: string, ...rest: unknown[]): void;
  /** Needs an operator: ZITADEL rejected our client authentication, a bad key file. */
  error(message: string, ...rest: unknown[]): void;
}

/** A logger that drops everything: the default, since `lib/` never writes to the console. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/**
 * Logs the first occurrence at `level`, then at `debug` until `intervalMs`
 * has passed: an outage or a revoked key must not flood the logs with one
 * line per request.
 */
export function rateLimitedLog(
  logger: Logger,
  level: 'warn' | 'error',
  intervalMs = 60_000,
  now: () => number = Date.now,
): (message: string) => void {
  let lastLoudAt = -Infinity;
  return (message) => {
    const at = now();
    if (at - lastLoudAt >= intervalMs) {
      lastLoudAt = at;
      logger[level](message);
    } else {
      logger.debug(message);
    }
  };
}
