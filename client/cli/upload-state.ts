// Where `keyhole upload` keeps its unfinished uploads between runs: one JSON file beside the user's
// configuration (never the working directory), readable by its owner only. It holds upload ids,
// keys, part sizes, file identities and ETags; never credentials or tokens.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { UploadRecord, UploadStore } from '../upload-store.js';

/**
 * The state file: `$KEYHOLE_CONFIG_DIR/uploads.json`, else `$XDG_CONFIG_HOME/keyhole/uploads.json`,
 * else `$HOME/.config/keyhole/uploads.json`; undefined (no resuming) when none is set.
 */
export function stateFile(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const dir =
    env.KEYHOLE_CONFIG_DIR ||
    (env.XDG_CONFIG_HOME ? join(env.XDG_CONFIG_HOME, 'keyhole') : undefined) ||
    (env.HOME ? join(env.HOME, '.config', 'keyhole') : undefined);
  return dir ? join(dir, 'uploads.json') : undefined;
}

interface StateFile {
  readonly version: 1;
  readonly uploads: Record<string, UploadRecord>;
}

/**
 * An {@link UploadStore} in the JSON file `path`. Each change rereads the file and replaces it
 * atomically (a new file renamed over it), so a crash mid-write leaves the old state; changes from
 * one process are applied in order. A missing or unreadable file reads as empty.
 */
export function jsonFileUploadStore(path: string): UploadStore {
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(op: () => Promise<T>): Promise<T> => {
    const next = queue.then(op, op);
    queue = next.catch(() => undefined);
    return next;
  };
  const read = async (): Promise<Record<string, UploadRecord>> => {
    try {
      const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<StateFile>;
      return parsed.version === 1 && parsed.uploads && typeof parsed.uploads === 'object' ? parsed.uploads : {};
    } catch {
      return {};
    }
  };
  const write = async (uploads: Record<string, UploadRecord>) => {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(temp, JSON.stringify({ version: 1, uploads } satisfies StateFile, null, 1), { mode: 0o600 });
      await chmod(temp, 0o600);
      await rename(temp, path);
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw err;
    }
  };
  const change = (edit: (uploads: Record<string, UploadRecord>) => void) =>
    serial(async () => {
      const uploads = await read();
      edit(uploads);
      await write(uploads);
    });
  return {
    get: (id) => serial(async () => (await read())[id]),
    set: (id, record) => change((u) => void (u[id] = record)),
    delete: (id) => change((u) => void delete u[id]),
    list: () => serial(async () => Object.values(await read())),
  };
}
