// Acceptance (issue 2, points 2 and 5): the client uploads large files as parallel multipart
// through lib-storage with progress to 100% and identical bytes; a cancelled upload leaves
// nothing behind; an upload outlives the credentials it started with.
import { createHash, randomBytes } from 'node:crypto';
import { HeadObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerCredentials, createStorage, StorageError } from '../../client/index.js';
import { freshSubject, startBroker, type TestBroker } from '../helpers/broker.js';
import { ownerS3, stack } from '../helpers/stack.js';

const MiB = 1024 * 1024;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Counts the S3 operations the SDK sends, by command name. */
function countingMiddleware(counts: Map<string, number>) {
  return {
    applyToStack(stack: any) {
      stack.add(
        (next: any, ctx: any) => async (args: any) => {
          counts.set(ctx.commandName, (counts.get(ctx.commandName) ?? 0) + 1);
          return next(args);
        },
        { step: 'initialize', name: 'testCounter' },
      );
    },
  };
}

async function pendingUploads(prefix: string): Promise<number> {
  const out = await ownerS3().send(new ListMultipartUploadsCommand({ Bucket: stack().bucket, Prefix: prefix }));
  return out.Uploads?.length ?? 0;
}

describe('client uploads against RGW', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(() => broker.close());

  function storageFor(
    sub: string,
    extra: Parameters<typeof brokerCredentials>[0] extends infer O ? Partial<O> : never = {},
  ) {
    const credentials = brokerCredentials({ brokerUrl: broker.url, getToken: () => broker.token(sub), ...extra });
    return { credentials, storage: createStorage({ credentials, partSizeBytes: 8 * MiB, queueSize: 4 }) };
  }

  it('64 MiB goes up as parallel multipart, progress reaches 100%, bytes read back identical', async () => {
    const sub = freshSubject('big');
    const { storage, credentials } = storageFor(sub);
    const data = randomBytes(64 * MiB);
    const counts = new Map<string, number>();
    (await storage.client()).middlewareStack.use(countingMiddleware(counts));
    const progress: { loaded: number; total: number | undefined }[] = [];
    const result = await storage.upload('blobs/big.bin', data, {
      onProgress: (p) => progress.push(p),
      contentType: 'application/octet-stream',
    });
    expect(result.fullKey).toBe(`users/dev-${sub}/blobs/big.bin`);
    expect(counts.get('CreateMultipartUploadCommand')).toBe(1);
    expect(counts.get('UploadPartCommand')).toBe(8);
    expect(counts.get('CompleteMultipartUploadCommand')).toBe(1);
    expect(counts.get('PutObjectCommand') ?? 0).toBe(0);
    expect(progress.at(-1)).toMatchObject({ loaded: 64 * MiB, total: 64 * MiB, fraction: 1 });
    // monotone progress
    expect(progress.every((p, i) => i === 0 || p.loaded >= progress[i - 1]!.loaded)).toBe(true);
    const head = await ownerS3().send(new HeadObjectCommand({ Bucket: stack().bucket, Key: result.fullKey }));
    expect(head.ETag).toMatch(/-8"$/);
    const back = await storage.download('blobs/big.bin');
    expect(back.body.length).toBe(64 * MiB);
    expect(sha(back.body)).toBe(sha(data));
    // Streamed download gives the same bytes.
    const streamed = await storage.download('blobs/big.bin', { as: 'stream' });
    const chunks: Uint8Array[] = [];
    for await (const c of streamed.body as unknown as AsyncIterable<Uint8Array>) chunks.push(c);
    expect(sha(Buffer.concat(chunks))).toBe(sha(data));
    expect(credentials.brokerRequests).toBe(1);
    await storage.delete('blobs/big.bin');
  });

  it('cancelling mid-upload aborts the multipart upload: no parts and no object remain', async () => {
    const sub = freshSubject('cancel');
    const { storage } = storageFor(sub);
    const controller = new AbortController();
    let aborted = false;
    const err = await storage
      .upload('blobs/cancelled.bin', randomBytes(48 * MiB), {
        signal: controller.signal,
        queueSize: 1,
        onProgress: (p) => {
          if (!aborted && p.loaded >= 8 * MiB) {
            aborted = true;
            controller.abort();
          }
        },
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).code).toBe('aborted');
    expect(aborted).toBe(true);
    expect(await pendingUploads(`users/dev-${sub}/`)).toBe(0);
    const head = await ownerS3()
      .send(new HeadObjectCommand({ Bucket: stack().bucket, Key: `users/dev-${sub}/blobs/cancelled.bin` }))
      .catch((e: any) => e.$metadata?.httpStatusCode);
    expect(head).toBe(404);
  });

  it('an upload whose source fails mid-way leaves no pending multipart upload', async () => {
    const sub = freshSubject('fail');
    const { storage } = storageFor(sub);
    async function* failing() {
      yield new Uint8Array(6 * MiB);
      yield new Uint8Array(6 * MiB);
      throw new Error('disk read failed');
    }
    const err = await storage.upload('blobs/failed.bin', failing(), { queueSize: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).message).toContain('disk read failed');
    expect(await pendingUploads(`users/dev-${sub}/`)).toBe(0);
  });

  it('an upload spanning several credential refreshes succeeds with rotated credentials', async () => {
    const sub = freshSubject('refresh');
    // The client sees credentials living 300.6 s; with the SDK's and the provider's 300 s refresh
    // window that means new credentials every ~0.6 s. The broker's cache is bypassed by design here:
    // a separate broker without it, so each refresh is a real AssumeRole.
    const fresh = await startBroker({ credentialCache: false });
    try {
      const credentials = brokerCredentials({
        brokerUrl: fresh.url,
        getToken: () => fresh.token(sub),
        maxLifetimeSeconds: 300.6,
      });
      const seenKeys = new Set<string>();
      const tracking = Object.assign(
        async (o?: { forceRefresh?: boolean }) => {
          const c = await credentials(o);
          seenKeys.add(c.accessKeyId);
          return c;
        },
        { grant: credentials.grant, clear: credentials.clear, brokerRequests: 0 },
      );
      const storage = createStorage({ credentials: tracking as any, partSizeBytes: 5 * MiB, queueSize: 1 });
      const data = randomBytes(30 * MiB);
      // A slow source: six 5 MiB parts, 500 ms apart, so the upload takes ~3 s.
      async function* slow() {
        for (let i = 0; i < 6; i++) {
          await new Promise((r) => setTimeout(r, 500));
          yield data.subarray(i * 5 * MiB, (i + 1) * 5 * MiB);
        }
      }
      await storage.upload('blobs/long.bin', slow());
      expect(credentials.brokerRequests).toBeGreaterThanOrEqual(3); // initial + at least two refreshes
      expect(seenKeys.size).toBeGreaterThanOrEqual(3);
      expect(fresh.vendor.upstreamCalls()).toBe(credentials.brokerRequests);
      const back = await storage.download('blobs/long.bin');
      expect(sha(back.body)).toBe(sha(data));
    } finally {
      await fresh.close();
    }
  });
});
