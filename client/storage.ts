import type { S3Client } from '@aws-sdk/client-s3';
import { aclGuard } from './acl-guard.js';
import type { BrokerCredentialsProvider, Grant } from './credentials.js';
import { MultipartWatcher } from './multipart-cleanup.js';
import { S3Sessions, s3ClientFactory, type ExtraS3Config } from './s3-session.js';
import {
  deleteObject,
  downloadObject,
  headObject,
  listObjectsPage,
  type DownloadBody,
  type DownloadOptions,
  type DownloadResult,
  type ListedObject,
  type ListPage,
  type ListPageOptions,
  type ObjectInfo,
} from './storage-objects.js';
import {
  MIN_PART_BYTES,
  pausable,
  uploadObject,
  uploadTask,
  type UploadBody,
  type UploadDefaults,
  type UploadOptions,
  type UploadResult,
  type UploadTask,
} from './storage-upload.js';
import { discardUpload, unfinishedUploads, type UnfinishedUpload } from './resumable-upload.js';
import { fullKey } from './keys.js';
import { PauseGate } from './upload-parts.js';
import { memoryUploadStore, type UploadStore } from './upload-store.js';
import { precheckUpload, type UploadExpectations, type UploadVerdict } from './upload-confirm.js';

export type { DownloadResult, ListedObject, ListPage } from './storage-objects.js';
export type {
  KeptUpload,
  ResumableOptions,
  ResumeEvent,
  UploadBody,
  UploadControls,
  UploadOptions,
  UploadProgress,
  UploadResult,
  UploadTask,
} from './storage-upload.js';
export type { RestartCode, UnfinishedUpload } from './resumable-upload.js';
export type { RejectReason, UploadExpectations, UploadVerdict } from './upload-confirm.js';

/** {@link UploadOptions}, and what to do after the upload (issue 15). */
export interface ConfirmedUploadOptions extends UploadOptions {
  /**
   * After the upload, ask the broker for its verdict (`POST /v1/uploads/complete`): the result then
   * carries `verdict`. A rejected object is already gone. Default false.
   */
  readonly confirm?: boolean;
  /** Refuse before sending what breaks these rules (`UploadRejectedError`); the broker's check still counts. */
  readonly expect?: UploadExpectations;
}

/** The result of `upload(…, { confirm: true })`: the upload, and the broker's verdict on it. */
export interface ConfirmedUpload extends UploadResult {
  readonly verdict: UploadVerdict;
}

/** Options for {@link createStorage}. */
export interface StorageOptions {
  /** A provider from `brokerCredentials(...)`. */
  readonly credentials: BrokerCredentialsProvider;
  /**
   * Multipart part size in bytes; minimum 5 MiB (S3's limit). Default: chosen per upload from the
   * body's size, 8 MiB unless that would take more than S3's 10,000 parts.
   */
  readonly partSizeBytes?: number;
  /** Parts in flight per upload. Default 4. */
  readonly queueSize?: number;
  /** Extra S3Client settings (retries, request handler...). Region, endpoint and credentials come from the broker. */
  readonly s3?: ExtraS3Config;
  /**
   * Where `upload(…, { resumable: true })` keeps its records: `indexedDbUploadStore()` in a browser
   * (survives a reload), your own {@link UploadStore}, or by default {@link memoryUploadStore}.
   */
  readonly uploadStore?: UploadStore;
}

/** The object returned by {@link createStorage}. */
export interface Storage {
  /** The current grant: bucket, prefix, access, region. */
  grant(): Promise<Grant>;

  /**
   * The current user's S3 client, for calls this object does not wrap. It is bound to that user:
   * after {@link Storage.signOut} (or `credentials.clear()`, or when the provider's identity changes)
   * every request through it rejects with `SignedOutError` (code `signed_out`) before anything is
   * signed. So a kept reference can neither read the previous user's data nor act with the next
   * user's keys: call `client()` again after a sign-in. Middleware you add is not carried over.
   */
  client(): Promise<S3Client>;

  /**
   * Uploads `body`: one PUT below one part, parallel multipart above (a Blob or File by slices,
   * other bodies through lib-storage). A failed or cancelled multipart upload is aborted on S3, so
   * no parts or half-object remain; with `resumable`, a failed one is kept to be resumed instead.
   * The returned promise also has `pause()` and `resume()` (Blob and File bodies).
   */
  upload(
    key: string,
    body: UploadBody,
    opts: ConfirmedUploadOptions & { readonly confirm: true },
  ): UploadTask<ConfirmedUpload>;
  upload(key: string, body: UploadBody, opts?: ConfirmedUploadOptions): UploadTask;

  /**
   * The resumable uploads recorded in the `uploadStore` (or `store`) for this user's bucket and
   * prefix that have not finished, oldest first. Records for other users' prefixes are not listed.
   */
  unfinishedUploads(store?: UploadStore): Promise<UnfinishedUpload[]>;

  /**
   * Discards the unfinished resumable upload of `key`: aborts its multipart upload on S3 and drops
   * its record. Resolves false when there was none.
   */
  discardUpload(key: string, store?: UploadStore): Promise<boolean>;

  /** Downloads an object as bytes (default) or as a web ReadableStream. */
  download<As extends 'bytes' | 'stream' = 'bytes'>(
    key: string,
    opts?: DownloadOptions<As>,
  ): Promise<DownloadResult<DownloadBody<As>>>;

  /** Object metadata, or a StorageError with code `not_found`. */
  head(key: string): Promise<ObjectInfo>;

  /** One page of objects under your prefix (optionally under a relative sub-prefix). */
  listPage(opts?: ListPageOptions): Promise<ListPage>;

  /** Every object under your prefix, page by page. */
  list(opts?: { prefix?: string; pageSize?: number; signal?: AbortSignal }): AsyncGenerator<ListedObject>;

  /** Deletes an object. Deleting a missing key succeeds (S3 semantics). */
  delete(key: string): Promise<void>;

  /**
   * Signs out, in one call. Afterwards nothing this object or its clients send is signed with the
   * previous user's keys, and nothing started for that user goes on with the next user's:
   *
   * - forgets the cached credentials and grant (`credentials.clear()`); the next operation fetches
   *   new ones with `getToken`, so make `getToken` answer for the new user (or throw) first;
   * - retires the S3 client: requests through it, including a `client()` reference kept by the
   *   caller, reject with `SignedOutError` (code `signed_out`);
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
  signOut(): void;

  /** The same as {@link Storage.signOut}, kept for existing callers. */
  clear(): void;
}

function uploadDefaults(options: StorageOptions): UploadDefaults {
  const partSizeBytes = options.partSizeBytes;
  if (partSizeBytes !== undefined && (!Number.isInteger(partSizeBytes) || partSizeBytes < MIN_PART_BYTES))
    throw new RangeError('options.partSizeBytes must be an integer >= 5242880 (5 MiB)');
  const queueSize = options.queueSize;
  if (queueSize !== undefined && (!Number.isInteger(queueSize) || queueSize < 1 || queueSize > 64))
    throw new RangeError('options.queueSize must be an integer from 1 to 64');
  const store = options.uploadStore ?? memoryUploadStore();
  for (const method of ['get', 'set', 'delete', 'list'] as const) {
    if (typeof store[method] !== 'function') {
      throw new TypeError(`options.uploadStore must have get, set, delete and list methods (no ${method})`);
    }
  }
  return { partSizeBytes, queueSize, multipart: new MultipartWatcher(), store };
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
export function createStorage(options: StorageOptions): Storage {
  if (!options || typeof options.credentials !== 'function' || typeof options.credentials.grant !== 'function') {
    throw new TypeError('options.credentials must be a provider from brokerCredentials(...)');
  }
  const defaults = uploadDefaults(options);
  const credentials = options.credentials;
  const sessions = new S3Sessions(
    credentials,
    s3ClientFactory({ ...options.s3 }, [aclGuard, defaults.multipart.plugin]),
  );
  const listPage = async (opts: ListPageOptions = {}) => listObjectsPage(await sessions.context(), opts);
  // A key's shape is checked before the grant is fetched, so a malformed key sends nothing, not even a
  // broker request; its length with the prefix is checked again once the prefix is known.
  const shaped = (key: string) => void fullKey('', key);
  const signOut = () => sessions.signOut();

  return {
    grant: () => credentials.grant(),
    client: async () => (await sessions.context()).client,
    upload: ((key: string, body: UploadBody, opts: ConfirmedUploadOptions = {}) => {
      const gate = new PauseGate();
      const run = async () => {
        shaped(key);
        if (opts.expect) precheckUpload(key, body, opts.contentType, opts.expect);
        const result = await uploadObject(await sessions.context(), defaults, key, body, opts, gate);
        if (opts.confirm !== true) return result;
        if (!credentials.confirmUpload)
          throw new TypeError('confirm: true needs a provider from brokerCredentials(...)');
        return { ...result, verdict: await credentials.confirmUpload(key) };
      };
      return uploadTask(run(), gate, pausable(body));
    }) as Storage['upload'],
    unfinishedUploads: async (store = defaults.store) => {
      const grant = await credentials.grant();
      return unfinishedUploads(store, grant.bucket, grant.prefix);
    },
    discardUpload: async (key, store = defaults.store) => {
      shaped(key);
      const ctx = await sessions.context();
      return discardUpload(ctx.client, store, ctx.grant.bucket, fullKey(ctx.grant.prefix, key));
    },
    download: async (key, opts = {}) => {
      shaped(key);
      return downloadObject(await sessions.context(), key, opts);
    },
    head: async (key) => {
      shaped(key);
      return headObject(await sessions.context(), key);
    },
    listPage,
    async *list(opts = {}) {
      let continuationToken: string | undefined;
      do {
        const page = await listPage({ ...opts, ...(continuationToken ? { continuationToken } : {}) });
        yield* page.objects;
        continuationToken = page.continuationToken;
      } while (continuationToken);
    },
    delete: async (key) => {
      shaped(key);
      return deleteObject(await sessions.context(), key);
    },
    signOut,
    clear: signOut,
  };
}
