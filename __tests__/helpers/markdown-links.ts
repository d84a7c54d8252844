/**
 * A dead-link checker for the repository's Markdown: every relative link
 * (`[text](path)`, `[text](path#anchor)`, `[text](#anchor)`, images,
 * reference definitions, `href="…"`) must name a file that exists, and every
 * anchor must be a heading (or an explicit `<a id>`/`<a name>`) of the file it
 * points into, slugged as GitHub slugs headings. Absolute URLs are not
 * fetched (the tests run on loopback only).
 */
import { posix } from 'node:path';

/** A link that points nowhere. */
export interface DeadLink {
  /** The Markdown file the link is in. */
  file: string;
  /** 1-based line of the link. */
  line: number;
  /** The link target as written. */
  target: string;
  /** Why it is dead. */
  reason: string;
}

/** How the checker sees the files: by repository-relative POSIX path. */
export interface FileView {
  /** `true` for an existing file or directory. */
  exists(path: string): boolean;
  /** The text of a Markdown file, or `undefined` when there is none. */
  read(path: string): string | undefined;
}

/**
 * GitHub's heading slug (github-slugger): lowercase; every character that is
 * not a letter, a mark, a digit, a connector (`_`), `-` or a space dropped;
 * each space → `-`. With `seen` (one map per document), a repeated slug gets
 * `-1`, `-2`, … in document order.
 *
 * @example
 * ```ts
 * githubSlug('Protecting your API (quick start)'); // 'protecting-your-api-quick-start'
 * ```
 */
export function githubSlug(text: string, seen?: Map<string, number>): string {
  const base = text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
  if (!seen) return base;
  // github-slugger's numbering, step for step: a taken slug bumps the
  // counter of its base until a free one turns up.
  let slug = base;
  while (seen.has(slug)) {
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    slug = `${base}-${n}`;
  }
  seen.set(slug, 0);
  return slug;
}

/**
 * The anchors a Markdown document offers: its ATX headings (`#` … `######`,
 * outside fenced code) slugged by {@link githubSlug}, plus explicit
 * `<a id="…">` / `<a name="…">` anchors.
 */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text } of proseLines(markdown)) {
    const heading = /^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/.exec(text);
    if (heading) anchors.add(githubSlug(renderedText(heading[1]), seen));
    for (const m of text.matchAll(/<a\s[^>]*\b(?:id|name)\s*=\s*"([^"]+)"/gi)) anchors.add(m[1]);
  }
  return anchors;
}

/** The link targets of a Markdown document, outside code, with their lines. */
export function linksOf(markdown: string): Array<{ target: string; line: number }> {
  const links: Array<{ target: string; line: number }> = [];
  for (const { text, line } of proseLines(markdown)) {
    const prose = text.replace(/(`+)[^`]*?\1/g, '');
    const patterns = [
      /\]\(\s*<([^>]*)>/g, // [text](<target with spaces>)
      /\]\(\s*([^)\s<][^)\s]*)/g, // [text](target "title")
      /^ {0,3}\[[^\]]+\]:\s*<?([^>\s]+)>?/g, // [ref]: target
      /\bhref\s*=\s*"([^"]*)"/gi, // <a href="target">
    ];
    for (const pattern of patterns) {
      for (const m of prose.matchAll(pattern)) links.push({ target: m[1], line });
    }
  }
  return links;
}

/**
 * The dead relative links of one file.
 *
 * @example
 * ```ts
 * findDeadLinks('README.md', text, view); // [] when every link resolves
 * ```
 */
export function findDeadLinks(file: string, markdown: string, view: FileView): DeadLink[] {
  const dead: DeadLink[] = [];
  for (const { target, line } of linksOf(markdown)) {
    const reason = whyDead(file, markdown, target, view);
    if (reason) dead.push({ file, line, target, reason });
  }
  return dead;
}

function whyDead(file: string, markdown: string, target: string, view: FileView) {
  // Absolute URLs (https:, mailto:, …) and protocol-relative ones are not ours to check.
  if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) return undefined;
  const hashAt = target.indexOf('#');
  const pathPart = decodeURIComponent(hashAt === -1 ? target : target.slice(0, hashAt));
  const anchor = hashAt === -1 ? undefined : decodeURIComponent(target.slice(hashAt + 1));
  const path = pathPart === '' ? file : resolveFrom(file, pathPart.split('?')[0]);
  if (path === undefined) return 'points outside the repository';
  if (pathPart !== '' && !view.exists(path)) return `no file ${path}`;
  if (anchor === undefined || anchor === '') return undefined;
  // Anchors into code (`lib/x.ts#L10`) are GitHub line links: only the file is checked.
  if (!path.endsWith('.md')) return undefined;
  const text = path === file ? markdown : view.read(path);
  if (text === undefined) return `cannot read ${path}`;
  return anchorsOf(text).has(anchor) ? undefined : `no heading #${anchor} in ${path}`;
}

/** `target` relative to the directory of `file`, as a repository path. */
function resolveFrom(file: string, target: string): string | undefined {
  const joined = target.startsWith('/')
    ? posix.normalize(target.slice(1))
    : posix.normalize(posix.join(posix.dirname(file), target));
  if (joined === '..' || joined.startsWith('../')) return undefined;
  return joined.replace(/\/$/, '') || '.';
}

/** Lines outside fenced code blocks (``` or ~~~), with 1-based numbers. */
function* proseLines(markdown: string): Generator<{ text: string; line: number }> {
  let fence: string | undefined;
  const lines = markdown.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i];
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(text)?.[1];
    if (fence) {
      if (marker && marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
      continue;
    }
    if (marker) {
      fence = marker;
      continue;
    }
    yield { text, line: i + 1 };
  }
}

/** A heading's text as GitHub renders it: code, emphasis, links and HTML reduced to their text. */
function renderedText(heading: string): string {
  return (
    heading
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/<[^>]+>/g, '')
      .replace(/(`+)(.*?)\1/g, '$2')
      .replace(/(\*\*|\*)(?=\S)(.+?)(?<=\S)\1/g, '$2')
      // `_` emphasis only between non-word characters: snake_case stays as is.
      .replace(/(^|[^\p{L}\p{N}])(__|_)(?=\S)(.+?)(?<=\S)\2(?![\p{L}\p{N}])/gu, '$1$3')
      .trim()
  );
}
