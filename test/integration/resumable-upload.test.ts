// Issue 16, point 1: pause/resume of a running upload, and resumable uploads whose record (upload
// id, part size, file identity, acknowledged parts; never credentials) lets a later attempt send
// only the parts S3 does not have. Stale, changed and foreign records restart with a reason and
// never complete or abort someone else's upload. Against the local RGW, with a real broker.
import { randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  brokerCredentials,
  createStorage,
  memoryUploadStore,
  StorageError,
  type ResumeEvent,
  type Storage,
  type UploadRecord,
  type UploadStore,
} from '../../client/index.js';
import { devPrefix, freshSubject, startBroker, type TestBroker } from '../helpers/broker.js';
import { openUploads, sha256, storedSha256, until } from '../helpers/multipart.js';
import { ownerS3, stack } from '../helpers/stack.js';

const MiB = 1024 * 1024;
const PART = 5 * MiB;
const s3 = ownerS3();
const bucket = stack().bucket;

/** Counts the S3 commands a storage object's client sends, by name, and the part numbers sent. */
async function counted(storage: Storage) {
  const counts = new Map<string, number>();
  const parts: number[] = [];
  (await storage.client()).middlewareStack.use({
    applyToStack(stack: any) {
      stack.add(
        (next: any, ctx: any) => async (args: any) => {
          counts.set(ctx.commandName, (counts.get(ctx.commandName) ?? 0) + 1);
          if (ctx.commandName === 'UploadPartCommand') parts.push(args.input.PartNumber);
          return next(args);
        },
        { step: 'initialize', name: 'testCounter' },
      );
    },
  });
  return { counts, parts };
}

const file = (bytes: Uint8Array, name = 'data.bin', lastModified = 1_700_000_000_000) =>
  new File([bytes as Uint8Array<ArrayBuffer>], name, { lastModified });

describe('pause, resume and resumable uploads against RGW', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(() => broker.close());

  function storageFor(sub: string, store: UploadStore = memoryUploadStore(), maxLifetimeSeconds?: number) {
    let tokens = 0;
    const credentials = brokerCredentials({
      brokerUrl: broker.url,
      // With a short client-side lifetime (the long-pause test), each token lives a second longer than
      // the last: the session policy ends at the token's exp, so a refresh is a new STS session with
      // new keys, not the broker's cached one (two tokens signed within one second would share it).
      getToken: () => broker.token(sub, maxLifetimeSeconds ? { ttlSeconds: 3600 + tokens++ } : {}),
      ...(maxLifetimeSeconds ? { maxLifetimeSeconds } : {}),
    });
    return {
      credentials,
      storage: createStorage({ credentials, partSizeBytes: PART, queueSize: 2, uploadStore: store }),
    };
  }

  /** Uploads resumably and stops (keepOnAbort) once `parts` parts are acknowledged. */
  async function interrupted(storage: Storage, key: string, body: Blob, parts: number, events: ResumeEvent[] = []) {
    const stop = new AbortController();
    const err = await storage
      .upload(key, body, {
        signal: stop.signal,
        resumable: { keepOnAbort: true, onEvent: (e) => events.push(e) },
        onProgress: (p) => {
          if (p.loaded >= parts * PART) stop.abort();
        },
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).code).toBe('aborted');
    expect((err as Error).message).toMatch(/parts kept on S3: upload the same file to the same key to resume/);
    return err as StorageError;
  }

  it('pause stops sending parts, resume finishes: bytes equal, each part sent once at most twice', async () => {
    const sub = freshSubject('pause');
    const { storage } = storageFor(sub);
    const { counts, parts } = await counted(storage);
    const bytes = randomBytes(40 * MiB);
    let loaded = 0;
    const task = storage.upload('p/big.bin', file(bytes), { onProgress: (p) => void (loaded = p.loaded) });
    await until(() => loaded >= PART, 'the first part');
    task.pause();
    expect(task.paused).toBe(true);
    const sentAtPause = counts.get('UploadPartCommand') ?? 0;
    // Paused: the parts in flight are aborted, and nothing new starts.
    await new Promise((r) => setTimeout(r, 300));
    expect(counts.get('UploadPartCommand') ?? 0).toBe(sentAtPause);
    const loadedAtPause = loaded;
    task.resume();
    expect(task.paused).toBe(false);
    const out = await task;
    expect(out.fullKey).toBe(`${devPrefix(sub)}p/big.bin`);
    expect(await storedSha256(out.fullKey)).toBe(sha256(bytes));
    expect(loaded).toBe(40 * MiB);
    expect(loadedAtPause).toBeLessThan(40 * MiB);
    // Every part went up; those aborted by the pause went twice, none more.
    expect(new Set(parts).size).toBe(8);
    expect(parts.length).toBeLessThanOrEqual(8 + 2);
    expect(await openUploads(devPrefix(sub))).toEqual([]);
  });

  it('pause() on a body lib-storage uploads (bytes) is a TypeError naming what can pause', async () => {
    const { storage } = storageFor(freshSubject('nopause'));
    const task = storage.upload('x.bin', new Uint8Array(10));
    expect(() => task.pause()).toThrow(/pause\(\) needs a Blob or File body/);
    await task;
  });

  it('an interrupted resumable upload resumes: only the missing parts are sent, the record holds no credentials', async () => {
    const sub = freshSubject('resume');
    const store = memoryUploadStore();
    const bytes = randomBytes(42 * MiB); // 9 parts, the last 2 MiB
    const key = 'r/video.bin';
    const full = `${devPrefix(sub)}${key}`;
    const first = storageFor(sub, store);
    const events1: ResumeEvent[] = [];
    await interrupted(first.storage, key, file(bytes), 3, events1);
    expect(events1[0]).toMatchObject({ type: 'started', parts: 9 });

    // The record: the upload id, part size, identity and parts; no key, secret or session token.
    const [record] = await store.list();
    expect(record).toMatchObject({
      version: 1,
      bucket,
      key: full,
      partSize: PART,
      uploadId: events1[0]!.type === 'started' ? events1[0]!.uploadId : '',
    });
    expect(record!.file).toMatchObject({ name: 'data.bin', size: 42 * MiB, lastModified: 1_700_000_000_000 });
    expect(record!.file.sample).toMatch(/^[0-9a-f]{64}$/);
    expect(record!.parts.length).toBeGreaterThanOrEqual(3);
    const creds = await first.credentials();
    const json = JSON.stringify(await store.list());
    for (const secret of [creds.accessKeyId, creds.secretAccessKey, creds.sessionToken!])
      expect(json).not.toContain(secret);
    expect(json).not.toMatch(/secret|token|accessKey/i);
    expect(await openUploads(full)).toHaveLength(1);

    // S3 is asked, not the record: what ListParts says is what is skipped.
    const listed = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: full, UploadId: record!.uploadId }));
    const have = (listed.Parts ?? []).map((p) => p.PartNumber!);
    expect(have.length).toBeGreaterThanOrEqual(3);

    // A new storage object (a reload, another process) with the same store.
    const second = storageFor(sub, store);
    const { parts } = await counted(second.storage);
    const events2: ResumeEvent[] = [];
    const progress: number[] = [];
    const out = await second.storage.upload(key, file(bytes), {
      resumable: { onEvent: (e) => events2.push(e) },
      onProgress: (p) => progress.push(p.loaded),
    });
    expect(events2).toEqual([
      expect.objectContaining({ type: 'resumed', uploadId: record!.uploadId, parts: 9, partsDone: have.length }),
    ]);
    expect(parts.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9].filter((n) => !have.includes(n)));
    // Progress starts from the bytes S3 already had.
    expect(progress[0]).toBe(have.length * PART);
    expect(progress.at(-1)).toBe(42 * MiB);
    expect(await storedSha256(out.fullKey)).toBe(sha256(bytes));
    expect(await store.list()).toEqual([]);
    expect(await openUploads(full)).toEqual([]);
  });

  it('a changed file restarts (file_changed) and aborts the old upload; the new file is stored', async () => {
    const sub = freshSubject('changed');
    const store = memoryUploadStore();
    const key = 'c/doc.bin';
    const full = `${devPrefix(sub)}${key}`;
    const { storage } = storageFor(sub, store);
    const old = randomBytes(20 * MiB);
    await interrupted(storage, key, file(old), 1);
    const [record] = await store.list();
    const changed = Buffer.from(old);
    changed.writeUInt8(changed.readUInt8(old.length - 1) ^ 1, old.length - 1); // same name, size, date; last byte differs
    const events: ResumeEvent[] = [];
    const out = await storage.upload(key, file(changed), { resumable: { onEvent: (e) => events.push(e) } });
    expect(events[0]).toMatchObject({ type: 'restarted', code: 'file_changed' });
    expect((events[0] as { message: string }).message).toMatch(/was of another file .*; starting again/);
    expect(events[1]).toMatchObject({ type: 'started' });
    expect(await storedSha256(out.fullKey)).toBe(sha256(changed));
    expect(await openUploads(full)).toEqual([]);
    const gone = await s3
      .send(new ListPartsCommand({ Bucket: bucket, Key: full, UploadId: record!.uploadId }))
      .catch((e: { name?: string }) => e.name);
    // S3 says NoSuchUpload; RGW answers an aborted upload id with 404 NoSuchKey.
    expect(['NoSuchUpload', 'NoSuchKey']).toContain(gone);
  });

  it('a record older than the lifecycle restarts (record_expired); an upload id S3 forgot restarts (upload_gone)', async () => {
    const sub = freshSubject('stale');
    const store = memoryUploadStore();
    const { storage } = storageFor(sub, store);
    const bytes = randomBytes(12 * MiB);
    await interrupted(storage, 'old.bin', file(bytes), 1);
    const [record] = await store.list();
    await store.set(`${bucket}/${record!.key}`, { ...record!, createdAt: Date.now() - 2 * 86_400_000 });
    const events: ResumeEvent[] = [];
    const out = await storage.upload('old.bin', file(bytes), { resumable: { onEvent: (e) => events.push(e) } });
    expect(events.map((e) => e.type + ('code' in e ? `:${e.code}` : ''))).toEqual([
      'restarted:record_expired',
      'started',
    ]);
    expect(await storedSha256(out.fullKey)).toBe(sha256(bytes));

    await interrupted(storage, 'gone.bin', file(bytes), 1);
    const [again] = await store.list();
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: again!.key, UploadId: again!.uploadId }));
    const events2: ResumeEvent[] = [];
    const out2 = await storage.upload('gone.bin', file(bytes), { resumable: { onEvent: (e) => events2.push(e) } });
    expect(events2.map((e) => e.type + ('code' in e ? `:${e.code}` : ''))).toEqual([
      'restarted:upload_gone',
      'started',
    ]);
    expect(await storedSha256(out2.fullKey)).toBe(sha256(bytes));
    expect(await openUploads(devPrefix(sub))).toEqual([]);
  });

  it("a record naming another user's key, or another key's upload id, never completes or aborts that upload", async () => {
    const alice = freshSubject('alice');
    const bob = freshSubject('bob');
    const store = memoryUploadStore();
    const bytes = randomBytes(12 * MiB);
    // Bob's unfinished upload, one part in.
    const bobKey = `${devPrefix(bob)}secret.bin`;
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: bobKey }));
    await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key: bobKey, UploadId, PartNumber: 1, Body: randomBytes(PART) }),
    );
    const aliceKey = `${devPrefix(alice)}mine.bin`;
    const { storage } = storageFor(alice, store);
    const identity = { name: 'data.bin', size: bytes.length, lastModified: 1_700_000_000_000, sample: '' };
    const forged = (over: Partial<UploadRecord>): UploadRecord => ({
      version: 1,
      bucket,
      key: aliceKey,
      uploadId: UploadId!,
      partSize: PART,
      file: identity,
      parts: [{ partNumber: 1, etag: '"x"' }],
      createdAt: Date.now(),
      ...over,
    });
    // 1. Stored under Alice's key but naming Bob's: ignored, Bob's upload untouched.
    await store.set(`${bucket}/${aliceKey}`, forged({ key: bobKey }));
    const events: ResumeEvent[] = [];
    await storage.upload('mine.bin', file(bytes), { resumable: { onEvent: (e) => events.push(e) } });
    expect(events[0]).toMatchObject({ type: 'restarted', code: 'foreign_record' });
    expect((events[0] as { message: string }).message).toContain(`is for "${bucket}/${bobKey}", not this key`);

    // 2. Alice's key with Bob's upload id (and a matching identity): S3 knows no such upload for her key.
    const real = (await store.list()).length === 0;
    expect(real).toBe(true);
    const sample = (await (await import('../../client/upload-store.js')).fileIdentity(file(bytes))).sample;
    await store.set(`${bucket}/${aliceKey}`, forged({ file: { ...identity, sample } }));
    const events2: ResumeEvent[] = [];
    const out = await storage.upload('mine.bin', file(bytes), { resumable: { onEvent: (e) => events2.push(e) } });
    expect(events2[0]).toMatchObject({ type: 'restarted', code: 'upload_gone' });
    expect(await storedSha256(out.fullKey)).toBe(sha256(bytes));

    // Bob's upload is still open, with his one part, never completed.
    const bobs = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: bobKey, UploadId }));
    expect(bobs.Parts?.map((p) => p.PartNumber)).toEqual([1]);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: bobKey, UploadId }));
    // And Alice's listing never shows Bob's records.
    await store.set(`${bucket}/${bobKey}`, forged({ key: bobKey }));
    expect(await storage.unfinishedUploads()).toEqual([]);
  });

  it('a resumable upload cancelled without keepOnAbort is aborted and forgotten; discardUpload aborts a kept one', async () => {
    const sub = freshSubject('discard');
    const store = memoryUploadStore();
    const { storage } = storageFor(sub, store);
    const bytes = randomBytes(15 * MiB);
    const stop = new AbortController();
    const err = await storage
      .upload('a.bin', file(bytes), {
        signal: stop.signal,
        resumable: true,
        onProgress: (p) => p.loaded >= PART && stop.abort(),
      })
      .catch((e: unknown) => e);
    expect((err as StorageError).code).toBe('aborted');
    expect((err as Error).message).not.toMatch(/kept/);
    expect(await store.list()).toEqual([]);
    expect(await openUploads(devPrefix(sub))).toEqual([]);

    await interrupted(storage, 'b.bin', file(bytes), 1);
    const listed = await storage.unfinishedUploads();
    expect(listed).toEqual([
      expect.objectContaining({ key: 'b.bin', fullKey: `${devPrefix(sub)}b.bin`, bytesDone: expect.any(Number) }),
    ]);
    expect(listed[0]!.bytesDone).toBeGreaterThanOrEqual(PART);
    expect(await storage.discardUpload('b.bin')).toBe(true);
    expect(await storage.discardUpload('b.bin')).toBe(false);
    expect(await store.list()).toEqual([]);
    expect(await openUploads(devPrefix(sub))).toEqual([]);
  });

  it('sign-out during a resumable upload aborts it on S3 and drops its record, like any upload', async () => {
    const sub = freshSubject('signout');
    const store = memoryUploadStore();
    const { storage } = storageFor(sub, store);
    let loaded = 0;
    const task = storage.upload('s.bin', file(randomBytes(20 * MiB)), {
      resumable: true,
      onProgress: (p) => void (loaded = p.loaded),
    });
    await until(() => loaded >= PART, 'the first part');
    storage.signOut();
    const err = await task.catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('signed_out');
    expect(await store.list()).toEqual([]);
    expect(await openUploads(devPrefix(sub))).toEqual([]);
  });

  it('paused for longer than the credentials last, then resumed: completes with new credentials', async () => {
    const sub = freshSubject('longpause');
    // The client treats credentials as living 300.5 s; with its 300 s refresh window they are stale
    // after half a second, so the parts after the pause must be signed with new ones.
    const { storage, credentials } = storageFor(sub, memoryUploadStore(), 300.5);
    const keys: string[] = [];
    (await storage.client()).middlewareStack.add(
      (next: any) => async (args: any) => {
        const auth = String(args.request.headers?.authorization ?? '');
        keys.push(/Credential=([^/]+)/.exec(auth)?.[1] ?? '');
        return next(args);
      },
      { step: 'deserialize', name: 'testKeys' },
    );
    const bytes = randomBytes(20 * MiB);
    let loaded = 0;
    const task = storage.upload('long.bin', file(bytes), {
      resumable: true,
      onProgress: (p) => void (loaded = p.loaded),
    });
    await until(() => loaded >= PART, 'the first part');
    task.pause();
    const atPause = keys.length;
    const before = new Set(keys);
    const requestsAtPause = credentials.brokerRequests;
    const expiresAt = (await credentials()).expiration!.getTime() - 300_000;
    await until(() => Date.now() > expiresAt + 50, 'the credentials to go stale');
    task.resume();
    const out = await task;
    expect(await storedSha256(out.fullKey)).toBe(sha256(bytes));
    expect(credentials.brokerRequests).toBeGreaterThan(requestsAtPause);
    const after = keys.slice(atPause);
    expect(after.some((k) => k !== '' && !before.has(k))).toBe(true);
  });
});
