// The parts of one multipart upload of a Blob, sent `queueSize` at a time by `blob.slice()`: no
// part is read before its turn, and only parts S3 does not have yet are sent (a resumed upload).
// Pausing aborts the parts in flight and sends them again on resume; the credentials are asked
// for again then, so a pause may outlast them.
import { UploadPartCommand, type S3Client } from '@aws-sdk/client-s3';
import { sendSigned } from './blob-upload.js';

/** Pauses and resumes an upload. `signal` aborts when a pause starts. */
export class PauseGate {
  #paused = false;
  #controller = new AbortController();
  readonly #waiters = new Set<() => void>();

  get paused(): boolean {
    return this.#paused;
  }

  /** Aborted when the current run of parts is paused. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#controller.abort(new DOMException('paused', 'AbortError'));
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#controller = new AbortController();
    for (const wake of this.#waiters) wake();
  }

  /** Resolves when not paused; rejects with `cancel`'s reason if it aborts first. */
  async wait(cancel: AbortSignal): Promise<void> {
    while (this.#paused) {
      cancel.throwIfAborted();
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#waiters.delete(wake);
          cancel.removeEventListener('abort', wake);
          resolve();
        };
        this.#waiters.add(wake);
        // wake() removes itself, on resume and on abort alike.
        cancel.addEventListener('abort', wake);
      });
    }
    cancel.throwIfAborted();
  }
}

/** The checksums S3 may return for a part; CompleteMultipartUpload needs them back when the upload has one. */
const CHECKSUMS = ['ChecksumCRC32', 'ChecksumCRC32C', 'ChecksumSHA1', 'ChecksumSHA256', 'ChecksumCRC64NVME'] as const;

/** A part S3 acknowledged: its ETag and any checksum, as CompleteMultipartUpload takes them. */
export type DonePart = { readonly ETag: string } & { readonly [K in (typeof CHECKSUMS)[number]]?: string };

/** The ETag and checksums of an UploadPart answer or a ListParts entry. */
export function donePart(
  out: { ETag?: string | undefined } & { [K in (typeof CHECKSUMS)[number]]?: string | undefined },
): DonePart {
  const part: Record<string, string> = { ETag: out.ETag ?? '' };
  for (const name of CHECKSUMS) if (out[name]) part[name] = out[name];
  return part as DonePart;
}

export interface PartsJob {
  readonly client: S3Client;
  readonly Bucket: string;
  readonly Key: string;
  readonly UploadId: string;
  readonly blob: Blob;
  readonly partSize: number;
  readonly queueSize: number;
  /** True: send Blob slices (a browser); false: read each part into bytes (Node's handler sends no Blob). */
  readonly slices: boolean;
  /** Parts S3 already has, by part number. Filled in as parts are sent. */
  readonly done: Map<number, DonePart>;
  /** Cancels: the returned promise rejects. */
  readonly signal: AbortSignal;
  readonly gate: PauseGate;
  /** After each part S3 acknowledged. */
  readonly onPart?: (partNumber: number, part: DonePart) => void;
  readonly onProgress?: (loaded: number, total: number) => void;
}

/** The number of parts `size` bytes make in parts of `partSize`. */
export function partCount(size: number, partSize: number): number {
  return Math.max(1, Math.ceil(size / partSize));
}

/** The bytes in parts `numbers` of a `size`-byte file in parts of `partSize` (numbers out of range count 0). */
export function partsBytes(numbers: Iterable<number>, size: number, partSize: number): number {
  const count = partCount(size, partSize);
  let bytes = 0;
  for (const n of new Set(numbers))
    if (n >= 1 && n <= count) bytes += Math.min(size, n * partSize) - (n - 1) * partSize;
  return bytes;
}

/**
 * Sends every part of `job.blob` missing from `job.done`, and returns the parts for
 * CompleteMultipartUpload. Throws on the first failure that is not a pause; the caller decides
 * whether to abort the multipart upload or keep it for later.
 */
export async function sendParts(job: PartsJob): Promise<({ PartNumber: number } & DonePart)[]> {
  const { blob, partSize, done, gate, signal } = job;
  const total = blob.size;
  const count = partCount(total, partSize);
  const sizeOf = (n: number) => partsBytes([n], total, partSize);
  const todo: number[] = [];
  for (let n = 1; n <= count; n++) if (!done.has(n)) todo.push(n);
  let loaded = partsBytes(done.keys(), total, partSize);
  job.onProgress?.(loaded, total);

  const sendPart = async (n: number, attempt: AbortSignal): Promise<DonePart> => {
    const part = blob.slice((n - 1) * partSize, Math.min(total, n * partSize));
    const input = { Bucket: job.Bucket, Key: job.Key, UploadId: job.UploadId, PartNumber: n };
    if (job.slices) {
      const command = new UploadPartCommand({ ...input, Body: part, ContentLength: part.size });
      return donePart(await sendSigned<{ ETag?: string }>(job.client, command, part, attempt));
    }
    const Body = new Uint8Array(await part.arrayBuffer());
    attempt.throwIfAborted();
    return donePart(await job.client.send(new UploadPartCommand({ ...input, Body }), { abortSignal: attempt }));
  };

  while (todo.length > 0) {
    await gate.wait(signal);
    const attempt = AbortSignal.any([signal, gate.signal]);
    const worker = async (): Promise<void> => {
      while (todo.length > 0 && !attempt.aborted) {
        const n = todo.shift()!;
        let sent: DonePart;
        try {
          sent = await sendPart(n, attempt);
        } catch (err) {
          // A pause aborted this part: it goes back in line, to be sent again on resume.
          if (gate.paused && !signal.aborted) {
            todo.push(n);
            todo.sort((a, b) => a - b);
            return;
          }
          throw err;
        }
        done.set(n, sent);
        loaded += sizeOf(n);
        job.onPart?.(n, sent);
        job.onProgress?.(loaded, total);
      }
    };
    // The first failure stops the others from starting parts; the caller aborts the ones in flight.
    await Promise.all(Array.from({ length: Math.min(job.queueSize, todo.length) }, worker));
    signal.throwIfAborted();
  }
  return [...done].sort(([a], [b]) => a - b).map(([PartNumber, part]) => ({ PartNumber, ...part }));
}
