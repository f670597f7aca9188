// Acceptance 1: Amplify Storage in Node (uploadData small and multipart, downloadData, list,
// remove) against the local RGW over HTTPS with virtual-hosted addressing, with credentials from
// keyhole/amplify and the sts vendor; another identity's private/ is denied.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshSubject, startBroker, type TestBroker } from '../helpers/broker.js';
import { stack } from '../helpers/stack.js';
import { amplifyGrant } from './amplify-grant.js';
import { amplifyEndpoint, type AmplifyEndpoint } from './tls-endpoint.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));

let broker: TestBroker;
let endpoint: AmplifyEndpoint;
beforeAll(async () => {
  broker = await startBroker({ grants: [amplifyGrant()] });
  endpoint = await amplifyEndpoint();
});
afterAll(async () => {
  await broker?.close();
  await endpoint?.close();
});

describe('Amplify Storage in Node with keyhole/amplify', () => {
  it('uploads (small and 12 MiB multipart), downloads identical bytes, lists, removes; other identities are denied', async () => {
    const s = stack();
    const [a, b] = [freshSubject('ampA'), freshSubject('ampB')];
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', '--import', './infra/local/node-localhost.mjs', 'test/amplify/node-flow.ts'],
      {
        cwd: root,
        timeout: 120_000,
        maxBuffer: 1 << 20,
        env: {
          ...process.env,
          NODE_EXTRA_CA_CERTS: s.caCertFile,
          FLOW_BROKER_URL: broker.url,
          FLOW_BUCKET: s.bucket,
          FLOW_REGION: s.region,
          FLOW_S3_HOST: endpoint.host,
          FLOW_TOKEN_A: await broker.token(a),
          FLOW_TOKEN_B: await broker.token(b),
        },
      },
    );
    const out = JSON.parse(stdout.trim().split('\n').at(-1)!);
    // With the sts vendor the identity id is the (safe) subject, in the dev-login namespace.
    expect(out.identityA).toBe(`dev-${a}`);
    expect(out.identityB).toBe(`dev-${b}`);
    expect(out.smallUploadedPath).toBe(`private/dev-${a}/small.bin`);
    expect(out.bigUploadedPath).toBe(`private/dev-${a}/big.bin`);
    expect(out.smallIdentical).toBe(true);
    expect(out.bigIdentical).toBe(true);
    expect(out.bigLength).toBe(12 * 1024 * 1024);
    expect(out.bigETag).toMatch(/^"[0-9a-f]{32}-3"$/);
    expect(out.listed).toEqual([
      [`private/dev-${a}/big.bin`, 12 * 1024 * 1024],
      [`private/dev-${a}/small.bin`, 100 * 1024],
    ]);
    expect(out.bReadsAPrivate).toBe('AccessDenied');
    expect(out.bListsAPrivate).toBe('AccessDenied');
    expect(out.bWritesAPrivate).toBe('AccessDenied');
    expect(out.bRemovesAPrivate).toBe('AccessDenied');
    expect(out.bReadsAProtected).toBe('shared by A');
    expect(out.bWritesAProtected).toBe('AccessDenied');
    expect(out.listedAfterRemove).toBe(0);
    // The provider caches: one broker request per identity for the whole flow.
    expect(out.brokerRequests).toEqual({ a: 1, b: 1 });
  });
});
