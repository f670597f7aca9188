// The storage object's one-request operations: download, head, list and delete, each on a key
// relative to the grant's prefix, each failure mapped to a StorageError.
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { fullKey, listPrefix } from './keys.js';
import type { OperationContext } from './s3-session.js';
import { toStorageError } from './storage-errors.js';

export interface DownloadResult<T> {
  readonly body: T;
  readonly contentLength: number | undefined;
  readonly contentType: string | undefined;
  readonly etag: string | undefined;
  readonly lastModified: Date | undefined;
}

/** Options of `storage.download`: `as` picks bytes (default) or a web ReadableStream. */
export interface DownloadOptions<As extends 'bytes' | 'stream'> {
  as?: As;
  signal?: AbortSignal;
  range?: { start: number; end?: number };
}

/** The body type `storage.download` resolves to for `as`. */
export type DownloadBody<As extends 'bytes' | 'stream'> = As extends 'stream' ? ReadableStream<Uint8Array> : Uint8Array;

/** What `storage.head` tells about an object. */
export interface ObjectInfo {
  size: number | undefined;
  etag: string | undefined;
  contentType: string | undefined;
  lastModified: Date | undefined;
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

/** Options of `storage.listPage`. */
export interface ListPageOptions {
  prefix?: string;
  continuationToken?: string;
  pageSize?: number;
  signal?: AbortSignal;
}

/** Downloads an object as bytes (default) or as a web ReadableStream. */
export async function downloadObject<As extends 'bytes' | 'stream'>(
  { client, grant }: OperationContext,
  key: string,
  opts: DownloadOptions<As>,
): Promise<DownloadResult<DownloadBody<As>>> {
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
      body: body as DownloadBody<As>,
      contentLength: out.ContentLength,
      contentType: out.ContentType,
      etag: out.ETag,
      lastModified: out.LastModified,
    };
  } catch (err) {
    throw toStorageError(err, 'download', key, grant.access);
  }
}

/** Object metadata, or a StorageError with code `not_found`. */
export async function headObject({ client, grant }: OperationContext, key: string): Promise<ObjectInfo> {
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
    throw toStorageError(err, 'head', key, grant.access);
  }
}

/** One page of objects under the grant's prefix (optionally under a relative sub-prefix). */
export async function listObjectsPage({ client, grant }: OperationContext, opts: ListPageOptions): Promise<ListPage> {
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
    throw toStorageError(err, 'list', opts.prefix ?? '', grant.access);
  }
}

/** Deletes an object. Deleting a missing key succeeds (S3 semantics). */
export async function deleteObject({ client, grant }: OperationContext, key: string): Promise<void> {
  const Key = fullKey(grant.prefix, key);
  try {
    await client.send(new DeleteObjectCommand({ Bucket: grant.bucket, Key }));
  } catch (err) {
    throw toStorageError(err, 'delete', key, grant.access);
  }
}
