import type { Logger } from '../../lib/logger';

export interface CapturedLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  rest: unknown[];
}

/** A logger that keeps every line, for assertions and secret scans. */
export function captureLogger(): Logger & { lines: CapturedLine[]; text(): string } {
  const lines: CapturedLine[] = [];
  const at =
    (level: CapturedLine['level']) =>
    (message: string, ...rest: unknown[]) =>
      lines.push({ level, message, rest });
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    text: () => lines.map((l) => `${l.level} ${l.message} ${JSON.stringify(l.rest)}`).join('\n'),
  };
}
