// Delivery of upload outcomes (issue 15, point 3), with the real RGW, a broker on port 0 and a real
// HTTP receiver verifying Standard Webhooks signatures: one signed webhook and one onUpload call per
// case, a tampered signature refused, a receiver down then back gets the event after it recovers, and
// a slow receiver or hook never delays the confirm.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { brokerCredentials, createStorage } from '../../client/index.js';
import type { UploadEvent } from '../../client/protocol/uploads.js';
import { UploadEventSchema } from '../../client/protocol/uploads.js';
import { devPrefix, freshSubject, startBroker, type TestBroker } from '../helpers/broker.js';
import { ownerS3, stack } from '../helpers/stack.js';
import { pngOfSize } from '../helpers/uploads.js';
import { newWebhookSecret, verifyByHand, WebhookReceiver } from '../helpers/webhook-receiver.js';

const bucket = stack().bucket;
const secret = newWebhookSecret();
const receiver = new WebhookReceiver(secret);
const hooked: UploadEvent[] = [];
let hookDelayMs = 0;
let broker: TestBroker;

beforeAll(async () => {
  await receiver.start();
  broker = await startBroker({
    grants: [
      {
        bucket,
        scopes: [
          {
            prefix: 'users/{sub}/',
            access: ['read', 'write', 'list', 'delete'],
            uploads: { maxBytes: 1024, contentTypes: ['image/*'], quotaBytes: 1500 },
          },
        ],
      },
    ],
    uploads: {
      s3: ownerS3(),
      webhook: { url: receiver.url, secret, initialDelayMs: 100, maxDelayMs: 400, maxAttempts: 30, timeoutMs: 5000 },
    },
    onUpload: async (event) => {
      if (hookDelayMs) await new Promise((r) => setTimeout(r, hookDelayMs));
      hooked.push(event);
    },
  });
});
afterAll(async () => {
  await broker?.close();
  await receiver.stop();
});

function storageFor(sub: string) {
  return createStorage({
    credentials: brokerCredentials({ brokerUrl: broker.url, getToken: () => broker.token(sub) }),
  });
}

const forSubject = (sub: string) =>
  receiver.received.filter((r) => r.event.data.subject === `dev-${sub}` || r.event.data.subject === sub);

async function confirmAgain(sub: string, key: string): Promise<unknown> {
  const res = await fetch(`${broker.url}/v1/uploads/complete`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await broker.token(sub)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ key }),
  });
  return res.json();
}

async function settle(ms = 600): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

describe('upload events', () => {
  it('delivers exactly one signed webhook and one onUpload call per outcome', async () => {
    const cases = [
      { sub: freshSubject('ok'), key: 'ok.png', body: pngOfSize(300), reason: null },
      { sub: freshSubject('big'), key: 'big.png', body: pngOfSize(2000), reason: 'too_large' },
      { sub: freshSubject('fake'), key: 'fake.png', body: 'not an image\n', reason: 'type_mismatch' },
    ] as const;
    for (const c of cases) {
      const out = await storageFor(c.sub).upload(c.key, c.body, { contentType: 'image/png', confirm: true });
      // A second confirm of the same object version is the same outcome: no second event.
      expect(await confirmAgain(c.sub, c.key)).toEqual(out.verdict);
    }
    const quota = freshSubject('quota');
    await storageFor(quota).upload('1.png', pngOfSize(1000), { contentType: 'image/png', confirm: true });
    const over = await storageFor(quota).upload('2.png', pngOfSize(1000), { contentType: 'image/png', confirm: true });
    expect(over.verdict.reason).toBe('quota_exceeded');
    await receiver.waitFor(5);
    await settle();
    expect(receiver.received).toHaveLength(5);
    for (const r of receiver.received) {
      expect(r.verified).toBe(true);
      expect(UploadEventSchema.safeParse(r.event).success).toBe(true);
      expect(r.headers['webhook-id']).toMatch(/^upl_[0-9a-f]{32}$/);
    }
    for (const c of cases) {
      const got = forSubject(c.sub);
      expect(got.map((r) => r.event)).toEqual([
        {
          type: c.reason ? 'upload.rejected' : 'upload.accepted',
          timestamp: expect.any(String),
          data: {
            bucket,
            key: `${devPrefix(c.sub)}${c.key}`,
            subject: c.sub,
            size: c.body.length,
            contentType: 'image/png',
            etag: expect.stringMatching(/^[0-9a-f]{32}$/),
            reason: c.reason,
          },
        },
      ]);
    }
    expect(forSubject(quota).map((r) => [r.event.type, r.event.data.reason])).toEqual([
      ['upload.accepted', null],
      ['upload.rejected', 'quota_exceeded'],
    ]);
    expect(hooked.map((e) => e.data.key).sort()).toEqual(receiver.received.map((r) => r.event.data.key).sort());
  });

  it('a tampered signature, body or timestamp is refused by the verifier', () => {
    const r = receiver.received[0]!;
    const headers = r.headers as Record<string, string>;
    const sig = headers['webhook-signature']!;
    // Change a character in the middle of the base64: the last one before '=' carries padding bits
    // that a decoder ignores, so changing it can leave the signature bytes the same.
    const at = sig.indexOf(',') + 10;
    const flipped = sig.slice(0, at) + (sig[at] === 'A' ? 'B' : 'A') + sig.slice(at + 1);
    const wh = new Webhook(secret);
    expect(() => wh.verify(r.body, headers)).not.toThrow();
    expect(() => wh.verify(r.body, { ...headers, 'webhook-signature': flipped })).toThrow(
      'No matching signature found',
    );
    expect(() => wh.verify(r.body.replace('"size":', '"size":1'), headers)).toThrow('No matching signature found');
    expect(verifyByHand(secret, { ...headers, 'webhook-signature': flipped }, r.body)).toBe(false);
    expect(verifyByHand(newWebhookSecret(), headers, r.body)).toBe(false);
    expect(() => new Webhook(newWebhookSecret()).verify(r.body, headers)).toThrow('No matching signature found');
  });

  it('receiver down, then back: the event arrives after it recovers, once', async () => {
    const before = receiver.received.length;
    await receiver.stop();
    const sub = freshSubject('down');
    const out = await storageFor(sub).upload('late.png', pngOfSize(200), { contentType: 'image/png', confirm: true });
    expect(out.verdict.status).toBe('accepted');
    await settle(700); // several refused attempts (100, 200, 400 ms backoff)
    expect(receiver.received.length).toBe(before);
    const retries = broker.logs.filter((l) => l.event === 'events.retry');
    expect(retries.length).toBeGreaterThanOrEqual(2);
    await receiver.start();
    await receiver.waitFor(before + 1);
    await settle(800);
    const got = forSubject(sub);
    expect(got).toHaveLength(1);
    expect(got[0]!.verified).toBe(true);
    expect(broker.logs.filter((l) => l.event === 'events.delivered' && l.id === got[0]!.headers['webhook-id'])).toEqual(
      [expect.objectContaining({ attempts: expect.any(Number) })],
    );
  });

  it('a slow receiver and a slow hook never delay the confirm', async () => {
    receiver.delayMs = 3000;
    hookDelayMs = 3000;
    try {
      const sub = freshSubject('slow');
      const storage = storageFor(sub);
      await storage.upload('s.png', pngOfSize(100), { contentType: 'image/png' });
      const started = performance.now();
      const res = await fetch(`${broker.url}/v1/uploads/complete`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await broker.token(sub)}`, 'content-type': 'application/json' },
        body: JSON.stringify({ key: 's.png' }),
      });
      const ms = performance.now() - started;
      expect(res.status).toBe(200);
      expect(ms).toBeLessThan(1000);
      await settle(3500);
      expect(forSubject(sub)).toHaveLength(1);
    } finally {
      receiver.delayMs = 0;
      hookDelayMs = 0;
    }
  });
});
