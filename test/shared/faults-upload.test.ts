// Fault injection during multipart uploads, with real processes: a broker process killed and
// restarted (SIGKILL, same port), and RGW going away mid-upload (simulated by a TCP fault proxy in
// front of it that resets every connection, so the shared stack other suites use is never
// restarted). Each case checks, with the bucket owner's keys, that the object read back has the
// SHA-256 of what was sent (or does not exist) and that no multipart upload is left open.
//
// Uploads are 3 parts of 5 MiB, one in flight at a time; a hook at the start of the S3 client's
// stack (before credentials are resolved and the request is signed) holds part 2 until the test
// has put the fault in place, so every step waits for a condition, never for a fixed time.
import { createHash, randomBytes } from 'node:crypto';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerError, brokerCredentials, createStorage, type BrokerCredentialsOptions } from '../../client/index.js';
import { freshSubject, startBroker } from '../helpers/broker.js';
import { startBrokerProcess, type BrokerProcess } from '../helpers/haproxy.js';
import { testIssuer, type TestIssuer } from '../helpers/jwt.js';
import { waitFor } from '../helpers/redis.js';
import { s3Outcome } from '../helpers/s3.js';
import { ownerS3, stack } from '../helpers/stack.js';
import { startTcpFaultProxy } from '../helpers/tcp-fault-proxy.js';

const MiB = 1024 * 1024;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Open multipart uploads under a prefix, listed with the bucket owner's keys. */
async function openUploads(prefix: string): Promise<string[]> {
  const out = await ownerS3().send(new ListMultipartUploadsCommand({ Bucket: stack().bucket, Prefix: prefix }));
  return (out.Uploads ?? []).map((u) => `${u.Key} ${u.UploadId}`);
}

/** SHA-256 of the stored object, read back with the owner's keys; then deletes it. */
async function storedSha(Key: string): Promise<string> {
  const got = await ownerS3().send(new GetObjectCommand({ Bucket: stack().bucket, Key }));
  const digest = sha256(await got.Body!.transformToByteArray());
  await ownerS3().send(new DeleteObjectCommand({ Bucket: stack().bucket, Key }));
  return digest;
}

/** Every broker request the provider sent: when, and whether an answer came (status) or not (0). */
function recordingFetch() {
  const attempts: { at: number; status: number }[] = [];
  const fetchFn: typeof fetch = async (input, init) => {
    try {
      const res = await fetch(input, init);
      attempts.push({ at: Date.now(), status: res.status });
      return res;
    } catch (err) {
      attempts.push({ at: Date.now(), status: 0 });
      throw err;
    }
  };
  return { attempts, fetch: fetchFn };
}

/** A deferred: `open()` lets whoever awaits `wait` go on. */
function gate() {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

/**
 * A storage object on `credentials` whose S3 client holds UploadPart #2 at `hold.wait` before it
 * resolves credentials, and counts the parts that reached S3 and came back.
 */
async function gatedStorage(credentials: ReturnType<typeof brokerCredentials>, extraS3 = {}) {
  const hold = gate();
  const seen = { partsStarted: 0, partsDone: 0 };
  const storage = createStorage({ credentials, partSizeBytes: 5 * MiB, queueSize: 1, s3: extraS3 });
  const client = await storage.client();
  client.middlewareStack.add(
    (next: any, context: any) => async (args: any) => {
      if (context.commandName !== 'UploadPartCommand') return next(args);
      seen.partsStarted++;
      if (args.input.PartNumber === 2) await hold.wait;
      const out = await next(args);
      seen.partsDone++;
      return out;
    },
    { step: 'initialize', name: 'faultTestGate', priority: 'low' },
  );
  const grant = await storage.grant();
  return { storage, hold, seen, prefix: grant.prefix };
}

let idp: TestIssuer;
let broker: BrokerProcess;
beforeAll(async () => {
  idp = await testIssuer();
  broker = await startBrokerProcess({
    KEYHOLE_JWT_ISSUER: idp.issuer,
    KEYHOLE_JWT_AUDIENCE: idp.audience,
    KEYHOLE_JWT_PUBLIC_KEY: idp.publicKeyPem,
  });
}, 60_000);
afterAll(async () => {
  await broker?.kill();
});

function providerFor(sub: string, options: Partial<BrokerCredentialsOptions> = {}) {
  const rec = recordingFetch();
  const credentials = brokerCredentials({
    brokerUrl: broker.url,
    // An hour of token: the broker caps credentials at the token's expiry, and with the default
    // 300 s token they would be due for refresh at once.
    getToken: () => idp.sign({ sub, exp: Math.floor(Date.now() / 1000) + 3600 }),
    fetch: rec.fetch,
    ...options,
  });
  return { credentials, attempts: rec.attempts };
}

describe('broker process faults during a multipart upload', () => {
  it('the broker killed mid-upload (credentials still valid): the upload completes, bytes intact, nothing open', async () => {
    const { credentials, attempts } = providerFor(freshSubject('killed'));
    const { storage, hold, seen, prefix } = await gatedStorage(credentials);
    const body = randomBytes(15 * MiB);
    const done = storage.upload('faults/killed.bin', body);
    await waitFor('part 1 uploaded and part 2 held', () => seen.partsDone === 1 && seen.partsStarted === 2);
    await broker.kill();
    expect(await fetch(`${broker.url}/healthz`).catch(() => 'refused')).toBe('refused');
    hold.open();
    const result = await done;
    expect(result.fullKey).toBe(`${prefix}faults/killed.bin`);
    // The broker was asked once, before it died; parts 2, 3 and the completion never needed it.
    expect(attempts.map((a) => a.status)).toEqual([200]);
    expect(seen.partsDone).toBe(3);
    expect(await openUploads(prefix)).toEqual([]);
    expect(await storedSha(result.fullKey)).toBe(sha256(body));
    await broker.restart();
  });

  it('the broker down at a credential refresh: the provider retries with backoff, the upload completes once it is back', async () => {
    // Credentials treated as expiring 2 s after they arrive: part 2 must refresh.
    const { credentials, attempts } = providerFor(freshSubject('refresh'), {
      maxLifetimeSeconds: 2,
      refreshBeforeSeconds: 0,
      retries: 8,
    });
    const { storage, hold, seen, prefix } = await gatedStorage(credentials);
    const body = randomBytes(15 * MiB);
    const done = storage.upload('faults/refresh.bin', body);
    await waitFor('part 1 uploaded and part 2 held', () => seen.partsDone === 1 && seen.partsStarted === 2);
    await broker.kill();
    const lastOk = attempts.at(-1)!;
    expect(lastOk.status).toBe(200);
    await waitFor('the held credentials to expire (2 s cap)', () => Date.now() > lastOk.at + 2100);
    hold.open();
    const failed = () => attempts.filter((a) => a.at > lastOk.at && a.status === 0);
    await waitFor('two failed refresh attempts', () => failed().length >= 2);
    expect(seen.partsDone).toBe(1); // part 2 waits for credentials, it was not sent unsigned or with old keys
    await broker.restart();
    const result = await done;
    const after = attempts.filter((a) => a.at > lastOk.at);
    expect(after.at(-1)!.status).toBe(200);
    // Exponential backoff between the failures: 200 ms, then 400 ms, ...
    const fails = after.filter((a) => a.status === 0);
    expect(fails[1]!.at - fails[0]!.at).toBeGreaterThanOrEqual(190);
    if (fails.length > 2) expect(fails[2]!.at - fails[1]!.at).toBeGreaterThanOrEqual(390);
    expect(seen.partsDone).toBe(3);
    expect(await openUploads(prefix)).toEqual([]);
    expect(await storedSha(result.fullKey)).toBe(sha256(body));
  });

  it('the broker never returns at the refresh: BrokerError broker_unreachable within a bounded time, parts aborted', async () => {
    const { credentials, attempts } = providerFor(freshSubject('gone'), {
      maxLifetimeSeconds: 2,
      refreshBeforeSeconds: 0,
      retries: 3, // 200 + 400 + 800 ms of backoff
    });
    const { storage, hold, seen, prefix } = await gatedStorage(credentials);
    const done = storage.upload('faults/gone.bin', randomBytes(15 * MiB)).catch((e: unknown) => e);
    await waitFor('part 1 uploaded and part 2 held', () => seen.partsDone === 1 && seen.partsStarted === 2);
    expect(await openUploads(prefix)).toHaveLength(1); // positive control: the upload was open on S3
    await broker.kill();
    const lastOk = attempts.at(-1)!;
    await waitFor('the held credentials to expire (2 s cap)', () => Date.now() > lastOk.at + 2100);
    const started = Date.now();
    hold.open();
    const err = await done;
    const elapsed = Date.now() - started;
    expect(err).toBeInstanceOf(BrokerError);
    expect((err as BrokerError).code).toBe('broker_unreachable');
    expect((err as BrokerError).status).toBe(0);
    expect(elapsed).toBeLessThan(15_000);
    expect(attempts.filter((a) => a.at > lastOk.at && a.status === 0).length).toBeGreaterThanOrEqual(4);
    expect(seen.partsDone).toBe(1);
    expect(await openUploads(prefix)).toEqual([]);
    expect(
      await s3Outcome(
        ownerS3().send(new HeadObjectCommand({ Bucket: stack().bucket, Key: `${prefix}faults/gone.bin` })),
      ),
    ).toBe('404 NotFound');
  });
});

describe('RGW outage mid-multipart (simulated by a TCP fault proxy resetting every connection)', () => {
  it('connections reset during part 2 and refused for a while: the SDK retries and the upload completes, bytes intact', async () => {
    const s3 = new URL(stack().s3Endpoint);
    const proxy = await startTcpFaultProxy({ host: s3.hostname, port: Number(s3.port) });
    const inProcess = await startBroker({ s3Endpoint: proxy.url });
    try {
      const sub = freshSubject('rgw');
      const credentials = brokerCredentials({ brokerUrl: inProcess.url, getToken: () => inProcess.token(sub) });
      // More attempts than the SDK's default 3, so an outage of a few refused connections is ridden out.
      const { storage, hold, seen, prefix } = await gatedStorage(credentials, { maxAttempts: 8 });
      expect((await storage.grant()).endpoint).toBe(proxy.url);
      const body = randomBytes(15 * MiB);
      const done = storage.upload('faults/rgw.bin', body);
      await waitFor('part 1 uploaded and part 2 held', () => seen.partsDone === 1 && seen.partsStarted === 2);
      // RGW "dies" 1 MiB into part 2: the part's connection is reset mid-body, and new ones too.
      proxy.downAfterBytes(1 * MiB);
      hold.open();
      await waitFor('the outage: part 2 cut off and 3 connections reset', () => proxy.resets >= 3, 30_000);
      expect(seen.partsDone).toBe(1);
      proxy.up();
      const result = await done;
      expect(seen.partsDone).toBe(3);
      expect(await openUploads(prefix)).toEqual([]);
      expect(await storedSha(result.fullKey)).toBe(sha256(body));
    } finally {
      await inProcess.close();
      await proxy.close();
    }
  });
});
