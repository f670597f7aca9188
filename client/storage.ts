import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { aclGuard } from './acl-guard.js';
import { toUploadBody } from './body.js';
import type { AwsCredentialIdentity } from '@smithy/types';
import { SignedOutError, type BrokerCredentials, type BrokerCredentialsProvider, type Grant } from './credentials.js';
import { KeyholeClientError, StorageError } from './errors.js';
import { fullKey, listPrefix } from './keys.js';
import { MultipartWatcher } from './multipart-cleanup.js';

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
  /** Part size in bytes, at least 5 MiB. Default: the storage object's. */
  readonly partSizeBytes?: number;
  /** Parts uploaded in parallel. Default: the storage object's. */
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

export interface DownloadResult<T> {
  readonly body: T;
  readonly contentLength: number | undefined;
  readonly contentType: string | undefined;
  readonly etag: string | undefined;
  readonly lastModified: Date | undefined;
}

export interface ListedObject {
  /** Key relative to the prefix. */
  readonly key: string;
  readonly size: number;
  readonly lastModified: Date | undefined;
  readonly etag: string | undefined;
}

export interface ListPage {
  readonly objects: readonly ListedObject[];
  /** Pass back as `continuationToken` for the next page; undefined on the last page. */
  readonly continuationToken: string | undefined;
}

/** Options for {@link createStorage}. */
export interface StorageOptions {
  /** A provider from `brokerCredentials(...)`. */
  readonly credentials: BrokerCredentialsProvider;
  /** Multipart part size in bytes. Default 8 MiB; minimum 5 MiB (S3's limit). */
  readonly partSizeBytes?: number;
  /** Parts in flight per upload. Default 4. */
  readonly queueSize?: number;
  /** Extra S3Client settings (retries, request handler...). Region, endpoint and credentials come from the broker. */
  readonly s3?: Omit<S3ClientConfig, 'credentials' | 'region' | 'endpoint' | 'forcePathStyle'>;
}

const MIN_PART = 5 * 1024 * 1024;

/**
 * One signed-in identity's S3 client. It is retired on sign-out or when the provider's identity
 * changes; from then on its credentials provider refuses with SignedOutError.
 */
interface Session {
  /** Provider generation, identity, bucket, prefix and endpoint the client was made for. */
  readonly key: string;
  readonly generation: number | undefined;
  readonly client: S3Client;
  retired: boolean;
  /** Controllers of this session's running uploads, aborted on retirement. */
  readonly uploads: Set<AbortController>;
  /**
   * The credentials last handed to this client. Kept only so that uploads stopped by a sign-out can
   * abort their multipart upload as the user who started it; dropped when they are done.
   */
  last: AwsCredentialIdentity | undefined;
}

function sessionKey(grant: Grant, generation: number | undefined): string {
  return JSON.stringify([
    generation ?? null,
    grant.identityId,
    grant.bucket,
    grant.prefix,
    grant.region,
    grant.endpoint ?? null,
    grant.forcePathStyle ?? null,
  ]);
}

function toStorageError(err: unknown, action: string, key: string): unknown {
  if (err instanceof KeyholeClientError) return err;
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  const name = e?.name;
  if (name === 'AbortError' || name === 'RequestAbortedError') {
    return new StorageError('aborted', `${action} of "${key}" was cancelled`, name, status, { cause: err });
  }
  if (status === 403 || name === 'AccessDenied') {
    return new StorageError('access_denied', `access denied: ${action} "${key}" is outside your grant`, name, status, {
      cause: err,
    });
  }
  if (status === 404 || name === 'NoSuchKey' || name === 'NotFound') {
    return new StorageError('not_found', `"${key}" does not exist`, name, status, { cause: err });
  }
  if (name === 'ExpiredToken' || name === 'InvalidToken' || name === 'TokenRefreshRequired') {
    return new StorageError('expired_credentials', `${action} failed: credentials expired`, name, status, {
      cause: err,
    });
  }
  return new StorageError(
    's3_error',
    `${action} of "${key}" failed: ${name ?? 'error'}${e?.message ? `: ${e.message}` : ''}`,
    name,
    status,
    { cause: err },
  );
}

/**
 * Upload, download, list and delete objects under the caller's granted prefix, straight to S3.
 * Keys are relative to the prefix; the S3 client is created on first use from the grant.
 *
 * @example
 * ```ts
 * const storage = createStorage({ credentials: brokerCredentials({ brokerUrl, getToken }) })
 * await storage.upload('photos/cat.jpg', file, { onProgress: (p) => console.log(p.fraction) })
 * const { body } = await storage.download('photos/cat.jpg', { as: 'bytes' })
 * ```
 */
export function createStorage(options: StorageOptions) {
  if (!options || typeof options.credentials !== 'function' || typeof options.credentials.grant !== 'function') {
    throw new TypeError('options.credentials must be a provider from brokerCredentials(...)');
  }
  const partSize = options.partSizeBytes ?? 8 * 1024 * 1024;
  if (!Number.isInteger(partSize) || partSize < MIN_PART)
    throw new RangeError('options.partSizeBytes must be an integer >= 5242880 (5 MiB)');
  const queueSize = options.queueSize ?? 4;
  if (!Number.isInteger(queueSize) || queueSize < 1 || queueSize > 64)
    throw new RangeError('options.queueSize must be an integer from 1 to 64');
  const credentials = options.credentials;
  const extra = { ...options.s3 };
  let session: Session | undefined;
  /** Counts storage sign-outs, so an operation that straddles one is stopped. */
  let signOuts = 0;
  const multipart = new MultipartWatcher();

  function makeClient(
    grant: Grant,
    creds: AwsCredentialIdentity | ((o?: { forceRefresh?: boolean }) => Promise<AwsCredentialIdentity>),
  ): S3Client {
    const client = new S3Client({
      // Non-AWS backends (Ceph RGW) reject the aws-chunked trailing checksums newer SDKs send.
      ...(grant.endpoint
        ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }
        : {}),
      ...extra,
      region: grant.region,
      credentials: creds,
      ...(grant.endpoint ? { endpoint: grant.endpoint, forcePathStyle: grant.forcePathStyle ?? true } : {}),
    });
    client.middlewareStack.use(aclGuard);
    client.middlewareStack.use(multipart.plugin);
    return client;
  }

  /** Stops a session: its client refuses from now on, its uploads are aborted. Idempotent. */
  function retire(s: Session): void {
    if (session === s) session = undefined;
    if (s.retired) return;
    s.retired = true;
    for (const controller of s.uploads) controller.abort();
    if (s.uploads.size === 0) finish(s);
  }

  /** Once a retired session has no upload left to clean up: forget its keys, close its sockets. */
  function finish(s: Session): void {
    s.last = undefined;
    s.client.destroy();
  }

  function openSession(grant: Grant, key: string, generation: number | undefined): Session {
    // The SDK would cache whatever identity the provider gives until ~5 min before expiry (see
    // `memoized` in credentials.ts for the file and line); `memoized: true` makes it ask this
    // function on every request instead, so the session's state is checked before each signature.
    const bound = Object.assign(
      async (o?: { forceRefresh?: boolean }): Promise<BrokerCredentials> => {
        if (!s.retired && credentials.generation !== s.generation) retire(s);
        if (s.retired) throw new SignedOutError();
        const [creds, current] = await Promise.all([
          credentials(o?.forceRefresh ? { forceRefresh: true } : undefined),
          credentials.grant(),
        ]);
        if (
          s.retired ||
          credentials.generation !== s.generation ||
          sessionKey(current, credentials.generation) !== s.key
        ) {
          // Signed out, or the provider now speaks for someone else (credentials.clear() and a new
          // getToken): this client must not sign with the new user's keys, nor keep the old ones.
          retire(s);
          throw new SignedOutError();
        }
        s.last = creds;
        return creds;
      },
      { memoized: true },
    );
    const s: Session = {
      key,
      generation,
      client: makeClient(grant, bound),
      retired: false,
      uploads: new Set(),
      last: undefined,
    };
    return s;
  }

  function signOut(): void {
    signOuts++;
    credentials.clear();
    if (session) retire(session);
  }

  async function context(): Promise<{ session: Session; client: S3Client; grant: Grant }> {
    const generation = credentials.generation;
    const epoch = signOuts;
    const grant = await credentials.grant();
    if (credentials.generation !== generation || signOuts !== epoch) {
      throw new SignedOutError('signed out while the operation was starting');
    }
    const key = sessionKey(grant, generation);
    if (session?.key !== key) {
      if (session) retire(session);
      session = openSession(grant, key, generation);
    }
    return { session, client: session.client, grant };
  }

  return {
    /** The current grant: bucket, prefix, access, region. */
    grant: () => credentials.grant(),

    /**
     * The current user's S3 client, for calls this object does not wrap. It is bound to that user:
     * after {@link signOut} (or `credentials.clear()`, or when the provider's identity changes) every
     * request through it rejects with {@link SignedOutError} (code `signed_out`) before anything is
     * signed. So a kept reference can neither read the previous user's data nor act with the next
     * user's keys: call `client()` again after a sign-in. Middleware you add is not carried over.
     */
    client: async () => (await context()).client,

    /**
     * Uploads through lib-storage `Upload`: a single PUT below one part, parallel multipart above.
     * A failed or cancelled multipart upload is aborted on S3, so no parts or half-object remain.
     */
    async upload(key: string, body: UploadBody, opts: UploadOptions = {}): Promise<UploadResult> {
      const { session: s, client, grant } = await context();
      const Key = fullKey(grant.prefix, key);
      if (opts.signal?.aborted)
        throw new StorageError('aborted', `upload of "${key}" was cancelled`, 'AbortError', undefined);
      const uploadPart = opts.partSizeBytes ?? partSize;
      if (!Number.isInteger(uploadPart) || uploadPart < MIN_PART)
        throw new RangeError('partSizeBytes must be an integer >= 5242880 (5 MiB)');
      const controller = new AbortController();
      const onAbort = () => controller.abort();
      const uploadBody = toUploadBody(body);
      const upload = new Upload({
        client,
        params: {
          Bucket: grant.bucket,
          Key,
          Body: uploadBody as never,
          ...(opts.contentType ? { ContentType: opts.contentType } : {}),
          ...(opts.metadata ? { Metadata: { ...opts.metadata } } : {}),
        },
        partSize: uploadPart,
        queueSize: opts.queueSize ?? queueSize,
        leavePartsOnError: false,
        abortController: controller,
      });
      if (opts.onProgress) {
        const onProgress = opts.onProgress;
        upload.on('httpUploadProgress', (p) => {
          const loaded = p.loaded ?? 0;
          const total = p.total;
          onProgress({ loaded, total, fraction: total ? loaded / total : undefined });
        });
      }
      const watch = multipart.watch(grant.bucket, Key);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      s.uploads.add(controller);
      try {
        const out = await upload.done();
        return { key, fullKey: Key, bucket: grant.bucket, etag: out.ETag };
      } catch (err) {
        // Stop feeding parts, let in-flight calls settle, then abort whatever is still open, so a
        // failed or cancelled upload leaves neither parts nor a half-object behind.
        controller.abort();
        await watch.settled();
        // Stopped by a sign-out: the session's client refuses now, so abort the multipart upload
        // with a one-off client holding the keys this upload was signed with, then drop it.
        const signedOut = s.retired;
        const cleaner = signedOut && s.last && watch.open().length > 0 ? makeClient(grant, s.last) : undefined;
        const cleanup = await Promise.allSettled(
          watch
            .open()
            .map((UploadId) =>
              (cleaner ?? client).send(new AbortMultipartUploadCommand({ Bucket: grant.bucket, Key, UploadId })),
            ),
        );
        cleaner?.destroy();
        const cancelled = opts.signal?.aborted === true;
        const failure = signedOut
          ? new SignedOutError(`upload of "${key}" was stopped: signed out`, { cause: err })
          : toStorageError(
              cancelled ? Object.assign(new Error('cancelled'), { name: 'AbortError', cause: err }) : err,
              'upload',
              key,
            );
        const stranded = watch.open();
        if (stranded.length > 0) {
          const why = cleanup.find((r): r is PromiseRejectedResult => r.status === 'rejected');
          throw new StorageError(
            'cleanup_failed',
            `${(failure as Error).message}; aborting multipart upload ${stranded.join(', ')} also failed`,
            undefined,
            undefined,
            { cause: why?.reason ?? err },
          );
        }
        throw failure;
      } finally {
        opts.signal?.removeEventListener('abort', onAbort);
        watch.release();
        s.uploads.delete(controller);
        if (s.retired && s.uploads.size === 0) finish(s);
      }
    },

    /** Downloads an object as bytes (default) or as a web ReadableStream. */
    async download<As extends 'bytes' | 'stream' = 'bytes'>(
      key: string,
      opts: { as?: As; signal?: AbortSignal; range?: { start: number; end?: number } } = {},
    ): Promise<DownloadResult<As extends 'stream' ? ReadableStream<Uint8Array> : Uint8Array>> {
      const { client, grant } = await context();
      const Key = fullKey(grant.prefix, key);
      try {
        const out = await client.send(
          new GetObjectCommand({
            Bucket: grant.bucket,
            Key,
            ...(opts.range ? { Range: `bytes=${opts.range.start}-${opts.range.end ?? ''}` } : {}),
          }),
          opts.signal ? { abortSignal: opts.signal } : {},
        );
        const stream = out.Body as unknown as {
          transformToByteArray(): Promise<Uint8Array>;
          transformToWebStream(): ReadableStream<Uint8Array>;
        };
        const body = opts.as === 'stream' ? stream.transformToWebStream() : await stream.transformToByteArray();
        return {
          body: body as As extends 'stream' ? ReadableStream<Uint8Array> : Uint8Array,
          contentLength: out.ContentLength,
          contentType: out.ContentType,
          etag: out.ETag,
          lastModified: out.LastModified,
        };
      } catch (err) {
        throw toStorageError(err, 'download', key);
      }
    },

    /** Object metadata, or a StorageError with code `not_found`. */
    async head(key: string): Promise<{
      size: number | undefined;
      etag: string | undefined;
      contentType: string | undefined;
      lastModified: Date | undefined;
    }> {
      const { client, grant } = await context();
      const Key = fullKey(grant.prefix, key);
      try {
        const out = await client.send(new HeadObjectCommand({ Bucket: grant.bucket, Key }));
        return {
          size: out.ContentLength,
          etag: out.ETag,
          contentType: out.ContentType,
          lastModified: out.LastModified,
        };
      } catch (err) {
        throw toStorageError(err, 'head', key);
      }
    },

    /** One page of objects under your prefix (optionally under a relative sub-prefix). */
    async listPage(
      opts: { prefix?: string; continuationToken?: string; pageSize?: number; signal?: AbortSignal } = {},
    ): Promise<ListPage> {
      const { client, grant } = await context();
      const Prefix = listPrefix(grant.prefix, opts.prefix);
      try {
        const out = await client.send(
          new ListObjectsV2Command({
            Bucket: grant.bucket,
            Prefix,
            ...(opts.continuationToken ? { ContinuationToken: opts.continuationToken } : {}),
            ...(opts.pageSize ? { MaxKeys: opts.pageSize } : {}),
          }),
          opts.signal ? { abortSignal: opts.signal } : {},
        );
        return {
          objects: (out.Contents ?? []).map((o) => ({
            key: (o.Key ?? '').slice(grant.prefix.length),
            size: o.Size ?? 0,
            lastModified: o.LastModified,
            etag: o.ETag,
          })),
          continuationToken: out.IsTruncated ? out.NextContinuationToken : undefined,
        };
      } catch (err) {
        throw toStorageError(err, 'list', opts.prefix ?? '');
      }
    },

    /** Every object under your prefix, page by page. */
    async *list(opts: { prefix?: string; pageSize?: number; signal?: AbortSignal } = {}): AsyncGenerator<ListedObject> {
      let continuationToken: string | undefined;
      do {
        const page = await this.listPage({ ...opts, ...(continuationToken ? { continuationToken } : {}) });
        yield* page.objects;
        continuationToken = page.continuationToken;
      } while (continuationToken);
    },

    /** Deletes an object. Deleting a missing key succeeds (S3 semantics). */
    async delete(key: string): Promise<void> {
      const { client, grant } = await context();
      const Key = fullKey(grant.prefix, key);
      try {
        await client.send(new DeleteObjectCommand({ Bucket: grant.bucket, Key }));
      } catch (err) {
        throw toStorageError(err, 'delete', key);
      }
    },

    /**
     * Signs out, in one call. Afterwards nothing this object or its clients send is signed with the
     * previous user's keys, and nothing started for that user goes on with the next user's:
     *
     * - forgets the cached credentials and grant (`credentials.clear()`); the next operation fetches
     *   new ones with `getToken`, so make `getToken` answer for the new user (or throw) first;
     * - retires the S3 client: requests through it, including a `client()` reference kept by the
     *   caller, reject with {@link SignedOutError} (code `signed_out`);
     * - stops the running uploads: they reject with `SignedOutError`, and a started multipart upload
     *   is aborted on S3 with the keys it was signed with, which are then forgotten;
     * - makes an operation that was still starting (fetching credentials) reject with `SignedOutError`.
     *
     * Requests already signed run to completion with the old keys. Credentials the broker issued stay
     * valid until they expire; they cannot be revoked. `credentials.clear()` alone has the same effect
     * on this object's clients and operations, noticed at their next request; `signOut()` also stops
     * uploads at once.
     *
     * @example
     * ```ts
     * let jwt = await signIn('alice')
     * const storage = createStorage({ credentials: brokerCredentials({ brokerUrl, getToken: () => jwt }) })
     * await storage.upload('notes.txt', 'from alice')
     *
     * storage.signOut() // alice's keys, S3 client and uploads are gone
     * jwt = await signIn('bob')
     * await storage.upload('notes.txt', 'from bob') // bob's keys, bob's prefix
     * ```
     */
    signOut,

    /** The same as {@link signOut}, kept for existing callers. */
    clear: signOut,
  };
}

/** The object returned by {@link createStorage}. */
export type Storage = ReturnType<typeof createStorage>;
