// Live (opt-in: KEYHOLE_LIVE_AWS=1 npm run test:aws): deploys a throwaway Keyhole stack with
// `npm run aws:deploy`'s code path, checks it through the real API URL, and destroys it, whatever
// happened. The broker trusts a key pair made for this run only, so the suite can mint tokens.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { IAMClient } from '@aws-sdk/client-iam';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/aws/bundle.js';
import { applyRevocations, clearRevocations, revokeSession, sessionNameOf } from '../../infra/aws/revoke.js';
import { testIssuer, type TestIssuer } from '../helpers/jwt.js';

const run = promisify(execFile);
const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION!;
const stackName = `KeyholeLive${randomBytes(3).toString('hex')}`;
const APP_ORIGIN = 'https://app.keyhole-live.test';
const work = mkdtempSync(join(tmpdir(), 'keyhole-live-'));
let issuer: TestIssuer;
let outputs: {
  ApiUrl: string;
  BucketName: string;
  UploaderRoleName: string;
  UploaderRoleArn: string;
  ClientEnv: string;
};
let deployed = false;

/** `npm run aws:deploy` / `aws:destroy`, with this run's settings. */
function cdk(command: 'deploy' | 'destroy', ...args: string[]) {
  return run(process.execPath, ['--import', 'tsx', 'infra/aws/cdk.ts', command, ...args], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      KEYHOLE_AWS_ENV_FILE: join(work, 'live.env'),
      KEYHOLE_AWS_OUTDIR: join(work, 'cdk.out'),
      KEYHOLE_JWT_PUBLIC_KEY: issuer.publicKeyPem,
    },
    timeout: 1_500_000,
    maxBuffer: 64 * 1024 * 1024,
  });
}

beforeAll(async () => {
  issuer = await testIssuer('https://issuer.keyhole-live.test/', 'keyhole-live');
  writeFileSync(
    join(work, 'live.env'),
    [
      `KEYHOLE_AWS_STACK_NAME=${stackName}`,
      'KEYHOLE_AWS_RETAIN_DATA=0',
      'KEYHOLE_AWS_LOG_RETENTION_DAYS=1',
      `KEYHOLE_JWT_ISSUER=${issuer.issuer}`,
      `KEYHOLE_JWT_AUDIENCE=${issuer.audience}`,
      `KEYHOLE_CORS_ORIGINS=${APP_ORIGIN}`,
      'KEYHOLE_PREFIX_TEMPLATE=users/{sub}/',
      '',
    ].join('\n'),
  );
  const outputsFile = join(work, 'outputs.json');
  deployed = true; // from here on, always try to destroy
  await cdk('deploy', '--require-approval', 'never', '--outputs-file', outputsFile);
  outputs = JSON.parse(readFileSync(outputsFile, 'utf8'))[stackName];
});

afterAll(async () => {
  if (!deployed) return;
  if (outputs?.BucketName) {
    // The bucket must be empty before CloudFormation can delete it.
    const s3 = new S3Client({ region });
    for (;;) {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: outputs.BucketName }));
      const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
      if (keys.length === 0) break;
      await s3.send(new DeleteObjectsCommand({ Bucket: outputs.BucketName, Delete: { Objects: keys } }));
    }
  }
  if (outputs?.UploaderRoleName) {
    await clearRevocations({ client: new IAMClient({ region }), roleName: outputs.UploaderRoleName }).catch(() => {});
  }
  await cdk('destroy', '--force');
});

async function credentialsFor(sub: string) {
  const res = await fetch(`${outputs.ApiUrl}/v1/credentials`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await issuer.sign({ sub })}` },
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}
const s3For = (body: any) => new S3Client({ region: body.region, credentials: body.credentials, maxAttempts: 1 });
const denied = { $metadata: expect.objectContaining({ httpStatusCode: 403 }) };

describe('a deployed Keyhole stack', () => {
  it('answers /healthz and is ready (STS trust with SourceIdentity, bucket ACLs disabled)', async () => {
    expect(await (await fetch(`${outputs.ApiUrl}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${outputs.ApiUrl}/readyz`);
    expect(await ready.json()).toMatchObject({ status: 'ready', vendor: 'sts' });
  });

  it('vends credentials that reach the caller\u2019s prefix only, for uploads small and multipart', async () => {
    const alice = await credentialsFor(`alice-${randomBytes(4).toString('hex')}`);
    const bob = await credentialsFor(`bob-${randomBytes(4).toString('hex')}`);
    expect(alice.status).toBe(200);
    expect(alice.body.bucket).toBe(outputs.BucketName);
    expect(alice.body.endpoint).toBeUndefined();
    const s3 = s3For(alice.body);
    const key = `${alice.body.prefix}hello.txt`;
    await s3.send(new PutObjectCommand({ Bucket: outputs.BucketName, Key: key, Body: 'live' }));
    expect(
      await (await s3.send(new GetObjectCommand({ Bucket: outputs.BucketName, Key: key }))).Body!.transformToString(),
    ).toBe('live');
    await new Upload({
      client: s3,
      params: {
        Bucket: outputs.BucketName,
        Key: `${alice.body.prefix}big.bin`,
        Body: Buffer.alloc(11 * 1024 * 1024, 7),
      },
      partSize: 5 * 1024 * 1024,
    }).done();
    await expect(
      s3.send(new PutObjectCommand({ Bucket: outputs.BucketName, Key: `${bob.body.prefix}x.txt`, Body: 'x' })),
    ).rejects.toMatchObject(denied);
    await expect(s3.send(new ListObjectsV2Command({ Bucket: outputs.BucketName }))).rejects.toMatchObject(denied);
    await expect(
      s3.send(
        new PutObjectCommand({
          Bucket: outputs.BucketName,
          Key: `${alice.body.prefix}acl.txt`,
          Body: 'x',
          ACL: 'public-read',
        }),
      ),
    ).rejects.toBeTruthy();
    const anonymous = await fetch(`https://${outputs.BucketName}.s3.${region}.amazonaws.com/${key}`);
    expect(anonymous.status).toBe(403);
  });

  it('answers CORS preflights for the configured origin only; other paths never reach the function', async () => {
    const preflight = (origin: string) =>
      fetch(`${outputs.ApiUrl}/v1/credentials`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
      });
    expect((await preflight(APP_ORIGIN)).headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect((await preflight('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
    expect((await fetch(`${outputs.ApiUrl}/v1/dev/token`, { method: 'POST' })).status).toBe(404);
    const bad = await fetch(`${outputs.ApiUrl}/v1/credentials`, {
      method: 'POST',
      headers: { authorization: 'Bearer x' },
    });
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as any).error.code).toBe('malformed_token');
  });

  it('revokes one subject\u2019s live sessions (infra/aws/revoke.ts) and no one else\u2019s', async () => {
    const victim = `victim-${randomBytes(4).toString('hex')}`;
    const v = await credentialsFor(victim);
    const b = await credentialsFor(`bystander-${randomBytes(4).toString('hex')}`);
    const put = (body: any) =>
      s3For(body).send(new PutObjectCommand({ Bucket: outputs.BucketName, Key: `${body.prefix}r.txt`, Body: 'x' }));
    await put(v.body);
    await applyRevocations({ client: new IAMClient({ region }), roleName: outputs.UploaderRoleName }, [
      revokeSession(sessionNameOf(victim, issuer.issuer), new Date()),
    ]);
    // IAM is eventually consistent: wait for the Deny to reach S3.
    let outcome = 'OK';
    for (let i = 0; i < 30 && outcome === 'OK'; i++) {
      outcome = await put(v.body).then(
        () => 'OK',
        (err: { $metadata?: { httpStatusCode?: number } }) => String(err.$metadata?.httpStatusCode),
      );
      if (outcome === 'OK') await new Promise((r) => setTimeout(r, 2000));
    }
    expect(outcome).toBe('403');
    await put(b.body);
  });
});
