// Resumable uploads (client/resumable-upload.ts) without RGW: when a stored record is resumed and
// when it is refused (each reason, its exact message, whose upload is aborted and whose is left
// alone), which parts S3 lists count as done, the record's writes, and the listing and discarding
// of unfinished uploads. The same flows against RGW: test/integration/resumable-upload.test.ts.
import { randomBytes } from 'node:crypto';
import { CreateMultipartUploadCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import {
  memoryUploadStore,
  StorageError,
  type ResumeEvent,
  type UploadRecord,
  type UploadStore,
} from '../../client/index.js';
import { recordProblem, unfinishedUploads } from '../../client/resumable-upload.js';
import { fileIdentity } from '../../client/upload-store.js';
import { caught, fakeStorage, MiB, PREFIX } from '../helpers/fake-storage.js';

const DAY = 24 * 60 * 60 * 1000;
const KEY = `${PREFIX}r.bin`;
const identity = { name: 'r.bin', size: 12 * MiB, lastModified: 1000, sample: 'ab' };
const record = (over: Partial<UploadRecord> = {}): UploadRecord => ({
  version: 1,
  bucket: 'uploads',
  key: KEY,
  uploadId: 'u-1',
  partSize: 5 * MiB,
  file: identity,
  parts: [],
  createdAt: 5 * DAY,
  ...over,
});
const want = { bucket: 'uploads', key: KEY, file: identity, maxAgeMs: DAY, now: 5 * DAY };

describe('recordProblem: whether a stored record can be tried', () => {
  it('a record of this bucket, key and file, younger than maxAgeMs (or exactly that old), can', () => {
    expect(recordProblem(record(), want)).toBeUndefined();
    expect(recordProblem(record({ createdAt: 4 * DAY }), want)).toBeUndefined();
    expect(recordProblem(record({ partSize: 5 * MiB }), want)).toBeUndefined();
  });

  it.each([
    ['null', null],
    ['version 2', record({ version: 2 as 1 })],
    ['an upload id that is not a string', record({ uploadId: 7 as unknown as string })],
    ['an empty upload id', record({ uploadId: '' })],
    ['an upload id that is a list', record({ uploadId: ['u-1'] as unknown as string })],
    ['a fractional part size', record({ partSize: 5 * MiB + 0.5 })],
    ['a part size below 5 MiB', record({ partSize: 5 * MiB - 1 })],
    ['a createdAt that is not a number', record({ createdAt: '1' as unknown as number })],
    ['parts that are not an array', record({ parts: {} as unknown as [] })],
    ['a file that is null', record({ file: null as unknown as typeof identity })],
    ['a file that is not an object', record({ file: 'r.bin' as unknown as typeof identity })],
  ])('malformed (%s): foreign_record, nothing of it used or aborted', (_, bad) => {
    expect(recordProblem(bad as UploadRecord, want)).toEqual({
      code: 'foreign_record',
      message: `the stored upload record for "${KEY}" is for nothing this upload can use, not this key; it was ignored and its upload left alone`,
      ours: false,
    });
  });

  it.each([
    ['another bucket', record({ bucket: 'other' }), `other/${KEY}`],
    ['another key', record({ key: `${PREFIX}x.bin` }), `uploads/${PREFIX}x.bin`],
    ['another user', record({ key: 'users/p-bob/r.bin' }), 'uploads/users/p-bob/r.bin'],
  ])('for %s: foreign_record naming it, its upload left alone', (_, other, where) => {
    expect(recordProblem(other, want)).toEqual({
      code: 'foreign_record',
      message: `the stored upload record for "${KEY}" is for "${where}", not this key; it was ignored and its upload left alone`,
      ours: false,
    });
  });

  it('older than maxAgeMs by 1 ms: record_expired, in hours', () => {
    expect(recordProblem(record({ createdAt: 4 * DAY - 1 }), want)).toEqual({
      code: 'record_expired',
      message: `the unfinished upload of "${KEY}" was started 24 h ago, longer than the bucket keeps unfinished uploads; starting again`,
      ours: true,
    });
    expect(recordProblem(record({ createdAt: 0 }), { ...want, maxAgeMs: 3_600_000 })).toMatchObject({
      code: 'record_expired',
      message: expect.stringContaining('was started 120 h ago'),
    });
  });

  it.each([
    ['name', { name: 'other.bin' }],
    ['size', { size: 1 }],
    ['last-modified time', { lastModified: 2000 }],
    ['sampled bytes', { sample: 'cd' }],
  ])('another %s: file_changed, describing both files', (_, change) => {
    const file = { ...identity, ...change };
    expect(recordProblem(record(), { ...want, file })).toEqual({
      code: 'file_changed',
      message: `the unfinished upload of "${KEY}" was of another file ("r.bin", 12582912 bytes, modified 1970-01-01T00:00:01.000Z; now "${file.name}", ${file.size} bytes, modified ${new Date(file.lastModified).toISOString()}); starting again`,
      ours: true,
    });
  });
});

describe('unfinishedUploads: the records of this bucket and prefix, oldest first', () => {
  it('lists only well-formed records under the prefix, with relative keys, bytes done and dates', async () => {
    const store = memoryUploadStore();
    const put = (r: UploadRecord) => store.set(`${r.bucket}/${r.key}`, r);
    await put(record({ key: `${PREFIX}b.bin`, createdAt: 20, parts: [{ partNumber: 1, etag: '"e"' }] }));
    await put(
      record({
        key: `${PREFIX}a.bin`,
        uploadId: 'u-a',
        createdAt: 10,
        parts: [
          { partNumber: 3, etag: '"e3"' },
          { partNumber: 1, etag: '"e1"' },
        ],
      }),
    );
    await put(record({ bucket: 'other', key: `${PREFIX}c.bin` }));
    await put(record({ key: 'users/p-bob/d.bin' }));
    await put(record({ key: PREFIX }));
    await put(record({ key: `${PREFIX}v2.bin`, version: 2 as 1 }));
    await store.set('odd', { ...record(), key: 7 as unknown as string });
    await store.set('nothing', null as unknown as UploadRecord);
    expect(await unfinishedUploads(store, 'uploads', PREFIX)).toEqual([
      {
        key: 'a.bin',
        fullKey: `${PREFIX}a.bin`,
        bucket: 'uploads',
        uploadId: 'u-a',
        file: identity,
        partSize: 5 * MiB,
        bytesDone: 7 * MiB, // 5 MiB + the last part's 2 MiB
        createdAt: new Date(10),
      },
      expect.objectContaining({ key: 'b.bin', uploadId: 'u-1', bytesDone: 5 * MiB, createdAt: new Date(20) }),
    ]);
  });
});

describe('discardUpload', () => {
  async function kept() {
    const t = fakeStorage({ partSizeBytes: 5 * MiB });
    t.s3.fault = async (r) =>
      r.op === 'UploadPart' && r.query.partNumber === '2' ? { status: 500, code: 'InternalError' } : undefined;
    await caught(t.storage.upload('r.bin', new Blob([randomBytes(12 * MiB)]), { queueSize: 1, resumable: true }));
    t.s3.fault = undefined;
    const [unfinished] = await t.storage.unfinishedUploads();
    return { ...t, uploadId: unfinished!.uploadId };
  }

  it('aborts the kept upload on S3 and drops the record; a second call finds none', async () => {
    const { s3, storage, uploadId } = await kept();
    expect(await storage.discardUpload('r.bin')).toBe(true);
    expect(s3.log.filter((r) => r.op === 'AbortMultipartUpload').map((r) => r.query.uploadId)).toEqual([uploadId]);
    expect(s3.openUploads()).toEqual([]);
    expect(await storage.unfinishedUploads()).toEqual([]);
    const sent = s3.log.length;
    expect(await storage.discardUpload('r.bin')).toBe(false);
    expect(s3.log.length).toBe(sent);
  });

  it.each([
    ['NoSuchUpload', 404, 'NoSuchUpload'],
    ['a 404 by another name (RGW: NoSuchKey)', 404, 'NoSuchKey'],
  ])('an upload already gone (%s) counts as discarded', async (_, status, code) => {
    const { s3, storage } = await kept();
    s3.fault = async (r) => (r.op === 'AbortMultipartUpload' ? { status, code } : undefined);
    expect(await storage.discardUpload('r.bin')).toBe(true);
    expect(await storage.unfinishedUploads()).toEqual([]);
  });

  it('an abort that fails otherwise is thrown, and the record kept for another try', async () => {
    const { s3, storage } = await kept();
    s3.fault = async (r) => (r.op === 'AbortMultipartUpload' ? { status: 500, code: 'InternalError' } : undefined);
    await expect(storage.discardUpload('r.bin')).rejects.toMatchObject({ name: 'InternalError' });
    expect(await storage.unfinishedUploads()).toHaveLength(1);
    expect(s3.openUploads()).toHaveLength(1);
  });

  it.each([
    ['another key', { key: `${PREFIX}other.bin` }],
    ['another bucket', { bucket: 'other' }],
    ['no upload id', { uploadId: undefined as unknown as string }],
  ])('a record stored for this key but naming %s is dropped without aborting anything', async (_, over) => {
    const store = memoryUploadStore();
    const { s3, storage } = fakeStorage({ uploadStore: store });
    await store.set(`uploads/${KEY}`, record(over));
    expect(await storage.discardUpload('r.bin')).toBe(true);
    expect(s3.log).toEqual([]);
    expect(await store.list()).toEqual([]);
  });
});

describe('resuming: what S3 lists decides, and refused records restart', () => {
  const events = () => {
    const seen: ResumeEvent[] = [];
    return { seen, onEvent: (e: ResumeEvent) => void seen.push(e) };
  };
  const partsSent = (log: { op: string; query: Record<string, string> }[]) =>
    log.filter((r) => r.op === 'UploadPart').map((r) => Number(r.query.partNumber));

  /** A kept upload of `data` (12 MiB, 5 MiB parts) with part 1 on S3 (part 2 failed). */
  async function keptAfterPart1(data: Uint8Array, store?: UploadStore) {
    const t = fakeStorage({ partSizeBytes: 5 * MiB, ...(store ? { uploadStore: store } : {}) });
    t.s3.fault = async (r) =>
      r.op === 'UploadPart' && r.query.partNumber === '2' ? { status: 500, code: 'InternalError' } : undefined;
    const file = new File([data], 'r.bin', { lastModified: 1000, type: 'application/x-test' });
    await caught(t.storage.upload('r.bin', file, { queueSize: 1, resumable: true, contentType: 'application/x-test' }));
    t.s3.fault = undefined;
    const [upload] = t.s3.openUploads().map((u) => u.split(' ')[1]!);
    t.s3.log.length = 0;
    return { ...t, file, uploadId: upload! };
  }

  it('the record names the file (a File’s own name and date), the content type, and no parts before any is done', async () => {
    const store = memoryUploadStore();
    const data = randomBytes(12 * MiB);
    const { uploadId, file } = await keptAfterPart1(data, store);
    const [kept] = await store.list();
    expect(kept).toEqual({
      version: 1,
      bucket: 'uploads',
      key: KEY,
      uploadId,
      partSize: 5 * MiB,
      file: await fileIdentity(file),
      contentType: 'application/x-test',
      parts: [{ partNumber: 1, etag: expect.stringMatching(/^"[0-9a-f]{32}"$/) }],
      createdAt: expect.any(Number),
    });
    expect(kept!.file).toMatchObject({ name: 'r.bin', lastModified: 1000, size: 12 * MiB });
  });

  it('ListParts in pages: every page is read, and parts of the wrong size or number are sent again', async () => {
    const data = randomBytes(12 * MiB);
    const { s3, storage, file, uploadId } = await keptAfterPart1(data);
    const parts = s3.uploads.get(uploadId)!.parts;
    parts.set(3, Buffer.from(data.subarray(10 * MiB))); // the last part, 2 MiB: counts
    parts.set(2, Buffer.alloc(1)); // too short: sent again
    parts.set(4, Buffer.alloc(5 * MiB)); // beyond this file's 3 parts: ignored
    parts.set(0, Buffer.alloc(5 * MiB)); // no such part number: ignored
    s3.listPartsPageSize = 1;
    const { seen, onEvent } = events();
    const result = await storage.upload('r.bin', file, { resumable: { onEvent } });
    expect(seen).toEqual([{ type: 'resumed', uploadId, parts: 3, partsDone: 2, bytesDone: 7 * MiB }]);
    expect(s3.log.filter((r) => r.op === 'ListParts').map((r) => r.query['part-number-marker'] ?? '')).toEqual([
      '',
      '0',
      '1',
      '2',
      '3',
    ]);
    expect(partsSent(s3.log)).toEqual([2]);
    expect(s3.objects.get(result.fullKey)!.body.equals(data)).toBe(true);
    expect(s3.objects.get(result.fullKey)!.contentType).toBe('application/x-test');
  });

  it('upload_gone: S3 no longer knows the upload; a new one is started and nothing aborted', async () => {
    const data = randomBytes(12 * MiB);
    const { s3, storage, file, uploadId } = await keptAfterPart1(data);
    s3.uploads.delete(uploadId);
    const { seen, onEvent } = events();
    const result = await storage.upload('r.bin', file, { resumable: { onEvent } });
    expect(seen[0]).toEqual({
      type: 'restarted',
      code: 'upload_gone',
      message: `the unfinished upload of "${KEY}" is no longer on S3 (aborted, completed or expired); starting again`,
    });
    expect(seen[1]).toMatchObject({ type: 'started', parts: 3 });
    expect(seen).toHaveLength(2);
    expect(s3.count('AbortMultipartUpload')).toBe(0);
    expect(partsSent(s3.log)).toEqual([1, 2, 3]);
    expect(s3.objects.get(result.fullKey)!.body.equals(data)).toBe(true);
    expect(await storage.unfinishedUploads()).toEqual([]);
  });

  it('ListParts fails otherwise (500): the upload fails with that error, the record and the upload stay', async () => {
    const data = randomBytes(12 * MiB);
    const { s3, storage, file, uploadId } = await keptAfterPart1(data);
    s3.fault = async (r) => (r.op === 'ListParts' ? { status: 500, code: 'InternalError' } : undefined);
    const err = await caught(storage.upload('r.bin', file, { resumable: true }));
    expect(err).toMatchObject({ code: 's3_error', s3Code: 'InternalError' });
    expect(s3.log.map((r) => r.op)).toEqual(['ListParts']);
    expect(s3.openUploads()).toEqual([`${KEY} ${uploadId}`]);
    expect(await storage.unfinishedUploads()).toEqual([expect.objectContaining({ uploadId })]);
  });

  it.each([
    [
      'a network error',
      { reject: Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }) },
      'TimeoutError: socket hang up',
    ],
  ])('ListParts fails with %s: the upload fails with it, the record and the upload stay', async (_, fault, said) => {
    const { s3, storage, file, uploadId } = await keptAfterPart1(randomBytes(12 * MiB));
    s3.fault = async (r) => (r.op === 'ListParts' ? fault : undefined);
    const err = await caught(storage.upload('r.bin', file, { resumable: true }));
    expect(err).toMatchObject({ code: 's3_error', message: `upload of "r.bin" failed: ${said}` });
    expect(await storage.unfinishedUploads()).toEqual([expect.objectContaining({ uploadId })]);
  });

  it.each([
    ['record_expired', { maxAgeMs: 0 }, (f: File) => f],
    [
      'file_changed',
      {},
      (f: File) => new File([f.slice(0, f.size - 1), new Uint8Array([0])], f.name, { lastModified: f.lastModified }),
    ],
  ] as const)('%s: the old upload is aborted, a new one started and completed', async (code, options, fileOf) => {
    const data = randomBytes(12 * MiB);
    const { s3, storage, file, uploadId } = await keptAfterPart1(data);
    const next = fileOf(file);
    const { seen, onEvent } = events();
    const result = await storage.upload('r.bin', next, { resumable: { ...options, onEvent } });
    expect(seen.map((e) => `${e.type} ${'code' in e ? e.code : ''}`.trim())).toEqual([`restarted ${code}`, 'started']);
    expect(s3.log.filter((r) => r.op === 'AbortMultipartUpload').map((r) => r.query.uploadId)).toEqual([uploadId]);
    expect(partsSent(s3.log)).toEqual([1, 2, 3]);
    expect(s3.objects.get(result.fullKey)!.body.equals(Buffer.from(await next.arrayBuffer()))).toBe(true);
    expect(s3.openUploads()).toEqual([]);
  });

  it('without maxAgeMs a record is resumed up to one day old, and restarted after', async () => {
    const store = memoryUploadStore();
    const data = randomBytes(12 * MiB);
    const { s3, storage, file, uploadId } = await keptAfterPart1(data, store);
    const [kept] = await store.list();
    const age = async (ms: number) => store.set(`uploads/${KEY}`, { ...kept!, createdAt: Date.now() - ms });
    await age(DAY - 60_000);
    s3.fault = async (r) => (r.op === 'UploadPart' ? { status: 500, code: 'InternalError' } : undefined);
    const first = events();
    await caught(storage.upload('r.bin', file, { resumable: { onEvent: first.onEvent } }));
    expect(first.seen).toEqual([expect.objectContaining({ type: 'resumed', uploadId })]);
    await age(DAY + 60_000);
    s3.fault = undefined;
    const second = events();
    await storage.upload('r.bin', file, { resumable: { onEvent: second.onEvent } });
    expect(second.seen.map((e) => `${e.type} ${'code' in e ? e.code : ''}`.trim())).toEqual([
      'restarted record_expired',
      'started',
    ]);
  });

  it('foreign_record: another key’s upload named in the record is never aborted nor completed', async () => {
    const store = memoryUploadStore();
    const { s3, storage } = fakeStorage({ partSizeBytes: 5 * MiB, uploadStore: store });
    const client = await storage.client();
    const { UploadId: theirs } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: 'uploads', Key: `${PREFIX}theirs.bin` }),
    );
    await store.set(`uploads/${KEY}`, record({ key: `${PREFIX}theirs.bin`, uploadId: theirs! }));
    const { seen, onEvent } = events();
    await storage.upload('r.bin', new Blob([randomBytes(12 * MiB)]), { resumable: { onEvent } });
    expect(seen[0]).toMatchObject({ type: 'restarted', code: 'foreign_record' });
    expect(s3.count('AbortMultipartUpload')).toBe(0);
    expect(s3.openUploads()).toEqual([`${PREFIX}theirs.bin ${theirs}`]);
  });
});

describe('the record’s writes', () => {
  /** A store whose writes take a few ms each (an IndexedDB, a file), and that can refuse them. */
  function slowStore(refuse: (r: UploadRecord) => boolean = () => false): UploadStore {
    const inner = memoryUploadStore();
    return {
      ...inner,
      set: async (id, r) => {
        await new Promise((res) => setTimeout(res, 5));
        if (refuse(r)) throw new Error('disk full');
        return inner.set(id, r);
      },
    };
  }

  it('a failed upload settles only once the parts done are written', async () => {
    const store = slowStore();
    const { s3, storage } = fakeStorage({ partSizeBytes: 5 * MiB, uploadStore: store });
    s3.fault = async (r) =>
      r.op === 'UploadPart' && r.query.partNumber === '3' ? { status: 500, code: 'InternalError' } : undefined;
    const err = await caught(
      storage.upload('r.bin', new Blob([randomBytes(12 * MiB)]), { queueSize: 1, resumable: true }),
    );
    expect(err).toBeInstanceOf(StorageError);
    const [kept] = await store.list();
    expect(kept!.parts.map((p) => p.partNumber)).toEqual([1, 2]);
  });

  it('a store that cannot record the parts does not stop the upload', async () => {
    const store = slowStore((r) => r.parts.length > 0);
    const { s3, storage } = fakeStorage({ partSizeBytes: 5 * MiB, uploadStore: store });
    const data = randomBytes(12 * MiB);
    const result = await storage.upload('r.bin', new Blob([data]), { resumable: true });
    expect(s3.objects.get(result.fullKey)!.body.equals(data)).toBe(true);
    expect(await store.list()).toEqual([]);
  });

  it('a store that cannot record a new upload fails it, and the multipart upload is aborted', async () => {
    const store = slowStore(() => true);
    const { s3, storage } = fakeStorage({ partSizeBytes: 5 * MiB, uploadStore: store });
    const err = await caught(storage.upload('r.bin', new Blob([randomBytes(12 * MiB)]), { resumable: true }));
    expect(err).toMatchObject({ code: 's3_error', message: 'upload of "r.bin" failed: Error: disk full' });
    expect(s3.count('AbortMultipartUpload')).toBe(1);
    expect(s3.openUploads()).toEqual([]);
  });
});
