/**
 * `npm run docs` fails on an undocumented export or a public signature that
 * uses a type the entry point does not export: the repository's TypeDoc
 * config is run on two small probe modules, one that breaks both rules and
 * one that keeps them. (CI runs `npm run docs` on the real entry points.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = join(__dirname, '../..');
const typedoc = join(root, 'node_modules/typedoc/bin/typedoc');

function runTypeDoc(source: string) {
  const dir = mkdtempSync(join(tmpdir(), 'typedoc-probe-'));
  try {
    writeFileSync(join(dir, 'index.ts'), source);
    // TypeDoc checks the packages it documents: the probe is one.
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'probe', version: '0.0.0' }));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, module: 'node20', target: 'es2022', types: [] },
        include: ['./*.ts'],
      }),
    );
    // The repository's own config, pointed at the probe.
    const base = pathToFileURL(join(root, 'typedoc.config.mjs')).href;
    writeFileSync(
      join(dir, 'typedoc.mjs'),
      `import base from ${JSON.stringify(base)};
       export default { ...base, name: 'probe', entryPoints: [${JSON.stringify(join(dir, 'index.ts'))}],
         tsconfig: ${JSON.stringify(join(dir, 'tsconfig.json'))}, out: ${JSON.stringify(join(dir, 'out'))} };`,
    );
    const run = spawnSync(process.execPath, [typedoc, '--options', join(dir, 'typedoc.mjs')], {
      encoding: 'utf8',
    });
    return {
      status: run.status,
      output: `${run.stdout}${run.stderr}`,
      html: existsSync(join(dir, 'out/index.html')),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const header = '/**\n * A probe.\n *\n * @packageDocumentation\n */\n';

it('fails on an undocumented export and on a public type that is not exported', () => {
  const { status, output } = runTypeDoc(
    `${header}
interface Hidden { a: number }
/** Documented, but its parameter's type is not exported. */
export function usesHidden(h: Hidden): number { return h.a; }
export function undocumented(): number { return 2; }
`,
  );
  expect(status).not.toBe(0);
  expect(output).toMatch(/undocumented .*does not have any documentation/);
  expect(output).toMatch(
    /Hidden, defined in .* is referenced by .* but not included in the documentation/,
  );
}, 120_000);

it('passes a module whose exports are documented and self-contained', () => {
  const { status, output, html } = runTypeDoc(
    `${header}
/** The input. */
export interface Shown { a: number }
/** Reads \`a\`. */
export function usesShown(s: Shown): number { return s.a; }
`,
  );
  expect({ status, output: output.includes('warning') ? output : '' }).toEqual({
    status: 0,
    output: '',
  });
  expect(html).toBe(true);
}, 120_000);
