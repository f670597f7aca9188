// The local asynchronous path for real (issue 15): RGW itself delivers ObjectCreated notifications
// (prefix-filtered, URL token) to the broker that `npm start` runs, the upload rules run on them and
// one signed webhook goes out per case. Nothing here confirms: the uploads use plain vended
// credentials, as a client that never calls POST /v1/uploads/complete would.
//
// RGW's `rgw enable apis` only changes at a radosgw start, and the developer's stack (default ports)
// must not be restarted, so this runs on a stack instance of its own: state in .local/rgw-events,
// settings in .local/keyhole-events.env, ports 17580/17543/13500/13989 (KEYHOLE_EVENTS_*_PORT move
// them). It is started with `infra/local/start.sh`, the script behind `npm start`, so the wiring under
// test is exactly the shipped one: up.sh enables the API, bootstrap.mjs makes the topic and the bucket
// notification and writes KEYHOLE_NOTIFY_TOKEN, and the broker's config loader mounts the route.
// The instance is stopped afterwards, its data kept (a new cluster took 24 s here; the time to the
// listening broker is printed, not asserted).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerCredentials, createStorage } from '../../client/index.js';
import { s3Outcome } from '../helpers/s3.js';
import { ownerS3, stackFrom } from '../helpers/stack.js';
import { pngOfSize } from '../helpers/uploads.js';
import { newWebhookSecret, WebhookReceiver } from '../helpers/webhook-receiver.js';

const repo = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
const env = process.env;
const instance = {
  KEYHOLE_LOCAL_DIR: `${repo}/.local/rgw-events`,
  KEYHOLE_ENV_FILE: `${repo}/.local/keyhole-events.env`,
  KEYHOLE_RGW_PORT: env.KEYHOLE_EVENTS_RGW_PORT ?? '17580',
  KEYHOLE_RGW_SSL_PORT: env.KEYHOLE_EVENTS_RGW_SSL_PORT ?? '17543',
  KEYHOLE_MON_PORT: env.KEYHOLE_EVENTS_MON_PORT ?? '13500',
  KEYHOLE_MON_V1_PORT: env.KEYHOLE_EVENTS_MON_V1_PORT ?? '13989',
};
const clean = Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('KEYHOLE_') && k !== 'PORT'));
const MiB = 1024 * 1024;
const RULES = { maxBytes: 6 * MiB, contentTypes: ['image/*'], quotaBytes: 8 * MiB };

const secret = newWebhookSecret();
const receiver = new WebhookReceiver(secret);
let broker: ChildProcess | undefined;
let brokerUrl = '';
let output = '';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function down(): void {
  execFileSync('bash', ['-c', 'bash infra/local/down.sh 2>&1'], {
    cwd: repo,
    env: { ...clean, ...instance },
    encoding: 'utf8',
    timeout: 300_000,
  });
}

beforeAll(async () => {
  await receiver.start();
  const port = await freePort();
  brokerUrl = `http://127.0.0.1:${port}`;
  const bucket = env.KEYHOLE_LOCAL_BUCKET ?? 'keyhole-local';
  const started = performance.now();
  broker = spawn('bash', ['infra/local/start.sh'], {
    cwd: repo,
    env: {
      ...clean,
      ...instance,
      PORT: String(port),
      KEYHOLE_LOG_FORMAT: 'json',
      KEYHOLE_GRANTS: JSON.stringify([
        {
          bucket,
          scopes: [{ prefix: 'users/{sub}/', access: ['read', 'write', 'list', 'delete'], uploads: RULES }],
        },
      ]),
      KEYHOLE_EVENTS_WEBHOOK_URL: receiver.url,
      KEYHOLE_EVENTS_WEBHOOK_SECRET: secret,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  broker.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  broker.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const until = Date.now() + 240_000;
  while (!output.includes('keyhole broker listening')) {
    if (broker.exitCode !== null || Date.now() > until) throw new Error(`npm start did not come up:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  console.log(`[stack] events instance and broker up in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}, 300_000);

afterAll(async () => {
  if (broker && broker.exitCode === null) {
    const exited = new Promise((r) => broker!.once('exit', r));
    broker.kill('SIGTERM');
    await exited;
  }
  await receiver.stop();
  down();
}, 300_000);

async function devToken(sub: string): Promise<string> {
  const res = await fetch(`${brokerUrl}/v1/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sub }),
  });
  return ((await res.json()) as { token: string }).token;
}

const storageFor = (sub: string) =>
  createStorage({ credentials: brokerCredentials({ brokerUrl, getToken: () => devToken(sub) }) });

const forKey = (key: string) => receiver.received.filter((r) => r.event.data.key === key);

/** Waits for `key`'s first webhook, then a while longer, so a duplicate would be seen. */
async function webhooksFor(key: string): Promise<typeof receiver.received> {
  const until = Date.now() + 20_000;
  while (forKey(key).length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 1000));
  return forKey(key);
}

describe('RGW bucket notifications into the broker (own stack instance, npm start)', () => {
  const settings = () => parseEnv(readFileSync(instance.KEYHOLE_ENV_FILE, 'utf8'));
  const owner = () => ownerS3(stackFrom(instance.KEYHOLE_ENV_FILE));
  const head = (key: string) =>
    s3Outcome(owner().send(new HeadObjectCommand({ Bucket: stackFrom(instance.KEYHOLE_ENV_FILE).bucket, Key: key })));

  it('the stack wrote the notify token, and the route refuses any other token', async () => {
    expect(settings().KEYHOLE_NOTIFY_TOKEN).toMatch(/^[0-9a-f]{64}$/);
    const res = await fetch(`${brokerUrl}/v1/uploads/notify?token=${'0'.repeat(64)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"Records":[]}',
    });
    expect(res.status).toBe(401);
  });

  it('judges plain uploads: one signed webhook per case, rejected objects gone, keys with " ", "+", "%" and Unicode', async () => {
    const run = Date.now().toString(36);
    const big = { sub: `big-${run}`, key: 'big photo.png', body: pngOfSize(7 * MiB), type: 'image/png' };
    const fake = { sub: `fake-${run}`, key: 'a b+c%2F é 😀.png', body: 'not an image\n', type: 'image/png' };
    const okay = { sub: `ok-${run}`, key: 'me +1 %20 ü.png', body: pngOfSize(2000), type: 'image/png' };
    const first = { sub: `quota-${run}`, key: 'first.png', body: pngOfSize(5 * MiB), type: 'image/png' };
    const over = { sub: `quota-${run}`, key: 'second.png', body: pngOfSize(4 * MiB), type: 'image/png' };
    const full = (c: { sub: string; key: string }) => `users/dev-${c.sub}/${c.key}`;

    // No confirm: the client's upload returns when S3 stored the object; RGW reports it.
    for (const c of [big, fake, okay, first]) {
      await storageFor(c.sub).upload(c.key, c.body, { contentType: c.type });
    }
    expect((await webhooksFor(full(first))).map((r) => r.event.type)).toEqual(['upload.accepted']);
    await storageFor(over.sub).upload(over.key, over.body, { contentType: over.type });

    const expected = [
      [big, 'upload.rejected', 'too_large', 7 * MiB],
      [fake, 'upload.rejected', 'type_mismatch', 13],
      [okay, 'upload.accepted', null, 2000],
      [first, 'upload.accepted', null, 5 * MiB],
      [over, 'upload.rejected', 'quota_exceeded', 4 * MiB],
    ] as const;
    for (const [c, type, reason, size] of expected) {
      const hooks = await webhooksFor(full(c));
      expect(hooks, `${c.key}: exactly one webhook`).toHaveLength(1);
      expect(hooks[0]!.verified).toBe(true);
      expect(hooks[0]!.event).toMatchObject({ type, data: { key: full(c), subject: c.sub, reason, size } });
      expect(await head(full(c))).toBe(type === 'upload.accepted' ? 'OK' : '404 NotFound');
    }
    // The multipart upload (7 MiB, parts of 5 MiB) was reported once, by CompleteMultipartUpload.
    expect(output).not.toContain('uploads.notify_failed');
  });

  it('objects outside the notification prefix are not reported', async () => {
    const stack = stackFrom(instance.KEYHOLE_ENV_FILE);
    const key = `other/${Date.now()}.png`;
    const before = receiver.received.length;
    await owner().send(new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: 'x' }));
    await new Promise((r) => setTimeout(r, 1000));
    expect(receiver.received.length).toBe(before);
    expect(output).not.toContain(key);
  });
});
