/**
 * What `npm publish` would ship: `npm pack --dry-run --json` lists the
 * tarball, which must hold dist/, README.md, LICENSE, CHANGELOG.md and
 * package.json, and nothing else — no tests, no bench, no keys, no sources.
 * Needs dist/ (npm test's pretest builds it).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '../..');
const topLevel = ['CHANGELOG.md', 'LICENSE', 'README.md', 'package.json'];

interface PackedFile {
  path: string;
  size: number;
}

let files: string[];

beforeAll(() => {
  if (!existsSync(join(root, 'dist/index.js'))) {
    throw new Error('dist/ is missing: run `npm run build` (npm test does it in pretest)');
  }
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const out = execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [packed] = JSON.parse(out) as Array<{ files: PackedFile[] }>;
  files = packed.files.map((f) => f.path).sort();
}, 60_000);

it('holds README.md, LICENSE, CHANGELOG.md, package.json and dist/ only', () => {
  expect(files.filter((f) => !f.startsWith('dist/'))).toEqual(topLevel);
  expect(files.filter((f) => f.startsWith('dist/')).length).toBeGreaterThan(10);
});

it('holds every file package.json points at (exports, main, types, bin)', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    main: string;
    types: string;
    bin: Record<string, string>;
    exports: Record<string, string | Record<string, string>>;
    typesVersions: Record<string, Record<string, string[]>>;
  };
  const targets = [
    pkg.main,
    pkg.types,
    ...Object.values(pkg.bin),
    ...Object.values(pkg.exports).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t))),
    ...Object.values(pkg.typesVersions['*']).flat(),
  ].map((t) => t.replace(/^\.\//, ''));
  expect(targets.length).toBeGreaterThan(6);
  for (const target of targets) expect(files).toContain(target);
});

it('ships only compiled output: .js, .d.ts and .js.map, each from a source in lib/', () => {
  for (const file of files.filter((f) => f.startsWith('dist/'))) {
    expect(file).toMatch(/\.(js|d\.ts|js\.map)$/);
    const source = file.replace(/^dist\//, 'lib/').replace(/\.(js|d\.ts|js\.map)$/, '.ts');
    // A compiled file without a source is a leftover (a deleted or renamed
    // file) or something the build was never meant to pick up.
    expect({ file, hasSource: existsSync(join(root, source)) }).toEqual({ file, hasSource: true });
  }
});

it('holds no tests, bench, examples, keys, secrets or tarballs', () => {
  const forbidden = [
    /__tests__|\.test\.|\.spec\./,
    /(^|\/)(bench|examples|coverage|node_modules|docs)\//,
    /\.(pem|key|p12|pfx|crt|env|tgz|log)$/,
    /(^|\/)\.env/,
    /key\.json$|service-user\.json$/,
    /tsconfig|jest\.config|eslint\.config|\.ci\//,
  ];
  for (const file of files) {
    for (const pattern of forbidden)
      expect({ file, match: pattern.test(file) }).toEqual({ file, match: false });
  }
});

it('source maps carry their sources, so they resolve without lib/ in the tarball', () => {
  const maps = files.filter((f) => f.endsWith('.js.map'));
  expect(maps.length).toBeGreaterThan(10);
  for (const map of maps) {
    const { sources, sourcesContent } = JSON.parse(readFileSync(join(root, map), 'utf8')) as {
      sources: string[];
      sourcesContent?: Array<string | null>;
    };
    expect({ map, inlined: sourcesContent?.length === sources.length }).toEqual({
      map,
      inlined: true,
    });
    expect(sourcesContent!.every((s) => typeof s === 'string' && s.length > 0)).toBe(true);
  }
});
