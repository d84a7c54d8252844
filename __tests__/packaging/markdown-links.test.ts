/**
 * No dead links in the docs: every relative link and anchor in README.md,
 * CHANGELOG.md and docs/**\/*.md resolves (GitHub's heading slugs). The
 * checker itself is proven first on small in-memory documents.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import {
  anchorsOf,
  findDeadLinks,
  githubSlug,
  linksOf,
  type FileView,
} from '../helpers/markdown-links';

const memory = (files: Record<string, string>, dirs: string[] = []): FileView => ({
  exists: (path) => path in files || dirs.includes(path),
  read: (path) => files[path],
});

describe('githubSlug', () => {
  it.each([
    ['Protecting your API (quick start)', 'protecting-your-api-quick-start'],
    ['The calling side: service-user tokens', 'the-calling-side-service-user-tokens'],
    ['Sharing the cache across replicas (Redis)', 'sharing-the-cache-across-replicas-redis'],
    ['Decisions on token extraction (RFC 6750 §2)', 'decisions-on-token-extraction-rfc-6750-2'],
    ['snake_case and kebab-case', 'snake_case-and-kebab-case'],
    ['Two  spaces', 'two--spaces'],
    ['Ünïcode Wörds', 'ünïcode-wörds'],
    ['[Unreleased] — 0.2.0', 'unreleased--020'],
  ])('%s → %s', (heading, slug) => {
    expect(githubSlug(heading)).toBe(slug);
  });

  it('numbers repeated headings as GitHub does', () => {
    const seen = new Map<string, number>();
    expect(['Intro', 'Intro', 'Intro-1', 'Intro'].map((h) => githubSlug(h, seen))).toEqual([
      'intro',
      'intro-1',
      'intro-1-1',
      'intro-2',
    ]);
  });
});

describe('anchorsOf', () => {
  it('slugs headings as rendered (code, emphasis, links), skips fenced code, reads <a id>', () => {
    const md = [
      '# Title',
      '### `stats()`',
      '## **Bold** and _it_ and [a link](x.md) ##',
      '```sh',
      '# not a heading',
      '```',
      '<a id="custom-anchor"></a>',
      '## Title',
    ].join('\n');
    expect([...anchorsOf(md)].sort()).toEqual(
      ['bold-and-it-and-a-link', 'custom-anchor', 'stats', 'title', 'title-1'].sort(),
    );
  });
});

describe('linksOf', () => {
  it('finds inline, angle-bracket, reference, image and href links, not those in code', () => {
    const md = [
      'See [one](a.md#x "title"), ![img](img/p.png) and [two](<b c.md>).',
      '`[not](code.md)` but <a href="d.md">d</a>',
      '```',
      '[not](fenced.md)',
      '```',
      '[ref]: e.md#y',
    ].join('\n');
    expect(linksOf(md)).toEqual([
      { target: 'b c.md', line: 1 },
      { target: 'a.md#x', line: 1 },
      { target: 'img/p.png', line: 1 },
      { target: 'd.md', line: 2 },
      { target: 'e.md#y', line: 6 },
    ]);
  });
});

describe('findDeadLinks', () => {
  const files = {
    'README.md': '# Read me\n## Quick start\n',
    'docs/caching.md': '# Caching\n## Tiers and fleet\n',
    'lib/index.ts': 'export {};\n',
  };
  const view = memory(files, ['docs']);

  it('passes links that resolve, and leaves absolute URLs alone', () => {
    const md = [
      '[top](#read-me) [qs](#quick-start) [c](docs/caching.md) [t](docs/caching.md#tiers-and-fleet)',
      '[dir](docs/) [code](lib/index.ts#L1) [web](https://example.com/x#y) [mail](mailto:a@b.c)',
    ].join('\n');
    expect(findDeadLinks('README.md', files['README.md'] + md, view)).toEqual([]);
  });

  it('resolves paths relative to the linking file', () => {
    const md =
      '[back](../README.md#quick-start) [same](caching.md#caching) [self](#tiers-and-fleet)';
    expect(findDeadLinks('docs/caching.md', files['docs/caching.md'] + md, view)).toEqual([]);
  });

  it('reports a missing file, a missing anchor here and there, and a path outside the repo', () => {
    const md = [
      'intro',
      '[gone](docs/missing.md) [typo](#quik-start)',
      '[far](docs/caching.md#no-such) [out](../../etc/passwd)',
    ].join('\n');
    const dead = findDeadLinks('README.md', '# Read me\n## Quick start\n' + md, view);
    expect(dead).toEqual([
      { file: 'README.md', line: 4, target: 'docs/missing.md', reason: 'no file docs/missing.md' },
      {
        file: 'README.md',
        line: 4,
        target: '#quik-start',
        reason: 'no heading #quik-start in README.md',
      },
      {
        file: 'README.md',
        line: 5,
        target: 'docs/caching.md#no-such',
        reason: 'no heading #no-such in docs/caching.md',
      },
      {
        file: 'README.md',
        line: 5,
        target: '../../etc/passwd',
        reason: 'points outside the repository',
      },
    ]);
  });

  it('is case-sensitive about anchors (GitHub ids are lowercase)', () => {
    expect(findDeadLinks('README.md', '[x](#Quick-Start)', view)).toHaveLength(1);
  });
});

describe("the repository's Markdown", () => {
  const root = join(__dirname, '../..');
  const ignoredByGit = (path: string) => {
    try {
      execFileSync('git', ['check-ignore', '-q', path], { cwd: root, stdio: 'ignore' });
      return true; // exit 0: ignored
    } catch {
      return false; // exit 1: not ignored (or not a git checkout: nothing to tell)
    }
  };
  // A link into a git-ignored path (docs/api/, dist/) works here but is dead
  // on GitHub and in a fresh clone.
  const disk: FileView = {
    exists: (path) => existsSync(join(root, path)) && !ignoredByGit(path),
    read: (path) =>
      existsSync(join(root, path)) ? readFileSync(join(root, path), 'utf8') : undefined,
  };
  const markdownUnder = (dir: string): string[] =>
    existsSync(join(root, dir))
      ? readdirSync(join(root, dir)).flatMap((name) => {
          const path = join(root, dir, name);
          const rel = relative(root, path).split(sep).join('/');
          if (rel === 'docs/api') return [];
          if (statSync(path).isDirectory()) return markdownUnder(rel);
          return name.endsWith('.md') ? [rel] : [];
        })
      : [];
  const files = ['README.md', 'CHANGELOG.md', 'bench/RESULTS.md', ...markdownUnder('docs')];

  it('checks README.md and CHANGELOG.md at least', () => {
    expect(files).toEqual(expect.arrayContaining(['README.md', 'CHANGELOG.md']));
    expect(linksOf(readFileSync(join(root, 'README.md'), 'utf8')).length).toBeGreaterThan(5);
  });

  it('README.md is a front door of at most 300 lines', () => {
    const lines = readFileSync(join(root, 'README.md'), 'utf8').trimEnd().split('\n');
    expect(lines.length).toBeLessThanOrEqual(300);
  });

  it.each(files.filter((f) => existsSync(join(root, f))))('%s has no dead links', (file) => {
    expect(findDeadLinks(file, readFileSync(join(root, file), 'utf8'), disk)).toEqual([]);
  });
});
