// Where resumable uploads keep what they need to go on after a reload, a crash or a Ctrl-C: the
// multipart upload id, the target, the part size, who the file is, and the parts S3 acknowledged.
// Never credentials: the upload is resumed with whatever credentials the broker gives then.

/** Who a file is, as far as a resumed upload can tell without reading all of it. */
export interface FileIdentity {
  readonly name: string;
  readonly size: number;
  /** Milliseconds since the epoch (`File.lastModified`, a file's mtime). */
  readonly lastModified: number;
  /** Hex SHA-256 of the first and the last MiB (the whole file when smaller than 2 MiB). */
  readonly sample: string;
}

/** One part S3 acknowledged. */
export interface StoredPart {
  readonly partNumber: number;
  readonly etag: string;
}

/** What a resumable upload stores between attempts. */
export interface UploadRecord {
  readonly version: 1;
  readonly bucket: string;
  /** The full S3 key, prefix included. */
  readonly key: string;
  readonly uploadId: string;
  readonly partSize: number;
  readonly file: FileIdentity;
  readonly contentType?: string;
  /** Parts acknowledged so far, by this or an earlier attempt. ListParts is asked again on resume. */
  readonly parts: readonly StoredPart[];
  /** When the multipart upload was created (ms since the epoch), for the abort-incomplete lifecycle. */
  readonly createdAt: number;
}

/**
 * A place for {@link UploadRecord}s, one per bucket and key. Three come with Keyhole:
 * {@link memoryUploadStore} (the default; lasts as long as the page or process),
 * {@link indexedDbUploadStore} (browsers: survives a reload) and, for Node, the `keyhole` command's
 * JSON file (`client/cli/upload-state.ts`). Any object with these four methods will do.
 */
export interface UploadStore {
  get(id: string): Promise<UploadRecord | undefined>;
  set(id: string, record: UploadRecord): Promise<void>;
  delete(id: string): Promise<void>;
  list(): Promise<UploadRecord[]>;
}

/** The id a record is stored under: its bucket and full key. */
export function recordId(bucket: string, key: string): string {
  return `${bucket}/${key}`;
}

/** A store in memory: resumes after a failure or a pause in the same page or process, not after a reload. */
export function memoryUploadStore(): UploadStore {
  const records = new Map<string, string>();
  // Kept as JSON, so a caller cannot change a stored record through the object it passed or got.
  return {
    get: async (id) => {
      const json = records.get(id);
      return json === undefined ? undefined : (JSON.parse(json) as UploadRecord);
    },
    set: async (id, record) => void records.set(id, JSON.stringify(record)),
    delete: async (id) => void records.delete(id),
    list: async () => [...records.values()].map((json) => JSON.parse(json) as UploadRecord),
  };
}

// The few IndexedDB shapes used below, declared here: the client also compiles without DOM types.
interface IdbRequest<T> {
  readonly result: T;
  readonly error: unknown;
  onsuccess: (() => void) | null;
  onerror: (() => void) | null;
}
interface IdbStore {
  get(id: string): IdbRequest<UploadRecord | undefined>;
  put(record: UploadRecord, id: string): IdbRequest<unknown>;
  delete(id: string): IdbRequest<unknown>;
  getAll(): IdbRequest<UploadRecord[]>;
}
interface IdbDatabase {
  createObjectStore(name: string): unknown;
  transaction(
    name: string,
    mode: 'readonly' | 'readwrite',
  ): {
    objectStore(name: string): IdbStore;
    readonly error: unknown;
    oncomplete: (() => void) | null;
    onerror: (() => void) | null;
    onabort: (() => void) | null;
  };
}
interface IdbOpen extends IdbRequest<IdbDatabase> {
  onupgradeneeded: (() => void) | null;
}

/**
 * A store in the browser's IndexedDB (database `name`, one object store), so unfinished uploads are
 * still known after a reload. Written here rather than taken from a wrapper such as idb-keyval:
 * the four calls needed come to about 0.6 kB minified, less than the wrapper.
 */
export function indexedDbUploadStore(name = 'keyhole-uploads'): UploadStore {
  const STORE = 'uploads';
  const idb = (globalThis as unknown as { indexedDB?: { open(name: string, version: number): IdbOpen } }).indexedDB;
  if (!idb) throw new TypeError('indexedDbUploadStore() needs IndexedDB (a browser); in Node use a file store');
  let db: Promise<IdbDatabase> | undefined;
  const open = () =>
    (db ??= new Promise((resolve, reject) => {
      const req = idb.open(name, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    }));
  const run = async <T>(mode: 'readonly' | 'readwrite', op: (store: IdbStore) => IdbRequest<T>): Promise<T> => {
    const tx = (await open()).transaction(STORE, mode);
    const req = op(tx.objectStore(STORE));
    return new Promise<T>((resolve, reject) => {
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = tx.onabort = () => reject(tx.error ?? req.error);
    });
  };
  return {
    get: (id) => run('readonly', (s) => s.get(id)),
    set: async (id, record) => void (await run('readwrite', (s) => s.put(record, id))),
    delete: async (id) => void (await run('readwrite', (s) => s.delete(id))),
    list: () => run('readonly', (s) => s.getAll()),
  };
}

const MiB = 1024 * 1024;

/**
 * The identity of `blob`: name, size, last-modified time and a SHA-256 of its first and last MiB.
 * `name` and `lastModified` default to the File's own. Reads at most 2 MiB.
 */
export async function fileIdentity(
  blob: Blob,
  given: { readonly name?: string; readonly lastModified?: number } = {},
): Promise<FileIdentity> {
  const file = blob as Partial<File>;
  const size = blob.size;
  const head = blob.slice(0, Math.min(size, MiB));
  const tail = blob.slice(Math.max(Math.min(size, MiB), size - MiB), size);
  const bytes = await new Blob([head, tail]).arrayBuffer();
  if (!globalThis.crypto?.subtle) {
    throw new TypeError('resumable uploads need crypto.subtle: serve the page over HTTPS (or from localhost)');
  }
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return {
    name: given.name ?? file.name ?? '',
    size,
    lastModified: given.lastModified ?? file.lastModified ?? 0,
    sample: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join(''),
  };
}

/** True when two identities are the same file, as far as can be told. */
export function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.name === b.name && a.size === b.size && a.lastModified === b.lastModified && a.sample === b.sample;
}
