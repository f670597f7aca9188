// What the resumable-upload tests ask the local RGW with the owner's keys: the open multipart uploads
// under a prefix, how many parts the first one holds, and an object's SHA-256; and a condition wait.
import { createHash } from 'node:crypto';
import {
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  type MultipartUpload,
} from '@aws-sdk/client-s3';
import { ownerS3, stack } from './stack.js';

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** The multipart uploads open under `prefix`. */
export async function openUploads(prefix: string): Promise<MultipartUpload[]> {
  const out = await ownerS3().send(new ListMultipartUploadsCommand({ Bucket: stack().bucket, Prefix: prefix }));
  return out.Uploads ?? [];
}

/** How many parts S3 holds for the first upload open under `prefix` (0 when none is open). */
export async function partsOnS3(prefix: string): Promise<number> {
  const [u] = await openUploads(prefix);
  if (!u) return 0;
  const out = await ownerS3().send(new ListPartsCommand({ Bucket: stack().bucket, Key: u.Key, UploadId: u.UploadId }));
  return out.Parts?.length ?? 0;
}

/** The SHA-256 of the object at `key`. */
export async function storedSha256(key: string): Promise<string> {
  const out = await ownerS3().send(new GetObjectCommand({ Bucket: stack().bucket, Key: key }));
  return sha256(await out.Body!.transformToByteArray());
}

/** Resolves once `check` holds, polling every 20 ms; throws naming `what` after `ms`. */
export async function until(check: () => boolean | Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
