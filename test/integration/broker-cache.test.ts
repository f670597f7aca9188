// The broker's credential cache with the cache ON (the default), against the real RGW STS: what
// counts as "the same request". A cached answer must never carry credentials broader than, or
// belonging to someone other than, what the response says. Prefixes are read from responses.
import { randomBytes } from 'node:crypto';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { freshSubject, s3WithIssued, startBroker, type TestBroker } from '../helpers/broker.js';
import { testIssuer } from '../helpers/jwt.js';
import { s3Outcome } from '../helpers/s3.js';
import { ownerS3, stack } from '../helpers/stack.js';

const bucket = stack().bucket;
const written: string[] = [];
afterAll(async () => {
  for (const Key of written) await ownerS3().send(new DeleteObjectCommand({ Bucket: bucket, Key }));
});

type Body = {
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: string };
  prefix: string;
  access: string[];
  region: string;
  endpoint?: string;
};

/** PUT `<prefix>name` with exactly the credentials of `body`; returns "OK" or "<status> <name>". */
function put(body: Body, key: string): Promise<string> {
  written.push(key);
  return s3Outcome(
    s3WithIssued(body).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `written at ${Date.now()}` })),
  );
}

const issuedLines = (broker: TestBroker) => broker.logs.filter((l) => l.event === 'credentials.issued');

describe('credential cache at the broker, cache on, real STS', () => {
  const brokers: TestBroker[] = [];
  afterEach(async () => {
    vi.useRealTimers();
    await Promise.all(brokers.splice(0).map((b) => b.close()));
  });
  const start = async (o: Parameters<typeof startBroker>[0] = {}) => {
    const b = await startBroker(o);
    brokers.push(b);
    return b;
  };

  it('full access, then {"access":["read"]}: different credentials, and the read-only ones cannot write', async () => {
    const broker = await start();
    const token = await broker.token(freshSubject('narrow'));
    const full = await broker.credentials(token);
    expect(full.status).toBe(200);
    const again = await broker.credentials(token);
    // Positive control: the cache is on, so the identical request is answered from it.
    expect(again.body.credentials.accessKeyId).toBe(full.body.credentials.accessKeyId);
    const read = await broker.credentials(token, { access: ['read'] });
    expect(read.status).toBe(200);
    expect(read.body.access).toEqual(['read']);
    expect(read.body.prefix).toBe(full.body.prefix);
    expect(read.body.credentials.accessKeyId).not.toBe(full.body.credentials.accessKeyId);
    const key = `${full.body.prefix}cache-${randomBytes(4).toString('hex')}.txt`;
    expect(await put(full.body, key)).toBe('OK');
    expect(await put(read.body, key)).toBe('403 AccessDenied');
    expect(issuedLines(broker).map((l) => [l.access, l.cached])).toEqual([
      [['read', 'write', 'list', 'delete'], false],
      [['read', 'write', 'list', 'delete'], true],
      [['read'], false],
    ]);
  });

  it('read first, then full access: the full-access answer is not the cached read-only session', async () => {
    const broker = await start();
    const token = await broker.token(freshSubject('widen'));
    const read = await broker.credentials(token, { access: ['read'] });
    const full = await broker.credentials(token);
    expect(full.body.credentials.accessKeyId).not.toBe(read.body.credentials.accessKeyId);
    expect(await put(full.body, `${full.body.prefix}w.txt`)).toBe('OK');
  });

  it('two subjects on one shared prefix (no placeholder): bob never receives alice’s session', async () => {
    const shared = `shared/${freshSubject('team')}/`;
    const broker = await start({
      grants: [{ bucket, scopes: [{ prefix: shared, access: ['read', 'write', 'list'] }] }],
    });
    const aliceToken = await broker.token(freshSubject('alice'));
    const alice = await broker.credentials(aliceToken);
    const bob = await broker.credentials(await broker.token(freshSubject('bob')));
    expect([alice.status, bob.status]).toEqual([200, 200]);
    expect(bob.body.prefix).toBe(shared);
    expect(alice.body.prefix).toBe(shared);
    expect(bob.body.credentials.accessKeyId).not.toBe(alice.body.credentials.accessKeyId);
    const [la, lb] = issuedLines(broker);
    expect(la!.sessionName).not.toBe(lb!.sessionName);
    expect([la!.cached, lb!.cached]).toEqual([false, false]);
    expect(broker.vendor.upstreamCalls()).toBe(2);
    // Positive control: alice asking again is served from the cache with her own session.
    const alice2 = await broker.credentials(aliceToken);
    expect(alice2.body.credentials.accessKeyId).toBe(alice.body.credentials.accessKeyId);
    expect(issuedLines(broker)[2]).toMatchObject({ sessionName: la!.sessionName, cached: true });
    // Both sessions work on the shared prefix.
    expect(await put(alice.body, `${shared}from-alice.txt`)).toBe('OK');
    expect(await put(bob.body, `${shared}from-bob.txt`)).toBe('OK');
  });

  it('a claim change that selects another grant rule gets credentials for the new rule only (real issuer)', async () => {
    const idp = await testIssuer();
    const red = `teams/${freshSubject('red')}/`;
    const blue = `teams/${freshSubject('blue')}/`;
    const broker = await start({
      devLogin: false,
      issuers: [{ issuer: idp.issuer, audience: idp.audience, publicKey: idp.publicKeyPem }],
      grants: [
        { when: { team: 'red' }, bucket, scopes: [{ prefix: `${red}{sub}/`, access: ['read', 'write'] }] },
        { when: { team: 'blue' }, bucket, scopes: [{ prefix: `${blue}{sub}/`, access: ['read', 'write'] }] },
      ],
    });
    const sub = freshSubject('mover');
    const asRed = await broker.credentials(await idp.sign({ sub, team: 'red' }));
    const asBlue = await broker.credentials(await idp.sign({ sub, team: 'blue' }));
    expect([asRed.status, asBlue.status]).toEqual([200, 200]);
    expect(asRed.body.prefix.startsWith(red)).toBe(true);
    expect(asBlue.body.prefix.startsWith(blue)).toBe(true);
    expect(asBlue.body.credentials.accessKeyId).not.toBe(asRed.body.credentials.accessKeyId);
    expect(await put(asBlue.body, `${asBlue.body.prefix}x.txt`)).toBe('OK');
    expect(await put(asBlue.body, `${asRed.body.prefix}x.txt`)).toBe('403 AccessDenied');
    expect(await put(asRed.body, `${asBlue.body.prefix}y.txt`)).toBe('403 AccessDenied');
    expect(broker.vendor.upstreamCalls()).toBe(2);
  });

  it('past half its lifetime a cached session is replaced by a new one (fake Date)', async () => {
    // Only Date is faked, and it keeps running; the cache takes its clock when the broker starts.
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const broker = await start();
    const token = await broker.token(freshSubject('halflife'), { ttlSeconds: 3600 });
    const first = await broker.credentials(token);
    const lifetime = Date.parse(first.body.credentials.expiration) - Date.now();
    expect(lifetime).toBeGreaterThan(890_000);
    // Jump to 20 s before the half-life: reused. RGW accepts requests signed up to 15 min off.
    vi.setSystemTime(Date.now() + lifetime / 2 - 20_000);
    const reused = await broker.credentials(token);
    expect(reused.body.credentials.accessKeyId).toBe(first.body.credentials.accessKeyId);
    // Jump 40 s further, past the half-life: a new STS session.
    vi.setSystemTime(Date.now() + 40_000);
    const renewed = await broker.credentials(token);
    expect(renewed.status).toBe(200);
    expect(renewed.body.credentials.accessKeyId).not.toBe(first.body.credentials.accessKeyId);
    expect(issuedLines(broker).map((l) => l.cached)).toEqual([false, true, false]);
    expect(broker.vendor.upstreamCalls()).toBe(2);
  });
});
