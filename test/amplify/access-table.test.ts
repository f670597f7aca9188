// The README's access table, measured: each Amplify Storage call against the local RGW with
// credentials narrowed to exactly the access it needs (works) and to everything else (denied).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DeleteObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshSubject, startBroker, type TestBroker } from '../helpers/broker.js';
import { ownerS3, stack } from '../helpers/stack.js';
import { amplifyGrant } from './amplify-grant.js';
import { amplifyEndpoint, type AmplifyEndpoint } from './tls-endpoint.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));

let broker: TestBroker;
let endpoint: AmplifyEndpoint;
const sub = freshSubject('acc');
beforeAll(async () => {
  broker = await startBroker({ grants: [amplifyGrant()] });
  endpoint = await amplifyEndpoint();
});
afterAll(async () => {
  await broker?.close();
  await endpoint?.close();
  const s = stack();
  const left = await ownerS3().send(new ListObjectsV2Command({ Bucket: s.bucket, Prefix: `private/dev-${sub}/` }));
  for (const o of left.Contents ?? []) await ownerS3().send(new DeleteObjectCommand({ Bucket: s.bucket, Key: o.Key! }));
});

describe('Amplify Storage access table', () => {
  it('each call works with exactly its listed access and is denied without it', async () => {
    const s = stack();
    const owner = ownerS3();
    for (const name of ['fixture', 'remove-me', 'dir/a', 'dir/b']) {
      await owner.send(
        new PutObjectCommand({ Bucket: s.bucket, Key: `private/dev-${sub}/${name}`, Body: 'fixture bytes' }),
      );
    }
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', '--import', './infra/local/node-localhost.mjs', 'test/amplify/access-probe.ts'],
      {
        cwd: root,
        timeout: 180_000,
        env: {
          ...process.env,
          NODE_EXTRA_CA_CERTS: s.caCertFile,
          PROBE_BROKER_URL: broker.url,
          PROBE_TOKEN: await broker.token(sub),
          PROBE_IDENTITY: `dev-${sub}`,
          PROBE_BUCKET: s.bucket,
          PROBE_REGION: s.region,
          PROBE_S3_HOST: endpoint.host,
        },
      },
    );
    const results = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(results).toEqual({
      'uploadData small with write': 'ok',
      'uploadData small with read+list+delete': 'AccessDenied',
      // Multipart ends with a HeadObject that checks the size, unless a full-object CRC-32 is sent.
      'uploadData multipart with write': '403',
      'uploadData multipart with read+write': 'ok',
      'uploadData multipart crc-32 with write': 'ok',
      'downloadData with read': 'ok',
      'downloadData with write+list+delete': 'AccessDenied',
      // HEAD answers have no body, so Amplify names the error after the status.
      'getProperties with read': 'ok',
      'getProperties with write+list+delete': '403',
      'getUrl validateObjectExistence with read': 'ok',
      'getUrl validateObjectExistence with write+list+delete': '403',
      'list with list': 'ok',
      'list with read+write+delete': 'AccessDenied',
      // remove() lists "<key>/" first to detect a folder; a denied list is taken as "not a folder".
      'remove with delete': 'ok',
      'remove with read+write+list': 'AccessDenied',
      'remove with list+delete': 'ok',
      'remove folder with delete': 'AccessDenied',
      // DEVIATION (RGW 16): DeleteObjects, which folder removal uses, is authorized against the
      // bucket ARN, so prefix-scoped credentials get 403 for the whole request. AWS checks
      // s3:DeleteObject per key, where list+delete suffices.
      'remove folder with list+delete': 'AccessDenied',
      'copy with read': 'AccessDenied',
      'copy with write': 'AccessDenied',
      'copy with read+write': 'ok',
    });
    // The multipart upload that "failed" on its final HeadObject did write the object.
    const m1 = await owner.send(new HeadObjectCommand({ Bucket: s.bucket, Key: `private/dev-${sub}/m1` }));
    expect(m1.ContentLength).toBe(6 * 1024 * 1024);
    const dir = await owner.send(new ListObjectsV2Command({ Bucket: s.bucket, Prefix: `private/dev-${sub}/dir/` }));
    expect(dir.KeyCount).toBe(2);
  });
});
