// What the broker reads and does with its own S3 identity to judge an upload: HEAD, a ranged GET of
// the first bytes, a bounded listing of the subject's prefix, and deleting or quarantining.
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { fileTypeFromBuffer, supportedMimeTypes } from 'file-type';

/** What HEAD says about an object. */
export interface ObjectHead {
  readonly size: number;
  readonly contentType: string | undefined;
  /** Without quotes. */
  readonly etag: string;
  readonly versionId: string | undefined;
  readonly lastModified: Date | undefined;
}

/** Bytes read to detect a type: file-type's own sample size, enough for nearly every format it knows. */
export const SNIFF_BYTES = 4100;

/** Types the detector can recognise from magic bytes. */
export const DETECTABLE_TYPES: ReadonlySet<string> = supportedMimeTypes;

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

const unquote = (etag: string | undefined) => (etag ?? '').replace(/^"|"$/g, '');

/** HEAD of `key`, or undefined when there is no such object. */
export async function headObject(s3: S3Client, bucket: string, key: string): Promise<ObjectHead | undefined> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return {
      size: head.ContentLength ?? 0,
      contentType: head.ContentType,
      etag: unquote(head.ETag),
      versionId: head.VersionId && head.VersionId !== 'null' ? head.VersionId : undefined,
      lastModified: head.LastModified,
    };
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
}

/**
 * The type of the object's content, read from its first {@link SNIFF_BYTES} bytes (one ranged GET
 * of the version HEAD saw), or undefined when the detector does not recognise it.
 */
export async function sniffType(
  s3: S3Client,
  bucket: string,
  key: string,
  head: ObjectHead,
): Promise<string | undefined> {
  if (head.size === 0) return undefined;
  const out = await s3.send(
    new GetObjectCommand({
      Bucket: bucket,
      Key: key,
      Range: `bytes=0-${SNIFF_BYTES - 1}`,
      ...(head.versionId ? { VersionId: head.versionId } : {}),
    }),
  );
  const bytes = await out.Body!.transformToByteArray();
  return (await fileTypeFromBuffer(bytes.subarray(0, SNIFF_BYTES)))?.mime;
}

/** Bytes and objects under a prefix; `complete` is false when the listing stopped at its bound. */
export interface PrefixUsage {
  readonly bytes: number;
  readonly objects: number;
  readonly complete: boolean;
}

/**
 * Adds up the sizes under `prefix`, listing at most `maxObjects` objects (pages of 1000: at most
 * `ceil(maxObjects / 1000)` ListObjectsV2 calls). Open multipart uploads are not counted. With
 * `notAfter` (the judged object's Last-Modified, whole seconds as HEAD gives it), objects stored
 * later are not counted: the first stored keeps its place, and judging an object again (a
 * reconciliation) gives the verdict it got first.
 */
export async function prefixUsage(
  s3: S3Client,
  bucket: string,
  prefix: string,
  maxObjects: number,
  notAfter?: Date,
): Promise<PrefixUsage> {
  const limit = notAfter === undefined ? Infinity : Math.floor(notAfter.getTime() / 1000);
  let bytes = 0;
  let objects = 0;
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        MaxKeys: Math.min(1000, maxObjects - objects),
        ...(token ? { ContinuationToken: token } : {}),
      }),
    );
    for (const o of page.Contents ?? []) {
      const at = o.LastModified === undefined ? -Infinity : Math.floor(o.LastModified.getTime() / 1000);
      if (at <= limit) bytes += o.Size ?? 0;
    }
    objects += page.Contents?.length ?? 0;
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token && objects < maxObjects);
  return { bytes, objects, complete: token === undefined };
}

/** What happened to a rejected object. */
export type Removal = { readonly action: 'deleted' } | { readonly action: 'quarantined'; readonly key: string };

// CopySource is a URL path: each segment encoded, the slashes kept.
const copySource = (bucket: string, key: string, versionId: string | undefined) =>
  `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}` +
  (versionId ? `?versionId=${encodeURIComponent(versionId)}` : '');

/**
 * Deletes a rejected object (the version HEAD saw, when the bucket is versioned), after copying it
 * under `quarantinePrefix` when one is set. A copy that fails (S3 copies at most 5 GiB in one call)
 * is reported by the returned `copyError`; the object is deleted all the same.
 */
export async function removeObject(
  s3: S3Client,
  bucket: string,
  key: string,
  head: ObjectHead,
  quarantinePrefix: string | undefined,
): Promise<Removal & { readonly copyError?: unknown }> {
  let removal: Removal = { action: 'deleted' };
  let copyError: unknown;
  if (quarantinePrefix !== undefined) {
    const target = quarantinePrefix + key;
    try {
      await s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: target,
          CopySource: copySource(bucket, key, head.versionId),
          MetadataDirective: 'COPY',
        }),
      );
      removal = { action: 'quarantined', key: target };
    } catch (err) {
      copyError = err;
    }
  }
  await s3.send(
    new DeleteObjectCommand({ Bucket: bucket, Key: key, ...(head.versionId ? { VersionId: head.versionId } : {}) }),
  );
  return copyError === undefined ? removal : { ...removal, copyError };
}
