/**
 * What the ad-hoc JWT scripts (ab-jwt-cold.ts, micro-jwt-cold.ts) share: a
 * numeric flag, and the compiled package with the kit and the bench's JWT
 * issuer around the work (their exit code: `runScript` in processes.ts).
 */
import type { LocalZitadel } from '../lib/testing';
import { compilePackage, loadPackage } from './build';
import { startJwtIssuer, type JwtIssuer } from './jwt-tokens';
import { installCleanup } from './processes';

/**
 * The number after `name` on the command line, else `fallback`.
 *
 * @example
 * ```ts
 * const ROUNDS = numberFlag('--rounds', 4);
 * ```
 */
export function numberFlag(name: string, fallback: number): number {
  const argv = process.argv.slice(2);
  const at = argv.indexOf(name);
  return at >= 0 ? Number(argv[at + 1]) : fallback;
}

/** What {@link withJwtBench} hands the work. */
export interface JwtBench {
  /** The compiled package (see build.ts). */
  buildDir: string;
  zitadel: LocalZitadel;
  /** The bench's own JWT issuer (jwt-tokens.ts), for the kit's issuer and project. */
  issuer: JwtIssuer;
}

/**
 * Compiles `lib/`, starts the kit and the JWT issuer, runs `work` with them
 * and closes both after it, whatever it did.
 *
 * @example
 * ```ts
 * await withJwtBench(async ({ buildDir, zitadel, issuer }) => { … });
 * ```
 */
export async function withJwtBench(work: (bench: JwtBench) => Promise<void>): Promise<void> {
  installCleanup();
  const buildDir = compilePackage();
  const { startLocalZitadel } = loadPackage<typeof import('../lib/testing')>(
    buildDir,
    'testing/index',
  );
  const zitadel = await startLocalZitadel();
  const issuer = await startJwtIssuer({ issuer: zitadel.issuer, projectId: zitadel.projectId });
  try {
    await work({ buildDir, zitadel, issuer });
  } finally {
    await zitadel.close();
    await issuer.close();
  }
}
