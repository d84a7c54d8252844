/**
 * The bench measures the package as users run it: compiled by tsc, not
 * through tsx (whose esbuild transform adds a `__name()` call to every named
 * closure — a cost on hot paths that the published package does not have).
 * `lib/` is compiled into a private directory under node_modules/.cache, so
 * the repo's `dist/` is never touched and the package's dependencies resolve.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');

/**
 * Where the compiled package lives.
 *
 * @example
 * ```ts
 * const { zitadelAuth } = loadPackage<typeof import('../lib')>(buildDir, 'index');
 * ```
 */
export const BUILD_DIR = join(
  ROOT,
  'node_modules',
  '.cache',
  'express-zitadel-introspection-bench',
);

/**
 * Compiles `lib/` with the package's own build settings into
 * {@link BUILD_DIR}. Type errors elsewhere do not stop the emit; a missing
 * output does.
 *
 * @example
 * ```ts
 * const buildDir = compilePackage();
 * ```
 */
export function compilePackage(): string {
  rmSync(BUILD_DIR, { recursive: true, force: true });
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const args = ['-p', join(ROOT, 'tsconfig.build.json'), '--outDir', BUILD_DIR];
  // Without source maps, tsconfig.build.json's inlineSources is an error (TS5051) that would
  // read as type errors in lib/.
  args.push('--declaration', 'false', '--declarationMap', 'false', '--sourceMap', 'false');
  args.push('--inlineSources', 'false');
  try {
    execFileSync(process.execPath, [tsc, ...args], { cwd: ROOT, stdio: 'pipe' });
  } catch (error) {
    if (!existsSync(join(BUILD_DIR, 'index.js'))) {
      const output = (error as { stdout?: Buffer }).stdout?.toString() ?? '';
      throw new Error(`tsc could not compile lib/:\n${output.slice(0, 2000)}`, { cause: error });
    }
    console.warn('tsc reported type errors in lib/; benchmarking what it emitted');
  }
  return BUILD_DIR;
}

/**
 * Loads a module of the compiled package, typed as its source.
 *
 * @example
 * ```ts
 * const { startLocalZitadel } = loadPackage<typeof import('../lib/testing')>(dir, 'testing/index');
 * ```
 */
export function loadPackage<T>(buildDir: string, module: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a path known only at run time
  return require(join(buildDir, `${module}.js`)) as T;
}
