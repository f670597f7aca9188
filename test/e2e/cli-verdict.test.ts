// Issue 15 in the `keyhole` command: `upload --confirm` shows the broker's verdict in words and fails
// for a rejected file; `keyhole reconcile` (operators, the broker's settings) judges uploads no event
// reported, bounded, with one signed webhook per outcome. Real processes, the local RGW.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devPrefix, freshSubject, startBroker, type TestBroker } from '../helpers/broker.js';
import { runKeyhole } from '../helpers/cli.js';
import { s3Outcome } from '../helpers/s3.js';
import { ENV_FILE, ownerS3, stack } from '../helpers/stack.js';
import { pngOfSize } from '../helpers/uploads.js';
import { newWebhookSecret, WebhookReceiver } from '../helpers/webhook-receiver.js';

const s3 = ownerS3();
const bucket = stack().bucket;
const secret = newWebhookSecret();
const receiver = new WebhookReceiver(secret);
let broker: TestBroker;
let dir: string;
const head = (key: string) => s3Outcome(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));

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
            uploads: { maxBytes: 10 * 1024 * 1024, contentTypes: ['image/*'] },
          },
        ],
      },
    ],
    uploads: { s3 },
  });
  dir = mkdtempSync(join(tmpdir(), 'keyhole-verdict-'));
  writeFileSync(join(dir, 'big.png'), pngOfSize(10 * 1024 * 1024 + 1));
  writeFileSync(join(dir, 'notes.png'), 'not an image\n');
  writeFileSync(join(dir, 'me.png'), pngOfSize(500));
});
afterAll(async () => {
  await broker?.close();
  await receiver.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('keyhole upload --confirm', () => {
  const upload = (sub: string, ...args: string[]) =>
    runKeyhole(dir, ['upload', ...args, '--confirm', '--broker', broker.url, '--dev-login', sub, '-q']);

  it('accepted: says so and exits 0', async () => {
    const sub = freshSubject('ok');
    const out = await upload(sub, 'me.png');
    expect(out.stderr).toBe('');
    expect(out.stdout).toBe(`uploaded me.png -> ${devPrefix(sub)}me.png (500 B): accepted\n`);
    expect(out.code).toBe(0);
  });

  it('rejected: "larger than 10 MiB", "not an image", exit 1, and the objects are gone', async () => {
    const sub = freshSubject('bad');
    const out = await upload(sub, 'big.png', 'notes.png', '--to', 'pics/', '--concurrency', '1');
    expect(out.stdout).toContain(`big.png -> ${devPrefix(sub)}pics/big.png (10 MiB): rejected: larger than 10 MiB\n`);
    expect(out.stdout).toContain(`notes.png -> ${devPrefix(sub)}pics/notes.png (13 B): rejected: not an image\n`);
    expect(out.stderr).toBe(
      'keyhole: the broker rejected 2 of 2 files, big.png: larger than 10 MiB; notes.png: not an image\n',
    );
    expect(out.code).toBe(1);
    expect(await head(`${devPrefix(sub)}pics/big.png`)).toBe('404 NotFound');
    expect(await head(`${devPrefix(sub)}pics/notes.png`)).toBe('404 NotFound');
  });

  it('--json carries the verdict and its words', async () => {
    const sub = freshSubject('json');
    const out = await upload(sub, 'notes.png', '--json');
    expect(out.code).toBe(1);
    const doc = JSON.parse(out.stdout);
    expect(doc.error).toMatchObject({ code: 'upload_rejected', exitCode: 1 });
    expect(doc.uploaded[0].verdict).toMatchObject({
      status: 'rejected',
      // The CLI declares no type; the bytes are text.
      reason: 'type_not_allowed',
      allowed: ['image/*'],
      words: 'rejected: not an image',
    });
  });

  it('--confirm is for upload only', async () => {
    const out = await runKeyhole(dir, ['ls', '--confirm', '--broker', broker.url, '--dev-login', 'x']);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('--confirm applies to upload only');
  });
});

describe('keyhole reconcile', () => {
  // A grant prefix of this file's own: reconcile judges (and deletes) what breaks the rules under it.
  const root = `reconcile-${Date.now().toString(36)}`;
  const env = {
    KEYHOLE_ENV_FILE: ENV_FILE,
    KEYHOLE_DEV_LOGIN: '1',
    KEYHOLE_PREFIX_TEMPLATE: `${root}/{sub}/`,
    KEYHOLE_UPLOAD_MAX_BYTES: '1024',
    KEYHOLE_UPLOAD_CONTENT_TYPES: 'image/*',
    KEYHOLE_EVENTS_WEBHOOK_URL: '',
    KEYHOLE_EVENTS_WEBHOOK_SECRET: secret,
  };
  const put = (key: string, body: string | Buffer, type: string) =>
    s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: type }));

  it('judges what no event reported: one signed webhook per outcome, rejected objects gone', async () => {
    const keys = {
      text: `${root}/dev-alice/notes.png`,
      big: `${root}/dev-bob/huge photo+1.png`,
      ok: `${root}/dev-alice/ok é.png`,
    };
    await put(keys.text, 'plain text\n', 'image/png');
    await put(keys.big, pngOfSize(4000), 'image/png');
    await put(keys.ok, pngOfSize(100), 'image/png');
    const out = await runKeyhole(dir, ['reconcile', '--since', '10m', '--settle', '0', '--json'], {
      ...env,
      KEYHOLE_EVENTS_WEBHOOK_URL: receiver.url,
    });
    expect(out.code, out.stderr).toBe(0);
    const summary = JSON.parse(out.stdout);
    expect(summary).toMatchObject({ judged: 3, accepted: 1, rejected: 2, complete: true, pages: 1 });
    expect(summary.webhook).toMatchObject({ delivered: 3, failed: 0, dropped: 0 });
    const hooks = receiver.received.filter((r) => r.event.data.key.startsWith(`${root}/`));
    expect(hooks.every((h) => h.verified)).toBe(true);
    expect(hooks.map((h) => [h.event.data.key, h.event.data.subject, h.event.data.reason]).sort()).toEqual(
      [
        [keys.big, 'bob', 'too_large'],
        [keys.ok, 'alice', null],
        [keys.text, 'alice', 'type_mismatch'],
      ].sort(),
    );
    expect(await head(keys.text)).toBe('404 NotFound');
    expect(await head(keys.big)).toBe('404 NotFound');
    expect(await head(keys.ok)).toBe('OK');

    // Again: the accepted object keeps its verdict, with the same webhook-id (receivers de-duplicate).
    const again = await runKeyhole(dir, ['reconcile', '--since', '10m', '--settle', '0', '--json'], {
      ...env,
      KEYHOLE_EVENTS_WEBHOOK_URL: receiver.url,
    });
    expect(JSON.parse(again.stdout)).toMatchObject({ judged: 1, accepted: 1, rejected: 0 });
    const okHooks = receiver.received.filter((r) => r.event.data.key === keys.ok);
    expect(okHooks).toHaveLength(2);
    expect(okHooks[1]!.headers['webhook-id']).toBe(okHooks[0]!.headers['webhook-id']);
  });

  it('is bounded: --max-objects stops the listing, says where, and exits 1', async () => {
    await put(`${root}/dev-carol/a.png`, pngOfSize(100), 'image/png');
    await put(`${root}/dev-carol/b.png`, pngOfSize(100), 'image/png');
    const out = await runKeyhole(dir, ['reconcile', '--since', '10m', '--settle', '0', '--max-objects', '1'], {
      KEYHOLE_ENV_FILE: ENV_FILE,
      KEYHOLE_DEV_LOGIN: '1',
      KEYHOLE_PREFIX_TEMPLATE: `${root}/{sub}/`,
      KEYHOLE_UPLOAD_MAX_BYTES: '1024',
    });
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/^reconciled: listed 1 objects in 1 requests; judged [01] /m);
    expect(out.stdout).toContain('the listing stopped at --max-objects after');
  });

  it('refuses bad options and settings by name', async () => {
    const bad = await runKeyhole(dir, ['reconcile', '--since', 'yesterday'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      'keyhole reconcile: --since must be a duration such as 24h or an ISO time (got "yesterday")\n',
    );
    const noSettings = await runKeyhole(dir, ['reconcile'], {
      KEYHOLE_ENV_FILE: ENV_FILE,
      KEYHOLE_UPLOAD_MAX_BYTES: 'x',
    });
    expect(noSettings.code).toBe(2);
    expect(noSettings.stderr).toContain('keyhole reconcile: invalid configuration: KEYHOLE_UPLOAD_MAX_BYTES');
  });
});
