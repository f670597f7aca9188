// Issue 13, revocation on the local Ceph RGW: what RGW 16 does with the statements infra/aws/revoke.ts
// writes (both work as on AWS: see the expectations). A throwaway role (the local uploader role's trust and permissions) is created, sessions are
// issued for two subjects, and the revocations are applied with the tool's own functions against
// RGW's IAM API. The shared keyhole-uploader role is never touched.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  IAMClient,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyRevocations,
  clearRevocations,
  readRevocations,
  revokeIssuedBefore,
  revokeSession,
  sessionNameOf,
} from '../../infra/aws/revoke.js';
import { rolePermissions, trustPolicy } from '../../infra/local/uploader-role.mjs';
import { buildSessionPolicy } from '../../server/policy/session-policy.js';
import { s3Outcome } from '../helpers/s3.js';
import { ownerS3, stack } from '../helpers/stack.js';

const s = stack();
const ISSUER = 'https://issuer.revoke.test/';
const roleName = `keyhole-revoke-${randomBytes(4).toString('hex')}`;
const iam = new IAMClient({ region: s.region, endpoint: s.stsEndpoint, credentials: s.brokerCredentials });
const sts = new STSClient({ region: s.region, endpoint: s.stsEndpoint, credentials: s.brokerCredentials });
const written: string[] = [];

beforeAll(async () => {
  await iam.send(
    new CreateRoleCommand({
      RoleName: roleName,
      AssumeRolePolicyDocument: JSON.stringify(trustPolicy()),
      MaxSessionDuration: 3600,
    }),
  );
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: roleName,
      PolicyName: 'keyhole-uploader',
      PolicyDocument: JSON.stringify(rolePermissions(s.bucket)),
    }),
  );
});
afterAll(async () => {
  await clearRevocations({ client: iam, roleName }).catch(() => {});
  await iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: 'keyhole-uploader' })).catch(() => {});
  await iam.send(new DeleteRoleCommand({ RoleName: roleName })).catch(() => {});
  for (const key of written) await ownerS3().send(new DeleteObjectCommand({ Bucket: s.bucket, Key: key }));
});

/** A session of the throwaway role for `sub`, as the broker would issue it (session name, policy). */
async function session(sub: string) {
  const prefix = `users/revoke-${sub}/`;
  const out = await sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam:::role/${roleName}`,
      RoleSessionName: sessionNameOf(sub, ISSUER),
      Policy: buildSessionPolicy(s.bucket, [{ prefix, access: ['read', 'write'] }]),
      DurationSeconds: 900,
    }),
  );
  const c = out.Credentials!;
  const client = new S3Client({
    region: s.region,
    endpoint: s.s3Endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    maxAttempts: 1,
  });
  return {
    put: async () => {
      const key = `${prefix}probe-${randomBytes(3).toString('hex')}.txt`;
      written.push(key);
      return s3Outcome(client.send(new PutObjectCommand({ Bucket: s.bucket, Key: key, Body: 'x' })));
    },
  };
}

/** Waits past the current second, so the next session's aws:TokenIssueTime is after a cutoff taken now. */
const nextSecond = () => sleep(1100 - (Date.now() % 1000));

describe('revocation on Ceph RGW 16 (role policy Deny statements written by infra/aws/revoke.ts)', () => {
  const suffix = randomBytes(3).toString('hex');
  const alice = `alice-${suffix}`;
  const bob = `bob-${suffix}`;

  it('the tool reads, merges and writes the role\u2019s keyhole-revocations policy through RGW\u2019s IAM API', async () => {
    expect(await readRevocations({ client: iam, roleName })).toBeUndefined();
    const written = await applyRevocations({ client: iam, roleName }, [
      revokeSession('kh-nobody-xxxxxxxxxxxx', new Date()),
    ]);
    expect(await readRevocations({ client: iam, roleName })).toEqual(written);
    await clearRevocations({ client: iam, roleName });
    expect(await readRevocations({ client: iam, roleName })).toBeUndefined();
  });

  it('--subject (aws:userid ends with the session name): only that subject\u2019s earlier sessions get 403', async () => {
    const a = await session(alice);
    const b = await session(bob);
    expect([await a.put(), await b.put()]).toEqual(['OK', 'OK']);
    await applyRevocations({ client: iam, roleName }, [revokeSession(sessionNameOf(alice, ISSUER), new Date())]);
    await sleep(200);
    const outcome = { aliceOld: await a.put(), bobOld: await b.put() };
    await nextSecond();
    const a2 = await session(alice);
    Object.assign(outcome, { aliceNew: await a2.put() });
    console.log(`RGW, revoke --subject: ${JSON.stringify(outcome)}`);
    // Measured: RGW 16 sets aws:userid for a role session so that it ends with ':<session name>', as
    // AWS does (simulator, test/infra/aws-stack.test.ts); the Deny applies within 200 ms.
    expect(outcome).toEqual({ aliceOld: '403 AccessDenied', bobOld: 'OK', aliceNew: 'OK' });
    await clearRevocations({ client: iam, roleName });
  });

  it('--before (aws:TokenIssueTime): sessions issued before the cutoff get 403 at once, later ones work', async () => {
    const a = await session(alice);
    const b = await session(bob);
    expect([await a.put(), await b.put()]).toEqual(['OK', 'OK']);
    await applyRevocations({ client: iam, roleName }, [revokeIssuedBefore(new Date())]);
    await sleep(200);
    expect([await a.put(), await b.put()]).toEqual(['403 AccessDenied', '403 AccessDenied']);
    await nextSecond();
    const a2 = await session(alice);
    expect(await a2.put()).toBe('OK');
    await clearRevocations({ client: iam, roleName });
    expect(await a.put()).toBe('OK');
  });
});
