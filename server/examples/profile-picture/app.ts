// The "profile picture" loop of README "After the upload", as one runnable program against the
// local stack: `npm run example:profile-picture` (after `npm run local:up`).
//   1. your app: a user record { avatarKey } and a webhook endpoint that verifies Standard Webhooks
//      signatures and, on `upload.accepted`, points the record at the new picture (idempotently,
//      keyed by `webhook-id`);
//   2. the broker: a grant whose scope has upload rules (an image, at most 10 MiB) and the webhook;
//   3. the page: uploads with vended credentials, asks for the verdict (`confirm: true`) and shows it
//      in words; the broker removes what breaks the rules.
// Each object gets a key of its own, so a rejected upload never takes the current picture with it.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { parseEnv } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { Webhook } from 'standardwebhooks';
import { brokerCredentials, createStorage, verdictInWords } from '../../../client/index.js';
import { createBroker, createLogger, createStsVendor, type UploadEvent } from '../../index.js';

const say = (line: string) => process.stdout.write(`${line}\n`);
const settingsFile = process.env.KEYHOLE_ENV_FILE ?? new URL('../../../.local/keyhole.env', import.meta.url).pathname;
const stack = parseEnv(readFileSync(settingsFile, 'utf8'));
const credentials = {
  accessKeyId: stack.KEYHOLE_BROKER_ACCESS_KEY_ID!,
  secretAccessKey: stack.KEYHOLE_BROKER_SECRET_ACCESS_KEY!,
};
const region = stack.AWS_REGION!;

// --- 1. Your app: its user records and its webhook endpoint. ---
const secret = `whsec_${randomBytes(32).toString('base64')}`;
const users = new Map<string, { avatarKey: string | null; lastRejection: string | null }>();
const seen = new Set<string>();
let changed: () => void = () => {};
const app = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let event: UploadEvent;
    try {
      // Throws unless the signature, made with the shared secret, matches (and the timestamp is recent).
      event = new Webhook(secret).verify(Buffer.concat(chunks).toString('utf8'), req.headers as never) as UploadEvent;
    } catch {
      res.writeHead(401).end();
      return;
    }
    const id = req.headers['webhook-id'] as string;
    if (!seen.has(id)) {
      // At least once: a repeat carries the same webhook-id and changes nothing.
      seen.add(id);
      const user = users.get(event.data.subject) ?? { avatarKey: null, lastRejection: null };
      if (event.type === 'upload.accepted') user.avatarKey = event.data.key;
      else user.lastRejection = `${event.data.key}: ${event.data.reason}`;
      users.set(event.data.subject, user);
      changed();
    }
    res.writeHead(204).end();
  });
});
await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
const webhookUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}/hooks/keyhole`;

// --- 2. The broker: upload rules on the users' scope, and the webhook. ---
const broker = createBroker({
  devLogin: true,
  region,
  s3Endpoint: stack.KEYHOLE_S3_ENDPOINT!,
  grants: [
    {
      bucket: stack.KEYHOLE_BUCKET!,
      scopes: [
        {
          prefix: 'users/{sub}/',
          access: ['read', 'write', 'list', 'delete'],
          uploads: { maxBytes: 10 * 1024 * 1024, contentTypes: ['image/*'] },
        },
      ],
    },
  ],
  vendor: createStsVendor({
    roleArn: stack.KEYHOLE_ROLE_ARN!,
    region,
    endpoint: stack.KEYHOLE_STS_ENDPOINT!,
    credentials,
  }),
  bucketCheck: 'accept-risk',
  uploads: {
    s3: new S3Client({ region, endpoint: stack.KEYHOLE_S3_ENDPOINT!, forcePathStyle: true, credentials }),
    webhook: { url: webhookUrl, secret },
  },
  logger: createLogger('error'),
});
const brokerServer = broker.listen(0, '127.0.0.1');
await new Promise((resolve) => brokerServer.once('listening', resolve));
const brokerUrl = `http://127.0.0.1:${(brokerServer.address() as AddressInfo).port}`;

// --- 3. The page: one user uploads a picture, then something that is not one. ---
const user = process.env.PROFILE_USER ?? `alice-${randomBytes(3).toString('hex')}`;
const storage = createStorage({
  credentials: brokerCredentials({
    brokerUrl,
    getToken: async () => {
      const res = await fetch(`${brokerUrl}/v1/dev/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sub: user }),
      });
      return ((await res.json()) as { token: string }).token;
    },
  }),
});

/** Waits until the app's record for `user` changed `n` times in all. */
let changes = 0;
async function appUpdated(n: number): Promise<void> {
  while (changes < n) {
    await new Promise<void>((resolve) => {
      changed = () => {
        changes++;
        resolve();
      };
    });
  }
}

const png = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a0f5c1bd0000000049454e44ae426082',
  'hex',
);
const tries: [string, Buffer | string, string][] = [
  ['a 1×1 PNG', png, 'image/png'],
  ['a text file named .png', 'this is not a picture\n', 'image/png'],
  ['an 11 MiB PNG', Buffer.concat([png, Buffer.alloc(11 * 1024 * 1024)]), 'image/png'],
];
for (const [i, [what, body, contentType]] of tries.entries()) {
  const out = await storage.upload(`avatars/${Date.now()}-${i}.png`, body, { contentType, confirm: true });
  say(`page: uploaded ${what}: ${verdictInWords(out.verdict)}`);
  await appUpdated(i + 1);
  const record = users.get(user)!;
  say(
    `app: ${user}.avatarKey = ${record.avatarKey}${record.lastRejection ? ` (last rejected: ${record.lastRejection})` : ''}`,
  );
}

brokerServer.close();
app.close();
