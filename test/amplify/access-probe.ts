// Which access each Amplify Storage call needs, measured on the local RGW: every call is tried
// with credentials narrowed (the broker's `access` request) to the access it should need, and to
// everything except it. Run by access-table.test.ts in a child process (NODE_EXTRA_CA_CERTS).
// Prints one JSON object: { "<call> with <access>": "ok" | "<error name>" }.
import { randomBytes } from 'node:crypto';
import { Amplify } from 'aws-amplify';
import { copy, downloadData, getProperties, getUrl, list, remove, uploadData } from 'aws-amplify/storage';
import { uploadData as serverUploadData } from 'aws-amplify/storage/server';
import { runWithAmplifyServerContext } from 'aws-amplify/adapter-core';
import type { Access } from '../../client/index.js';
import { createAmplifyCredentialsProvider } from '../../client/amplify/index.js';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const brokerUrl = env('PROBE_BROKER_URL');
const token = env('PROBE_TOKEN');
const id = env('PROBE_IDENTITY');
const config = { Storage: { S3: { bucket: env('PROBE_BUCKET'), region: env('PROBE_REGION') } } };
// Amplify's per-call `customEndpoint` works but is not in its public option types.
const local = { customEndpoint: env('PROBE_S3_HOST') } as object;

const results: Record<string, string> = {};
type ServerContext = Parameters<typeof serverUploadData>[0];
async function probe(
  call: string,
  access: Access[],
  run: (ctx: ServerContext) => Promise<unknown>,
  server = false,
): Promise<void> {
  const credentialsProvider = createAmplifyCredentialsProvider({ brokerUrl, getToken: () => token, access });
  let outcome: string;
  try {
    if (server) {
      await runWithAmplifyServerContext(config, { Auth: { credentialsProvider } }, (ctx) => run(ctx));
    } else {
      Amplify.configure(config, { Auth: { credentialsProvider } });
      await run(undefined as never);
    }
    outcome = 'ok';
  } catch (err) {
    outcome = (err as Error).name;
  }
  results[`${call} with ${access.join('+')}`] = outcome;
}

const p = (name: string) => `private/${id}/${name}`;
const small = randomBytes(1024);
const big = randomBytes(6 * 1024 * 1024); // over Amplify's 5 MiB part size: multipart

await probe('uploadData small', ['write'], () => uploadData({ path: p('s1'), data: small, options: local }).result);
await probe(
  'uploadData small',
  ['read', 'list', 'delete'],
  () => uploadData({ path: p('s2'), data: small, options: local }).result,
);
await probe('uploadData multipart', ['write'], (ctx) => multipart(ctx, p('m1'), {}), true);
await probe('uploadData multipart', ['read', 'write'], (ctx) => multipart(ctx, p('m2'), {}), true);
await probe(
  'uploadData multipart crc-32',
  ['write'],
  (ctx) => multipart(ctx, p('m3'), { checksumAlgorithm: 'crc-32' }),
  true,
);
await probe('downloadData', ['read'], () => downloadData({ path: p('fixture'), options: local }).result);
await probe(
  'downloadData',
  ['write', 'list', 'delete'],
  () => downloadData({ path: p('fixture'), options: local }).result,
);
await probe('getProperties', ['read'], () => getProperties({ path: p('fixture'), options: local }));
await probe('getProperties', ['write', 'list', 'delete'], () => getProperties({ path: p('fixture'), options: local }));
await probe('getUrl validateObjectExistence', ['read'], async () => {
  const { url } = await getUrl({ path: p('fixture'), options: { ...local, validateObjectExistence: true } });
  const res = await fetch(url);
  if (res.status !== 200) throw Object.assign(new Error(`GET ${res.status}`), { name: `HTTP${res.status}` });
});
await probe('getUrl validateObjectExistence', ['write', 'list', 'delete'], () =>
  getUrl({ path: p('fixture'), options: { ...local, validateObjectExistence: true } }),
);
await probe('list', ['list'], () => list({ path: p(''), options: local }));
await probe('list', ['read', 'write', 'delete'], () => list({ path: p(''), options: local }));
await probe('remove', ['delete'], () => remove({ path: p('remove-me'), options: local }).result);
await probe('remove', ['read', 'write', 'list'], () => remove({ path: p('remove-me'), options: local }).result);
await probe('remove', ['list', 'delete'], () => remove({ path: p('remove-me'), options: local }).result);
await probe('remove folder', ['delete'], () => remove({ path: p('dir/'), options: local }).result);
await probe('remove folder', ['list', 'delete'], () => remove({ path: p('dir/'), options: local }).result);
await probe('copy', ['read'], () =>
  copy({ source: { path: p('fixture') }, destination: { path: p('copy-1') }, options: local } as never),
);
await probe('copy', ['write'], () =>
  copy({ source: { path: p('fixture') }, destination: { path: p('copy-2') }, options: local } as never),
);
await probe('copy', ['read', 'write'], () =>
  copy({ source: { path: p('fixture') }, destination: { path: p('copy-3') }, options: local } as never),
);

function multipart(ctx: ServerContext, path: string, extra: object) {
  return serverUploadData(ctx, { path, data: big, options: { ...local, ...extra } }).result;
}

process.stdout.write(JSON.stringify(results) + '\n');
