// Issue 15, the AWS asynchronous path: the upload-events function (`index.uploadEvents`) driven with
// S3 event notifications in AWS's documented shape (URL-encoded keys, `+` for a space, a size the
// handler must not trust) against the local RGW, with the environment a deployed function has
// (KEYHOLE_UPLOAD_* rules, the webhook) and a real receiver verifying each signature. Also the
// scheduled reconciliation event, and the bundle the stack deploys running as that function.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleLambda } from '../../infra/aws/bundle.js';
import { uploadEventsFunction } from '../../server/lambda/upload-events.js';
import { freshSubject } from '../helpers/broker.js';
import { testIssuer } from '../helpers/jwt.js';
import { s3Outcome } from '../helpers/s3.js';
import { ownerS3, stack } from '../helpers/stack.js';
import { pngOfSize } from '../helpers/uploads.js';
import { newWebhookSecret, WebhookReceiver } from '../helpers/webhook-receiver.js';
import { functionEnv, s3Event, s3EventKey } from './events.js';

const s = stack();
const s3 = ownerS3();
// A grant prefix of this file's own: the reconcile event judges (and deletes) whatever breaks the
// rules under it, and other suites upload under users/ on the same bucket at the same time.
const root = `lambda-events-${Date.now().toString(36)}`;
const issuer = await testIssuer('https://issuer.events.test/', 'keyhole-events');
const secret = newWebhookSecret();
const receiver = new WebhookReceiver(secret);
beforeAll(() => receiver.start());
afterAll(() => receiver.stop());

/** The deployed function's environment (the broker's), with upload rules and the webhook, pointed at the local RGW. */
function env(): NodeJS.ProcessEnv {
  return functionEnv(issuer, {
    KEYHOLE_PREFIX_TEMPLATE: `${root}/{sub}/`,
    KEYHOLE_UPLOAD_MAX_BYTES: '1024',
    KEYHOLE_UPLOAD_CONTENT_TYPES: 'image/*',
    KEYHOLE_UPLOAD_QUOTA_BYTES: '1500',
    KEYHOLE_EVENTS_WEBHOOK_URL: receiver.url,
    KEYHOLE_EVENTS_WEBHOOK_SECRET: secret,
  });
}

function container() {
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      done();
    },
  });
  return { ...uploadEventsFunction(env(), { logDestination: sink }), logs };
}

const put = (key: string, body: string | Buffer, contentType: string) =>
  s3.send(new PutObjectCommand({ Bucket: s.bucket, Key: key, Body: body, ContentType: contentType }));
const head = (key: string) => s3Outcome(s3.send(new HeadObjectCommand({ Bucket: s.bucket, Key: key })));
const hooksFor = (key: string) => receiver.received.filter((r) => r.event.data.key === key);

describe('the upload-events function (S3 event notifications) against the local RGW', () => {
  // Built once the receiver listens (its URL has the port).
  let fn: ReturnType<typeof container>;
  beforeAll(() => {
    fn = container();
  });

  it('decodes URL-encoded keys, re-reads each object, applies the rules and sends one signed webhook each', async () => {
    const sub = freshSubject('evt');
    const fake = `${root}/${sub}/a b+c%2F é 😀.png`;
    const big = `${root}/${sub}/big one.png`;
    const ok = `${root}/${sub}/me +1.png`;
    await put(fake, 'not an image\n', 'image/png');
    await put(big, pngOfSize(2000), 'image/png');
    await put(ok, pngOfSize(500), 'image/png');
    expect(s3EventKey(fake)).toBe(`${root}/${sub}/a+b%2Bc%252F+%C3%A9+%F0%9F%98%80.png`);

    const out = await fn.handler(s3Event(s.bucket, [fake, big, ok].map(s3EventKey)));
    expect(out).toEqual({ judged: 3, ignored: 0 });
    // The handler awaited delivery: the webhooks are in before it returned.
    const expected = [
      [fake, 'upload.rejected', 'type_mismatch', 13],
      [big, 'upload.rejected', 'too_large', 2000],
      [ok, 'upload.accepted', null, 500],
    ] as const;
    for (const [key, type, reason, size] of expected) {
      const hooks = hooksFor(key);
      expect(hooks, key).toHaveLength(1);
      expect(hooks[0]!.verified).toBe(true);
      // The subject comes from the key: S3 names the role session, never the end user.
      expect(hooks[0]!.event).toMatchObject({ type, data: { key, subject: sub, reason, size } });
      expect(await head(key)).toBe(type === 'upload.accepted' ? 'OK' : '404 NotFound');
    }
  });

  it('a repeated delivery (S3 is at least once, Lambda retries) gives no second outcome', async () => {
    const sub = freshSubject('again');
    const key = `${root}/${sub}/twice.png`;
    await put(key, pngOfSize(300), 'image/png');
    const event = s3Event(s.bucket, [s3EventKey(key)], 'ObjectCreated:CompleteMultipartUpload');
    await fn.handler(event);
    await fn.handler(event);
    expect(hooksFor(key).map((h) => h.event.type)).toEqual(['upload.accepted']);
  });

  it('counts the quota per subject from the key prefix', async () => {
    const sub = freshSubject('quota');
    const first = `${root}/${sub}/first.png`;
    const second = `${root}/${sub}/second.png`;
    await put(first, pngOfSize(1000), 'image/png');
    await new Promise((r) => setTimeout(r, 1100)); // a later Last-Modified second
    await put(second, pngOfSize(1000), 'image/png');
    // Events may arrive in any order: the object stored first keeps its place.
    await fn.handler(s3Event(s.bucket, [s3EventKey(second), s3EventKey(first)]));
    expect(hooksFor(first).map((h) => h.event.data.reason)).toEqual([null]);
    expect(hooksFor(second).map((h) => h.event.data.reason)).toEqual(['quota_exceeded']);
    expect(await head(second)).toBe('404 NotFound');
  });

  it('ignores removals and keys outside the grant', async () => {
    const before = receiver.received.length;
    const out = await fn.handler({
      Records: [
        ...s3Event(s.bucket, [`${root}/x/gone.png`], 'ObjectRemoved:Delete').Records,
        ...s3Event(s.bucket, ['other/file.png']).Records,
      ],
    });
    expect(out).toEqual({ judged: 0, ignored: 1 });
    expect(receiver.received.length).toBe(before);
  });

  it('the scheduled reconcile event judges objects no event reported', async () => {
    const sub = freshSubject('missed');
    const key = `${root}/${sub}/never reported.txt`;
    await put(key, 'plain text\n', 'text/plain');
    const out = await fn.handler({ keyhole: 'reconcile', sinceMinutes: 5, settleSeconds: 0 });
    expect(out.reconciled).toMatchObject({ complete: true, rejected: 1 });
    expect(hooksFor(key).map((h) => h.event.data.reason)).toEqual(['type_not_allowed']);
    expect(await head(key)).toBe('404 NotFound');
  });
});

describe('the bundle the stack deploys, as the upload-events function', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keyhole-events-bundle-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('_HANDLER=index.uploadEvents builds only that function and judges an S3 event', async () => {
    const bundle = bundleLambda(dir);
    const sub = freshSubject('bundle');
    const key = `${root}/${sub}/from bundle.png`;
    await put(key, 'text', 'image/png');
    const script =
      `const m = await import(${JSON.stringify(bundle.file)});` +
      `const out = await m.uploadEvents(${JSON.stringify(s3Event(s.bucket, [s3EventKey(key)]))});` +
      `let refused = ''; try { await m.handler({}); } catch (e) { refused = e.message; }` +
      `console.log(JSON.stringify({ out, refused }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...env(), _HANDLER: 'index.uploadEvents', PATH: process.env.PATH },
      timeout: 60_000,
    });
    // pino's log lines share stdout; the script's own line is the one with `out`.
    const last = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => 'out' in l);
    expect(last).toEqual({
      out: { judged: 1, ignored: 0 },
      refused: 'this function runs index.uploadEvents (see _HANDLER)',
    });
    expect(await head(key)).toBe('404 NotFound');
    expect(hooksFor(key).map((h) => h.event.data.reason)).toEqual(['type_mismatch']);
  });
});
