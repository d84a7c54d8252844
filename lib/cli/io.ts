/**
 * Where the commands write and read: the process's streams in the CLI. One
 * seam, so no command reaches for `process` itself.
 */
import { UsageError } from './args';

/** The CLI's streams and environment. */
export interface Io {
  /** Writes one line to stdout. */
  out(line: string): void;
  /** Writes one line to stderr. */
  err(line: string): void;
  /** Reads stdin to its end; a `UsageError` beyond `maxBytes`. */
  readStdin(maxBytes: number): Promise<string>;
  env: NodeJS.ProcessEnv;
}

/**
 * The streams of this process.
 *
 * @example
 * ```ts
 * const io = processIo();
 * io.out('hello');
 * ```
 */
export function processIo(): Io {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    readStdin: (maxBytes) => readStream(process.stdin, maxBytes),
    env: process.env,
  };
}

async function readStream(stream: NodeJS.ReadableStream, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  // stdin has no encoding set, so every chunk is a Buffer.
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new UsageError(`stdin holds more than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
