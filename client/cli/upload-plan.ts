// What `keyhole upload` will send, decided before anything is sent: every file (folders walked), the
// key each goes to, and no two files to one key.
import { lstat, readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { fullKey } from '../keys.js';
import { CliError, EXIT } from './exit-codes.js';
import { localFileError } from './local-errors.js';

/** One file to upload. */
export interface PlannedFile {
  /** The path as the user gave it, or joined below a folder they gave. */
  readonly file: string;
  /** The key, relative to the granted prefix. */
  readonly key: string;
  readonly size: number;
}

/** An entry inside a folder that is not uploaded. */
export interface SkippedEntry {
  readonly file: string;
  readonly reason: 'symbolic link' | 'not a regular file';
}

export interface UploadPlan {
  /** In the order given; a folder's files sorted by path. */
  readonly files: readonly PlannedFile[];
  readonly skipped: readonly SkippedEntry[];
  /** True when a folder was given: the command then prints a summary line. */
  readonly hasFolder: boolean;
}

/** Several files that would go to one key. */
export interface Collision {
  readonly key: string;
  readonly files: readonly string[];
}

/** Refused before anything is sent: two or more files would be uploaded to the same key. */
export class KeyCollisionError extends CliError {
  readonly collisions: readonly Collision[];

  constructor(collisions: readonly Collision[]) {
    const first = collisions[0]!;
    const names = first.files.map((f) => `"${f}"`);
    const others = collisions.length - 1;
    const more = others > 0 ? ` (${others} other ${others === 1 ? 'key is' : 'keys are'} shared too)` : '';
    super(
      'key_collision',
      EXIT.usage,
      `${names.slice(0, -1).join(', ')} and ${names.at(-1)} would be uploaded to the same key "${first.key}"${more}; nothing was uploaded`,
    );
    this.name = 'KeyCollisionError';
    this.collisions = collisions;
  }
}

/** Where a file or folder named on the command line goes: its name, or --to. */
function target(name: string, to: string | undefined): string {
  if (to === undefined) return name;
  return to.endsWith('/') ? to + name : to;
}

/**
 * Every regular file below `dir`, depth first in name order, with its key below `base`. Symbolic links
 * and special files inside a folder are skipped, not followed: a link could lead out of the folder.
 */
async function walk(dir: string, base: string, files: PlannedFile[], skipped: SkippedEntry[]): Promise<void> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  } catch (err) {
    throw localFileError(dir, err, 'read');
  }
  for (const name of names) {
    const file = join(dir, name);
    let info;
    try {
      info = await lstat(file);
    } catch (err) {
      throw localFileError(file, err, 'read');
    }
    const key = `${base}/${name}`;
    if (info.isDirectory()) await walk(file, key, files, skipped);
    else if (info.isFile()) files.push({ file, key, size: info.size });
    else skipped.push({ file, reason: info.isSymbolicLink() ? 'symbolic link' : 'not a regular file' });
  }
}

/** The keys used more than once, each with its files, in the order first seen. */
export function collisions(files: readonly PlannedFile[]): Collision[] {
  const byKey = new Map<string, string[]>();
  for (const { key, file } of files) byKey.set(key, [...(byKey.get(key) ?? []), file]);
  return [...byKey].filter(([, list]) => list.length > 1).map(([key, list]) => ({ key, files: list }));
}

/**
 * Expands the paths given to `keyhole upload` into the files to send. A file goes to its name, or to
 * --to (a key, or a folder ending in "/"). A folder is walked: each file keeps its path below the
 * folder's name (`photos/2024/a.jpg`), or below --to. Throws before anything is sent: `local_file` for
 * a path that cannot be read, `invalid_key` (with `file`) for a name that makes no valid key, and
 * {@link KeyCollisionError} when two files would go to one key.
 */
export async function planUpload(paths: readonly string[], to: string | undefined): Promise<UploadPlan> {
  const files: PlannedFile[] = [];
  const skipped: SkippedEntry[] = [];
  let hasFolder = false;
  for (const path of paths) {
    let info;
    try {
      // A path given on the command line is followed if it is a link: the user named it.
      info = await stat(path);
    } catch (err) {
      throw localFileError(path, err, 'read');
    }
    if (info.isFile()) {
      files.push({ file: path, key: target(basename(path), to), size: info.size });
    } else if (info.isDirectory()) {
      hasFolder = true;
      // "." or "dir/.." name the folder they resolve to.
      const name = basename(resolve(path));
      if (name === '') throw new CliError('usage', EXIT.usage, `cannot upload "${path}": name a folder below it`);
      await walk(path, target(name, to), files, skipped);
    } else {
      throw new CliError('local_file', EXIT.localFile, `"${path}" is not a regular file or a folder`);
    }
  }
  // Keys are checked relative to an empty prefix (the grant is not known yet): a control character in
  // a file name or in --to is refused before anything is sent. The grant's prefix is checked on upload.
  for (const { file, key } of files) {
    try {
      fullKey('', key);
    } catch (err) {
      throw Object.assign(err as Error, { uploaded: [], file });
    }
  }
  const clashes = collisions(files);
  if (clashes.length > 0) throw new KeyCollisionError(clashes);
  return { files, skipped, hasFolder };
}
