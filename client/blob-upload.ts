// Uploads of a Blob or File in a browser, by slices. lib-storage reads a Blob through blob.stream()
// into JavaScript memory, copies each part together (Buffer.concat), and the SDK then hashes every
// part for the SigV4 signature, in JavaScript once a part reaches 8 MiB (Sha256WebCrypto falls back
// to Sha256Js): in Chromium that capped uploads at a few MB/s. Here each part's body is
// `blob.slice(start, end)` (parts: upload-parts.ts), which the browser sends from its blob storage without the page ever
// holding the bytes; the signature's payload hash is chosen in `payloadHash` below.
import { PutObjectCommand, UploadPartCommand, type S3Client } from '@aws-sdk/client-s3';
import type { BuildMiddleware } from '@smithy/types';

export interface BlobUploadParams {
  readonly Bucket: string;
  readonly Key: string;
  readonly ContentType?: string;
  readonly Metadata?: Record<string, string>;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * True when this upload should go by Blob slices: a Blob body, a client running in a browser
 * (the fetch and XHR handlers send Blob bodies; Node's handler does not), and no flexible
 * checksum to compute (the SDK would stream a Blob body as aws-chunked, which browsers cannot send).
 */
export async function sendsBlobSlices(client: S3Client, body: unknown): Promise<boolean> {
  if (typeof Blob === 'undefined' || !(body instanceof Blob)) return false;
  const config = client.config as { runtime?: string; requestChecksumCalculation?: () => Promise<string> };
  if (config.runtime !== 'browser') return false;
  return (await config.requestChecksumCalculation?.()) === 'WHEN_REQUIRED';
}

/** True when Blob slices sent to `endpoint` (the grant's; none means AWS, HTTPS) are hashed first. */
export function hashesPayload(endpoint: string | undefined): boolean {
  return endpoint !== undefined && endpoint.toLowerCase().startsWith('http:');
}

/**
 * The `x-amz-content-sha256` to sign a part with, or undefined to let the SDK sign
 * `UNSIGNED-PAYLOAD`. Over HTTPS the body is not hashed: TLS protects it in transit, and the
 * signature still covers the method, bucket, key, upload id, part number, headers and time, as
 * S3's `UNSIGNED-PAYLOAD` allows. Over plain HTTP nothing else would protect the body, so its
 * SHA-256 is signed as before, computed by the browser's native WebCrypto from the slice (one part
 * per request in flight, so memory stays bounded by part size × queue size).
 */
async function payloadHash(protocol: string | undefined, part: Blob): Promise<string | undefined> {
  if (protocol !== 'http:') return undefined;
  const bytes = await part.arrayBuffer();
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  // Free the part's copy now rather than at the next garbage collection: with 8 MiB parts and 4 in
  // flight, buffers waiting for GC held the tab's heap at ~130 MiB on a 1 GiB upload.
  // (ArrayBuffer.prototype.transfer: Chromium 114+, Firefox 122+, Safari 17.4+; a no-op elsewhere.)
  (bytes as { transfer?: (length: number) => ArrayBuffer }).transfer?.(0);
  let hex = '';
  for (const byte of digest) hex += HEX[byte];
  return hex;
}

/** Sends `command` (whose body is `body`) with the payload hash {@link payloadHash} chooses. */
export async function sendSigned<T>(
  client: S3Client,
  command: PutObjectCommand | UploadPartCommand,
  body: Blob,
  signal: AbortSignal,
): Promise<T> {
  const signPayload: BuildMiddleware<object, object> = (next) => async (args) => {
    const request = args.request as { protocol?: string; headers: Record<string, string> };
    const hash = await payloadHash(request.protocol, body);
    if (hash) request.headers['x-amz-content-sha256'] = hash;
    return next(args);
  };
  (command.middlewareStack as unknown as { add(m: typeof signPayload, o: object): void }).add(signPayload, {
    step: 'build',
    name: 'keyholePayloadHash',
  });
  signal.throwIfAborted();
  return (await client.send(command as never, { abortSignal: signal })) as T;
}

/** Uploads `blob` in one PUT (a Blob up to one part, in a browser). */
export async function putBlob(
  client: S3Client,
  params: BlobUploadParams,
  blob: Blob,
  signal: AbortSignal,
): Promise<{ ETag?: string | undefined }> {
  return sendSigned(client, new PutObjectCommand({ ...params, Body: blob }), blob, signal);
}
