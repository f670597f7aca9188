// The tab's JS heap while Keyhole uploads a large file from disk in Chromium, over RGW's HTTPS
// endpoint (parts sent unread, UNSIGNED-PAYLOAD) and its HTTP endpoint (each part hashed with
// WebCrypto first). The file is chosen in an <input type=file>, so the browser reads it from disk as
// it would a user's: in-page Blobs of 512 MiB and more fail with ERR_BLOB_OUT_OF_MEMORY in Chromium.
// The heap (V8 + ArrayBuffer backing stores, CDP Runtime.getHeapUsage) is sampled every 100 ms.
//
// Part of `npm run bench` (full mode), or on its own:
//   node --import tsx test/bench/browser/file-heap.ts [size in MiB, default 1024]
import { randomBytes, randomFillSync } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ownerS3, stack } from '../../helpers/stack.js';
import { benchPrefix, createBenchIssuer, PUBLIC_JWK_ENV, type BenchIssuer } from '../auth.js';
import { PAGE_DIR_ENV, S3_ENDPOINT_ENV } from '../servers/app-server.js';
import { startApp, type AppProcess } from '../servers/spawn.js';
import { buildBenchPage } from './build.js';
import { BenchTab, launchBrowser } from './driver.js';

const MiB = 1024 * 1024;

export interface FileHeapResult {
  readonly endpoint: 'https' | 'http';
  readonly sizeBytes: number;
  readonly seconds: number;
  readonly mibPerS: number;
  /** Highest V8 heap + ArrayBuffer backing stores during the upload, MiB. */
  readonly peakHeapMiB: number;
  /** Highest V8 heap alone, MiB. */
  readonly peakUsedMiB: number;
  /** Before the upload (after a GC), MiB. */
  readonly baseHeapMiB: number;
  /** 1-minute load average before and after. */
  readonly load: readonly [number, number];
}

/** Writes `size` random bytes to a new file in a new temporary directory. */
function writeRandomFile(size: number): { path: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'keyhole-bench-file-'));
  const path = join(dir, 'upload.bin');
  const fd = openSync(path, 'w');
  try {
    const chunk = Buffer.alloc(16 * MiB);
    for (let left = size; left > 0; left -= chunk.length) {
      randomFillSync(chunk);
      writeSync(fd, chunk, 0, Math.min(left, chunk.length));
    }
  } finally {
    closeSync(fd);
  }
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function measureFileUploadHeap(options: {
  readonly issuer: BenchIssuer;
  readonly sizeBytes: number;
  readonly log: (line: string) => void;
  /** Deletes everything under a prefix; returns how many objects there were. */
  readonly deletePrefix: (prefix: string) => Promise<number>;
}): Promise<FileHeapResult[]> {
  const { issuer, log } = options;
  const s = stack();
  const page = await buildBenchPage();
  const file = writeRandomFile(options.sizeBytes);
  const env = { [PUBLIC_JWK_ENV]: JSON.stringify(issuer.publicJwk), [PAGE_DIR_ENV]: page.dir };
  const apps: AppProcess[] = [];
  const browser = await launchBrowser();
  const results: FileHeapResult[] = [];
  try {
    for (const [endpoint, url] of [
      ['https', s.s3TlsEndpoint],
      ['http', s.s3Endpoint],
    ] as const) {
      const broker = await startApp('broker-main.ts', { ...env, [S3_ENDPOINT_ENV]: url });
      apps.push(broker);
      const tab = await BenchTab.open(browser, broker.url);
      try {
        const sub = `bench-file-${randomBytes(6).toString('hex')}`;
        const token = await issuer.mint(sub);
        const before = loadavg()[0]!;
        const r = await tab.uploadFile(file.path, { appUrl: broker.url, token, key: 'big.bin' });
        const after = loadavg()[0]!;
        const stored = await options.deletePrefix(benchPrefix(sub));
        if (stored !== 1 || r.bytes !== options.sizeBytes)
          throw new Error(`file upload over ${endpoint}: ${stored} objects stored, ${r.bytes} bytes read`);
        const round1 = (n: number) => Math.round(n * 10) / 10;
        const result: FileHeapResult = {
          endpoint,
          sizeBytes: options.sizeBytes,
          seconds: round1(r.ms / 1000),
          mibPerS: round1(options.sizeBytes / MiB / (r.ms / 1000)),
          peakHeapMiB: round1(r.peakHeapBytes / MiB),
          peakUsedMiB: round1(r.peakUsedBytes / MiB),
          baseHeapMiB: round1(r.baseHeapBytes / MiB),
          load: [round1(before), round1(after)],
        };
        results.push(result);
        log(
          `  file-upload-${options.sizeBytes / MiB}MiB (disk File, keyhole defaults) over ${endpoint.toUpperCase().padEnd(5)} ` +
            `${result.seconds.toFixed(1)} s  ${result.mibPerS} MiB/s  peak heap ${result.peakHeapMiB} MiB ` +
            `(V8 ${result.peakUsedMiB} MiB, before ${result.baseHeapMiB} MiB)  load ${result.load.join(' → ')}`,
        );
      } finally {
        await tab.close();
        broker.stop();
      }
    }
    return results;
  } finally {
    await browser.close();
    for (const app of apps) app.stop();
    file.remove();
    page.remove();
  }
}

// Run on its own.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const sizeMiB = Number(process.argv[2] ?? 1024);
  const owner = ownerS3();
  const bucket = stack().bucket;
  const deletePrefix = async (prefix: string): Promise<number> => {
    const page = await owner.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (keys.length > 0) await owner.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
    return keys.length;
  };
  measureFileUploadHeap({
    issuer: await createBenchIssuer(),
    sizeBytes: sizeMiB * MiB,
    log: (line) => process.stdout.write(line + '\n'),
    deletePrefix,
  }).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(
        `file heap bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      process.exit(1);
    },
  );
}
