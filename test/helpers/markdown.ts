// What the documentation test needs from Markdown: headings (as GitHub turns them into anchors),
// relative links, and the code blocks marked runnable. A small line scanner, not a full CommonMark
// parser: the repository's docs use fenced code blocks, inline links, images and a few HTML tags,
// and the test's own cases (test/unit/doc-links.test.ts) pin what it understands.
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

/** A line of a Markdown file, with whether it lies inside a fenced code block. */
interface Line {
  readonly text: string;
  /** 1-based. */
  readonly number: number;
  readonly inFence: boolean;
}

/** A fenced code block. `info` is the text after the opening fence (`sh runnable`). */
export interface CodeBlock {
  readonly info: string;
  readonly code: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
}

/** A link found outside code: `[text](target)`, `![alt](target)`, `<img src>`, `<a href>`, `[ref]: target`. */
export interface Link {
  readonly target: string;
  readonly line: number;
}

function scan(markdown: string): { lines: Line[]; blocks: CodeBlock[] } {
  const lines: Line[] = [];
  const blocks: CodeBlock[] = [];
  let fence: { marker: string; info: string; line: number; body: string[] } | undefined;
  markdown.split('\n').forEach((text, i) => {
    const open = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(text);
    if (fence === undefined && open) {
      fence = { marker: open[1]!, info: open[2]!.trim(), line: i + 1, body: [] };
      lines.push({ text, number: i + 1, inFence: true });
      return;
    }
    if (fence !== undefined) {
      const close = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(text);
      if (close && close[1]![0] === fence.marker[0] && close[1]!.length >= fence.marker.length) {
        blocks.push({ info: fence.info, code: fence.body.join('\n'), line: fence.line });
        fence = undefined;
      } else {
        // An indented block (inside a list item) keeps its indentation here; runnable blocks are not indented.
        fence.body.push(text);
      }
      lines.push({ text, number: i + 1, inFence: true });
      return;
    }
    lines.push({ text, number: i + 1, inFence: false });
  });
  return { lines, blocks };
}

/** Inline code spans removed, so `[a](b)` written inside backticks is not taken for a link. */
function withoutCodeSpans(text: string): string {
  return text.replace(/(`+)[\s\S]*?\1/g, (span) => ' '.repeat(span.length));
}

/**
 * The anchor GitHub gives a heading's text: links reduced to their text, HTML tags dropped, lowercase,
 * every character that is not a letter, a digit, `_`, `-` or a space dropped, spaces made hyphens.
 */
export function githubSlug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor a file offers: heading slugs (a repeated slug gets `-1`, `-2`...) and HTML `id`/`name`. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of scan(markdown).lines) {
    if (line.inFence) continue;
    const heading = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line.text);
    if (heading) {
      const slug = githubSlug(heading[1]!);
      const n = seen.get(slug) ?? 0;
      seen.set(slug, n + 1);
      anchors.add(n === 0 ? slug : `${slug}-${n}`);
    }
    for (const m of withoutCodeSpans(line.text).matchAll(/<a\s[^>]*\b(?:id|name)="([^"]+)"/g)) anchors.add(m[1]!);
  }
  return anchors;
}

/** Every link outside code blocks and code spans. */
export function linksOf(markdown: string): Link[] {
  const links: Link[] = [];
  for (const line of scan(markdown).lines) {
    if (line.inFence) continue;
    const text = withoutCodeSpans(line.text);
    const add = (target: string) => links.push({ target, line: line.number });
    // [text](target "title"), ![alt](target), with an optional <target> form.
    for (const m of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) add(m[1]!);
    for (const m of text.matchAll(/<(?:img|source)\s[^>]*\bsrc="([^"]+)"/g)) add(m[1]!);
    for (const m of text.matchAll(/<a\s[^>]*\bhref="([^"]+)"/g)) add(m[1]!);
    const definition = /^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/.exec(text);
    if (definition) add(definition[1]!);
  }
  return links;
}

/** Fenced code blocks whose info string has the word `runnable` (```` ```sh runnable ````). */
export function runnableBlocks(markdown: string): CodeBlock[] {
  return scan(markdown).blocks.filter((block) => block.info.split(/\s+/).includes('runnable'));
}

/** A target with a scheme (`https:`, `mailto:`) or protocol-relative: not checked against the tree. */
export function isExternal(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//');
}

const SKIPPED_DIRS = new Set(['node_modules', 'dist', '.local', '.git']);

/** Every `*.md` under `root`, relative to it, skipping node_modules, dist, .local and .git at any depth. */
export function markdownFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) walk(join(dir, entry.name));
      } else if (entry.isFile() && entry.name.endsWith('.md')) {
        found.push(relative(root, join(dir, entry.name)));
      }
    }
  };
  walk(root);
  return found.sort();
}

/**
 * Why a relative link from `fromFile` (a path relative to `root`) does not resolve, or undefined when it
 * does: the path must exist (a file or a folder), and an `#anchor` must name a heading of the Markdown
 * file it points into. `read` returns a file's text (injected so the checks can be tested on fixtures).
 */
export function brokenLink(
  root: string,
  fromFile: string,
  target: string,
  read: (path: string) => string,
  exists: (path: string) => boolean = (path) => existsSync(join(root, path)),
): string | undefined {
  if (isExternal(target)) return undefined;
  const hash = target.indexOf('#');
  const rawPath = hash < 0 ? target : target.slice(0, hash);
  const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
  let path: string;
  try {
    path = decodeURIComponent(rawPath.split('?')[0]!);
  } catch {
    return `"${target}" is not a valid URL path`;
  }
  const file = path === '' ? fromFile : relative(root, join(root, fromFile, '..', path));
  if (file.startsWith('..')) return `"${target}" leaves the repository`;
  if (!exists(file)) return `"${target}": no such file (${file})`;
  if (anchor === undefined || anchor === '') return undefined;
  if (!file.endsWith('.md')) return undefined; // #L10 on a source file, and the like
  if (!anchorsOf(read(file)).has(anchor)) return `"${target}": ${file} has no heading with the anchor #${anchor}`;
  return undefined;
}
