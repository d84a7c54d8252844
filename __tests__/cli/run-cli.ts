/**
 * Runs the BUILT command line (`node dist/cli.js …`) as a child process, the
 * way a user runs it, and builds dist/ first when it is missing or older than
 * lib/ (npm test builds in pretest; a lone `npx jest __tests__/cli` may not).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '../..');
export const CLI_PATH = join(root, 'dist/cli.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to the child's stdin, which is then closed. */
  input?: string;
  /** Extra environment; ZITADEL_CLIENT_SECRET is never inherited. */
  env?: Record<string, string>;
}

/**
 * Runs the CLI asynchronously: the scripted servers of a test live in the
 * jest process and must keep answering while the child runs.
 */
export function runCli(args: string[], options: RunOptions = {}): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  if (!options.env?.ZITADEL_CLIENT_SECRET) delete env.ZITADEL_CLIENT_SECRET;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], {
      cwd: root,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/**
 * Builds dist/ with tsc when dist/cli.js is missing or older than any file
 * under lib/. A lock directory keeps parallel test files from building at once.
 */
export async function ensureBuilt(): Promise<void> {
  if (!isStale()) return;
  const lock = join(tmpdir(), `cli-build-${Buffer.from(root).toString('hex').slice(-32)}.lock`);
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) rmSync(lock, { recursive: true, force: true });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    // Another file may have built while we waited.
    if (isStale()) {
      const tsc = join(root, 'node_modules/typescript/bin/tsc');
      // Type errors in files under construction elsewhere do not stop tsc from emitting.
      spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root });
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  if (!existsSync(CLI_PATH)) throw new Error('dist/cli.js was not built');
}

function isStale(): boolean {
  if (!existsSync(CLI_PATH)) return true;
  return newestMtime(join(root, 'lib')) > statSync(CLI_PATH).mtimeMs;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const mtime = entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs;
    newest = Math.max(newest, mtime);
  }
  return newest;
}

/**
 * Asserts that no secret appears in any output: a PEM (or a line of its
 * base64 body), a client secret, or a token.
 */
export function expectNoSecrets(result: CliResult, secrets: string[]): void {
  const output = `${result.stdout}\n${result.stderr}`;
  expect(output).not.toMatch(/PRIVATE KEY/);
  for (const secret of secrets) {
    for (const part of secretParts(secret)) expect(output).not.toContain(part);
  }
}

/** A PEM is checked line by line, so a partial leak is caught too. */
function secretParts(secret: string): string[] {
  if (!secret.includes('-----BEGIN')) return [secret];
  return secret.split('\n').filter((line) => line.length >= 32 && !line.startsWith('-----'));
}

/** The ZITADEL scope that puts a project into a token's audience. */
export const audienceScope = (projectId: string) =>
  `urn:zitadel:iam:org:project:id:${projectId}:aud`;
export const ROLES_SCOPE = 'urn:zitadel:iam:org:projects:roles';
