// SECURITY.md claims about lifetime, revocation and upload size, each shown here.
import { randomUUID } from 'node:crypto';
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshSubject, s3WithIssued, startBroker, type TestBroker } from '../helpers/broker.js';
import { ownerS3, stack } from '../helpers/stack.js';

const bucket = stack().bucket;

describe('credential lifetime', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(() => broker.close());

  it('credentials expire after the configured lifetime (default 900 s), as RGW reports it', async () => {
    const before = Date.now();
    const res = await broker.credentials(await broker.token(freshSubject()));
    expect(res.status).toBe(200);
    const lifetime = (Date.parse(res.body.credentials.expiration) - before) / 1000;
    expect(lifetime).toBeGreaterThan(900 - 60);
    expect(lifetime).toBeLessThanOrEqual(900 + 5);
  });
});

// Revocation on the AWS-faithful simulator needs no RGW: test/unit/revocation-simulator.test.ts.

describe('upload size', () => {
  const keys: string[] = [];
  afterAll(async () => {
    for (const Key of keys) await ownerS3().send(new DeleteObjectCommand({ Bucket: bucket, Key }));
  });

  it('vended credentials carry no size limit: an 8 MiB object goes through (nothing in IAM can stop it)', async () => {
    const broker = await startBroker();
    try {
      const res = await broker.credentials(await broker.token(freshSubject('big')), { access: ['write'] });
      const Key = `${res.body.prefix}big-${randomUUID()}.bin`;
      keys.push(Key);
      await s3WithIssued(res.body).send(
        new PutObjectCommand({ Bucket: bucket, Key, Body: Buffer.alloc(8 * 1024 * 1024, 1) }),
      );
      const head = await ownerS3().send(new HeadObjectCommand({ Bucket: bucket, Key }));
      expect(head.ContentLength).toBe(8 * 1024 * 1024);
    } finally {
      await broker.close();
    }
  });

  it('by contrast, a presigned POST with content-length-range is enforced by the store (EntityTooLarge)', async () => {
    const Key = `users/${freshSubject('post')}/limited.bin`;
    keys.push(Key);
    const post = await createPresignedPost(ownerS3(), {
      Bucket: bucket,
      Key,
      Conditions: [['content-length-range', 0, 1024]],
      Expires: 300,
    });
    const send = async (size: number) => {
      const form = new FormData();
      for (const [k, v] of Object.entries(post.fields)) form.append(k, v);
      form.append('file', new Blob([Buffer.alloc(size, 2)]));
      const res = await fetch(post.url, { method: 'POST', body: form });
      return { status: res.status, body: await res.text() };
    };
    const tooBig = await send(2048);
    expect(tooBig.status).toBe(400);
    expect(tooBig.body).toContain('<Code>EntityTooLarge</Code>');
    expect((await send(512)).status).toBe(204);
  });
});
