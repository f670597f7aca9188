// Issue 16, point 4: Uppy's `@uppy/aws-s3` (v6) in Chromium, signing with Keyhole's prefix-scoped
// credentials (uppyAwsS3Options), against a real broker and the local RGW: through Uppy's
// temporary-credentials option (`getCredentials`) and through `signRequest` (the default on RGW,
// whose "~" upload ids Uppy's own signer gets wrong), single PUT and multipart land byte for byte
// under the user's prefix, and a key outside the prefix is refused by S3 itself.
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { devPrefix, freshSubject, startBroker, type TestBroker } from '../helpers/broker.js';
import { chromiumLaunchOptions } from '../helpers/chromium.js';
import { ownerS3, stack } from '../helpers/stack.js';
import { content } from './browser-upload-content.js';
import { servePageBundle, type PageBundleServer } from './page-bundle.js';

declare const window: any;

/** What the page (uppy-page.mjs) is asked to upload. */
export interface UppyJob {
  readonly brokerUrl: string;
  readonly token: string;
  readonly name: string;
  readonly size: number;
  readonly seed: number;
  readonly multipart: boolean;
  /** How Uppy signs (uppyAwsS3Options' `sign`); unset: the default for the grant. */
  readonly sign?: 'credentials' | 'presign';
  /** A full key to use instead of the prefixed name (to show the credentials refuse it). */
  readonly forceKey?: string;
}

export interface UppyOutcome {
  readonly successful: { key: string | undefined; location: string | undefined }[];
  readonly failed: string[];
  readonly brokerRequests: number;
}

const MiB = 1024 * 1024;
const s3 = ownerS3();
const { bucket } = stack();
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let browser: Browser;
let pageServer: PageBundleServer;
let broker: TestBroker;
let page: Page;

beforeAll(async () => {
  pageServer = await servePageBundle(fileURLToPath(new URL('./uppy-page.mjs', import.meta.url)));
  const origin = `http://127.0.0.1:${pageServer.port}`;
  [broker, browser] = await Promise.all([
    startBroker({ corsOrigins: [origin] }),
    chromium.launch(chromiumLaunchOptions()),
  ]);
  page = await (await browser.newContext()).newPage();
  await page.goto(`${origin}/index.html`);
  await page.waitForFunction(() => window.khUppy !== undefined);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await broker?.close();
  pageServer?.close();
});

async function uppyUpload(job: Omit<UppyJob, 'brokerUrl'>): Promise<UppyOutcome> {
  return page.evaluate((j) => window.khUppy.upload(j), { ...job, brokerUrl: broker.url }) as Promise<UppyOutcome>;
}

async function stored(key: string) {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return sha(await out.Body!.transformToByteArray());
}

describe('Uppy with Keyhole credentials', () => {
  test.each([
    { how: 'single PUT, signed by Uppy with getCredentials', size: 3 * MiB, multipart: false, sign: 'credentials' },
    { how: 'single PUT, presigned (signRequest)', size: 3 * MiB, multipart: false, sign: undefined },
    { how: 'multipart, presigned (signRequest)', size: 21 * MiB, multipart: true, sign: undefined },
  ] as const)('$how: stored byte for byte under the granted prefix', async ({ size, multipart, sign }) => {
    const sub = freshSubject('uppy');
    const token = await broker.token(sub);
    const name = `uppy-${multipart ? 'multi' : 'single'}.bin`;
    const out = await uppyUpload({ token, name, size, seed: 0x0770 + size, multipart, ...(sign ? { sign } : {}) });
    expect(out.failed).toEqual([]);
    expect(out.successful).toHaveLength(1);
    expect(out.brokerRequests).toBe(1);
    const key = `${devPrefix(sub)}${name}`;
    expect(await stored(key)).toBe(sha(content(size, 0x0770 + size)));
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    if (multipart) expect(head.ETag).toMatch(/-\d+"$/);
    const open = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: devPrefix(sub) }));
    expect(open.Uploads ?? []).toEqual([]);
  });

  test("a key outside the user's prefix is refused by S3: the credentials cover only the prefix", async () => {
    const sub = freshSubject('uppy-out');
    const token = await broker.token(sub);
    const outside = `${devPrefix(freshSubject('victim'))}planted.bin`;
    const out = await uppyUpload({ token, name: 'x.bin', size: 1024, seed: 1, multipart: false, forceKey: outside });
    expect(out.successful).toEqual([]);
    expect(out.failed).toHaveLength(1);
    expect(out.failed[0]).toMatch(/403|AccessDenied/);
    await expect(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: outside }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
  });
});
