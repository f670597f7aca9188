// client/storage.ts against an in-memory S3 (test/helpers/fake-s3.ts) behind the real SDK: the
// storage object's contract without RGW, so it can be mutation-tested. What it sends, where, with
// which options; how each S3 failure is reported; and that failed or cancelled multipart uploads
// leave nothing open. The RGW suites (test/integration) check the same against a real store.
import { randomBytes } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { createStorage, InvalidKeyError, StorageError, type BrokerCredentialsProvider } from '../../client/index.js';
import { type Fault } from '../helpers/fake-s3.js';
import { caught, fakeStorage as setup, MiB, PREFIX } from '../helpers/fake-storage.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('upload', () => {
  it('below one part: a single PUT under the prefix, with content type and metadata; the result names both keys', async () => {
    const { s3, storage } = setup();
    const data = randomBytes(1000);
    const result = await storage.upload('docs/a.txt', data, {
      contentType: 'text/plain',
      metadata: { origin: 'unit' },
    });
    expect(result).toEqual({
      key: 'docs/a.txt',
      fullKey: `${PREFIX}docs/a.txt`,
      bucket: 'uploads',
      etag: s3.objects.get(`${PREFIX}docs/a.txt`)!.etag,
    });
    const stored = s3.objects.get(`${PREFIX}docs/a.txt`)!;
    expect(stored.body.equals(data)).toBe(true);
    expect(stored.contentType).toBe('text/plain');
    expect(stored.metadata).toEqual({ origin: 'unit' });
    expect(s3.log.map((r) => r.op)).toEqual(['PutObject']);
  });

  it('without options: no content type or metadata is sent', async () => {
    const { s3, storage } = setup();
    await storage.upload('plain.bin', new Uint8Array(10));
    expect(s3.objects.get(`${PREFIX}plain.bin`)!.metadata).toEqual({});
    expect(s3.log[0]!.headers['content-type']).not.toBe('text/plain');
  });

  it('above one part: multipart with the storage’s default 8 MiB parts, identical bytes, progress to 100%', async () => {
    const { s3, storage } = setup();
    const data = randomBytes(20 * MiB);
    const progress: { loaded: number; total: number | undefined; fraction: number | undefined }[] = [];
    const result = await storage.upload('big.bin', data, { onProgress: (p) => progress.push(p) });
    expect(s3.count('CreateMultipartUpload')).toBe(1);
    expect(s3.count('UploadPart')).toBe(3); // 8 + 8 + 4 MiB
    expect(s3.count('CompleteMultipartUpload')).toBe(1);
    expect(s3.objects.get(result.fullKey)!.body.equals(data)).toBe(true);
    expect(result.etag).toMatch(/-3"$/);
    expect(progress.at(-1)).toEqual({ loaded: 20 * MiB, total: 20 * MiB, fraction: 1 });
    for (const p of progress) expect(p.fraction).toBe(p.loaded / 20 / MiB);
    expect(s3.openUploads()).toEqual([]);
  });

  it('partSizeBytes and queueSize: per storage object and per upload', async () => {
    const { s3, storage } = setup({ partSizeBytes: 5 * MiB, queueSize: 2 });
    s3.fault = async (r) => (r.op === 'UploadPart' ? (await sleep(30), undefined) : undefined);
    await storage.upload('a.bin', randomBytes(20 * MiB));
    expect(s3.count('UploadPart')).toBe(4);
    expect(s3.maxPartsInFlight).toBe(2);
    s3.maxPartsInFlight = 0;
    await storage.upload('b.bin', randomBytes(12 * MiB), { partSizeBytes: 6 * MiB, queueSize: 1 });
    expect(s3.count('UploadPart')).toBe(6);
    expect(s3.maxPartsInFlight).toBe(1);
  });

  it('the default queue is 4 parts in flight', async () => {
    const { s3, storage } = setup({ partSizeBytes: 5 * MiB });
    s3.fault = async (r) => (r.op === 'UploadPart' ? (await sleep(30), undefined) : undefined);
    await storage.upload('q.bin', randomBytes(30 * MiB));
    expect(s3.maxPartsInFlight).toBe(4);
  });

  it('progress without a known total reports fraction undefined', async () => {
    const { storage } = setup({ partSizeBytes: 5 * MiB });
    async function* stream() {
      for (let i = 0; i < 3; i++) yield new Uint8Array(4 * MiB);
    }
    const seen: { loaded: number; total: number | undefined; fraction: number | undefined }[] = [];
    await storage.upload('s.bin', stream(), { onProgress: (p) => seen.push(p) });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((p) => p.total === undefined && p.fraction === undefined)).toBe(true);
    expect(seen.at(-1)!.loaded).toBe(12 * MiB);
  });

  it.each([5 * MiB - 1, 5 * MiB + 0.5, 0])(
    'a per-upload partSizeBytes of %d is a RangeError, before any request',
    async (size) => {
      const { s3, storage } = setup();
      await expect(storage.upload('x.bin', new Uint8Array(1), { partSizeBytes: size })).rejects.toThrow(
        new RangeError('partSizeBytes must be an integer >= 5242880 (5 MiB)'),
      );
      expect(s3.log).toEqual([]);
    },
  );

  it('5 MiB exactly is a valid part size', async () => {
    const { s3, storage } = setup();
    await storage.upload('x.bin', randomBytes(6 * MiB), { partSizeBytes: 5 * MiB });
    expect(s3.count('UploadPart')).toBe(2);
  });

  it('an already aborted signal: StorageError "aborted", nothing sent', async () => {
    const { s3, storage } = setup();
    const err = await caught(storage.upload('x.bin', new Uint8Array(1), { signal: AbortSignal.abort() }));
    expect(err).toBeInstanceOf(StorageError);
    expect(err).toMatchObject({ code: 'aborted', message: 'upload of "x.bin" was cancelled', s3Code: 'AbortError' });
    expect(s3.log).toEqual([]);
  });

  it('an invalid key is refused before any request', async () => {
    const { s3, storage } = setup();
    await expect(storage.upload('../bob/x', new Uint8Array(1))).rejects.toBeInstanceOf(InvalidKeyError);
    expect(s3.log).toEqual([]);
  });

  it('a signal aborted after the upload finished changes nothing', async () => {
    const { s3, storage } = setup();
    const controller = new AbortController();
    await storage.upload('done.bin', randomBytes(100), { signal: controller.signal });
    controller.abort();
    await sleep(10);
    expect(s3.objects.has(`${PREFIX}done.bin`)).toBe(true);
  });
});

describe('failed and cancelled multipart uploads leave nothing open', () => {
  const slowParts: Fault = async (r) => (r.op === 'UploadPart' ? (await sleep(100), undefined) : undefined);

  it('cancelled with parts in flight: "aborted", the upload is aborted on S3 before upload() settles', async () => {
    const { s3, storage } = setup({ partSizeBytes: 5 * MiB });
    s3.fault = slowParts;
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const err = await caught(storage.upload('c.bin', randomBytes(20 * MiB), { signal: controller.signal }));
    expect(err).toBeInstanceOf(StorageError);
    expect(err).toMatchObject({ code: 'aborted', message: 'upload of "c.bin" was cancelled' });
    expect(s3.openUploads()).toEqual([]);
    expect(s3.objects.size).toBe(0);
    expect(s3.count('CompleteMultipartUpload')).toBe(0);
  });

  it('cancelled while CreateMultipartUpload is in flight: the upload created afterwards is aborted', async () => {
    const { s3, storage } = setup({ partSizeBytes: 5 * MiB });
    const controller = new AbortController();
    s3.fault = async (r) => {
      if (r.op === 'CreateMultipartUpload') {
        controller.abort();
        await sleep(50);
      }
      if (r.op === 'AbortMultipartUpload') await sleep(100);
      return undefined;
    };
    const err = await caught(storage.upload('cc.bin', randomBytes(12 * MiB), { signal: controller.signal }));
    expect(err.code).toBe('aborted');
    expect(s3.count('CreateMultipartUpload')).toBe(1);
    expect(s3.openUploads()).toEqual([]);
  });

  it('a part fails with 500: "s3_error" carrying S3’s code and status and a message naming them', async () => {
    const { s3, storage } = setup({ partSizeBytes: 5 * MiB });
    s3.fault = async (r) => {
      if (r.op !== 'UploadPart') return undefined;
      if (r.query.partNumber === '2') return { status: 500, code: 'InternalError' };
      await sleep(50);
      return undefined;
    };
    const err = await caught(storage.upload('f.bin', randomBytes(20 * MiB)));
    expect(err).toBeInstanceOf(StorageError);
    expect(err).toMatchObject({ code: 's3_error', s3Code: 'InternalError', status: 500 });
    expect(err.message).toBe('upload of "f.bin" failed: InternalError: InternalError (fake S3)');
    expect(s3.openUploads()).toEqual([]);
  });

  it('the first abort fails (503): the storage’s own abort closes the upload', async () => {
    const { s3, storage } = setup({ partSizeBytes: 5 * MiB });
    let aborts = 0;
    const controller = new AbortController();
    s3.fault = async (r) => {
      if (r.op === 'UploadPart') {
        controller.abort();
        await sleep(50);
      }
      if (r.op === 'AbortMultipartUpload' && ++aborts === 1) return { status: 503, code: 'SlowDown' };
      return undefined;
    };
    const err = await caught(storage.upload('r.bin', randomBytes(12 * MiB), { signal: controller.signal }));
    expect(err.code).toBe('aborted');
    expect(aborts).toBe(2);
    expect(s3.openUploads()).toEqual([]);
  });

  it.each([
    ['bytes (lib-storage)', (b: Uint8Array): Uint8Array | Blob => b],
    ['a Blob (in parts by slices)', (b: Uint8Array): Uint8Array | Blob => new Blob([b])],
  ])(
    'every abort fails, %s: "cleanup_failed" naming the upload left open, caused by the abort’s error',
    async (_body, bodyOf) => {
      const { s3, storage } = setup({ partSizeBytes: 5 * MiB });
      const controller = new AbortController();
      s3.fault = async (r) => {
        if (r.op === 'UploadPart') {
          controller.abort();
          await sleep(50);
        }
        return r.op === 'AbortMultipartUpload' ? { status: 503, code: 'ServiceUnavailable' } : undefined;
      };
      const err = await caught(storage.upload('s.bin', bodyOf(randomBytes(12 * MiB)), { signal: controller.signal }));
      const open = s3.openUploads();
      expect(open).toHaveLength(1);
      const uploadId = open[0]!.split(' ')[1];
      expect(err).toBeInstanceOf(StorageError);
      expect(err).toMatchObject({
        code: 'cleanup_failed',
        message: `upload of "s.bin" was cancelled; aborting multipart upload ${uploadId} also failed`,
        s3Code: undefined,
        status: undefined,
      });
      expect((err.cause as { name?: string }).name).toBe('ServiceUnavailable');
    },
  );

  it('an abort answered NoSuchUpload (already gone) counts as done', async () => {
    const { s3, storage } = setup({ partSizeBytes: 5 * MiB });
    const controller = new AbortController();
    s3.fault = async (r) => {
      if (r.op === 'UploadPart') {
        controller.abort();
        await sleep(50);
      }
      if (r.op === 'AbortMultipartUpload') {
        s3.uploads.clear(); // someone else (a lifecycle rule) already removed it
        return { status: 404, code: 'NoSuchUpload' };
      }
      return undefined;
    };
    const err = await caught(storage.upload('n.bin', randomBytes(12 * MiB), { signal: controller.signal }));
    expect(err.code).toBe('aborted');
  });

  it('the source fails: its error message, and nothing left open', async () => {
    const { s3, storage } = setup({ partSizeBytes: 5 * MiB });
    async function* source() {
      yield new Uint8Array(6 * MiB);
      await sleep(20);
      throw new Error('disk read failed');
    }
    const err = await caught(storage.upload('src.bin', source()));
    expect(err).toMatchObject({ code: 's3_error' });
    expect(err.message).toBe('upload of "src.bin" failed: Error: disk read failed');
    expect(s3.openUploads()).toEqual([]);
  });
});

describe('errors are mapped to stable codes', () => {
  it.each([
    [403, 'AccessDenied', 'access_denied', 'access denied: download "k.txt" is outside your grant'],
    [404, 'NoSuchKey', 'not_found', '"k.txt" does not exist'],
    [400, 'ExpiredToken', 'expired_credentials', 'download failed: credentials expired'],
    [403, 'InvalidToken', 'access_denied', 'access denied: download "k.txt" is outside your grant'],
    [400, 'InvalidToken', 'expired_credentials', 'download failed: credentials expired'],
    [400, 'TokenRefreshRequired', 'expired_credentials', 'download failed: credentials expired'],
    [503, 'SlowDown', 's3_error', 'download of "k.txt" failed: SlowDown: SlowDown (fake S3)'],
  ])('%i %s → %s', async (status, s3Code, code, message) => {
    const { s3, storage } = setup();
    s3.fault = () => Promise.resolve({ status, code: s3Code });
    const err = await caught(storage.download('k.txt'));
    expect(err).toBeInstanceOf(StorageError);
    expect(err).toMatchObject({ code, message, s3Code, status });
    expect((err.cause as Error).name).toBe(s3Code);
  });

  it('outside the granted prefix (a real 403 from the store) is access_denied', async () => {
    const { storage } = setup({ grant: { prefix: 'users/p-mallory/' } });
    const err = await caught(storage.upload('x.txt', 'hi'));
    expect(err).toMatchObject({ code: 'access_denied', status: 403, s3Code: 'AccessDenied' });
    expect(err.message).toBe('access denied: upload "x.txt" is outside your grant');
  });

  it('a HEAD 404 (no body) is not_found; a delete or list failure names its action', async () => {
    const { s3, storage } = setup();
    await expect(storage.head('missing.txt')).rejects.toMatchObject({
      code: 'not_found',
      message: '"missing.txt" does not exist',
      status: 404,
    });
    s3.fault = () => Promise.resolve({ status: 403, code: 'AccessDenied' });
    await expect(storage.delete('d.txt')).rejects.toMatchObject({
      code: 'access_denied',
      message: 'access denied: delete "d.txt" is outside your grant',
    });
    await expect(storage.listPage({ prefix: 'sub/' })).rejects.toMatchObject({
      code: 'access_denied',
      message: 'access denied: list "sub/" is outside your grant',
    });
    await expect(storage.listPage()).rejects.toMatchObject({
      message: 'access denied: list "" is outside your grant',
    });
    await expect(storage.head('h.txt')).rejects.toMatchObject({
      code: 'access_denied',
      message: 'access denied: head "h.txt" is outside your grant',
    });
  });

  it('a download cancelled by its signal is "aborted"', async () => {
    const { s3, storage } = setup();
    await storage.upload('slow.txt', 'x');
    s3.fault = async () => (await sleep(200), undefined);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    const err = await caught(storage.download('slow.txt', { signal: controller.signal }));
    expect(err).toMatchObject({ code: 'aborted', message: 'download of "slow.txt" was cancelled' });
  });
});

describe('download, head, list, delete', () => {
  it('download: bytes by default, a web stream on request, a range, and the object’s metadata', async () => {
    const { storage } = setup();
    const data = randomBytes(64);
    await storage.upload('d/x.bin', data, { contentType: 'application/x-test' });
    const bytes = await storage.download('d/x.bin');
    expect(Buffer.from(bytes.body).equals(data)).toBe(true);
    expect(bytes.contentLength).toBe(64);
    expect(bytes.contentType).toBe('application/x-test');
    expect(bytes.etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(bytes.lastModified).toBeInstanceOf(Date);
    const stream = await storage.download('d/x.bin', { as: 'stream' });
    expect(stream.body).toBeInstanceOf(ReadableStream);
    const chunks: Uint8Array[] = [];
    for await (const c of stream.body as unknown as AsyncIterable<Uint8Array>) chunks.push(c);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    const part = await storage.download('d/x.bin', { range: { start: 10, end: 19 } });
    expect(Buffer.from(part.body).equals(data.subarray(10, 20))).toBe(true);
    const tail = await storage.download('d/x.bin', { range: { start: 60 } });
    expect(Buffer.from(tail.body).equals(data.subarray(60))).toBe(true);
  });

  it('head: size, etag, content type, last modified', async () => {
    const { storage } = setup();
    await storage.upload('h.txt', 'hello', { contentType: 'text/plain' });
    const h = await storage.head('h.txt');
    expect(h).toMatchObject({ size: 5, contentType: 'text/plain' });
    expect(h.etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(h.lastModified).toBeInstanceOf(Date);
  });

  it('listPage: keys relative to the prefix, sizes, a sub-prefix, page size and continuation', async () => {
    const { storage } = setup();
    for (const k of ['a/1.txt', 'a/2.txt', 'a/3.txt', 'b/1.txt']) await storage.upload(k, k);
    const all = await storage.listPage();
    expect(all.objects.map((o) => o.key)).toEqual(['a/1.txt', 'a/2.txt', 'a/3.txt', 'b/1.txt']);
    expect(all.objects[0]).toMatchObject({ size: 7, etag: expect.stringMatching(/^"/) });
    expect(all.objects[0]!.lastModified).toBeInstanceOf(Date);
    expect(all.continuationToken).toBeUndefined();
    const first = await storage.listPage({ prefix: 'a/', pageSize: 2 });
    expect(first.objects.map((o) => o.key)).toEqual(['a/1.txt', 'a/2.txt']);
    expect(first.continuationToken).toEqual(expect.any(String));
    const second = await storage.listPage({ prefix: 'a/', pageSize: 2, continuationToken: first.continuationToken! });
    expect(second.objects.map((o) => o.key)).toEqual(['a/3.txt']);
    expect(second.continuationToken).toBeUndefined();
  });

  it('list: every object, across pages', async () => {
    const { s3, storage } = setup();
    for (let i = 0; i < 5; i++) await storage.upload(`l/${i}.txt`, 'x');
    const keys: string[] = [];
    for await (const o of storage.list({ prefix: 'l', pageSize: 2 })) keys.push(o.key);
    expect(keys).toEqual(['l/0.txt', 'l/1.txt', 'l/2.txt', 'l/3.txt', 'l/4.txt']);
    expect(s3.count('ListObjectsV2')).toBe(3);
  });

  it('an empty listing is an empty page', async () => {
    const { storage } = setup();
    expect(await storage.listPage()).toEqual({ objects: [], continuationToken: undefined });
  });

  it('delete removes the object; deleting a missing key succeeds', async () => {
    const { s3, storage } = setup();
    await storage.upload('del.txt', 'x');
    await storage.delete('del.txt');
    expect(s3.objects.has(`${PREFIX}del.txt`)).toBe(false);
    await expect(storage.delete('del.txt')).resolves.toBeUndefined();
  });
});

describe('the S3 client', () => {
  it('is made once from the grant: its region, endpoint, path style, and one broker request', async () => {
    const { storage, brokerCalls } = setup();
    const client = await storage.client();
    expect(client).toBeInstanceOf(S3Client);
    expect(await storage.client()).toBe(client);
    expect(await client.config.region()).toBe('eu-west-1');
    const endpoint = await client.config.endpoint!();
    expect(`${endpoint.protocol}//${endpoint.hostname}`).toBe('http://fake-s3.test');
    expect(client.config.forcePathStyle).toBe(true);
    expect(await client.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
    expect(await client.config.responseChecksumValidation()).toBe('WHEN_REQUIRED');
    expect(await client.config.maxAttempts()).toBe(1); // from the `s3` option
    await storage.upload('one.txt', 'x');
    await storage.download('one.txt');
    expect(brokerCalls()).toBe(1);
    expect((await storage.grant()).prefix).toBe(PREFIX);
  });

  it('path style follows the grant (false when the broker says so)', async () => {
    const { storage } = setup({ grant: { forcePathStyle: false } });
    expect((await storage.client()).config.forcePathStyle).toBe(false);
  });

  it('clear() forgets the credentials: the next call asks the broker again', async () => {
    const { storage, brokerCalls } = setup();
    await storage.upload('c.txt', 'x');
    storage.clear();
    await storage.head('c.txt');
    expect(brokerCalls()).toBe(2);
  });
});

describe('createStorage options', () => {
  const credentials = Object.assign(async () => ({}) as never, {
    grant: async () => ({}) as never,
    clear: () => {},
    brokerRequests: 0,
  }) as unknown as BrokerCredentialsProvider;
  it.each([
    [{ credentials: undefined }, TypeError, 'options.credentials must be a provider from brokerCredentials(...)'],
    [{ credentials: () => {} }, TypeError, 'options.credentials must be a provider from brokerCredentials(...)'],
    [
      { credentials, partSizeBytes: 5 * MiB - 1 },
      RangeError,
      'options.partSizeBytes must be an integer >= 5242880 (5 MiB)',
    ],
    [
      { credentials, partSizeBytes: 6 * MiB + 0.5 },
      RangeError,
      'options.partSizeBytes must be an integer >= 5242880 (5 MiB)',
    ],
    [{ credentials, queueSize: 0 }, RangeError, 'options.queueSize must be an integer from 1 to 64'],
    [{ credentials, queueSize: 65 }, RangeError, 'options.queueSize must be an integer from 1 to 64'],
    [{ credentials, queueSize: 1.5 }, RangeError, 'options.queueSize must be an integer from 1 to 64'],
  ])('rejects %j', (options, type, message) => {
    expect(() => createStorage(options as never)).toThrow(type);
    expect(() => createStorage(options as never)).toThrow(message);
  });

  it('accepts the bounds: 5 MiB parts, queues of 1 and 64', () => {
    for (const o of [{ partSizeBytes: 5 * MiB }, { queueSize: 1 }, { queueSize: 64 }]) {
      expect(() => createStorage({ credentials, ...o })).not.toThrow();
    }
    expect(() => createStorage(null as never)).toThrow(TypeError);
  });
});

// Blob and File bodies of more than one part go by slices (client/upload-parts.ts), not through
// lib-storage: the same contract, checked again on that path.
describe('Blob bodies in parts', () => {
  const blobOf = (bytes: Uint8Array) => new Blob([bytes]);

  it('a 12 MiB Blob in 5 MiB parts: create, three parts, complete; identical bytes; progress to 100%', async () => {
    const { s3, storage } = setup({ partSizeBytes: 5 * MiB });
    const data = randomBytes(12 * MiB);
    const progress: { loaded: number; total: number | undefined; fraction: number | undefined }[] = [];
    const result = await storage.upload('blob.bin', blobOf(data), {
      contentType: 'application/x-test',
      onProgress: (p) => progress.push(p),
    });
    expect(s3.log.map((r) => r.op)).toEqual([
      'CreateMultipartUpload',
      'UploadPart',
      'UploadPart',
      'UploadPart',
      'CompleteMultipartUpload',
    ]);
    const stored = s3.objects.get(result.fullKey)!;
    expect(stored.body.equals(data)).toBe(true);
    expect(stored.contentType).toBe('application/x-test');
    expect(result).toMatchObject({ key: 'blob.bin', fullKey: `${PREFIX}blob.bin`, bucket: 'uploads' });
    expect(result.etag).toMatch(/-3"?$/);
    expect(progress.at(-1)).toEqual({ loaded: 12 * MiB, total: 12 * MiB, fraction: 1 });
    for (const p of progress) expect(p.fraction).toBe(p.loaded / (12 * MiB));
    expect(s3.openUploads()).toEqual([]);
  });

  it('a Blob of one part is one request, not a multipart upload', async () => {
    const { s3, storage } = setup({ partSizeBytes: 5 * MiB });
    const data = randomBytes(5 * MiB);
    await storage.upload('one.bin', blobOf(data));
    expect(s3.count('CreateMultipartUpload')).toBe(0);
    expect(s3.objects.get(`${PREFIX}one.bin`)!.body.equals(data)).toBe(true);
  });

  it('an already aborted signal: "aborted", nothing sent', async () => {
    const { s3, storage } = setup({ partSizeBytes: 5 * MiB });
    const err = await caught(storage.upload('x.bin', blobOf(randomBytes(12 * MiB)), { signal: AbortSignal.abort() }));
    expect(err).toMatchObject({ code: 'aborted', message: 'upload of "x.bin" was cancelled', s3Code: 'AbortError' });
    expect(s3.log).toEqual([]);
  });

  it('cancelled with parts in flight: "aborted", and the upload is aborted on S3 before upload() settles', async () => {
    const { s3, storage } = setup({ partSizeBytes: 5 * MiB });
    const controller = new AbortController();
    s3.fault = async (r) => {
      if (r.op === 'UploadPart') {
        controller.abort();
        await sleep(50);
      }
      return undefined;
    };
    const err = await caught(storage.upload('c.bin', blobOf(randomBytes(12 * MiB)), { signal: controller.signal }));
    expect(err).toBeInstanceOf(StorageError);
    expect(err).toMatchObject({ code: 'aborted', message: 'upload of "c.bin" was cancelled' });
    expect(s3.count('AbortMultipartUpload')).toBe(1);
    expect(s3.openUploads()).toEqual([]);
    expect(s3.objects.size).toBe(0);
  });

  it('a part fails with 500: "s3_error" naming it, and nothing left open', async () => {
    const { s3, storage } = setup({ partSizeBytes: 5 * MiB });
    s3.fault = async (r) =>
      r.op === 'UploadPart' && r.query.partNumber === '2' ? { status: 500, code: 'InternalError' } : undefined;
    const err = await caught(storage.upload('f.bin', blobOf(randomBytes(12 * MiB))));
    expect(err).toMatchObject({ code: 's3_error', s3Code: 'InternalError', status: 500 });
    expect(err.message).toBe('upload of "f.bin" failed: InternalError: InternalError (fake S3)');
    expect(s3.openUploads()).toEqual([]);
  });

  it('resumable with keepOnAbort: a cancelled upload is kept too, reported as cancelled', async () => {
    const { s3, storage } = setup({ partSizeBytes: 5 * MiB });
    const controller = new AbortController();
    s3.fault = async (r) => {
      if (r.op === 'UploadPart' && r.query.partNumber === '2') {
        controller.abort();
        await sleep(50);
      }
      return undefined;
    };
    const err = await caught(
      storage.upload('k.bin', new Blob([randomBytes(12 * MiB)]), {
        resumable: { keepOnAbort: true },
        queueSize: 1,
        signal: controller.signal,
      }),
    );
    expect(err).toMatchObject({ code: 'aborted', s3Code: 'AbortError' });
    expect(err.message).toBe(
      'upload of "k.bin" was cancelled; 1 of 3 parts kept on S3: upload the same file to the same key to resume',
    );
    expect((err as unknown as { kept: unknown }).kept).toMatchObject({ partsDone: 1, parts: 3 });
    // As for any cancelled upload: the cause says "cancelled" and carries what the cancel interrupted.
    expect(err.cause).toMatchObject({ name: 'AbortError', message: 'cancelled' });
    expect((err.cause as Error).cause).toBeDefined();
    expect(s3.openUploads()).toHaveLength(1);
  });

  it('resumable: a failed upload is kept on S3 with the parts it has, and says so', async () => {
    const { s3, storage } = setup({ partSizeBytes: 5 * MiB });
    s3.fault = async (r) =>
      r.op === 'UploadPart' && r.query.partNumber === '3' ? { status: 500, code: 'InternalError' } : undefined;
    const err = await caught(storage.upload('r.bin', blobOf(randomBytes(12 * MiB)), { resumable: true, queueSize: 1 }));
    expect(err).toMatchObject({ code: 's3_error' });
    expect(err.message).toBe(
      'upload of "r.bin" failed: InternalError: InternalError (fake S3); 2 of 3 parts kept on S3: upload the same file to the same key to resume',
    );
    expect((err as unknown as { kept: unknown }).kept).toMatchObject({ partsDone: 2, parts: 3 });
    expect(s3.openUploads()).toHaveLength(1);
  });
});
