// Resumable uploads: a multipart upload whose id, part size, file identity and acknowledged parts
// are kept in an UploadStore, so a later attempt (after a failure, a reload, a crash) sends only
// what S3 does not have. The record is a hint, never trusted: the attempt checks that it is this
// user's key and this file, asks S3 which parts it holds (ListParts), and starts a new upload when
// anything is off, saying why in a `restarted` event. Credentials are never stored.
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { MultipartWatcher } from './multipart-cleanup.js';
import type { OperationContext } from './s3-session.js';
import { donePart, partCount, partsBytes, type DonePart } from './upload-parts.js';
import {
  fileIdentity,
  recordId,
  sameFile,
  type FileIdentity,
  type UploadRecord,
  type UploadStore,
} from './upload-store.js';

/**
 * Why a stored record was not resumed and a new multipart upload was started instead:
 * - `record_expired`: older than `maxAgeMs` (the bucket's abort-incomplete lifecycle may have removed it);
 * - `upload_gone`: S3 no longer knows the upload id (aborted, completed, expired), or it is not this key's;
 * - `file_changed`: another file (name, size, last-modified or sampled bytes differ) or another part size;
 * - `foreign_record`: the record is for another bucket or key (another user's prefix) or is malformed;
 *   the upload it names is left alone.
 */
export type RestartCode = 'record_expired' | 'upload_gone' | 'file_changed' | 'foreign_record';

/** What a resumable upload did with its record. */
export type ResumeEvent =
  | { readonly type: 'started'; readonly uploadId: string; readonly parts: number }
  | {
      readonly type: 'resumed';
      readonly uploadId: string;
      readonly parts: number;
      /** Parts S3 already had (ListParts), which are not sent again. */
      readonly partsDone: number;
      readonly bytesDone: number;
    }
  | { readonly type: 'restarted'; readonly code: RestartCode; readonly message: string };

/** `upload(…, { resumable })` settings. */
export interface ResumableOptions {
  /** Where the record is kept. Default: the storage object's `uploadStore` (in memory unless given). */
  readonly store?: UploadStore;
  /** The file's name and last-modified time, for bodies that are not Files (a Blob from `fs.openAsBlob`). */
  readonly file?: { readonly name?: string; readonly lastModified?: number };
  /**
   * A record older than this (ms since its upload was created) is not resumed: set it to the bucket's
   * `AbortIncompleteMultipartUpload` lifecycle (Keyhole's AWS stack: 1 day). Default 1 day.
   */
  readonly maxAgeMs?: number;
  /** Cancelling through `signal` keeps the upload for later instead of aborting it. Default false. */
  readonly keepOnAbort?: boolean;
  /** Told when the upload starts, resumes, or restarts (with the reason). */
  readonly onEvent?: (event: ResumeEvent) => void;
}

/** One day: the abort-incomplete lifecycle of the bucket Keyhole's AWS stack creates. */
export const DEFAULT_MAX_AGE_MS = 24 * 60 * 60 * 1000;

const MIN_PART = 5 * 1024 * 1024;

/** What the upload needs from a resumed or new record. */
export interface Resumed {
  readonly uploadId: string;
  readonly partSize: number;
  /** Parts S3 has, by number. */
  readonly done: Map<number, DonePart>;
  /** Records a part S3 acknowledged; writes are queued in order. */
  onPart(partNumber: number, part: DonePart): void;
  /** Waits for queued record writes. */
  saved(): Promise<void>;
  /** After CompleteMultipartUpload: drops the record. */
  finished(): Promise<void>;
  /** After the upload was aborted: drops the record. */
  discard(): Promise<void>;
}

/** Why `record` cannot be resumed for this upload, or undefined when it can be tried. */
export function recordProblem(
  record: UploadRecord,
  want: { bucket: string; key: string; file: FileIdentity; maxAgeMs: number; now: number },
): { code: RestartCode; message: string; ours: boolean } | undefined {
  const where = `"${want.key}"`;
  const wellFormed =
    record?.version === 1 &&
    typeof record.uploadId === 'string' &&
    record.uploadId.length > 0 &&
    Number.isInteger(record.partSize) &&
    record.partSize >= MIN_PART &&
    typeof record.createdAt === 'number' &&
    Array.isArray(record.parts) &&
    typeof record.file === 'object' &&
    record.file !== null;
  if (!wellFormed || record.bucket !== want.bucket || record.key !== want.key) {
    return {
      code: 'foreign_record',
      message: `the stored upload record for ${where} is for ${wellFormed ? `"${record.bucket}/${record.key}"` : 'nothing this upload can use'}, not this key; it was ignored and its upload left alone`,
      ours: false,
    };
  }
  if (want.now - record.createdAt > want.maxAgeMs) {
    const hours = Math.round((want.now - record.createdAt) / 3_600_000);
    return {
      code: 'record_expired',
      message: `the unfinished upload of ${where} was started ${hours} h ago, longer than the bucket keeps unfinished uploads; starting again`,
      ours: true,
    };
  }
  if (!sameFile(record.file, want.file)) {
    return {
      code: 'file_changed',
      message: `the unfinished upload of ${where} was of another file (${describeFile(record.file)}; now ${describeFile(want.file)}); starting again`,
      ours: true,
    };
  }
  return undefined;
}

function describeFile(f: FileIdentity): string {
  return `"${f.name}", ${f.size} bytes, modified ${new Date(f.lastModified).toISOString()}`;
}

/**
 * The parts S3 holds for `uploadId` that fit a file of `size` bytes in parts of `partSize`: right
 * number, right size. Others (a different layout) are left out, so they are sent again.
 */
async function listedParts(
  client: S3Client,
  target: { Bucket: string; Key: string },
  uploadId: string,
  size: number,
  partSize: number,
): Promise<Map<number, DonePart>> {
  const count = partCount(size, partSize);
  const done = new Map<number, DonePart>();
  let marker: string | undefined;
  do {
    const page = await client.send(
      new ListPartsCommand({ ...target, UploadId: uploadId, ...(marker ? { PartNumberMarker: marker } : {}) }),
    );
    for (const p of page.Parts ?? []) {
      const n = p.PartNumber ?? 0;
      const expected = n === count ? size - (count - 1) * partSize : partSize;
      if (n >= 1 && n <= count && p.Size === expected && p.ETag) done.set(n, donePart(p));
    }
    marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
  } while (marker);
  return done;
}

function isGone(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchUpload' || e?.$metadata?.httpStatusCode === 404;
}

/** Aborts `uploadId`, ignoring failures: it may be gone already; the bucket's lifecycle is the backstop. */
async function abortQuietly(client: S3Client, target: { Bucket: string; Key: string }, uploadId: string) {
  await client.send(new AbortMultipartUploadCommand({ ...target, UploadId: uploadId })).catch(() => undefined);
}

/**
 * Finds the record for this bucket and key, checks it against the file and S3, and returns the
 * upload to go on with: the recorded one with the parts S3 has, or a new one (recorded before any
 * part is sent), emitting `resumed`, `restarted` (with why) or `started`.
 */
export async function resumeOrCreate(
  ctx: OperationContext,
  params: { Bucket: string; Key: string; ContentType?: string; Metadata?: Record<string, string> },
  blob: Blob,
  partSize: number,
  options: ResumableOptions & { readonly store: UploadStore },
  watch: ReturnType<MultipartWatcher['watch']>,
): Promise<Resumed> {
  const { store } = options;
  const emit = options.onEvent ?? (() => undefined);
  const target = { Bucket: params.Bucket, Key: params.Key };
  const id = recordId(params.Bucket, params.Key);
  const file = await fileIdentity(blob, options.file ?? {});
  let record = await store.get(id);
  let done = new Map<number, DonePart>();
  if (record) {
    const problem = recordProblem(record, {
      bucket: params.Bucket,
      key: params.Key,
      file,
      maxAgeMs: options.maxAgeMs ?? DEFAULT_MAX_AGE_MS,
      now: Date.now(),
    });
    if (problem) {
      // Ours but unusable: abort it so its parts do not linger. Someone else's: never touched.
      if (problem.ours) await abortQuietly(ctx.client, target, record.uploadId);
      await store.delete(id);
      emit({ type: 'restarted', code: problem.code, message: problem.message });
      record = undefined;
    } else {
      try {
        done = await listedParts(ctx.client, target, record.uploadId, blob.size, record.partSize);
      } catch (err) {
        if (!isGone(err)) throw err;
        await store.delete(id);
        emit({
          type: 'restarted',
          code: 'upload_gone',
          message: `the unfinished upload of "${params.Key}" is no longer on S3 (aborted, completed or expired); starting again`,
        });
        record = undefined;
      }
    }
  }
  if (record) {
    watch.adopt(record.uploadId);
    emit({
      type: 'resumed',
      uploadId: record.uploadId,
      parts: partCount(blob.size, record.partSize),
      partsDone: done.size,
      bytesDone: partsBytes(done.keys(), blob.size, record.partSize),
    });
  } else {
    const { UploadId } = await ctx.client.send(new CreateMultipartUploadCommand(params));
    record = {
      version: 1,
      bucket: params.Bucket,
      key: params.Key,
      uploadId: UploadId!,
      partSize,
      file,
      ...(params.ContentType ? { contentType: params.ContentType } : {}),
      parts: [],
      createdAt: Date.now(),
    };
    await store.set(id, record);
    emit({ type: 'started', uploadId: record.uploadId, parts: partCount(blob.size, partSize) });
  }
  const current = record;
  let writes = Promise.resolve();
  const write = (next: () => Promise<void>) => {
    writes = writes.then(next).catch(() => undefined);
    return writes;
  };
  return {
    uploadId: current.uploadId,
    partSize: current.partSize,
    done,
    onPart: () => {
      const parts = [...done].map(([partNumber, part]) => ({ partNumber, etag: part.ETag }));
      void write(() => store.set(id, { ...current, parts }));
    },
    saved: () => writes,
    finished: () => write(() => store.delete(id)),
    discard: () => write(() => store.delete(id)),
  };
}

/** An unfinished resumable upload under the current grant, as {@link Storage.unfinishedUploads} lists it. */
export interface UnfinishedUpload {
  /** Key relative to the prefix. */
  readonly key: string;
  readonly fullKey: string;
  readonly bucket: string;
  readonly uploadId: string;
  readonly file: FileIdentity;
  readonly partSize: number;
  /** Bytes in the parts the record lists (S3 is asked again on resume). */
  readonly bytesDone: number;
  readonly createdAt: Date;
}

/** The records in `store` for `bucket` under `prefix`, as {@link UnfinishedUpload}s, oldest first. */
export async function unfinishedUploads(
  store: UploadStore,
  bucket: string,
  prefix: string,
): Promise<UnfinishedUpload[]> {
  const mine = (await store.list()).filter(
    (r) =>
      r?.version === 1 &&
      r.bucket === bucket &&
      typeof r.key === 'string' &&
      r.key.startsWith(prefix) &&
      r.key.length > prefix.length,
  );
  return mine
    .sort((a, b) => a.createdAt - b.createdAt)
    .map((r) => {
      const bytesDone = partsBytes(
        r.parts.map((p) => p.partNumber),
        r.file.size,
        r.partSize,
      );
      return {
        key: r.key.slice(prefix.length),
        fullKey: r.key,
        bucket: r.bucket,
        uploadId: r.uploadId,
        file: r.file,
        partSize: r.partSize,
        bytesDone,
        createdAt: new Date(r.createdAt),
      };
    });
}

/**
 * Discards the unfinished upload of `fullKey`: aborts its multipart upload on S3 (one already gone
 * counts as done) and drops the record. Returns false when there was no record.
 */
export async function discardUpload(client: S3Client, store: UploadStore, bucket: string, fullKey: string) {
  const id = recordId(bucket, fullKey);
  const record = await store.get(id);
  if (!record) return false;
  // Only an upload of this very key is aborted: a record naming another is just dropped.
  if (record.bucket === bucket && record.key === fullKey && typeof record.uploadId === 'string') {
    try {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: fullKey, UploadId: record.uploadId }));
    } catch (err) {
      if (!isGone(err)) throw err;
    }
  }
  await store.delete(id);
  return true;
}
