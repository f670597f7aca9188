// Acceptance (issue 2, point 1): credentials vended for alice reach users/alice/ and nothing else,
// as enforced by the real RGW on the inline session policy.
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshSubject, s3WithIssued, startBroker, type TestBroker } from '../helpers/broker.js';
import { s3Outcome } from '../helpers/s3.js';
import { ownerS3, stack } from '../helpers/stack.js';

describe('prefix isolation on RGW', () => {
  let broker: TestBroker;
  const alice = freshSubject('alice');
  const bob = freshSubject('bob');
  const bucket = stack().bucket;
  let aliceS3: ReturnType<typeof s3WithIssued>;

  beforeAll(async () => {
    broker = await startBroker();
    const res = await broker.credentials(await broker.token(alice));
    expect(res.status).toBe(200);
    expect(res.body.prefix).toBe(`users/dev-${alice}/`);
    aliceS3 = s3WithIssued(res.body);
    // The targets exist, written by the bucket owner: RGW answers 404 for a missing key before it
    // evaluates the policy (AWS answers 403), so only existing objects test the access check.
    for (const Key of [`users/dev-${bob}/secret.txt`, `root-${bob}.txt`, `users/dev-${alice}2/x.txt`]) {
      await ownerS3().send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'theirs' }));
    }
  });
  afterAll(async () => {
    for (const Key of [`users/dev-${bob}/secret.txt`, `root-${bob}.txt`, `users/dev-${alice}2/x.txt`]) {
      await ownerS3().send(new DeleteObjectCommand({ Bucket: bucket, Key }));
    }
    await broker.close();
  });

  it('alice can write, read, list and delete under her own prefix', async () => {
    const Key = `users/dev-${alice}/notes/hello.txt`;
    expect(await s3Outcome(aliceS3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'hi alice' })))).toBe('OK');
    const got = await aliceS3.send(new GetObjectCommand({ Bucket: bucket, Key }));
    expect(await got.Body!.transformToString()).toBe('hi alice');
    const listed = await aliceS3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `users/dev-${alice}/` }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual([Key]);
    expect(await s3Outcome(aliceS3.send(new DeleteObjectCommand({ Bucket: bucket, Key })))).toBe('OK');
    const after = await aliceS3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `users/dev-${alice}/` }));
    expect(after.KeyCount).toBe(0);
  });

  it.each([
    ['bob prefix', () => `users/dev-${bob}/secret.txt`],
    ['bucket root', () => `root-${bob}.txt`],
    ['sibling prefix that extends alice', () => `users/dev-${alice}2/x.txt`],
  ])('alice cannot read, write or delete under %s', async (_label, key) => {
    const Key = key();
    expect(await s3Outcome(aliceS3.send(new GetObjectCommand({ Bucket: bucket, Key })))).toBe('403 AccessDenied');
    expect(await s3Outcome(aliceS3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'x' })))).toBe(
      '403 AccessDenied',
    );
    expect(await s3Outcome(aliceS3.send(new DeleteObjectCommand({ Bucket: bucket, Key })))).toBe('403 AccessDenied');
  });

  it('the owner still sees the others’ objects unchanged after alice’s attempts', async () => {
    for (const Key of [`users/dev-${bob}/secret.txt`, `root-${bob}.txt`, `users/dev-${alice}2/x.txt`]) {
      const got = await ownerS3().send(new GetObjectCommand({ Bucket: bucket, Key }));
      expect(await got.Body!.transformToString()).toBe('theirs');
    }
  });

  it.each([
    ['bob prefix', `users/dev-${bob}/`],
    ['users/', 'users/'],
    ['empty prefix', ''],
    ['alice without trailing slash', `users/dev-${alice}`],
  ])('alice cannot list with %s', async (_label, Prefix) => {
    expect(await s3Outcome(aliceS3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix })))).toBe(
      '403 AccessDenied',
    );
  });

  it('alice cannot list with no prefix parameter at all', async () => {
    expect(await s3Outcome(aliceS3.send(new ListObjectsV2Command({ Bucket: bucket })))).toBe('403 AccessDenied');
  });
});
