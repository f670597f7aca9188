// The Amplify example of client/amplify/README.md ("Plug it into Amplify"), runnable: `npm run example:amplify` runs it
// against the local stack (see run.mjs). Only the settings at the top differ from an app's own code.
import { Amplify } from 'aws-amplify';
import * as amplifyStorage from 'aws-amplify/storage';
import { uploadData as serverUploadData } from 'aws-amplify/storage/server';
import { runWithAmplifyServerContext } from 'aws-amplify/adapter-core';
import { createAmplifyCredentialsProvider, retryOnExpiredToken, withGrantErrors } from 'keyhole/amplify';

// Settings: your broker, your bucket, and how your app gets the user's JWT. run.mjs sets them for the
// local stack, whose broker hands out tokens itself (dev login).
const brokerUrl = process.env.KEYHOLE_BROKER_URL ?? 'https://auth.example.com';
const bucket = process.env.KEYHOLE_BUCKET ?? 'my-bucket';
const region = process.env.AWS_REGION ?? 'eu-west-1';
const myAuth = {
  async getIdToken(): Promise<string> {
    const res = await fetch(new URL('v1/dev/token', `${brokerUrl}/`), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sub: 'amplify-example' }),
    });
    if (!res.ok) throw new Error(`dev login failed: HTTP ${res.status}`);
    return ((await res.json()) as { token: string }).token;
  },
};
// Against AWS, leave this out. An S3-compatible endpoint (the local RGW: localhost:7443) goes into each
// call's options as `customEndpoint`; Amplify reads it there but does not list it in its option types.
const endpoint: object = process.env.S3_CUSTOM_ENDPOINT ? { customEndpoint: process.env.S3_CUSTOM_ENDPOINT } : {};

// --- the README's example starts here ---
const credentialsProvider = createAmplifyCredentialsProvider({
  brokerUrl, // your Keyhole broker
  getToken: () => myAuth.getIdToken(), // the user's JWT; called again with forceRefresh after a 401
});

Amplify.configure({ Storage: { S3: { bucket, region } } }, { Auth: { credentialsProvider } });
// Amplify's Storage functions, with errors that name the access a call lacked (see withGrantErrors).
const { uploadData, downloadData, list, remove } = withGrantErrors(credentialsProvider, amplifyStorage);

const file = new Blob(['hello']);
await uploadData({
  path: ({ identityId }) => `private/${identityId}/hello.txt`,
  data: file,
  options: { ...endpoint, onProgress: ({ transferredBytes, totalBytes }) => console.log(transferredBytes, totalBytes) },
}).result;

const { body } = await retryOnExpiredToken(
  credentialsProvider,
  () => downloadData({ path: ({ identityId }) => `private/${identityId}/hello.txt`, options: { ...endpoint } }).result,
);
console.log(await body.text());

const { items } = await list({ path: ({ identityId }) => `private/${identityId}/`, options: { ...endpoint } });
console.log(items.map((item) => item.path));

// Node has no FileReader, which the browser uploadData needs above 5 MiB (multipart): in Node
// (scripts, SSR) use the server flavour, with the same configuration.
const big = new Uint8Array(6 * 1024 * 1024);
const { identityId } = await credentialsProvider.getCredentialsAndIdentityId();
const bigUpload = await runWithAmplifyServerContext(
  Amplify.getConfig(),
  { Auth: { credentialsProvider } },
  (ctx) => serverUploadData(ctx, { path: `private/${identityId}/big.bin`, data: big, options: { ...endpoint } }).result,
);
console.log(bigUpload.path);

await remove({ path: ({ identityId }) => `private/${identityId}/hello.txt`, options: { ...endpoint } }).result;
await remove({ path: `private/${identityId}/big.bin`, options: { ...endpoint } }).result;

// On sign-out (cancel the user's running transfers first: Amplify asks the provider before every
// request, so their remaining parts would be signed with the next user's credentials):
credentialsProvider.clearCredentialsAndIdentityId();
