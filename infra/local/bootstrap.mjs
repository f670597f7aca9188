// Idempotent bootstrap of the local RGW: the uploader role (trusting only the broker user),
// the bucket with CORS that exposes ETag, and the settings file the broker reads.
// Every step is "make it so": a re-run re-applies the same documents and changes nothing.
import { createHash, X509Certificate } from 'node:crypto';
import { writeFileSync, renameSync, chmodSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { mkdirSync } from 'node:fs';
import {
  IAMClient,
  CreateRoleCommand,
  GetRoleCommand,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import {
  S3Client,
  CreateBucketCommand,
  PutBucketCorsCommand,
  PutBucketPolicyCommand,
  PutPublicAccessBlockCommand,
} from '@aws-sdk/client-s3';
import { ensureNotifications, notifyToken, pushEndpoint, removeNotifications } from './notifications.mjs';
import { bucketPolicy, PUBLIC_ACCESS_BLOCK, rolePermissions, trustPolicy } from './uploader-role.mjs';

const env = process.env;
const endpoint = `http://127.0.0.1:${env.RGW_PORT}`;
const tlsEndpoint = `https://localhost:${env.RGW_SSL_PORT}`;
const region = 'us-east-1';
const bucket = env.KEYHOLE_LOCAL_BUCKET ?? 'keyhole-local';
const roleName = 'keyhole-uploader';
const credentials = { accessKeyId: env.BROKER_AK, secretAccessKey: env.BROKER_SK };

const iam = new IAMClient({ region, endpoint, credentials });
const s3 = new S3Client({ region, endpoint, credentials, forcePathStyle: true });

const trust = JSON.stringify(trustPolicy());
const permissions = JSON.stringify(rolePermissions(bucket));

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
  await s3.send(
    new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: PUBLIC_ACCESS_BLOCK }),
  );
  await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(bucketPolicy(bucket)) }));
}

// base64 SHA-256 of the certificate's SubjectPublicKeyInfo, the form Chromium's SPKI allow-list takes.
function spkiSha256(certFile) {
  const spki = new X509Certificate(readFileSync(certFile)).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

// Upload events: RGW pushes ObjectCreated records under the grant prefix to the broker that `npm start`
// runs (start.sh passes its port as KEYHOLE_NOTIFY_PORT), with a token only this stack's settings file
// holds. Without KEYHOLE_NOTIFY_PORT (`npm run local:up`, the test suite's stack) the bucket carries no
// notification: RGW's topic is sync, so every upload under the prefix waits on the push, and a stalled
// push stalls the upload (server/README.md, "After the upload"). Set up here, with the
// bucket, not by the broker: it is infrastructure (the AWS stack wires S3 to its Lambda the same way), it
// needs the bucket owner's rights, which the broker's upload checks do not, and brokers sharing the bucket
// (tests, several instances) would otherwise overwrite each other's wiring.
async function ensureUploadEvents() {
  const port = env.KEYHOLE_NOTIFY_PORT;
  if (!port) {
    await removeNotifications({ endpoint, region, credentials, bucket });
    return undefined;
  }
  if (!/^\d{1,5}$/.test(port)) throw new Error(`KEYHOLE_NOTIFY_PORT must be a port number (got ${port})`);
  const token = notifyToken(env.KEYHOLE_LOCAL_STATE);
  const wired = await ensureNotifications({
    s3,
    endpoint,
    region,
    credentials,
    bucket,
    prefix: env.KEYHOLE_LOCAL_NOTIFY_PREFIX ?? 'users/',
    endpointUrl: pushEndpoint(port, token),
  });
  if (!wired.ok) {
    console.error(
      `[keyhole local] upload events are off: ${wired.reason}; it was started before they were enabled. ` +
        'Restart the stack (npm run local:down && npm run local:up) to have RGW report uploads to the broker.',
    );
    return undefined;
  }
  return { token, port };
}

const roleArn = await ensureRole();
await ensureBucket();
const events = await ensureUploadEvents();

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
  // How clients trust the local HTTPS endpoint: Node reads NODE_EXTRA_CA_CERTS=<KEYHOLE_LOCAL_CA_CERT>
  // (plus --import ./infra/local/node-localhost.mjs for <bucket>.localhost); Chromium takes
  // --ignore-certificate-errors-spki-list=<KEYHOLE_LOCAL_TLS_SPKI_SHA256>.
  `KEYHOLE_LOCAL_TLS_SPKI_SHA256=${spkiSha256(`${env.KEYHOLE_LOCAL_STATE}/tls/rgw.crt`)}`,
  `KEYHOLE_BROKER_ACCESS_KEY_ID=${credentials.accessKeyId}`,
  `KEYHOLE_BROKER_SECRET_ACCESS_KEY=${credentials.secretAccessKey}`,
  // RGW's bucket notification calls POST /v1/uploads/notify?token=<this> on 127.0.0.1:<port>.
  ...(events ? [`# RGW reports uploads to http://127.0.0.1:${events.port}/v1/uploads/notify`] : []),
  ...(events ? [`KEYHOLE_NOTIFY_TOKEN=${events.token}`] : []),
  '',
];
const file = env.KEYHOLE_ENV_FILE;
mkdirSync(dirname(file), { recursive: true });
writeFileSync(`${file}.tmp`, lines.join('\n'), { mode: 0o600 });
chmodSync(`${file}.tmp`, 0o600);
renameSync(`${file}.tmp`, file);
