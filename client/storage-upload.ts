// Uploads through lib-storage, and the clean-up that makes a failed, cancelled or signed-out upload
// leave neither parts nor a half-object on S3.
import { AbortMultipartUploadCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { hashesPayload, sendsBlobSlices, uploadBlob } from './blob-upload.js';
import { toUploadBody } from './body.js';
import { BrokerError, SignedOutError, StorageError } from './errors.js';
import { fullKey } from './keys.js';
import type { MultipartWatcher } from './multipart-cleanup.js';
import type { OperationContext } from './s3-session.js';
import { toStorageError } from './storage-errors.js';

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
}

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
}

type Watch = ReturnType<MultipartWatcher['watch']>;

/** The body's size in bytes when it is known before reading it. */
function sizeOf(body: UploadBody): number | undefined {
  if (body instanceof Uint8Array) return body.byteLength;
  if (typeof Blob !== 'undefined' && body instanceof Blob) return body.size;
  return undefined;
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

/**
 * Uploads through lib-storage `Upload`: a single PUT below one part, parallel multipart above.
 * A failed or cancelled multipart upload is aborted on S3, so no parts or half-object remain.
 */
export async function uploadObject(
  ctx: OperationContext,
  defaults: UploadDefaults,
  key: string,
  body: UploadBody,
  opts: UploadOptions,
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
  const watch = defaults.multipart.watch(ctx.grant.bucket, Key);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const settled = ctx.session.trackUpload(controller);
  try {
    if (opts.signal?.aborted) controller.abort();
    const out = bySlices
      ? await uploadBlob(ctx.client, params(target, opts), body as Blob, {
          partSize,
          queueSize,
          signal: controller.signal,
          ...(opts.onProgress ? { onProgress: progressTo(opts.onProgress) } : {}),
        })
      : await newUpload(ctx.client, target, body, opts, { partSize, queueSize }, controller).done();
    return { key, fullKey: Key, bucket: ctx.grant.bucket, etag: out.ETag };
  } catch (err) {
    // Stop feeding parts, let in-flight calls settle, then abort whatever is still open, so a
    // failed or cancelled upload leaves neither parts nor a half-object behind.
    controller.abort();
    await watch.settled();
    throw await failureAfterCleanup(ctx, key, Key, watch, err, opts.signal);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    watch.release();
    settled();
  }
}
