// Amplify Storage in Node against the local RGW, with credentials from keyhole/amplify. Run by
// amplify-node.test.ts in a child process, because Node reads NODE_EXTRA_CA_CERTS only at start:
//   NODE_EXTRA_CA_CERTS=.local/rgw/tls/ca.crt node --import tsx --import ./infra/local/node-localhost.mjs test/amplify/node-flow.ts
// Prints one JSON object with what it observed; the test asserts on it.
import { createHash, randomBytes } from 'node:crypto';
import { Amplify } from 'aws-amplify';
import { downloadData, getProperties, list, remove, uploadData } from 'aws-amplify/storage';
import { uploadData as serverUploadData } from 'aws-amplify/storage/server';
import { runWithAmplifyServerContext } from 'aws-amplify/adapter-core';
import { createAmplifyCredentialsProvider } from '../../client/amplify/index.js';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const brokerUrl = env('FLOW_BROKER_URL');
const bucket = env('FLOW_BUCKET');
const region = env('FLOW_REGION');
// Amplify's per-call `customEndpoint` (host:port; HTTPS and virtual-hosted only) works but is not in
// its public option types, hence the untyped spread.
const local = { customEndpoint: env('FLOW_S3_HOST') } as object;
const tokens = { a: env('FLOW_TOKEN_A'), b: env('FLOW_TOKEN_B') };

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const config = { Storage: { S3: { bucket, region } } };
const providerA = createAmplifyCredentialsProvider({ brokerUrl, getToken: () => tokens.a });
const providerB = createAmplifyCredentialsProvider({ brokerUrl, getToken: () => tokens.b });

async function errorName(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'no error';
  } catch (err) {
    return (err as Error).name;
  }
}

const out: Record<string, unknown> = {};
Amplify.configure(config, { Auth: { credentialsProvider: providerA } });
const idA = (await providerA.getCredentialsAndIdentityId()).identityId!;
const idB = (await providerB.getCredentialsAndIdentityId()).identityId!;
out.identityA = idA;

// Small object: one PutObject.
const small = randomBytes(100 * 1024);
const smallPath = `private/${idA}/small.bin`;
const smallResult = await uploadData({ path: smallPath, data: small, options: local }).result;
out.smallUploadedPath = smallResult.path;

// 12 MiB: Amplify splits into 5 MiB parts (multipart). Node has no FileReader, which the browser
// uploadData needs for multipart, so Node uses the server flavour with the same configuration.
const big = randomBytes(12 * 1024 * 1024);
const bigPath = `private/${idA}/big.bin`;
const bigResult = await runWithAmplifyServerContext(
  config,
  { Auth: { credentialsProvider: providerA } },
  (ctx) => serverUploadData(ctx, { path: bigPath, data: big, options: local }).result,
);
out.bigUploadedPath = bigResult.path;
// A multipart object's ETag ends in -<parts>: 12 MiB in 5 MiB parts is 3.
out.bigETag = (await getProperties({ path: bigPath, options: local })).eTag;

const download = async (path: string) => {
  const { body } = await downloadData({ path, options: local }).result;
  return new Uint8Array(await (await body.blob()).arrayBuffer());
};
const smallBack = await download(smallPath);
const bigBack = await download(bigPath);
out.smallIdentical = sha(smallBack) === sha(small) && smallBack.length === small.length;
out.bigIdentical = sha(bigBack) === sha(big) && bigBack.length === big.length;
out.bigLength = bigBack.length;

const protectedPath = `protected/${idA}/shared.txt`;
await uploadData({ path: protectedPath, data: 'shared by A', options: local }).result;

const listed = await list({ path: `private/${idA}/`, options: { ...local, listAll: true } });
out.listed = listed.items.map((i) => [i.path, i.size]).sort();

// Identity B: A's private/ is out of reach (read, list, write, delete); A's protected/ is readable, not writable.
Amplify.configure(config, { Auth: { credentialsProvider: providerB } });
out.identityB = idB;
out.bReadsAPrivate = await errorName(downloadData({ path: smallPath, options: local }).result);
out.bListsAPrivate = await errorName(list({ path: `private/${idA}/`, options: local }));
out.bWritesAPrivate = await errorName(
  uploadData({ path: `private/${idA}/intruder.txt`, data: 'x', options: local }).result,
);
out.bRemovesAPrivate = await errorName(remove({ path: smallPath, options: local }).result);
const shared = await downloadData({ path: protectedPath, options: local }).result;
out.bReadsAProtected = await shared.body.text();
out.bWritesAProtected = await errorName(
  uploadData({ path: protectedPath, data: 'overwritten', options: local }).result,
);

// Back to A: remove, and the list is empty.
Amplify.configure(config, { Auth: { credentialsProvider: providerA } });
for (const path of [smallPath, bigPath, protectedPath]) await remove({ path, options: local }).result;
const after = await list({ path: `private/${idA}/`, options: { ...local, listAll: true } });
out.listedAfterRemove = after.items.length;
out.brokerRequests = { a: providerA.brokerRequests, b: providerB.brokerRequests };

process.stdout.write(JSON.stringify(out) + '\n');
