// The browser upload path of `keyhole/client` (client/blob-upload.ts) in Chromium, against a real
// broker and the local RGW, over its HTTP (7480) and HTTPS (7443) endpoints. A Blob is uploaded by
// `blob.slice()` parts: over HTTPS each part is signed UNSIGNED-PAYLOAD, over HTTP with the SHA-256
// of that part (WebCrypto). The test records the S3 requests the page sends and checks the bytes
// stored, the payload hashes signed, and that a cancelled or failed upload leaves nothing behind.
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { chromium, type Browser, type BrowserContext, type Page, type Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { devPrefix, freshSubject, startBroker, type TestBroker } from '../helpers/broker.js';
import { chromiumLaunchOptions } from '../helpers/chromium.js';
import { ownerS3, stack } from '../helpers/stack.js';
import { content } from './browser-upload-content.js';
import { servePageBundle, type PageBundleServer } from './page-bundle.js';
import type { UploadJob, UploadOutcome } from './browser-upload-page.js';

// Callbacks given to page.evaluate run in the browser; this Node test program has no DOM types.
declare const window: any;

const MiB = 1024 * 1024;
const s = stack();
const s3 = ownerS3();
const PAGE_ENTRY = fileURLToPath(new URL('./browser-upload-page.ts', import.meta.url));

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

let browser: Browser;
let pageServer: PageBundleServer | undefined;
/** Where the test page is served: its own origin, as a single-page app is, calling the broker with CORS. */
let pageOrigin: string;
const brokers: Record<'HTTP' | 'HTTPS', TestBroker> = {} as never;

beforeAll(async () => {
  pageServer = await servePageBundle(PAGE_ENTRY);
  pageOrigin = `http://127.0.0.1:${pageServer.port}`;
  [brokers.HTTP, brokers.HTTPS, browser] = await Promise.all([
    startBroker({ corsOrigins: [pageOrigin] }),
    startBroker({ corsOrigins: [pageOrigin], s3Endpoint: s.s3TlsEndpoint }),
    chromium.launch(chromiumLaunchOptions()),
  ]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await brokers.HTTP?.close();
  await brokers.HTTPS?.close();
  pageServer?.close();
});

/** One S3 request the page sent, classified by method and query. */
interface S3Request {
  readonly op: 'PutObject' | 'UploadPart' | 'CreateMultipartUpload' | 'CompleteMultipartUpload' | 'Abort' | 'other';
  readonly part: number | undefined;
  readonly key: string;
  readonly headers: Record<string, string>;
  readonly request: Request;
}

function classify(req: Request, bucket: string): S3Request {
  const url = new URL(req.url());
  const q = url.searchParams;
  const method = req.method();
  const op: S3Request['op'] =
    method === 'PUT' && q.has('partNumber')
      ? 'UploadPart'
      : method === 'PUT'
        ? 'PutObject'
        : method === 'POST' && q.has('uploads')
          ? 'CreateMultipartUpload'
          : method === 'POST' && q.has('uploadId')
            ? 'CompleteMultipartUpload'
            : method === 'DELETE' && q.has('uploadId')
              ? 'Abort'
              : 'other';
  return {
    op,
    part: q.has('partNumber') ? Number(q.get('partNumber')) : undefined,
    key: decodeURIComponent(url.pathname.slice(`/${bucket}/`.length)),
    headers: req.headers(),
    request: req,
  };
}

interface Tab {
  readonly context: BrowserContext;
  readonly page: Page;
  /** S3 requests (CORS preflights left out), in the order the page sent them. */
  readonly sent: S3Request[];
  /** S3 requests that failed (aborted, refused). */
  readonly failed: S3Request[];
  upload(job: Omit<UploadJob, 'brokerUrl' | 'token'>): Promise<UploadOutcome>;
}

async function openTab(broker: TestBroker, endpoint: string, token: string): Promise<Tab> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  const origin = new URL(endpoint).origin;
  const sent: S3Request[] = [];
  const failed: S3Request[] = [];
  const mine = (req: Request) => new URL(req.url()).origin === origin && req.method() !== 'OPTIONS';
  page.on('request', (req) => mine(req) && sent.push(classify(req, s.bucket)));
  page.on('requestfailed', (req) => mine(req) && failed.push(classify(req, s.bucket)));
  await page.goto(`${pageOrigin}/index.html`);
  await page.waitForFunction(() => window.khTest !== undefined);
  return {
    context,
    page,
    sent,
    failed,
    upload: (job) =>
      page.evaluate((j) => window.khTest.upload(j), { ...job, brokerUrl: broker.url, token }) as Promise<UploadOutcome>,
  };
}

async function openUploads(prefix: string): Promise<string[]> {
  const out = await s3.send(new ListMultipartUploadsCommand({ Bucket: s.bucket, Prefix: prefix }));
  return (out.Uploads ?? []).map((u) => u.UploadId!);
}

async function headStatus(key: string): Promise<number> {
  try {
    const out = await s3.send(new HeadObjectCommand({ Bucket: s.bucket, Key: key }));
    return out.$metadata.httpStatusCode ?? 0;
  } catch (err) {
    return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? -1;
  }
}

const ENDPOINTS = [
  { name: 'HTTP', endpoint: s.s3Endpoint, hashed: true },
  { name: 'HTTPS', endpoint: s.s3TlsEndpoint, hashed: false },
] as const;

describe.each(ENDPOINTS)('a Blob uploaded from Chromium over $name ($endpoint)', ({ name, endpoint, hashed }) => {
  const sub = freshSubject(`browser-${name.toLowerCase()}`);
  const prefix = devPrefix(sub);
  let token: string;
  let tab: Tab | undefined;

  beforeAll(async () => {
    token = await brokers[name].token(sub);
    // The broker hands out the endpoint under test.
    const grant = await brokers[name].credentials(token);
    expect(grant.body.endpoint).toBe(endpoint);
  });

  afterAll(async () => {
    await tab?.context.close();
  });

  const newTab = async () => {
    await tab?.context.close();
    tab = await openTab(brokers[name], endpoint, token);
    return tab;
  };

  /** What `x-amz-content-sha256` must be for a body: its hex SHA-256 over HTTP, UNSIGNED-PAYLOAD over HTTPS. */
  const payloadHeader = (bytes: Uint8Array) => (hashed ? sha256(bytes) : 'UNSIGNED-PAYLOAD');

  test('20 MiB in 5 MiB parts: stored byte for byte, 4 parts, each signed with the right payload hash', async () => {
    const t = await newTab();
    const size = 20 * MiB;
    const part = 5 * MiB;
    const seed = 0x5eed0000 + (name === 'HTTP' ? 1 : 2);
    const bytes = content(size, seed);
    const out = await t.upload({ key: 'twenty.bin', size, seed, partSizeBytes: part, queueSize: 4 });
    expect(out, JSON.stringify(out)).toMatchObject({ ok: true, fullKey: `${prefix}twenty.bin` });
    if (!out.ok) return;
    expect(out.progress.at(-1)).toBe(size);

    const head = await s3.send(new HeadObjectCommand({ Bucket: s.bucket, Key: `${prefix}twenty.bin` }));
    expect(head.ContentLength).toBe(size);
    expect(head.ETag).toMatch(/-4"$/);
    // RGW answers CompleteMultipartUpload with an empty <ETag></ETag> (to the Node SDK too), so the
    // result's etag is '' there; S3 returns the object's ETag.
    if (out.etag) expect(out.etag).toBe(head.ETag);
    const got = await s3.send(new GetObjectCommand({ Bucket: s.bucket, Key: `${prefix}twenty.bin` }));
    expect(sha256(await got.Body!.transformToByteArray())).toBe(sha256(bytes));

    expect(t.sent.map((r) => r.op).sort()).toEqual(
      [
        'CompleteMultipartUpload',
        'CreateMultipartUpload',
        'UploadPart',
        'UploadPart',
        'UploadPart',
        'UploadPart',
      ].sort(),
    );
    const parts = t.sent.filter((r) => r.op === 'UploadPart').sort((a, b) => a.part! - b.part!);
    expect(parts.map((p) => p.part)).toEqual([1, 2, 3, 4]);
    for (const p of parts) {
      const slice = bytes.subarray((p.part! - 1) * part, p.part! * part);
      expect(p.headers['x-amz-content-sha256'], `part ${p.part}`).toBe(payloadHeader(slice));
      // The payload hash is part of what is signed.
      expect(p.headers['authorization'], `part ${p.part}`).toMatch(/SignedHeaders=[^,]*x-amz-content-sha256/);
    }
    // Over HTTP each part carries its own hash: no two parts alike.
    if (hashed) expect(new Set(parts.map((p) => p.headers['x-amz-content-sha256'])).size).toBe(4);
    expect(t.failed).toEqual([]);
  });

  test('a Blob smaller than one part goes as one PutObject', async () => {
    const t = await newTab();
    const size = MiB + 3;
    const seed = 0x5a11 + (name === 'HTTP' ? 1 : 2);
    const bytes = content(size, seed);
    const out = await t.upload({ key: 'small.bin', size, seed });
    expect(out).toMatchObject({ ok: true });
    if (!out.ok) return;
    // One PUT: the ETag is the MD5 of the whole body, read from the response (CORS exposes it).
    expect(out.etag).toBe(`"${createHash('md5').update(bytes).digest('hex')}"`);
    expect(t.sent.map((r) => r.op)).toEqual(['PutObject']);
    expect(t.sent[0]!.key).toBe(`${prefix}small.bin`);
    expect(t.sent[0]!.headers['x-amz-content-sha256']).toBe(payloadHeader(bytes));
    const got = await s3.send(new GetObjectCommand({ Bucket: s.bucket, Key: `${prefix}small.bin` }));
    expect(sha256(await got.Body!.transformToByteArray())).toBe(sha256(bytes));
  });

  test('cancelled mid-upload: StorageError "aborted", no object, no multipart upload left open', async () => {
    const t = await newTab();
    // Slow the uploads down, so parts are still on the wire when the upload is cancelled.
    const cdp = await t.context.newCDPSession(t.page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 10 * MiB,
    });
    // Cancel as soon as part 3 is sent: parts 1 or 2 have finished, part 3 has just started.
    let cancelled = false;
    t.page.on('request', (req) => {
      const r = classify(req, s.bucket);
      if (!cancelled && r.op === 'UploadPart' && r.part === 3) {
        cancelled = true;
        void t.page.evaluate(() => window.khTest.cancel());
      }
    });
    const key = 'cancelled.bin';
    const out = await t.upload({ key, size: 20 * MiB, seed: 7, partSizeBytes: 5 * MiB, queueSize: 2 });
    expect(cancelled).toBe(true);
    expect(out).toMatchObject({ ok: false, storageError: true, code: 'aborted' });
    expect(out.progress.at(-1) ?? 0).toBeLessThan(20 * MiB);
    // Part 3 was on the wire when the upload was cancelled, and was aborted there.
    expect(t.failed.filter((r) => r.op === 'UploadPart').map((r) => r.part)).toContain(3);
    const ops = t.sent.map((r) => r.op);
    expect(ops).not.toContain('CompleteMultipartUpload');
    expect(ops).toContain('Abort');
    expect(await headStatus(`${prefix}${key}`)).toBe(404);
    expect(await openUploads(`${prefix}${key}`)).toEqual([]);
  });

  test('a part that fails: the upload fails, and no multipart upload is left open', async () => {
    const t = await newTab();
    let refused = 0;
    await t.page.route(
      (url) => new URL(url).origin === new URL(endpoint).origin && new URL(url).searchParams.get('partNumber') === '2',
      (route) => {
        if (route.request().method() !== 'PUT') return route.fallback();
        refused++;
        return route.abort('connectionreset');
      },
    );
    const key = 'failed.bin';
    const out = await t.upload({ key, size: 20 * MiB, seed: 11, partSizeBytes: 5 * MiB, queueSize: 4 });
    expect(refused).toBeGreaterThanOrEqual(1);
    expect(out.ok).toBe(false);
    if (out.ok) return;
    // The connection reset is reported as what it is (an S3 call with no answer), not as a cancel.
    expect(out).toMatchObject({ storageError: true, code: 's3_error', network: true });
    const ops = t.sent.map((r) => r.op);
    expect(ops).toContain('CreateMultipartUpload');
    expect(ops).not.toContain('CompleteMultipartUpload');
    expect(ops).toContain('Abort');
    expect(await headStatus(`${prefix}${key}`)).toBe(404);
    expect(await openUploads(`${prefix}${key}`)).toEqual([]);
  });

  test('nothing else was left under the prefix', async () => {
    expect(await openUploads(prefix)).toEqual([]);
  });
});
