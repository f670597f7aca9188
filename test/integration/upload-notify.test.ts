// The local asynchronous path's receiver (issue 15, point 2, in part): RGW bucket-notification
// records POSTed to /v1/uploads/notify run the same handler as the confirm. The records are shaped
// exactly as RGW 16 sends them (../shared/notes/rgw-hardening-and-events.md); the objects are real,
// on the running RGW. RGW's own delivery to this route is tested on a stack instance of its own
// (test/stack/notifications.test.ts): the shared stack may predate `notifications` in its
// `rgw enable apis`, and this suite never restarts it.
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UploadEvent } from '../../client/protocol/uploads.js';
import { devPrefix, freshSubject, startBroker, type TestBroker } from '../helpers/broker.js';
import { s3Outcome } from '../helpers/s3.js';
import { ownerS3, stack } from '../helpers/stack.js';
import { pngOfSize } from '../helpers/uploads.js';

const s3 = ownerS3();
const bucket = stack().bucket;
const token = randomBytes(24).toString('hex');
const events: UploadEvent[] = [];
let raw: TestBroker;
let encoded: TestBroker;

const grants = [
  {
    bucket,
    scopes: [
      {
        prefix: 'users/{sub}/',
        access: ['read', 'write', 'list', 'delete'] as const,
        uploads: { maxBytes: 1024, contentTypes: ['image/*'] },
      },
    ],
  },
];

beforeAll(async () => {
  raw = await startBroker({
    grants: grants as never,
    uploads: { s3, notifications: { token } },
    onUpload: (e) => void events.push(e),
  });
  encoded = await startBroker({
    grants: grants as never,
    uploads: { s3, notifications: { token, keyEncoding: 'url' } },
    onUpload: (e) => void events.push(e),
  });
});
afterAll(async () => {
  await raw?.close();
  await encoded?.close();
});

/** One record as RGW 16.2.15 sends it (sync topic), for `key` as written in the record. */
function record(eventName: string, key: string, size: number) {
  return {
    eventVersion: '2.2',
    eventSource: 'ceph:s3',
    awsRegion: '',
    eventTime: new Date().toISOString(),
    eventName,
    userIdentity: { principalId: 'keyhole-broker' },
    requestParameters: { sourceIPAddress: '' },
    responseElements: { 'x-amz-request-id': 'req', 'x-amz-id-2': 'id2' },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'keyhole-created',
      bucket: {
        name: bucket,
        ownerIdentity: { principalId: 'keyhole-broker' },
        arn: `arn:aws:s3:::${bucket}`,
        id: 'b',
      },
      object: { key, size, eTag: 'x', versionId: '', sequencer: 'F6D70D6B5A6F011B', metadata: [], tags: [] },
    },
    eventId: `${Date.now()}.1`,
    opaqueData: '',
  };
}

async function notify(broker: TestBroker, body: unknown, t = token): Promise<number> {
  const res = await fetch(`${broker.url}/v1/uploads/notify?token=${t}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
}

async function eventsFor(key: string, n: number): Promise<UploadEvent[]> {
  const until = Date.now() + 5000;
  while (events.filter((e) => e.data.key === key).length < n && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 200));
  return events.filter((e) => e.data.key === key);
}

const exists = (key: string) => s3Outcome(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));

describe('POST /v1/uploads/notify', () => {
  it('judges raw keys with spaces, "+", "%" and Unicode, takes the subject from the prefix', async () => {
    const sub = freshSubject('n');
    const key = `${devPrefix(sub)}a b+c%2F é.png`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'text', ContentType: 'image/png' }));
    expect(await notify(raw, { Records: [record('ObjectCreated:Put', key, 4)] })).toBe(204);
    expect(await eventsFor(key, 1)).toEqual([
      expect.objectContaining({
        type: 'upload.rejected',
        data: expect.objectContaining({ key, subject: sub, reason: 'type_mismatch', size: 4 }),
      }),
    ]);
    expect(await exists(key)).toBe('404 NotFound');
  });

  it('decodes URL-encoded keys (AWS) when configured so', async () => {
    const sub = freshSubject('u');
    const key = `${devPrefix(sub)}big one+é.png`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: pngOfSize(2000), ContentType: 'image/png' }));
    const sent = encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');
    expect(await notify(encoded, { Records: [record('ObjectCreated:CompleteMultipartUpload', sent, 2000)] })).toBe(204);
    expect((await eventsFor(key, 1)).map((e) => e.data.reason)).toEqual(['too_large']);
    expect(await exists(key)).toBe('404 NotFound');
  });

  it('a confirm and a notification of one object version give one outcome', async () => {
    const sub = freshSubject('both');
    const key = `${devPrefix(sub)}ok.png`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: pngOfSize(100), ContentType: 'image/png' }));
    const confirm = fetch(`${raw.url}/v1/uploads/complete`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await raw.token(sub)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ key: 'ok.png' }),
    });
    await notify(raw, { Records: [record('ObjectCreated:Put', key, 100)] });
    expect(((await (await confirm).json()) as { status: string }).status).toBe('accepted');
    await notify(raw, { Records: [record('ObjectCreated:Put', key, 100)] });
    expect((await eventsFor(key, 1)).map((e) => e.type)).toEqual(['upload.accepted']);
    expect(await exists(key)).toBe('OK');
  });

  it('ignores removals and keys outside every grant, and refuses a wrong token', async () => {
    const before = events.length;
    expect(await notify(raw, { Records: [record('ObjectRemoved:Delete', 'users/dev-x/y.png', 0)] })).toBe(204);
    expect(await notify(raw, { Records: [record('ObjectCreated:Put', 'other/y.png', 1)] })).toBe(204);
    expect(await notify(raw, { Records: [] }, 'wrong-token')).toBe(401);
    await new Promise((r) => setTimeout(r, 300));
    expect(events.length).toBe(before);
    expect(raw.logs.filter((l) => l.event === 'uploads.notify_ignored').map((l) => l.key)).toEqual(['other/y.png']);
  });
});
