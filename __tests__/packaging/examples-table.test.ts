/**
 * docs/examples.md lists every example with the tests that run it: each file
 * in examples/ has a row, and each test named in a row exists and uses that
 * example (imports it or runs it by path).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '../..');
const table = readFileSync(join(root, 'docs/examples.md'), 'utf8');

/** Rows of the first table: example file → test files. */
function coverage(markdown: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of markdown.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const example = /^\[`(examples\/[^`]+)`\]/.exec(cells[1] ?? '')?.[1];
    if (!example) continue;
    const tests = [...(cells[3] ?? '').matchAll(/\[`(__tests__\/[^`]+)`\]/g)].map((m) => m[1]);
    rows.set(example, tests);
  }
  return rows;
}

const rows = coverage(table);
const examples = readdirSync(join(root, 'examples'))
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
  .map((f) => `examples/${f}`)
  .sort();

it('has a row for every example, and no row for a file that is gone', () => {
  expect(examples.length).toBeGreaterThan(5);
  expect([...rows.keys()].sort()).toEqual(examples);
});

it.each([...rows])('%s is covered by tests that exist and use it', (example, tests) => {
  expect(tests.length).toBeGreaterThan(0);
  const name = example.replace(/^examples\//, '').replace(/\.ts$/, '');
  for (const test of tests) {
    expect({ test, exists: existsSync(join(root, test)) }).toEqual({ test, exists: true });
    const text = readFileSync(join(root, test), 'utf8');
    const uses =
      text.includes(`examples/${name}'`) || // import … from '../../examples/name'
      text.includes(`examples/${name}.ts`) || // spawned by path
      text.includes(`'${name}.ts'`); // run-directly's table of files
    expect({ test, uses }).toEqual({ test, uses: true });
  }
});
