// Three real broker processes, configured only by environment (KEYHOLE_REDIS_URL and friends),
// behind haproxy on loopback, sharing one private redis-server: what a client sees through the
// load balancer is one broker. Counts come from each broker's own /metrics.
import { randomBytes, randomInt } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshSubject, s3WithIssued } from '../helpers/broker.js';
import { startSharedRig, type BrokerProcess, type Haproxy, type SharedRig } from '../helpers/haproxy.js';
import type { TestIssuer } from '../helpers/jwt.js';
import { waitFor } from '../helpers/redis.js';
import { ownerS3, stack } from '../helpers/stack.js';

let rig: SharedRig | undefined;
let idp: TestIssuer;
let brokers: readonly BrokerProcess[];
let lb: Haproxy;

beforeAll(async () => {
  rig = await startSharedRig({ subject: 5, address: 8 });
  ({ idp, brokers, lb } = rig);
}, 120_000);

afterAll(() => rig?.stop());

/** A documentation address (TEST-NET-3) per test, sent as X-Forwarded-For through haproxy. */
const freshClient = () => `203.0.113.${randomInt(1, 255)}`;

async function vend(token: string, client: string) {
  const res = await fetch(`${lb!.url}/v1/credentials`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': client },
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

async function metric(b: BrokerProcess, line: RegExp): Promise<number> {
  const text = await (await fetch(`${b.url}/metrics`)).text();
  return Number(line.exec(text)?.[1] ?? 0);
}
const stsCalls = async () =>
  (await Promise.all(brokers.map((b) => metric(b, /^keyhole_upstream_calls (\d+)$/m)))).reduce((a, b) => a + b, 0);
const served = (b: BrokerProcess) => metric(b, /^keyhole_credentials_issued_total\{cached="(?:true|false)"\} (\d+)$/m);

describe('3 brokers behind haproxy, one Redis', () => {
  it('all three are shared, ready and behind the balancer', async () => {
    for (const b of brokers) {
      await waitFor('shared state', async () => {
        const ready = (await (await fetch(`${b.url}/readyz`)).json()) as any;
        return ready.sharedState?.state === 'shared';
      });
    }
    expect((await fetch(`${lb!.url}/readyz`)).status).toBe(200);
  });

  it('one subject through the balancer: every instance answers the same credential, one STS call, and it works on S3', async () => {
    const before = await stsCalls();
    const servedBefore = await Promise.all(brokers.map(served));
    const token = await idp.sign({ sub: freshSubject('lb') });
    const client = freshClient();
    const answers = [];
    for (let n = 0; n < 3; n++) answers.push(await vend(token, client));
    // Round robin: each broker answered once (positive control that the cache was shared across processes).
    const servedAfter = await Promise.all(brokers.map(served));
    expect(servedAfter.map((n, i) => n - servedBefore[i]!)).toEqual([1, 1, 1]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(new Set(answers.map((a) => a.body.credentials.accessKeyId)).size).toBe(1);
    expect((await stsCalls()) - before).toBe(1);
    // Concurrent misses for a new subject across the three processes (5, its limit): one STS call.
    const burst = await idp.sign({ sub: freshSubject('burst') });
    const many = await Promise.all(Array.from({ length: 5 }, () => vend(burst, freshClient())));
    expect(many.map((a) => a.status)).toEqual(Array(5).fill(200)); // 5: the subject limit
    expect(new Set(many.map((a) => a.body.credentials.accessKeyId)).size).toBe(1);
    expect((await stsCalls()) - before).toBe(2);
    // The credential is real: it writes and reads its own prefix.
    const body = answers[0]!.body;
    const key = `${body.prefix}lb-${randomBytes(4).toString('hex')}.txt`;
    const s3 = s3WithIssued(body);
    await s3.send(new PutObjectCommand({ Bucket: body.bucket, Key: key, Body: 'through haproxy' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: body.bucket, Key: key }));
    expect(await got.Body!.transformToString()).toBe('through haproxy');
    await ownerS3().send(new DeleteObjectCommand({ Bucket: stack().bucket, Key: key }));
  });

  it('the subject limit (5/60) and the address limit (8/60) hold across the three instances', async () => {
    const token = await idp.sign({ sub: freshSubject('limit') });
    const subjectClient = freshClient();
    const statuses = [];
    for (let n = 0; n < 7; n++) statuses.push((await vend(token, `${subjectClient}`)).status);
    // Round robin gave each instance at most 3: alone none would refuse.
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);

    const client = freshClient() === subjectClient ? '198.51.100.9' : '198.51.100.10';
    const byAddress = [];
    for (let n = 0; n < 9; n++) byAddress.push(await vend(await idp.sign({ sub: freshSubject('addr') }), client));
    expect(byAddress.map((r) => r.status)).toEqual([...Array(8).fill(200), 429]);
    expect(byAddress[8]!.body.error.code).toBe('rate_limited');
    expect(Number(byAddress[8]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Another address is not affected.
    expect((await vend(await idp.sign({ sub: freshSubject('addr') }), '198.51.100.77')).status).toBe(200);
  });
});
