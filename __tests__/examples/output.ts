/**
 * Collects what an example prints, so a test can read it back.
 */
import type { Output } from '../../examples/shared';

export interface CapturedOutput extends Output {
  lines: string[];
  /** Everything printed, one string. */
  text(): string;
}

export function captureOutput(): CapturedOutput {
  const lines: string[] = [];
  const push = (...parts: unknown[]) => {
    lines.push(parts.map((part) => (typeof part === 'string' ? part : String(part))).join(' '));
  };
  return { lines, log: push, error: push, text: () => lines.join('\n') };
}
