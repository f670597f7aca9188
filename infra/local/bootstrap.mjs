// Idempotent bootstrap of the local RGW: the uploader role (trusting only the broker user),
// the bucket with CORS that exposes ETag, and the settings file the broker reads.
// Every step is "make it so": a re-run re-applies the same documents and changes nothing.
import { writeFileSync, renameSync, chmodSync } from 'node:fs';
import { dirname } from 'node:path';
import { mkdirSync } from 'node:fs';
import {
  IAMClient,
  CreateRoleCommand,
  GetRoleCommand,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { S3Client, CreateBucketCommand, PutBucketCorsCommand } from '@aws-sdk/client-s3';

const env = process.env;
const endpoint = `http://127.0.0.1:${env.RGW_PORT}`;
const tlsEndpoint = `https://localhost:${env.RGW_SSL_PORT}`;
const region = 'us-east-1';
const bucket = env.KEYHOLE_LOCAL_BUCKET ?? 'keyhole-local';
const roleName = 'keyhole-uploader';
const credentials = { accessKeyId: env.BROKER_AK, secretAccessKey: env.BROKER_SK };

const iam = new IAMClient({ region, endpoint, credentials });
const s3 = new S3Client({ region, endpoint, credentials, forcePathStyle: true });

const trust = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { AWS: ['arn:aws:iam:::user/keyhole-broker'] },
      Action: ['sts:AssumeRole'],
    },
  ],
});
// The role reaches this bucket only; each session policy narrows it to one user's prefix.
const permissions = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: ['s3:*'],
      Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
    },
  ],
});

async function ensureRole() {
  let arn;
  try {
    arn = (await iam.send(new GetRoleCommand({ RoleName: roleName }))).Role?.Arn;
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: roleName, PolicyDocument: trust }));
  } catch (err) {
    if (err?.name !== 'NoSuchEntity' && err?.$metadata?.httpStatusCode !== 404) throw err;
    const created = await iam.send(
      new CreateRoleCommand({
        RoleName: roleName,
        AssumeRolePolicyDocument: trust,
        MaxSessionDuration: 43200,
      }),
    );
    arn = created.Role?.Arn;
  }
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: roleName,
      PolicyName: 'keyhole-bucket',
      PolicyDocument: permissions,
    }),
  );
  return arn ?? `arn:aws:iam:::role/${roleName}`;
}

async function ensureBucket() {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    if (err?.name !== 'BucketAlreadyOwnedByYou' && err?.name !== 'BucketAlreadyExists') throw err;
  }
  await s3.send(
    new PutBucketCorsCommand({
      Bucket: bucket,
      CORSConfiguration: {
        CORSRules: [
          {
            AllowedOrigins: ['*'],
            AllowedMethods: ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'],
            AllowedHeaders: ['*'],
            ExposeHeaders: ['ETag', 'x-amz-request-id', 'x-amz-version-id'],
            MaxAgeSeconds: 3000,
          },
        ],
      },
    }),
  );
}

const roleArn = await ensureRole();
await ensureBucket();

const lines = [
  '# Written by `npm run local:up`. Connection settings for the local Ceph RGW stack.',
  '# The broker reads this file when KEYHOLE_ENV_FILE points at it; real environment variables win.',
  `AWS_REGION=${region}`,
  `KEYHOLE_BUCKET=${bucket}`,
  `KEYHOLE_ROLE_ARN=${roleArn}`,
  `KEYHOLE_STS_ENDPOINT=${endpoint}`,
  `KEYHOLE_S3_ENDPOINT=${endpoint}`,
  `KEYHOLE_S3_TLS_ENDPOINT=${tlsEndpoint}`,
  `KEYHOLE_S3_FORCE_PATH_STYLE=true`,
  `KEYHOLE_LOCAL_CA_CERT=${env.KEYHOLE_LOCAL_STATE}/tls/ca.crt`,
  `KEYHOLE_BROKER_ACCESS_KEY_ID=${credentials.accessKeyId}`,
  `KEYHOLE_BROKER_SECRET_ACCESS_KEY=${credentials.secretAccessKey}`,
  '',
];
const file = env.KEYHOLE_ENV_FILE;
mkdirSync(dirname(file), { recursive: true });
writeFileSync(`${file}.tmp`, lines.join('\n'), { mode: 0o600 });
chmodSync(`${file}.tmp`, 0o600);
renameSync(`${file}.tmp`, file);
