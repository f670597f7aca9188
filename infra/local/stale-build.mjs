// `npm start` serves dist/ and client/web/dist/. This decides whether they are older than their
// sources, and rebuilds them if so: `node infra/local/stale-build.mjs --rebuild` (from start.sh).
// A check walks about a hundred files, a few milliseconds; nothing is built when nothing changed.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the build reads: source folders and files, relative to the repository. */
export const SOURCES = ['server', 'client', 'package.json', 'package-lock.json', 'tsconfig*.json'];
/** What `npm start` runs: one file per build step (tsc server, tsc client and CLI, vite). */
export const OUTPUTS = [
  'dist/server/main.js',
  'dist/client/index.js',
  'dist/client/cli/main.js',
  'client/web/dist/index.html',
];
/** Folders inside the sources that are not sources. */
const SKIP = new Set(['node_modules', 'dist', '.git']);

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch (err) {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** Expands a trailing `*` in a file name (`tsconfig*.json`) within its folder. */
function expand(root, pattern) {
  if (!pattern.includes('*')) return [join(root, pattern)];
  const [before, after] = pattern.split('*');
  return readdirSync(root)
    .filter((name) => name.startsWith(before) && name.endsWith(after))
    .map((name) => join(root, name));
}

/** The newest file under `paths` (folders are walked, `SKIP` folders are not), or undefined. */
export function newestFile(paths) {
  let newest;
  const visit = (path) => {
    let info;
    try {
      info = statSync(path);
    } catch (err) {
      if (err.code === 'ENOENT') return;
      throw err;
    }
    if (info.isDirectory()) {
      for (const entry of readdirSync(path)) if (!SKIP.has(entry)) visit(join(path, entry));
    } else if (!newest || info.mtimeMs > newest.mtimeMs) {
      newest = { path, mtimeMs: info.mtimeMs };
    }
  };
  for (const path of paths) visit(path);
  return newest;
}

/**
 * Why the build in `root` must be redone, or undefined when it is current: an output is missing,
 * or a source changed after the oldest output was written. Every build step rewrites its outputs,
 * so a step that failed leaves its output older than the sources, and the next start retries.
 */
export function staleReason(root, sources = SOURCES, outputs = OUTPUTS) {
  let oldest = Infinity;
  for (const output of outputs) {
    const time = mtime(join(root, output));
    if (time === undefined) return `${output} is missing`;
    oldest = Math.min(oldest, time);
  }
  const newest = newestFile(sources.flatMap((s) => expand(root, s)));
  if (newest && newest.mtimeMs > oldest) return `${relative(root, newest.path)} is newer than the build`;
  return undefined;
}

/** True when `npm start` must rebuild before serving. */
export function isStale(root, sources = SOURCES, outputs = OUTPUTS) {
  return staleReason(root, sources, outputs) !== undefined;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const reason = staleReason(root);
  if (process.argv.includes('--rebuild') && reason) {
    process.stderr.write(`keyhole: building (${reason})\n`);
    const run = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
    process.exit(run.status ?? 1);
  }
  if (!process.argv.includes('--rebuild')) process.stdout.write(reason ? `stale: ${reason}\n` : 'current\n');
}
