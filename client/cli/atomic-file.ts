// Writing a download to disk without following planted links and without leaving half a file.
import { randomBytes } from 'node:crypto';
import { lstat, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { addAbortSignal, type Readable } from 'node:stream';

/** Random bytes for temporary names; tests inject their own. */
export type RandomSource = (size: number) => Buffer;

/** How many names `createTempFile` tries before giving up with the last EEXIST. */
export const TEMP_ATTEMPTS = 8;

/** A local filesystem failure while writing `path` (the target the user named). */
export class LocalWriteError extends Error {
  readonly path: string;
  readonly code: string;

  constructor(path: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'error';
    super(`cannot write "${path}": ${code}`, { cause });
    this.name = 'LocalWriteError';
    this.path = path;
    this.code = code;
  }
}

/** The name a temporary file for `base` gets: `.<base>.keyhole-<24 hex digits>.partial`. */
export function tempName(base: string, random: RandomSource): string {
  // At most 48 characters of the target's name (<= 192 bytes), so the name stays under 255 bytes.
  return `.${Array.from(base).slice(0, 48).join('')}.keyhole-${random(12).toString('hex')}.partial`;
}

/**
 * Creates a new, empty file for writing in `dir`, readable by its owner only (mode 0600). The name is
 * random and the file is opened with `wx` (O_CREAT|O_EXCL): if anything already exists at that path,
 * including a symlink (dangling or not), the open fails with EEXIST instead of following it, and
 * another random name is tried, up to {@link TEMP_ATTEMPTS} times.
 */
export async function createTempFile(
  dir: string,
  base: string,
  random: RandomSource = randomBytes,
): Promise<{ path: string; handle: FileHandle }> {
  for (let attempt = 1; ; attempt++) {
    const path = join(dir, tempName(base, random));
    try {
      return { path, handle: await open(path, 'wx', 0o600) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= TEMP_ATTEMPTS) throw err;
    }
  }
}

// Temporary files still being written, removed if the process exits first (a second Ctrl-C calls
// process.exit). SIGKILL or a crash of the machine can still leave one: it is mode 0600.
const pending = new Set<string>();
function removePending(): void {
  for (const path of pending) {
    try {
      unlinkSync(path);
    } catch {
      // Already gone.
    }
  }
}

/** The final mode: an existing regular file keeps its permissions; a new file gets 0666 minus the umask. */
async function finalMode(target: string): Promise<number> {
  const existing = await lstat(target).catch(() => undefined);
  if (existing?.isFile()) return existing.mode & 0o777;
  return 0o666 & ~process.umask();
}

/**
 * Writes `source` to `target` atomically: into a new temporary file beside it (see
 * {@link createTempFile}), which is fsynced, given its final mode and then renamed over `target`. On
 * any failure, or when `signal` aborts, the temporary file is removed and `target` is left as it was.
 *
 * If `target` is a symlink, the rename replaces the link itself with the downloaded file; the file
 * the link pointed to is never opened or changed. Errors from the local filesystem are thrown as
 * {@link LocalWriteError}; errors from `source` and aborts are thrown as they are.
 */
export async function writeFileAtomically(
  target: string,
  source: Readable,
  opts: { signal?: AbortSignal; random?: RandomSource } = {},
): Promise<void> {
  const local = (err: unknown) => new LocalWriteError(target, err);
  let temp: { path: string; handle: FileHandle };
  try {
    temp = await createTempFile(dirname(target), basename(target), opts.random);
  } catch (err) {
    source.destroy();
    throw local(err);
  }
  if (pending.size === 0) process.on('exit', removePending);
  pending.add(temp.path);
  let open_ = true;
  try {
    // On abort the source is destroyed with an AbortError, which ends the loop below.
    if (opts.signal) addAbortSignal(opts.signal, source);
    for await (const chunk of source as AsyncIterable<Uint8Array>) {
      try {
        for (let done = 0; done < chunk.length;) {
          done += (await temp.handle.write(chunk, done, chunk.length - done)).bytesWritten;
        }
      } catch (err) {
        source.destroy();
        throw local(err);
      }
    }
    try {
      await temp.handle.sync();
      await temp.handle.chmod(await finalMode(target));
      open_ = false;
      await temp.handle.close();
      await rename(temp.path, target);
    } catch (err) {
      throw local(err);
    }
    pending.delete(temp.path);
  } catch (err) {
    if (open_) await temp.handle.close().catch(() => {});
    await unlink(temp.path).catch(() => {});
    pending.delete(temp.path);
    throw err;
  } finally {
    if (pending.size === 0) process.off('exit', removePending);
  }
}
