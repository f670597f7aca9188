// POST /v1/uploads/complete against the real RGW, through a real broker on port 0 and the client's
// `upload(…, { confirm: true })` (issue 15, point 2): each broken rule is rejected and the object is
// gone (HEAD 404), a valid PNG is accepted, a repeated confirm gives the same verdict, and a key
// outside the caller's grant or a missing one is refused with an exact code and message.
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerCredentials, createStorage, UploadRejectedError, verdictInWords } from '../../client/index.js';
import { devPrefix, freshSubject, startBroker, type TestBroker } from '../helpers/broker.js';
import { s3Outcome } from '../helpers/s3.js';
import { ownerS3, stack } from '../helpers/stack.js';
import { pngOfSize } from '../helpers/uploads.js';

const s3 = ownerS3();
const bucket = stack().bucket;
let broker: TestBroker;

beforeAll(async () => {
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
    uploads: { s3 },
  });
});
afterAll(() => broker?.close());

function storageFor(sub: string) {
  const credentials = brokerCredentials({ brokerUrl: broker.url, getToken: () => broker.token(sub) });
  return createStorage({ credentials });
}

async function confirm(sub: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${broker.url}/v1/uploads/complete`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await broker.token(sub)}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const exists = (key: string) => s3Outcome(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));

describe('POST /v1/uploads/complete', () => {
  it('accepts a valid PNG: the verdict carries the real type, size and ETag', async () => {
    const sub = freshSubject('ok');
    const out = await storageFor(sub).upload('me.png', pngOfSize(300), { contentType: 'image/png', confirm: true });
    expect(out.verdict).toEqual({
      status: 'accepted',
      key: 'me.png',
      size: 300,
      contentType: 'image/png',
      etag: out.etag!.replace(/"/g, ''),
    });
    expect(await exists(`${devPrefix(sub)}me.png`)).toBe('OK');
  });

  it('rejects an oversized file (too_large) and removes it', async () => {
    const sub = freshSubject('big');
    const out = await storageFor(sub).upload('big.png', pngOfSize(2000), { contentType: 'image/png', confirm: true });
    expect(out.verdict).toMatchObject({ status: 'rejected', reason: 'too_large', size: 2000 });
    expect(out.verdict.limit).toBe(1024);
    expect(verdictInWords(out.verdict)).toBe('rejected: larger than 1 KiB');
    expect(await exists(`${devPrefix(sub)}big.png`)).toBe('404 NotFound');
  });

  it('rejects a text file named .png and declared image/png (type_mismatch) and removes it', async () => {
    const sub = freshSubject('fake');
    const out = await storageFor(sub).upload('fake.png', 'just some text\n', {
      contentType: 'image/png',
      confirm: true,
    });
    expect(out.verdict).toEqual({
      status: 'rejected',
      reason: 'type_mismatch',
      key: 'fake.png',
      size: 15,
      contentType: 'image/png',
      etag: out.etag!.replace(/"/g, ''),
      // The rule it broke, for the words "rejected: not an image".
      allowed: ['image/*'],
    });
    expect(verdictInWords(out.verdict)).toBe('rejected: not an image');
    expect(await exists(`${devPrefix(sub)}fake.png`)).toBe('404 NotFound');
  });

  it('rejects the upload that crosses the quota (quota_exceeded) and keeps the first', async () => {
    const sub = freshSubject('quota');
    const storage = storageFor(sub);
    const first = await storage.upload('1.png', pngOfSize(1000), { contentType: 'image/png', confirm: true });
    expect(first.verdict.status).toBe('accepted');
    const second = await storage.upload('2.png', pngOfSize(1000), { contentType: 'image/png', confirm: true });
    expect(second.verdict).toMatchObject({ status: 'rejected', reason: 'quota_exceeded' });
    expect(verdictInWords(second.verdict)).toBe('rejected: over your storage quota of 1.5 KiB');
    expect(await exists(`${devPrefix(sub)}2.png`)).toBe('404 NotFound');
    expect(await exists(`${devPrefix(sub)}1.png`)).toBe('OK');
  });

  it('answers a repeated confirm with the same verdict, also once the rejected object is gone', async () => {
    const sub = freshSubject('again');
    const storage = storageFor(sub);
    await storage.upload('x.png', 'text', { contentType: 'image/png' });
    const verdicts = await Promise.all([1, 2, 3].map(() => confirm(sub, { key: 'x.png' })));
    const later = await confirm(sub, { key: 'x.png' });
    for (const v of [...verdicts, later]) {
      expect(v).toEqual({
        status: 200,
        body: expect.objectContaining({ status: 'rejected', reason: 'type_mismatch', key: 'x.png' }),
      });
    }
    expect(broker.logs.filter((l) => l.event === 'uploads.completed' && l.sub === sub)).toHaveLength(1);
  });

  it('refuses a key outside the caller’s grant with 403 key_not_granted', async () => {
    const alice = freshSubject('alice');
    const bob = freshSubject('bob');
    await storageFor(bob).upload('b.png', pngOfSize(100), { contentType: 'image/png' });
    expect(await confirm(alice, { key: 'b.png', prefix: devPrefix(bob) })).toEqual({
      status: 403,
      body: {
        error: { code: 'key_not_granted', message: `your grant does not let you write under "${devPrefix(bob)}"` },
      },
    });
    expect(await confirm(alice, { key: `../dev-${bob}/b.png` })).toEqual({
      status: 403,
      body: {
        error: {
          code: 'key_not_granted',
          message: 'key must not contain "." or ".." segments: it would leave your prefix',
        },
      },
    });
    expect(await exists(`${devPrefix(bob)}b.png`)).toBe('OK');
  });

  it('answers 404 object_not_found for a key with no object', async () => {
    expect(await confirm(freshSubject('none'), { key: 'never-uploaded.png' })).toEqual({
      status: 404,
      body: {
        error: {
          code: 'object_not_found',
          message: 'no object "never-uploaded.png" under your prefix: upload it first',
        },
      },
    });
  });

  it('answers 400 for a malformed body or key, and 401 without a token', async () => {
    const sub = freshSubject('bad');
    expect(await confirm(sub, { name: 'x' })).toEqual({
      status: 400,
      body: { error: { code: 'invalid_body', message: 'key: Invalid input: expected string, received undefined' } },
    });
    expect(await confirm(sub, { key: '/abs.png' })).toEqual({
      status: 400,
      body: { error: { code: 'invalid_key', message: 'key must be relative to your prefix: remove the leading "/"' } },
    });
    const res = await fetch(`${broker.url}/v1/uploads/complete`, { method: 'POST' });
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).error.code).toBe('missing_token');
  });

  it('lets the client refuse before sending when it knows the rules', async () => {
    const sub = freshSubject('pre');
    const storage = storageFor(sub);
    const expect_ = { maxBytes: 1024, contentTypes: ['image/*'] };
    await expect(
      storage.upload('big.png', pngOfSize(2000), { contentType: 'image/png', expect: expect_ }),
    ).rejects.toEqual(new UploadRejectedError('too_large', '"big.png" is 2000 bytes, more than the 1024 allowed'));
    await expect(storage.upload('a.txt', 'hi', { contentType: 'text/plain', expect: expect_ })).rejects.toMatchObject({
      code: 'upload_rejected',
      reason: 'type_not_allowed',
      message: '"a.txt" is text/plain, not one of image/*',
    });
    expect(await exists(`${devPrefix(sub)}big.png`)).toBe('404 NotFound');
  });
});
