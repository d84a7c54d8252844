/**
 * The examples run directly with tsx, as their headers say: without their
 * environment each explains what to set on stderr and exits 1.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

/** This process's environment without anything an example reads. */
function bareEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(ZITADEL_|API_|REDIS_URL$|PORT$|HOST$)/.test(name)) delete env[name];
  }
  return env;
}

function runExample(
  file: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [join('examples', file)], {
      cwd: ROOT,
      env: bareEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

it.each([
  ['api.ts', 'Missing: ZITADEL_ISSUER, ZITADEL_KEY_FILE.'],
  ['jwt-bearer-client.ts', 'Missing: ZITADEL_ISSUER, ZITADEL_KEY_FILE, ZITADEL_PROJECT_ID.'],
  ['client-credentials-client.ts', 'Missing: ZITADEL_ISSUER, ZITADEL_CLIENT_ID,'],
  ['pat-client.ts', 'Missing: ZITADEL_PAT.'],
  ['redis-shared-cache.ts', 'Set REDIS_URL'],
  ['prometheus.ts', 'Missing: ZITADEL_ISSUER, ZITADEL_KEY_FILE.'],
])('tsx examples/%s without its environment exits 1 and says what to set', async (file, says) => {
  const { code, stdout, stderr } = await runExample(file);
  expect({ code, stdout }).toEqual({ code: 1, stdout: '' });
  expect(stderr).toContain(says);
});
