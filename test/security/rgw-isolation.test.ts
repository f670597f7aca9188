// Issue 3, section 3: the nastiest subjects get real credentials through the broker, then try
// another user's objects and the bucket root on the running RGW. Every attempt must be denied by
// RGW (403) or the subject refused by the broker (4xx) before STS is called.
import { randomUUID } from 'node:crypto';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamError } from '../../server/errors.js';
import { encodeSegment } from '../../server/policy/subject.js';
import { sessionNameFor } from '../../server/policy/session-name.js';
import { freshSubject, s3WithIssued, startBroker, type TestBroker } from '../helpers/broker.js';
import { s3Outcome } from '../helpers/s3.js';
import { ownerS3, stack, stackVendor } from '../helpers/stack.js';

const bucket = stack().bucket;
const victim = freshSubject('victim');
const victimPrefix = `users/dev-${victim}/`;
const victimKey = `${victimPrefix}secret.txt`;
const rootKey = `root-${victim}.txt`;
const siblingKey = `users/dev-${victim}-sibling/x.txt`;

type Expect = 'issued' | 'unsupported_subject' | 'grant_too_large';
// The nastiest subjects from the property tests, relative to the victim where that makes them nastier.
const TABLE: [string, string, Expect][] = [
  ['extension "victim2"', `${victim}2`, 'issued'],
  ['nested "victim/x"', `${victim}/x`, 'issued'],
  ['trailing slash "victim/"', `${victim}/`, 'issued'],
  ['pre-encoded slash "victim%2F"', `${victim}%2F`, 'issued'],
  ['truncation', victim.slice(0, -1), 'issued'],
  ['upper case', victim.toUpperCase(), 'issued'],
  ['dot-dot traversal "../victim"', `../${victim}`, 'issued'],
  ['"victim/.."', `${victim}/..`, 'issued'],
  ['wildcard "*"', '*', 'issued'],
  ['wildcard "?"', '?', 'issued'],
  ['wildcard "victim*"', `${victim}*`, 'issued'],
  ['"$"', '$', 'issued'],
  ['policy variable "${aws:username}"', '${aws:username}', 'issued'],
  ['escape "${*}"', '${*}', 'issued'],
  ['"."', '.', 'issued'],
  ['".."', '..', 'issued'],
  ['"users"', 'users', 'issued'],
  ['"%"', '%', 'issued'],
  ['colon (Cognito-style id)', `us-east-1:${randomUUID()}`, 'issued'],
  ['non-Latin-1 "é中😀"', 'é中😀', 'issued'],
  ['combining accent', `${victim}\u0301`, 'issued'],
  ['128 chars', 'x'.repeat(128), 'issued'],
  ['whitespace only', ' \t ', 'unsupported_subject'],
  ['NUL', `${victim}\u0000`, 'unsupported_subject'],
  ['newline', `${victim}\n`, 'unsupported_subject'],
  ['line separator U+2028', `a\u2028b`, 'unsupported_subject'],
  ['129 chars', 'x'.repeat(129), 'unsupported_subject'],
  ['1024 chars', '*'.repeat(1024), 'unsupported_subject'],
  ['128 CJK chars (policy > 2048)', '中'.repeat(128), 'grant_too_large'],
];

describe('nasty subjects on the real RGW', () => {
  let broker: TestBroker;

  beforeAll(async () => {
    broker = await startBroker();
    // RGW answers 404 for a missing key before it checks the policy, so the targets must exist.
    for (const Key of [victimKey, rootKey, siblingKey]) {
      await ownerS3().send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'victim data' }));
    }
  });
  afterAll(async () => {
    for (const Key of [victimKey, rootKey, siblingKey]) {
      await ownerS3().send(new DeleteObjectCommand({ Bucket: bucket, Key }));
    }
    await broker.close();
  });

  it.each(TABLE)('%s: denied or refused everywhere outside its own prefix', async (_label, sub, expected) => {
    const stsBefore = broker.vendor.upstreamCalls();
    const res = await broker.credentials(await broker.token(sub));
    if (expected !== 'issued') {
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe(expected);
      expect(broker.vendor.upstreamCalls()).toBe(stsBefore);
      const audit = broker.logs.filter((l) => l.event === 'credentials.refused' && l.sub === sub);
      expect(audit.map((l) => l.code)).toEqual([expected]);
      return;
    }
    expect(res.status).toBe(200);
    const prefix = `users/dev-${encodeSegment(sub, 'sub')}/`;
    expect(res.body.prefix).toBe(prefix);
    expect(prefix.startsWith(victimPrefix) || victimPrefix.startsWith(prefix)).toBe(false);
    const s3: S3Client = s3WithIssued(res.body);

    // Positive control: the credentials work on their own prefix, so a 403 below means "denied".
    const ownKey = `${prefix}probe-${randomUUID()}.txt`;
    expect(await s3Outcome(s3.send(new PutObjectCommand({ Bucket: bucket, Key: ownKey, Body: 'mine' })))).toBe('OK');
    expect(await s3Outcome(s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: ownKey })))).toBe('OK');

    const attempts: Record<string, () => Promise<unknown>> = {
      'get victim': () => s3.send(new GetObjectCommand({ Bucket: bucket, Key: victimKey })),
      'head victim': () => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: victimKey })),
      'put into victim prefix': () =>
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${victimPrefix}planted.txt`, Body: 'x' })),
      'overwrite victim': () => s3.send(new PutObjectCommand({ Bucket: bucket, Key: victimKey, Body: 'x' })),
      'delete victim': () => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: victimKey })),
      'get sibling victim-sibling': () => s3.send(new GetObjectCommand({ Bucket: bucket, Key: siblingKey })),
      'list victim prefix': () => s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: victimPrefix })),
      'list users/': () => s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'users/' })),
      'list without prefix': () => s3.send(new ListObjectsV2Command({ Bucket: bucket })),
      'list own prefix without slash': () =>
        s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix.slice(0, -1) })),
      'get bucket root object': () => s3.send(new GetObjectCommand({ Bucket: bucket, Key: rootKey })),
      'put at bucket root': () =>
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: `planted-${randomUUID()}`, Body: 'x' })),
      'put literal "*" key beside prefix': () =>
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: `users/*`, Body: 'x' })),
    };
    const outcomes: Record<string, string> = {};
    for (const [name, attempt] of Object.entries(attempts)) outcomes[name] = await s3Outcome(attempt());
    // A HEAD answer has no body, so the SDK cannot read RGW's error code: the status is the proof.
    const denied = (k: string) => (k.startsWith('head') ? '403 Unknown' : '403 AccessDenied');
    expect(outcomes).toEqual(Object.fromEntries(Object.keys(attempts).map((k) => [k, denied(k)])));
  });

  it('the victim’s objects are untouched and nothing was planted', async () => {
    const got = await ownerS3().send(new GetObjectCommand({ Bucket: bucket, Key: victimKey }));
    expect(await got.Body!.transformToString()).toBe('victim data');
    const listed = await ownerS3().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: victimPrefix }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual([victimKey]);
  });

  it('a session name per nasty subject is a valid RoleSessionName, and RGW accepted every one', () => {
    const issued = broker.logs.filter((l) => l.event === 'credentials.issued');
    expect(issued).toHaveLength(TABLE.filter((r) => r[2] === 'issued').length);
    // Dev identities are named in their own namespace and per issuer.
    for (const line of issued) {
      expect(line.sessionName).toBe(sessionNameFor(`dev-${line.sub as string}`, line.iss as string));
    }
    expect(new Set(issued.map((l) => l.sessionName)).size).toBe(issued.length);
  });

  it('a vended credential cannot mint new credentials (AssumeRole) or change the role’s policy', async () => {
    const s = stack();
    const res = await broker.credentials(await broker.token(freshSubject('chain')));
    expect(res.status).toBe(200);
    const credentials = {
      accessKeyId: res.body.credentials.accessKeyId,
      secretAccessKey: res.body.credentials.secretAccessKey,
      sessionToken: res.body.credentials.sessionToken,
    };
    const sts = new STSClient({ region: s.region, endpoint: s.stsEndpoint, credentials, maxAttempts: 1 });
    const chained = await sts
      .send(new AssumeRoleCommand({ RoleArn: s.roleArn, RoleSessionName: 'kh-chained', DurationSeconds: 900 }))
      .then(
        () => 'OK',
        (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode,
      );
    expect(chained).toBe(403);
    const iam = new IAMClient({ region: s.region, endpoint: s.stsEndpoint, credentials, maxAttempts: 1 });
    const widened = await iam
      .send(
        new PutRolePolicyCommand({
          RoleName: s.roleArn.split('/').pop()!,
          PolicyName: 'escalate',
          PolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
          }),
        }),
      )
      .then(
        () => 'OK',
        (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode,
      );
    expect(widened).toBe(403);
  });

  it('RGW deviation, pinned: a literal ":" in a Resource key is MalformedPolicyDocument — why Keyhole encodes it everywhere', async () => {
    const vendor = stackVendor();
    const policy = (key: string) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: `arn:aws:s3:::${bucket}/users/${key}/*` }],
      });
    const request = {
      subject: 'x',
      issuer: 'urn:test',
      identityId: 'x',
      sessionName: 'kh-colon-probe',
      durationSeconds: 900,
    };
    const err = await vendor.issue({ ...request, policy: policy('us-east-1:abc') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).upstreamCode).toBe('MalformedPolicyDocument');
    const ok = await vendor.issue({ ...request, policy: policy(encodeSegment('us-east-1:abc', 'sub')) });
    expect(ok.accessKeyId).toMatch(/^\S{16,}$/);
  });
});
