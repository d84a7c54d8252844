/**
 * Every public entry point (a subpath of package.json "exports") is wired the
 * same way everywhere that needs to know it, so adding one (say
 * `./opentelemetry`) fails here until it is complete:
 * - `exports[sub]` = `{ types: ./dist/X.d.ts, default: ./dist/X.js }` with a
 *   source `lib/X.ts`;
 * - `typesVersions['*'][sub]` → the same `.d.ts` (TypeScript's node10
 *   resolution ignores "exports");
 * - jest's `moduleNameMapper` and tsconfig's `paths` map the name to `lib/X.ts`
 *   (tests and the type-check import the package by name);
 * - TypeDoc documents it (typedoc.config.mjs derives its entry points from
 *   "exports", checked here by loading that config).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '../..');
const readJson = <T>(file: string) => JSON.parse(readFileSync(join(root, file), 'utf8')) as T;

interface Manifest {
  name: string;
  exports: Record<string, string | { types?: string; default?: string }>;
  typesVersions: Record<string, Record<string, string[]>>;
}

const pkg = readJson<Manifest>('package.json');
const entries = Object.entries(pkg.exports)
  .filter(([sub]) => sub !== './package.json')
  .map(([sub, target]) => {
    const { types, default: js } =
      typeof target === 'string' ? { types: undefined, default: target } : target;
    const name = sub === '.' ? pkg.name : `${pkg.name}/${sub.slice(2)}`;
    const source = types?.replace(/^\.\/dist\//, './lib/').replace(/\.d\.ts$/, '.ts');
    return { sub, name, types, js, source };
  });

it('finds the entry points', () => {
  expect(entries.map((e) => e.sub)).toEqual(expect.arrayContaining(['.', './testing']));
});

describe.each(entries)('$sub', ({ sub, name, types, js, source }) => {
  it('has types and JavaScript under dist/ from one source in lib/', () => {
    expect(types).toMatch(/^\.\/dist\/.+\.d\.ts$/);
    expect(js).toBe(types!.replace(/\.d\.ts$/, '.js'));
    expect(existsSync(join(root, source!))).toBe(true);
  });

  it('is in typesVersions (node10 resolution), unless it is the root', () => {
    if (sub === '.') return expect(readJson<{ types: string }>('package.json').types).toBe(types);
    expect(pkg.typesVersions['*'][sub.slice(2)]).toEqual([types]);
  });

  it("is mapped to its source by jest's moduleNameMapper and tsconfig's paths", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const jestConfig = require(join(root, 'jest.config.js')) as {
      moduleNameMapper: Record<string, string>;
    };
    // The mapper keys are anchored regexes; our names need no escaping.
    expect(jestConfig.moduleNameMapper[`^${name}$`]).toBe(`<rootDir>/${source!.slice(2)}`);
    const tsconfig = readJson<{ compilerOptions: { paths: Record<string, string[]> } }>(
      'tsconfig.json',
    );
    expect(tsconfig.compilerOptions.paths[name]).toEqual([source]);
  });
});

it('TypeDoc documents exactly these entry points', () => {
  const out = execFileSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "import c from './typedoc.config.mjs'; console.log(JSON.stringify(c.entryPoints))",
    ],
    { cwd: root, encoding: 'utf8' },
  );
  expect(JSON.parse(out)).toEqual(entries.map((e) => e.source));
});
