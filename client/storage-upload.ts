// Uploads: Blobs and Files in parts by slices (upload-parts.ts), which can pause and resume, and
// other bodies through lib-storage; and the clean-up that makes a failed, cancelled or signed-out
// upload leave neither parts nor a half-object on S3 (unless it is resumable, see resumable-upload.ts).
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { hashesPayload, putBlob, sendsBlobSlices } from './blob-upload.js';
import { toUploadBody } from './body.js';
import { BrokerError, SignedOutError, StorageError } from './errors.js';
import { fullKey } from './keys.js';
import type { MultipartWatcher } from './multipart-cleanup.js';
import type { OperationContext } from './s3-session.js';
import { toStorageError } from './storage-errors.js';
import { partCount, PauseGate, sendParts, type DonePart } from './upload-parts.js';
import { resumeOrCreate, type Resumed, type ResumableOptions, type ResumeEvent } from './resumable-upload.js';
import type { UploadStore } from './upload-store.js';

export type { ResumableOptions, ResumeEvent };

/** Upload progress. `total` is undefined for streams of unknown length. */
export interface UploadProgress {
  readonly loaded: number;
  readonly total: number | undefined;
  /** Fraction from 0 to 1 when `total` is known. */
  readonly fraction: number | undefined;
}

/** Anything lib-storage can upload: bytes, a Blob/File, a string, or a (web or Node) stream. */
export type UploadBody = Uint8Array | Blob | string | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

export interface UploadOptions {
  readonly contentType?: string;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly onProgress?: (progress: UploadProgress) => void;
  /** Cancels the upload; a started multipart upload is aborted on S3 so nothing is left behind. */
  readonly signal?: AbortSignal;
  /** Part size in bytes, at least 5 MiB. Default: the storage object's, else chosen from the size (see {@link partSizeFor}). */
  readonly partSizeBytes?: number;
  /** Parts uploaded in parallel. Default: the storage object's, else chosen from the size (see {@link queueSizeFor}). */
  readonly queueSize?: number;
  /**
   * A Blob or File larger than one part: keep the multipart upload's state in the storage object's
   * `uploadStore` (or `resumable.store`), so the same file uploaded to the same key later (after a
   * failure, a reload, a crash) sends only the parts S3 does not have. A failed upload is then kept
   * on S3 for that; cancelling through `signal` still aborts it (unless `keepOnAbort`).
   */
  readonly resumable?: boolean | ResumableOptions;
}

/**
 * On the error of a resumable upload that failed or was stopped with `keepOnAbort`: the multipart
 * upload left on S3 for the next attempt (`err.kept`).
 */
export interface KeptUpload {
  readonly uploadId: string;
  /** Parts S3 holds. */
  readonly partsDone: number;
  readonly parts: number;
}

/** Pause and resume a running upload (a Blob or File body; see {@link UploadTask}). */
export interface UploadControls {
  /**
   * Stops sending: the parts in flight are aborted and sent again on {@link UploadControls.resume}.
   * A Blob of one part is sent whole. Throws a TypeError for bodies other than a Blob or File
   * (bytes, strings, streams), which lib-storage uploads and cannot pause.
   */
  pause(): void;
  resume(): void;
  readonly paused: boolean;
}

/** What `storage.upload()` returns: the upload's promise, which can also be paused and resumed. */
export type UploadTask<T = UploadResult> = Promise<T> & UploadControls;

export interface UploadResult {
  /** Key relative to the prefix, as given. */
  readonly key: string;
  /** Full S3 key. */
  readonly fullKey: string;
  readonly bucket: string;
  readonly etag: string | undefined;
}

/** S3's smallest multipart part (except the last). */
export const MIN_PART_BYTES = 5 * 1024 * 1024;

/** S3's largest part count. */
const MAX_PARTS = 10_000;
const MiB = 1024 * 1024;

/**
 * The part size when the caller chose none. Parts read into memory (bytes, streams, and Blobs
 * whose parts are hashed): 8 MiB, so memory stays near part size × queue size. Blob slices sent
 * unread (a browser over HTTPS, see blob-upload.ts): an eighth of the size, between 8 and 64 MiB,
 * since each part costs a request and a browser's few connections per host; measured in Chromium
 * against RGW, 256 MiB went about 1.5× faster in 32 MiB parts than in 8 MiB ones. Always enough to
 * stay within S3's 10,000 parts (rounded up to a whole MiB).
 */
export function partSizeFor(size: number | undefined, unread = false): number {
  if (size === undefined) return 8 * MiB;
  const wanted = unread ? Math.min(64 * MiB, Math.max(8 * MiB, Math.ceil(size / 8 / MiB) * MiB)) : 8 * MiB;
  return Math.max(wanted, Math.ceil(size / MAX_PARTS / MiB) * MiB);
}

/** The parts in flight when the caller chose none: 4. */
export function queueSizeFor(_size: number | undefined): number {
  return 4;
}

/** A storage object's upload settings; undefined sizes are chosen per upload from the body's size. */
export interface UploadDefaults {
  readonly partSizeBytes: number | undefined;
  readonly queueSize: number | undefined;
  /** Watches the multipart uploads of every client of the storage object. */
  readonly multipart: MultipartWatcher;
  /** Where resumable uploads keep their state when the upload names no store. */
  readonly store: UploadStore;
}

type Watch = ReturnType<MultipartWatcher['watch']>;

// Every runtime the client supports has a global Blob (Node >= 20.19, package.json "engines", and
// browsers), so no `typeof Blob` guard.
function isBlob(body: UploadBody): body is Blob {
  return body instanceof Blob;
}

/** The body's size in bytes when it is known before reading it. */
function sizeOf(body: UploadBody): number | undefined {
  if (body instanceof Uint8Array) return body.byteLength;
  if (isBlob(body)) return body.size;
  return undefined;
}

/** Adds pause and resume to `promise`, through `gate`; `pausable` false makes pause() throw. */
export function uploadTask<T>(promise: Promise<T>, gate: PauseGate, pausable: boolean): UploadTask<T> {
  return Object.defineProperties(promise, {
    pause: {
      value: () => {
        if (!pausable) {
          throw new TypeError('pause() needs a Blob or File body: bytes, strings and streams cannot be paused');
        }
        gate.pause();
      },
    },
    resume: { value: () => gate.resume() },
    paused: { get: () => gate.paused },
  }) as UploadTask<T>;
}

/** True when `body` can be paused: a Blob or File (in parts by slices). */
export function pausable(body: UploadBody): boolean {
  return isBlob(body);
}

function params(
  target: { readonly Bucket: string; readonly Key: string },
  opts: UploadOptions,
): { Bucket: string; Key: string; ContentType?: string; Metadata?: Record<string, string> } {
  return {
    ...target,
    ...(opts.contentType ? { ContentType: opts.contentType } : {}),
    ...(opts.metadata ? { Metadata: { ...opts.metadata } } : {}),
  };
}

function progressTo(onProgress: (progress: UploadProgress) => void): (loaded: number, total: number) => void {
  return (loaded, total) => onProgress({ loaded, total, fraction: total ? loaded / total : undefined });
}

function newUpload(
  client: S3Client,
  target: { readonly Bucket: string; readonly Key: string },
  body: UploadBody,
  opts: UploadOptions,
  sizes: { readonly partSize: number; readonly queueSize: number },
  controller: AbortController,
): Upload {
  const upload = new Upload({
    client,
    params: { ...params(target, opts), Body: toUploadBody(body) as never },
    partSize: sizes.partSize,
    queueSize: sizes.queueSize,
    leavePartsOnError: false,
    abortController: controller,
  });
  const onProgress = opts.onProgress;
  if (onProgress) {
    upload.on('httpUploadProgress', (p) => {
      const loaded = p.loaded ?? 0;
      const total = p.total;
      onProgress({ loaded, total, fraction: total ? loaded / total : undefined });
    });
  }
  return upload;
}

/**
 * After `upload.done()` rejected with `err` and every call for the key has settled: aborts the
 * multipart uploads still open, and returns the error to throw (`aborted` if `signal` fired). Stopped by a sign-out, the
 * session's client refuses, so a one-off client holding the keys this upload was signed with
 * aborts them, and is dropped.
 */
async function failureAfterCleanup(
  ctx: OperationContext,
  key: string,
  Key: string,
  watch: Watch,
  err: unknown,
  signal: AbortSignal | undefined,
): Promise<Error> {
  const signedOut = ctx.session.retired;
  // The broker could not renew the credentials (down, refusing): the session's client would ask it
  // again to sign each abort, so abort with the keys the parts were signed with, still valid on S3.
  const brokerFailed = err instanceof BrokerError;
  const cleaner = (signedOut || brokerFailed) && watch.open().length > 0 ? ctx.session.cleanupClient() : undefined;
  const cleanup = await Promise.allSettled(
    watch
      .open()
      .map((UploadId) =>
        (cleaner ?? ctx.client).send(new AbortMultipartUploadCommand({ Bucket: ctx.grant.bucket, Key, UploadId })),
      ),
  );
  cleaner?.destroy();
  const cancelled = signal?.aborted === true;
  const failure = signedOut
    ? new SignedOutError(`upload of "${key}" was stopped: signed out`, { cause: err })
    : toStorageError(
        cancelled ? Object.assign(new Error('cancelled'), { name: 'AbortError', cause: err }) : err,
        'upload',
        key,
        ctx.grant.access,
      );
  const stranded = watch.open();
  if (stranded.length === 0) return failure;
  const why = cleanup.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  return new StorageError(
    'cleanup_failed',
    `${failure.message}; aborting multipart upload ${stranded.join(', ')} also failed`,
    undefined,
    undefined,
    { cause: why?.reason ?? err },
  );
}

/** A Blob of more than one part, by slices: create, send the parts, complete. */
async function uploadBlobParts(
  ctx: OperationContext,
  params: { Bucket: string; Key: string; ContentType?: string; Metadata?: Record<string, string> },
  blob: Blob,
  job: { partSize: number; queueSize: number; slices: boolean; gate: PauseGate; signal: AbortSignal },
  opts: UploadOptions,
): Promise<{ ETag?: string | undefined }> {
  job.signal.throwIfAborted();
  const { UploadId } = await ctx.client.send(new CreateMultipartUploadCommand(params), { abortSignal: job.signal });
  return completeParts(ctx.client, params, UploadId!, blob, new Map(), job, opts);
}

/** Sends the parts of `blob` missing from `done`, then completes the multipart upload `UploadId`. */
export async function completeParts(
  client: S3Client,
  target: { readonly Bucket: string; readonly Key: string },
  UploadId: string,
  blob: Blob,
  done: Map<number, DonePart>,
  job: { partSize: number; queueSize: number; slices: boolean; gate: PauseGate; signal: AbortSignal },
  opts: UploadOptions,
  onPart?: (partNumber: number, part: DonePart) => void,
): Promise<{ ETag?: string | undefined }> {
  const Parts = await sendParts({
    client,
    Bucket: target.Bucket,
    Key: target.Key,
    UploadId,
    blob,
    done,
    ...job,
    ...(onPart ? { onPart } : {}),
    ...(opts.onProgress ? { onProgress: progressTo(opts.onProgress) } : {}),
  });
  return client.send(
    new CompleteMultipartUploadCommand({
      Bucket: target.Bucket,
      Key: target.Key,
      UploadId,
      MultipartUpload: { Parts },
    }),
    { abortSignal: job.signal },
  );
}

/** The resumable settings of `opts`, or undefined when the upload is not resumable. */
function resumableOf(
  opts: UploadOptions,
  defaults: UploadDefaults,
): (ResumableOptions & { readonly store: UploadStore }) | undefined {
  const r = opts.resumable;
  if (!r) return undefined;
  return r === true ? { store: defaults.store } : { ...r, store: r.store ?? defaults.store };
}

/**
 * Uploads `body` to `key`. A Blob or File of more than one part goes in parts by slices (pausable
 * through `gate`, resumable with `opts.resumable`); one part of a Blob in a browser, one PUT of the
 * slice; anything else through lib-storage `Upload`. A failed or cancelled multipart upload is
 * aborted on S3, so no parts or half-object remain, except a resumable one that failed: that one
 * is kept, with its record, for the next attempt.
 */
export async function uploadObject(
  ctx: OperationContext,
  defaults: UploadDefaults,
  key: string,
  body: UploadBody,
  opts: UploadOptions,
  gate: PauseGate = new PauseGate(),
): Promise<UploadResult> {
  const Key = fullKey(ctx.grant.prefix, key);
  if (opts.signal?.aborted)
    throw new StorageError('aborted', `upload of "${key}" was cancelled`, 'AbortError', undefined);
  const size = sizeOf(body);
  const bySlices = await sendsBlobSlices(ctx.client, body);
  const unread = bySlices && !hashesPayload(ctx.grant.endpoint);
  const partSize = opts.partSizeBytes ?? defaults.partSizeBytes ?? partSizeFor(size, unread);
  if (!Number.isInteger(partSize) || partSize < MIN_PART_BYTES)
    throw new RangeError('partSizeBytes must be an integer >= 5242880 (5 MiB)');
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  const target = { Bucket: ctx.grant.bucket, Key };
  const queueSize = opts.queueSize ?? defaults.queueSize ?? queueSizeFor(size);
  const multipartBlob = isBlob(body) && body.size > partSize;
  const resumable = multipartBlob ? resumableOf(opts, defaults) : undefined;
  const watch = defaults.multipart.watch(ctx.grant.bucket, Key);
  // Removed in `finally` whatever happens, so a long-lived signal keeps no listener per upload.
  opts.signal?.addEventListener('abort', onAbort);
  const settled = ctx.session.trackUpload(controller);
  let resumed: Resumed | undefined;
  try {
    if (opts.signal?.aborted) controller.abort();
    await gate.wait(controller.signal);
    const job = { partSize, queueSize, slices: bySlices, gate, signal: controller.signal };
    let out: { ETag?: string | undefined };
    if (resumable) {
      resumed = await resumeOrCreate(ctx, params(target, opts), body as Blob, partSize, resumable, watch);
      const r = resumed;
      out = await completeParts(
        ctx.client,
        target,
        r.uploadId,
        body as Blob,
        r.done,
        { ...job, partSize: r.partSize },
        opts,
        r.onPart,
      );
      await r.finished();
    } else if (multipartBlob) {
      out = await uploadBlobParts(ctx, params(target, opts), body, job, opts);
    } else if (bySlices) {
      const blob = body as Blob;
      out = await putBlob(ctx.client, params(target, opts), blob, controller.signal);
      opts.onProgress?.({ loaded: blob.size, total: blob.size, fraction: 1 });
    } else {
      out = await newUpload(ctx.client, target, body, opts, { partSize, queueSize }, controller).done();
    }
    return { key, fullKey: Key, bucket: ctx.grant.bucket, etag: quotedEtag(out.ETag) };
  } catch (err) {
    // Stop feeding parts, let in-flight calls settle, then abort whatever is still open, so a
    // failed or cancelled upload leaves neither parts nor a half-object behind.
    const cancelled = opts.signal?.aborted === true;
    controller.abort();
    await watch.settled();
    // A resumable upload that failed, or was stopped with keepOnAbort, stays on S3 for next time;
    // cancelled or signed out, it is aborted and its record dropped like any other.
    if (resumed && !ctx.session.retired && (!cancelled || resumable?.keepOnAbort === true)) {
      await resumed.saved();
      const failure = toStorageError(
        cancelled ? Object.assign(new Error('cancelled'), { name: 'AbortError', cause: err }) : err,
        'upload',
        key,
        ctx.grant.access,
      );
      const kept: KeptUpload = {
        uploadId: resumed.uploadId,
        partsDone: resumed.done.size,
        parts: partCount((body as Blob).size, resumed.partSize),
      };
      failure.message += `; ${kept.partsDone} of ${kept.parts} parts kept on S3: upload the same file to the same key to resume`;
      throw Object.assign(failure, { kept });
    }
    const failure = await failureAfterCleanup(ctx, key, Key, watch, err, opts.signal);
    await resumed?.discard();
    throw failure;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    watch.release();
    settled();
  }
}

/**
 * The ETag as S3's headers carry it, in double quotes. RGW 16 answers CompleteMultipartUpload with the
 * ETag unquoted (AWS quotes it, as every ETag header is), so the same object's ETag would otherwise
 * differ between the upload's result and a HEAD.
 */
function quotedEtag(etag: string | undefined): string | undefined {
  if (!etag || etag.startsWith('"') || etag.startsWith('W/')) return etag;
  return `"${etag}"`;
}
