// Live: the Cognito vendor against a real identity pool and S3 bucket. Run with `npm run test:aws`.
// Enhanced flow always; the basic flow too when KEYHOLE_AWS_BASIC_ROLE_ARN is set. In the enhanced
// flow the pool's authenticated role is the grant, so it must carry the Amplify policy (README).
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { COGNITO_ID, createBroker, createCognitoVendor, type CognitoMode } from '../../server/index.js';

const pool = process.env.KEYHOLE_AWS_IDENTITY_POOL_ID!;
const region = process.env.KEYHOLE_AWS_REGION ?? pool.split(':')[0]!;
const bucket = process.env.KEYHOLE_AWS_BUCKET!;
const provider = process.env.KEYHOLE_AWS_DEVELOPER_PROVIDER!;
const basicRole = process.env.KEYHOLE_AWS_BASIC_ROLE_ARN;
const modes: CognitoMode[] = basicRole ? ['enhanced', 'basic'] : ['enhanced'];
const closers: (() => void)[] = [];
afterAll(() => closers.forEach((close) => close()));

async function brokerFor(mode: CognitoMode) {
  const vendor = createCognitoVendor({
    identityPoolId: pool,
    developerProviderName: provider,
    mode,
    region,
    ...(mode === 'basic' ? { roleArn: basicRole! } : {}),
  });
  await vendor.ping();
  const app = createBroker({
    devLogin: true,
    vendor,
    region,
    rateLimit: false,
    grants: [
      {
        bucket,
        scopes: [
          { prefix: 'private/{identityId}/', access: ['read', 'write', 'list', 'delete'] },
          { prefix: 'protected/{identityId}/', access: ['read', 'write', 'list', 'delete'] },
          { prefix: 'protected/', access: ['read', 'list'] },
        ],
      },
    ],
  });
  const server = await new Promise<import('node:http').Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  closers.push(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return async (sub: string) => {
    const { token } = (await (
      await fetch(`${url}/v1/dev/token`, {
        method: 'POST',
        body: JSON.stringify({ sub }),
        headers: { 'content-type': 'application/json' },
      })
    ).json()) as { token: string };
    const res = await fetch(`${url}/v1/credentials`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, body: (await res.json()) as any };
  };
}

describe.each(modes)('Cognito %s flow on AWS', (mode) => {
  it('issues credentials for the Cognito identity that reach its private/ prefix and not another', async () => {
    const credentialsFor = await brokerFor(mode);
    const sub = `keyhole-live-${randomBytes(6).toString('hex')}`;
    const { status, body } = await credentialsFor(sub);
    expect(status).toBe(200);
    expect(body.identityId).toMatch(COGNITO_ID);
    expect(body.prefix).toBe(`private/${body.identityId}/`);
    const s3 = new S3Client({ region, credentials: body.credentials, maxAttempts: 1 });
    const key = `private/${body.identityId}/live.txt`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'live bytes' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(await got.Body!.transformToString()).toBe('live bytes');
    const other = `private/${region}:00000000-0000-4000-8000-000000000000/x.txt`;
    await expect(s3.send(new PutObjectCommand({ Bucket: bucket, Key: other, Body: 'x' }))).rejects.toMatchObject({
      name: 'AccessDenied',
    });
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  });
});
