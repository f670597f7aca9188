// storage.upload's own multipart cleanup, at the points where lib-storage does not clean up by
// itself: a cancel or a source failure while CreateMultipartUpload is in flight, and a cancel or
// an S3 failure while parts are in flight. Each case checks the error code and, with the bucket
// owner's keys, that no multipart upload and no object is left. Real RGW.
import { randomBytes } from 'node:crypto';
import { AbortMultipartUploadCommand, HeadObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerCredentials, createStorage, StorageError } from '../../client/index.js';
import { freshSubject, startBroker, type TestBroker } from '../helpers/broker.js';
import { s3Outcome } from '../helpers/s3.js';
import { ownerS3, stack } from '../helpers/stack.js';

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Open multipart uploads under a prefix, listed with the bucket owner's keys. */
async function openUploads(prefix: string): Promise<string[]> {
  const out = await ownerS3().send(new ListMultipartUploadsCommand({ Bucket: stack().bucket, Prefix: prefix }));
  return (out.Uploads ?? []).map((u) => `${u.Key} ${u.UploadId}`);
}

type Hook = (command: string, input: Record<string, unknown>, next: () => Promise<unknown>) => Promise<unknown>;

/**
 * A storage object whose S3 client runs `hook` around every command, inside the SDK's build step:
 * after the storage's own bookkeeping sees the call, before signing, retries and the network.
 * Every AbortMultipartUpload is slowed by 500 ms (a slow network): lib-storage sends its own abort
 * in the background after `done()` has already rejected, so only an upload() that waits for the
 * cleanup to finish passes the "nothing left open" checks below.
 */
async function storageWith(broker: TestBroker, hook: Hook) {
  const sub = freshSubject('cleanup');
  const credentials = brokerCredentials({ brokerUrl: broker.url, getToken: () => broker.token(sub) });
  const storage = createStorage({ credentials, partSizeBytes: 5 * MiB, queueSize: 4 });
  const client = await storage.client();
  client.middlewareStack.add(
    (next: any, context: any) => async (args: any) => {
      if (context.commandName === 'AbortMultipartUploadCommand') await sleep(500);
      return (await hook(context.commandName, args.input, () => next(args))) as any;
    },
    { step: 'build', name: 'testHook' },
  );
  const grant = await storage.grant();
  return { storage, prefix: grant.prefix, bucket: grant.bucket };
}

async function objectStatus(Key: string): Promise<string> {
  return s3Outcome(ownerS3().send(new HeadObjectCommand({ Bucket: stack().bucket, Key })));
}

describe('storage.upload leaves nothing behind', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(() => broker.close());

  it('cancelled while CreateMultipartUpload is in flight: code "aborted", the created upload is aborted', async () => {
    const controller = new AbortController();
    const seen: string[] = [];
    const { storage, prefix } = await storageWith(broker, async (command, _input, next) => {
      seen.push(command);
      const out = await next();
      // S3 has created the upload; the caller cancels before lib-storage learns its UploadId.
      if (command === 'CreateMultipartUploadCommand') controller.abort();
      return out;
    });
    const err = await storage
      .upload('c/create.bin', randomBytes(12 * MiB), { signal: controller.signal })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).code).toBe('aborted');
    expect(seen[0]).toBe('CreateMultipartUploadCommand');
    expect(seen).toContain('AbortMultipartUploadCommand');
    expect(seen).not.toContain('CompleteMultipartUploadCommand');
    expect(await openUploads(prefix)).toEqual([]);
    expect(await objectStatus(`${prefix}c/create.bin`)).toBe('404 NotFound');
  });

  it('the source fails while CreateMultipartUpload is in flight: the source’s error, the created upload is aborted', async () => {
    let createStarted!: () => void;
    const started = new Promise<void>((r) => (createStarted = r));
    let sourceFailed = false;
    const { storage, prefix } = await storageWith(broker, async (command, _input, next) => {
      if (command === 'CreateMultipartUploadCommand') {
        createStarted();
        // Hold the create until the source has failed (or 3 s), so it completes on S3 afterwards.
        for (let i = 0; i < 60 && !sourceFailed; i++) await sleep(50);
        await sleep(100);
      }
      return next();
    });
    async function* source() {
      yield new Uint8Array(6 * MiB);
      await started;
      sourceFailed = true;
      throw new Error('disk read failed');
    }
    const err = await storage.upload('c/source.bin', source()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).code).toBe('s3_error');
    expect((err as StorageError).message).toContain('disk read failed');
    expect(sourceFailed).toBe(true);
    expect(await openUploads(prefix)).toEqual([]);
    expect(await objectStatus(`${prefix}c/source.bin`)).toBe('404 NotFound');
  });

  it('cancelled with parts in flight: code "aborted", no parts and no upload remain', async () => {
    const controller = new AbortController();
    let partsStarted = 0;
    const { storage, prefix } = await storageWith(broker, async (command, _input, next) => {
      if (command === 'UploadPartCommand') {
        partsStarted++;
        if (partsStarted === 3) setTimeout(() => controller.abort(), 50);
        await sleep(300); // slow parts, so several are in flight at the abort
      }
      return next();
    });
    const err = await storage
      .upload('c/parts.bin', randomBytes(30 * MiB), { signal: controller.signal })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).code).toBe('aborted');
    expect(partsStarted).toBeGreaterThanOrEqual(3);
    expect(await openUploads(prefix)).toEqual([]);
    expect(await objectStatus(`${prefix}c/parts.bin`)).toBe('404 NotFound');
  });

  it('S3 fails one part while others are in flight: code "s3_error" with S3’s code, nothing remains', async () => {
    let parts = 0;
    const { storage, prefix } = await storageWith(broker, async (command, input, next) => {
      if (command === 'UploadPartCommand') {
        parts++;
        if (input.PartNumber === 2) {
          await sleep(100);
          throw Object.assign(new Error('We encountered an internal error. Please try again.'), {
            name: 'InternalError',
            $metadata: { httpStatusCode: 500 },
          });
        }
        await sleep(400);
      }
      return next();
    });
    const err = await storage.upload('c/fail.bin', randomBytes(20 * MiB)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect(err).toMatchObject({ code: 's3_error', s3Code: 'InternalError', status: 500 });
    expect(parts).toBeGreaterThanOrEqual(2);
    expect(await openUploads(prefix)).toEqual([]);
    expect(await objectStatus(`${prefix}c/fail.bin`)).toBe('404 NotFound');
  });

  it('lib-storage’s own abort fails once (503 SlowDown): the storage’s abort still closes the upload', async () => {
    const controller = new AbortController();
    const aborts: string[] = [];
    const { storage, prefix } = await storageWith(broker, async (command, _input, next) => {
      if (command === 'UploadPartCommand') {
        setTimeout(() => controller.abort(), 20);
        await sleep(200);
      }
      if (command === 'AbortMultipartUploadCommand') {
        aborts.push(command);
        if (aborts.length === 1) {
          throw Object.assign(new Error('Please reduce your request rate.'), {
            name: 'SlowDown',
            $metadata: { httpStatusCode: 503 },
          });
        }
      }
      return next();
    });
    const err = await storage
      .upload('c/retry-abort.bin', randomBytes(12 * MiB), { signal: controller.signal })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).code).toBe('aborted');
    expect(aborts.length).toBeGreaterThanOrEqual(2);
    expect(await openUploads(prefix)).toEqual([]);
  });

  it('every abort fails: code "cleanup_failed", naming the upload left open', async () => {
    const controller = new AbortController();
    const { storage, prefix, bucket } = await storageWith(broker, async (command, _input, next) => {
      if (command === 'UploadPartCommand') {
        setTimeout(() => controller.abort(), 20);
        await sleep(200);
      }
      if (command === 'AbortMultipartUploadCommand') {
        throw Object.assign(new Error('Service Unavailable'), {
          name: 'ServiceUnavailable',
          $metadata: { httpStatusCode: 503 },
        });
      }
      return next();
    });
    const err = await storage
      .upload('c/stranded.bin', randomBytes(12 * MiB), { signal: controller.signal })
      .catch((e: unknown) => e);
    const open = await openUploads(prefix);
    expect(open).toHaveLength(1);
    const [, uploadId] = open[0]!.split(' ');
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).code).toBe('cleanup_failed');
    expect((err as StorageError).message).toBe(
      `upload of "c/stranded.bin" was cancelled; aborting multipart upload ${uploadId} also failed`,
    );
    await ownerS3().send(
      new AbortMultipartUploadCommand({ Bucket: bucket, Key: `${prefix}c/stranded.bin`, UploadId: uploadId }),
    );
    expect(await openUploads(prefix)).toEqual([]);
  });

  it('positive control: the same hooks passing everything through complete the upload', async () => {
    const { storage, prefix } = await storageWith(broker, (_c, _i, next) => next());
    const result = await storage.upload('c/ok.bin', randomBytes(12 * MiB));
    expect(result.fullKey).toBe(`${prefix}c/ok.bin`);
    expect(await objectStatus(result.fullKey)).toBe('OK');
    expect(await openUploads(prefix)).toEqual([]);
    await storage.delete('c/ok.bin');
  });
});
