// `npm start` rebuilds when a source is newer than the build (infra/local/stale-build.mjs), and
// only then. Temporary trees with set modification times; nothing is built here.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isStale, newestFile, OUTPUTS, SOURCES, staleReason } from '../../infra/local/stale-build.mjs';

let root: string;
const T0 = new Date('2026-01-01T00:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

function file(path: string, time: Date): void {
  const full = join(root, path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, '');
  utimesSync(full, time, time);
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'keyhole-stale-'));
  for (const source of ['server/main.ts', 'client/cli/run.ts', 'client/web/src/main.ts', 'package.json']) {
    file(source, at(0));
  }
  file('tsconfig.json', at(0));
  for (const output of OUTPUTS) file(output, at(10));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('stale-build: does npm start need to rebuild?', () => {
  it('no, when every output is newer than every source', () => {
    expect(staleReason(root)).toBeUndefined();
    expect(isStale(root)).toBe(false);
  });

  it.each([
    'server/main.ts',
    'client/cli/run.ts',
    'client/web/src/main.ts',
    'package.json',
    'tsconfig.json',
    'tsconfig.build.json',
    'server/config/new-module.ts',
  ])('yes, when %s is newer than the build, and it says which', (source) => {
    file(source, at(20));
    expect(staleReason(root)).toBe(`${source} is newer than the build`);
  });

  it('yes, when a source is newer than the oldest output (a build step that failed)', () => {
    file('client/web/dist/index.html', at(-5));
    expect(staleReason(root)).toBe('server/main.ts is newer than the build');
  });

  it.each(OUTPUTS)('yes, when %s is missing', (output) => {
    rmSync(join(root, output));
    expect(staleReason(root)).toBe(`${output} is missing`);
  });

  it('ignores build outputs and dependencies inside the source folders', () => {
    file('client/web/dist/assets/index-abc.js', at(30));
    file('client/web/node_modules/x/index.js', at(30));
    file('server/dist/leftover.js', at(30));
    expect(staleReason(root)).toBeUndefined();
  });

  it('watches what `npm run build` reads: every project it compiles is under a source', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      scripts: { build: string };
    };
    const inputs = [...pkg.scripts.build.matchAll(/(?:-p|vite build) (\S+)/g)].map((m) => m[1]!);
    expect(inputs.length).toBeGreaterThanOrEqual(4);
    const covered = (path: string) =>
      SOURCES.some(
        (s) => path === s || path.startsWith(`${s}/`) || (s === 'tsconfig*.json' && /^tsconfig[^/]*\.json$/.test(path)),
      );
    expect(inputs.filter((path) => !covered(path))).toEqual([]);
  });

  it('newestFile walks folders and answers the newest file', () => {
    file('server/a.ts', at(5));
    file('server/deep/er/b.ts', at(7));
    expect(newestFile([join(root, 'server'), join(root, 'missing')])).toEqual({
      path: join(root, 'server/deep/er/b.ts'),
      mtimeMs: at(7).getTime(),
    });
    expect(newestFile([join(root, 'missing')])).toBeUndefined();
  });
});
