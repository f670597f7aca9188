// storage.upload() beyond the plain path, against the in-memory S3 (no RGW): pause and resume,
// cancelling at each step of a multipart upload of a Blob, what the clean-up aborts and with which
// keys (after a failure, a broker failure, a sign-out), what it reports when aborts fail, the
// caller's signal left without listeners, resumable uploads (the record, a resume, a cancelled
// resume), and the browser's path (Blob slices sent as they are), forced in Node through the S3
// client's `runtime`. Each test names the behaviour it pins; test/MUTATION.md lists what each one
// was written against.
import { createHash, randomBytes } from 'node:crypto';
import { CreateMultipartUploadCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  BrokerError,
  memoryUploadStore,
  SignedOutError,
  StorageError,
  type ResumeEvent,
  type UploadProgress,
} from '../../client/index.js';
import {
  caught,
  countedSignal,
  fakeStorage,
  grantBody,
  MiB,
  PREFIX,
  signer,
  until,
  Valve,
} from '../helpers/fake-storage.js';

/** A window in which something must not happen (a paused upload sending): long enough for the SDK to reach the handler. */
const quietWindow = () => new Promise((r) => setTimeout(r, 50));

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('pause and resume', () => {
  it('a Blob: pause() stops the parts in flight and sends nothing until resume(); the upload then completes with the same bytes', async () => {
    const { s3, storage } = fakeStorage({ partSizeBytes: 5 * MiB, queueSize: 2 });
    const valve = new Valve();
    s3.fault = async (r) => {
      if (r.op === 'UploadPart') await valve.pass();
      return undefined;
    };
    const data = randomBytes(15 * MiB);
    const task = storage.upload('p.bin', new Blob([data]));
    await until(() => valve.waiting === 2);
    expect(task.paused).toBe(false);
    task.pause();
    expect(task.paused).toBe(true);
    valve.open(); // the two parts in flight now come back aborted by the pause
    await until(() => (s3.inflight.get('UploadPart') ?? 0) === 0);
    const sent = s3.log.length;
    await quietWindow();
    expect(s3.log.length).toBe(sent);
    expect(s3.count('CompleteMultipartUpload')).toBe(0);
    task.resume();
    expect(task.paused).toBe(false);
    const result = await task;
    expect(s3.objects.get(result.fullKey)!.body.equals(data)).toBe(true);
    // Parts 1 and 2 twice (aborted by the pause, then again), part 3 once.
    expect(s3.log.filter((r) => r.op === 'UploadPart').map((r) => Number(r.query.partNumber))).toEqual([1, 2, 1, 2, 3]);
    expect(s3.openUploads()).toEqual([]);
  });

  it('a Blob paused before anything was sent: no request until resume(), then the whole upload', async () => {
    const { s3, storage, brokerCalls } = fakeStorage({ partSizeBytes: 5 * MiB });
    const data = randomBytes(12 * MiB);
    const task = storage.upload('early.bin', new Blob([data]));
    task.pause();
    await until(() => brokerCalls() === 1);
    await quietWindow();
    expect(s3.log).toEqual([]);
    task.resume();
    const result = await task;
    expect(s3.objects.get(result.fullKey)!.body.equals(data)).toBe(true);
    expect(s3.log.map((r) => r.op)).toEqual([
      'CreateMultipartUpload',
      'UploadPart',
      'UploadPart',
      'UploadPart',
      'CompleteMultipartUpload',
    ]);
  });

  it.each([
    ['bytes', (d: Uint8Array) => d],
    [
      'a stream',
      (d: Uint8Array) =>
        (async function* () {
          yield d.subarray(0, 6 * MiB);
          yield d.subarray(6 * MiB);
        })(),
    ],
  ])(
    '%s: pause() is a TypeError naming what can pause, and the upload goes on to the same bytes',
    async (_, bodyOf) => {
      const { s3, storage } = fakeStorage({ partSizeBytes: 5 * MiB });
      const data = randomBytes(12 * MiB);
      const task = storage.upload('b.bin', bodyOf(data));
      expect(() => task.pause()).toThrow(
        new TypeError('pause() needs a Blob or File body: bytes, strings and streams cannot be paused'),
      );
      expect(task.paused).toBe(false);
      const result = await task;
      expect(s3.objects.get(result.fullKey)!.body.equals(data)).toBe(true);
    },
  );
});

describe("the result's ETag is quoted, as S3's headers carry it", () => {
  it.each([
    ['unquoted (RGW 16)', (e: string) => e.slice(1, -1), (e: string) => e],
    ['quoted (AWS)', (e: string) => e, (e: string) => e],
    ['weak', (e: string) => `W/${e}`, (e: string) => `W/${e}`],
  ])('CompleteMultipartUpload answers it %s', async (_, answer, expected) => {
    const { s3, storage } = fakeStorage({ partSizeBytes: 5 * MiB });
    s3.completeEtag = answer;
    const result = await storage.upload('e.bin', new Blob([randomBytes(6 * MiB)]));
    const stored = s3.objects.get(result.fullKey)!.etag;
    expect(stored).toMatch(/^"[0-9a-f]{32}-2"$/);
    expect(result.etag).toBe(expected(stored));
  });
});

describe('cancelling a Blob upload at each step leaves nothing on S3', () => {
  it('during CreateMultipartUpload: the request itself is cancelled, so no upload exists and none needs aborting', async () => {
    const { s3, storage } = fakeStorage({ partSizeBytes: 5 * MiB });
    const controller = new AbortController();
    s3.fault = async (r) => {
      if (r.op === 'CreateMultipartUpload') controller.abort();
      return undefined;
    };
    const err = await caught(storage.upload('c.bin', new Blob([randomBytes(12 * MiB)]), { signal: controller.signal }));
    expect(err).toBeInstanceOf(StorageError);
    expect(err).toMatchObject({ code: 'aborted', message: 'upload of "c.bin" was cancelled', s3Code: 'AbortError' });
    expect(s3.log.map((r) => r.op)).toEqual(['CreateMultipartUpload']);
    expect(s3.uploads.size).toBe(0);
  });

  it('during CompleteMultipartUpload: the completion is cancelled, the upload aborted, no object stored', async () => {
    const { s3, storage } = fakeStorage({ partSizeBytes: 5 * MiB });
    const controller = new AbortController();
    s3.fault = async (r) => {
      if (r.op === 'CompleteMultipartUpload') controller.abort();
      return undefined;
    };
    const err = await caught(storage.upload('c.bin', new Blob([randomBytes(12 * MiB)]), { signal: controller.signal }));
    expect(err).toMatchObject({ code: 'aborted', message: 'upload of "c.bin" was cancelled' });
    expect(s3.count('CompleteMultipartUpload')).toBe(1);
    expect(s3.count('AbortMultipartUpload')).toBe(1);
    expect(s3.objects.size).toBe(0);
    expect(s3.openUploads()).toEqual([]);
  });

  it('a signal that fires while the upload is being set up (before it listens) still cancels it, before any request', async () => {
    const { s3, storage } = fakeStorage();
    const controller = new AbortController();
    // Read once the early aborted-check has passed and before the upload listens to the signal,
    // as a cancel during the upload's first await (whether the Blob goes by slices) would be.
    const opts = {
      signal: controller.signal,
      get partSizeBytes() {
        controller.abort();
        return 5 * MiB;
      },
    };
    const err = await caught(storage.upload('s.bin', new Blob([randomBytes(12 * MiB)]), opts));
    expect(err).toMatchObject({ code: 'aborted', message: 'upload of "s.bin" was cancelled' });
    expect(s3.log).toEqual([]);
  });
});

describe("the caller's signal keeps no listener once the upload is over", () => {
  it.each([
    ['a Blob in parts', () => new Blob([randomBytes(12 * MiB)]), undefined],
    ['bytes in parts (lib-storage)', () => randomBytes(12 * MiB), undefined],
    ['a Blob whose part fails', () => new Blob([randomBytes(12 * MiB)]), 'fail'],
    ['one PUT', () => randomBytes(100), undefined],
  ] as const)('%s', async (_, body, outcome) => {
    const { s3, storage } = fakeStorage({ partSizeBytes: 5 * MiB });
    if (outcome === 'fail')
      s3.fault = async (r) =>
        r.op === 'UploadPart' && r.query.partNumber === '2' ? { status: 500, code: 'InternalError' } : undefined;
    const { signal, listeners, added } = countedSignal();
    const outcomeSeen = await storage.upload('l.bin', body(), { signal }).then(
      () => 'done',
      (e: StorageError) => e.code,
    );
    expect(outcomeSeen).toBe(outcome === 'fail' ? 's3_error' : 'done');
    expect(added()).toBe(1);
    expect(listeners.size).toBe(0);
  });
});

describe('the clean-up aborts with keys that still work', () => {
  afterEach(() => vi.useRealTimers());

  /** Broker answer n carries keys "AK<n>"; the fake S3 refuses keys past their expiry (ExpiredToken). */
  function expiringKeys(failFrom = Infinity) {
    const expiry = new Map<string, number>();
    const t = fakeStorage({
      partSizeBytes: 5 * MiB,
      queueSize: 1,
      credentials: { retries: 0 },
      broker: (n) => {
        if (n >= failFrom)
          return new Response('{"error":{"code":"unavailable","message":"broker down"}}', { status: 503 });
        expiry.set(`AK${n}`, Date.now() + 900_000);
        return new Response(grantBody({}, `AK${n}`));
      },
    });
    const expired = (headers: Record<string, string>) => Date.now() > (expiry.get(signer(headers)) ?? 0);
    return { ...t, expired };
  }

  it('a part fails after the keys expired: the abort goes through the session, which renews them', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t = expiringKeys();
    t.s3.fault = async (r) => {
      if (t.expired(r.headers)) return { status: 400, code: 'ExpiredToken' };
      if (r.op === 'UploadPart' && r.query.partNumber === '2') {
        vi.setSystemTime(Date.now() + 20 * 60_000); // AK1 is now past its 15 minutes
        return { status: 500, code: 'InternalError' };
      }
      return undefined;
    };
    const err = await caught(t.storage.upload('x.bin', new Blob([randomBytes(12 * MiB)])));
    expect(err).toMatchObject({ code: 's3_error', s3Code: 'InternalError', status: 500 });
    expect(err.message).toBe('upload of "x.bin" failed: InternalError: InternalError (fake S3)');
    const aborts = t.s3.log.filter((r) => r.op === 'AbortMultipartUpload');
    expect(aborts.map((r) => signer(r.headers))).toEqual(['AK2']);
    expect(t.brokerCalls()).toBe(2);
    expect(t.s3.openUploads()).toEqual([]);
  });

  it('the broker fails to renew the keys mid-upload: BrokerError, and the upload is aborted with the keys its parts used, without asking the broker again', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t = expiringKeys(2);
    t.s3.fault = async (r) => {
      // After part 1, AK1 has 3 minutes left: inside the 5-minute refresh window, still valid on S3.
      if (r.op === 'UploadPart' && r.query.partNumber === '1') vi.setSystemTime(Date.now() + 12 * 60_000);
      return t.expired(r.headers) ? { status: 400, code: 'ExpiredToken' } : undefined;
    };
    const err = await caught(t.storage.upload('x.bin', new Blob([randomBytes(12 * MiB)])));
    expect(err).toBeInstanceOf(BrokerError);
    expect(err).toMatchObject({ status: 503 });
    expect(t.brokerCalls()).toBe(2);
    const aborts = t.s3.log.filter((r) => r.op === 'AbortMultipartUpload');
    expect(aborts.map((r) => signer(r.headers))).toEqual(['AK1']);
    expect(t.s3.count('UploadPart')).toBe(1);
    expect(t.s3.openUploads()).toEqual([]);
  });
});

describe('when aborts fail: cleanup_failed names every upload left open', () => {
  const key = `${PREFIX}k.bin`;

  /**
   * A Blob upload of k.bin cancelled while its first part is held, with a second multipart upload
   * of the same key opened by the caller through client(): the clean-up aborts every upload open
   * on the key. `abort` answers each AbortMultipartUpload.
   */
  async function twoOpen(abort: (uploadId: string, ours: string) => { status: number; code: string } | undefined) {
    const { s3, storage } = fakeStorage({ partSizeBytes: 5 * MiB, queueSize: 1 });
    const valve = new Valve();
    let ours = '';
    s3.fault = async (r) => {
      if (r.op === 'UploadPart') await valve.pass();
      return r.op === 'AbortMultipartUpload' ? abort(r.query.uploadId!, ours) : undefined;
    };
    const controller = new AbortController();
    const task = caught(storage.upload('k.bin', new Blob([randomBytes(12 * MiB)]), { signal: controller.signal }));
    await until(() => valve.waiting === 1);
    ours = s3.openUploads()[0]!.split(' ')[1]!;
    const client: S3Client = await storage.client();
    const { UploadId: other } = await client.send(new CreateMultipartUploadCommand({ Bucket: 'uploads', Key: key }));
    controller.abort();
    valve.open();
    return { s3, err: await task, ours, other: other! };
  }

  it('both aborts fail: both ids, joined by ", ", caused by the first abort’s error', async () => {
    const { s3, err, ours, other } = await twoOpen(() => ({ status: 503, code: 'ServiceUnavailable' }));
    expect(err).toBeInstanceOf(StorageError);
    expect(err).toMatchObject({
      code: 'cleanup_failed',
      message: `upload of "k.bin" was cancelled; aborting multipart upload ${ours}, ${other} also failed`,
    });
    expect((err.cause as Error).name).toBe('ServiceUnavailable');
    expect(s3.openUploads().sort()).toEqual([`${key} ${ours}`, `${key} ${other}`].sort());
  });

  it('only the second abort fails: its id alone, caused by that abort’s error (not the cancel)', async () => {
    const { s3, err, other } = await twoOpen((id, ours) =>
      id === ours ? undefined : { status: 503, code: 'ServiceUnavailable' },
    );
    expect(err).toMatchObject({
      code: 'cleanup_failed',
      message: `upload of "k.bin" was cancelled; aborting multipart upload ${other} also failed`,
    });
    expect((err.cause as Error).name).toBe('ServiceUnavailable');
    expect(s3.openUploads()).toEqual([`${key} ${other}`]);
  });

  it('an upload opened on the key while the clean-up runs is named, and the cause is the upload’s own error', async () => {
    const { s3, storage } = fakeStorage({ partSizeBytes: 5 * MiB, queueSize: 1 });
    const parts = new Valve();
    const aborts = new Valve();
    s3.fault = async (r) => {
      if (r.op === 'UploadPart') await parts.pass();
      if (r.op === 'AbortMultipartUpload') await aborts.pass();
      return undefined;
    };
    const controller = new AbortController();
    const task = caught(storage.upload('k.bin', new Blob([randomBytes(12 * MiB)]), { signal: controller.signal }));
    await until(() => parts.waiting === 1);
    controller.abort();
    parts.open();
    await until(() => aborts.waiting === 1);
    const client: S3Client = await storage.client();
    const { UploadId: other } = await client.send(new CreateMultipartUploadCommand({ Bucket: 'uploads', Key: key }));
    aborts.open();
    const err = await task;
    expect(err).toMatchObject({
      code: 'cleanup_failed',
      message: `upload of "k.bin" was cancelled; aborting multipart upload ${other} also failed`,
    });
    expect((err.cause as Error).name).toBe('AbortError');
    expect(s3.openUploads()).toEqual([`${key} ${other}`]);
  });
});

describe('resumable uploads', () => {
  /** An upload of `data` whose part `failing` answers 500 (one part at a time). */
  const failAt = (failing: number) => async (r: { op: string; query: Record<string, string> }) =>
    r.op === 'UploadPart' && r.query.partNumber === String(failing)
      ? { status: 500, code: 'InternalError' }
      : undefined;

  it('a failed upload keeps a record of the parts S3 acknowledged, in the store the upload names', async () => {
    const store = memoryUploadStore();
    const { s3, storage } = fakeStorage({ partSizeBytes: 5 * MiB });
    s3.fault = failAt(3);
    const events: ResumeEvent[] = [];
    await caught(
      storage.upload('r.bin', new Blob([randomBytes(12 * MiB)]), {
        queueSize: 1,
        resumable: { store, onEvent: (e) => events.push(e), file: { name: 'r.bin', lastModified: 7 } },
      }),
    );
    const [upload] = s3.openUploads().map((u) => u.split(' ')[1]);
    expect(events).toEqual([{ type: 'started', uploadId: upload, parts: 3 }]);
    const [record] = await store.list();
    expect(record).toMatchObject({ key: `${PREFIX}r.bin`, uploadId: upload, partSize: 5 * MiB });
    expect(record!.file).toMatchObject({ name: 'r.bin', size: 12 * MiB, lastModified: 7 });
    expect(record!.parts.map((p) => p.partNumber)).toEqual([1, 2]);
    expect(await storage.unfinishedUploads(store)).toEqual([
      expect.objectContaining({ key: 'r.bin', uploadId: upload, bytesDone: 10 * MiB }),
    ]);
    expect(await storage.unfinishedUploads()).toEqual([]); // not in the storage's default store
  });

  it('the next attempt resumes: only the missing part is sent, progress starts from what S3 had, the record is dropped', async () => {
    const { s3, storage } = fakeStorage({ partSizeBytes: 5 * MiB });
    const data = randomBytes(12 * MiB);
    s3.fault = failAt(3);
    await caught(storage.upload('r.bin', new Blob([data]), { queueSize: 1, resumable: true }));
    const [upload] = s3.openUploads().map((u) => u.split(' ')[1]);
    s3.fault = undefined;
    s3.log.length = 0;
    const events: ResumeEvent[] = [];
    const progress: UploadProgress[] = [];
    const result = await storage.upload('r.bin', new Blob([data]), {
      resumable: { onEvent: (e) => events.push(e) },
      onProgress: (p) => progress.push(p),
    });
    expect(events).toEqual([{ type: 'resumed', uploadId: upload, parts: 3, partsDone: 2, bytesDone: 10 * MiB }]);
    expect(s3.log.map((r) => `${r.op} ${r.query.partNumber ?? ''}`.trim())).toEqual([
      'ListParts',
      'UploadPart 3',
      'CompleteMultipartUpload',
    ]);
    expect(progress[0]).toEqual({ loaded: 10 * MiB, total: 12 * MiB, fraction: 10 / 12 });
    expect(progress.at(-1)).toEqual({ loaded: 12 * MiB, total: 12 * MiB, fraction: 1 });
    expect(s3.objects.get(result.fullKey)!.body.equals(data)).toBe(true);
    expect(await storage.unfinishedUploads()).toEqual([]);
    expect(s3.openUploads()).toEqual([]);
  });

  it.each([
    ['cancelled', 'aborted'],
    ['signed out', 'signed_out'],
  ])('a resumed upload %s (no keepOnAbort) is aborted on S3 too, and its record dropped', async (how, code) => {
    const { s3, storage } = fakeStorage({ partSizeBytes: 5 * MiB });
    const data = randomBytes(12 * MiB);
    s3.fault = failAt(3);
    await caught(storage.upload('r.bin', new Blob([data]), { queueSize: 1, resumable: true }));
    const [upload] = s3.openUploads().map((u) => u.split(' ')[1]);
    const controller = new AbortController();
    s3.fault = async (r) => {
      if (r.op !== 'UploadPart') return undefined;
      if (how === 'cancelled') controller.abort();
      else storage.signOut();
      return undefined;
    };
    const err = await caught(storage.upload('r.bin', new Blob([data]), { resumable: true, signal: controller.signal }));
    expect(err.code).toBe(code);
    if (how === 'signed out') expect(err).toBeInstanceOf(SignedOutError);
    expect(err.message).not.toMatch(/kept/);
    expect(s3.log.filter((r) => r.op === 'AbortMultipartUpload').map((r) => r.query.uploadId)).toEqual([upload]);
    expect(s3.openUploads()).toEqual([]);
    expect(await storage.unfinishedUploads()).toEqual([]);
  });

  it('cancelled without keepOnAbort: aborted on S3, no record, and the message says nothing is kept', async () => {
    const { s3, storage } = fakeStorage({ partSizeBytes: 5 * MiB });
    const controller = new AbortController();
    s3.fault = async (r) => {
      if (r.op === 'UploadPart' && r.query.partNumber === '2') controller.abort();
      return undefined;
    };
    const err = await caught(
      storage.upload('r.bin', new Blob([randomBytes(12 * MiB)]), {
        queueSize: 1,
        resumable: true,
        signal: controller.signal,
      }),
    );
    expect(err).toMatchObject({ code: 'aborted', message: 'upload of "r.bin" was cancelled' });
    expect(s3.openUploads()).toEqual([]);
    expect(await storage.unfinishedUploads()).toEqual([]);
  });

  it('signed out during a resumable upload: SignedOutError, aborted on S3, no record', async () => {
    const { s3, storage } = fakeStorage({ partSizeBytes: 5 * MiB });
    s3.fault = async (r) => {
      if (r.op === 'UploadPart' && r.query.partNumber === '2') storage.signOut();
      return undefined;
    };
    const err = await caught(
      storage.upload('r.bin', new Blob([randomBytes(12 * MiB)]), { queueSize: 1, resumable: true }),
    );
    expect(err).toBeInstanceOf(SignedOutError);
    expect(err.message).toBe('upload of "r.bin" was stopped: signed out');
    expect(s3.count('AbortMultipartUpload')).toBe(1);
    expect(s3.openUploads()).toEqual([]);
    expect(await storage.unfinishedUploads()).toEqual([]);
  });
});

// In a browser, a Blob goes to S3 as slices the page never reads (client/blob-upload.ts). Node's
// SDK says runtime "node", so these tests set the storage's client to "browser": the same client
// every upload of the storage object uses. The fake S3 then receives the Blob itself.
describe("the browser's path: Blob slices sent as they are", () => {
  async function browserStorage(endpoint: string) {
    const t = fakeStorage({ grant: { endpoint } });
    ((await t.storage.client()).config as { runtime: string }).runtime = 'browser';
    return t;
  }

  it('a Blob of one part: one PUT of the Blob itself, progress at 100% once done', async () => {
    const { s3, storage } = await browserStorage('http://fake-s3.test');
    const data = randomBytes(3 * MiB);
    const progress: UploadProgress[] = [];
    const result = await storage.upload('one.bin', new Blob([data]), { onProgress: (p) => progress.push(p) });
    expect(s3.log.map((r) => `${r.op} ${r.bodyType}`)).toEqual(['PutObject Blob']);
    expect(s3.log[0]!.headers['x-amz-content-sha256']).toBe(sha256(data));
    expect(progress).toEqual([{ loaded: 3 * MiB, total: 3 * MiB, fraction: 1 }]);
    expect(s3.objects.get(result.fullKey)!.body.equals(data)).toBe(true);
    await storage.upload('two.bin', new Blob([data])); // and without onProgress
    expect(s3.objects.get(`${PREFIX}two.bin`)!.body.equals(data)).toBe(true);
  });

  it.each([
    // Over HTTPS the slices are not read: parts of an eighth of the size (65 MiB: 9 MiB, 8 parts), unsigned payload.
    ['https://fake-s3.test', 8, 'UNSIGNED-PAYLOAD'],
    // Over plain HTTP each slice is hashed for the signature, so parts are read: 8 MiB, 9 parts.
    ['http://fake-s3.test', 9, 'sha256'],
  ])('%s: a 65 MiB Blob goes in %i parts, each a Blob (payload: %s)', async (endpoint, parts, payload) => {
    const { s3, storage } = await browserStorage(endpoint);
    const data = new Uint8Array(65 * MiB);
    data[0] = 1;
    data[data.length - 1] = 2;
    const result = await storage.upload('big.bin', new Blob([data]));
    const sent = s3.log.filter((r) => r.op === 'UploadPart');
    expect(sent).toHaveLength(parts);
    expect(sent.every((r) => r.bodyType === 'Blob')).toBe(true);
    const first = sent.find((r) => r.query.partNumber === '1')!;
    const size = Math.ceil((65 * MiB) / parts / MiB) * MiB;
    expect(first.headers['x-amz-content-sha256']).toBe(
      payload === 'sha256' ? sha256(data.subarray(0, size)) : 'UNSIGNED-PAYLOAD',
    );
    expect(s3.objects.get(result.fullKey)!.body.equals(data)).toBe(true);
  });
});
