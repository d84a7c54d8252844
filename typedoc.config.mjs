// TypeDoc for `npm run docs`: the API reference in docs/api/ (not committed).
// The entry points come from package.json "exports" (each "types" target
// under dist/ maps back to its source under lib/), so a new subpath export —
// `./opentelemetry`, say — is documented, and checked, without touching this
// file.
import { readFileSync } from 'node:fs';
import { URL } from 'node:url';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

/** `./dist/testing/index.d.ts` → `./lib/testing/index.ts` */
const sourceOf = (types) => types.replace(/^\.\/dist\//, './lib/').replace(/\.d\.ts$/, '.ts');

const entryPoints = Object.values(pkg.exports)
  .filter((target) => typeof target === 'object' && typeof target.types === 'string')
  .map((target) => sourceOf(target.types));

/** @type {Partial<import('typedoc').TypeDocOptions>} */
export default {
  name: pkg.name,
  entryPoints,
  tsconfig: './tsconfig.build.json',
  out: './docs/api',
  readme: 'none',
  // No source links: the package has no public repository URL yet, and a
  // clone's own remote (a local path in CI) is not one TypeDoc can link to.
  disableSources: true,
  // Warnings fail the run: an undocumented export, a broken {@link} or a type
  // that is used but not exported stops CI.
  treatWarningsAsErrors: true,
  validation: { notExported: true, invalidLink: true, notDocumented: true },
  // Every export needs its own TSDoc; members (properties, methods) may rely
  // on their type's comment. Add 'Property' and 'Method' here to be stricter.
  requiredToBeDocumented: [
    'Module',
    'Namespace',
    'Enum',
    'Variable',
    'Function',
    'Class',
    'Interface',
    'TypeAlias',
  ],
  excludePrivate: true,
  excludeInternal: true,
  sort: ['source-order'],
};
