// The browser benchmark's targets and its Markdown report: pure functions of the records, apart
// from the runner (bench.ts) so that unit tests can check them without the local stack.
import type { BenchRecord } from '../record.js';
import type { FileHeapResult } from './file-heap.js';

export interface BrowserRecord extends BenchRecord {
  /** Highest V8 heap + ArrayBuffer backing stores of the tab during any run, MiB (not for node-keyhole). */
  readonly peakHeapMiB?: number;
}

type Role = 'browser-small' | 'browser-large';

const MiB = 1024 * 1024;

export interface BrowserTarget {
  readonly target: string;
  readonly value: string;
  readonly met: boolean | undefined;
}

export function checkBrowserTargets(records: readonly BrowserRecord[]): BrowserTarget[] {
  const get = (role: Role, strategy: string) =>
    records.find((r) => r.workload.startsWith('browser-upload-') && roleOf(r) === role && r.strategy === strategy);
  const rate = (r: BrowserRecord | undefined, k: 'mibPerS' | 'objPerS') => r?.median[k];
  const out: BrowserTarget[] = [];
  const check = (target: string, a: number | undefined, b: number | undefined, min: number) => {
    const ratio = a === undefined || b === undefined || b === 0 ? undefined : a / b;
    out.push({
      target,
      value: ratio === undefined ? '–' : `${ratio.toFixed(2)}×`,
      met: ratio === undefined ? undefined : ratio >= min,
    });
  };
  const kLarge = rate(get('browser-large', 'keyhole'), 'mibPerS');
  check(
    'large: keyhole in Chromium ≥ 0.8 × the Node client (same endpoint)',
    kLarge,
    rate(get('browser-large', 'node-keyhole'), 'mibPerS'),
    0.8,
  );
  check(
    'large: keyhole in Chromium ≥ 0.7 × one raw XHR PUT',
    kLarge,
    rate(get('browser-large', 'raw-xhr-put'), 'mibPerS'),
    0.7,
  );
  check(
    'large: keyhole ≥ 1.0 × presigned multipart',
    kLarge,
    rate(get('browser-large', 'presigned-multipart'), 'mibPerS'),
    1,
  );
  const web = records.find((r) => r.workload.startsWith('web-upload-') && r.strategy === 'web-app')?.median.mibPerS;
  if (web !== undefined) {
    check(
      'large: the web app (file from disk) ≥ 0.8 × the Node client',
      web,
      rate(get('browser-large', 'node-keyhole'), 'mibPerS'),
      0.8,
    );
    check(
      'large: the web app (file from disk) ≥ 0.7 × one raw XHR PUT (in-page Blob)',
      web,
      rate(get('browser-large', 'raw-xhr-put'), 'mibPerS'),
      0.7,
    );
  }
  check(
    'small: keyhole ≥ 1.25 × presigned PUT (objects/s)',
    rate(get('browser-small', 'keyhole'), 'objPerS'),
    rate(get('browser-small', 'presigned-put'), 'objPerS'),
    1.25,
  );
  const heap = Math.max(...records.filter((r) => r.strategy === 'keyhole').map((r) => r.peakHeapMiB ?? 0));
  out.push({
    target: 'keyhole: peak tab heap (V8 + ArrayBuffers) < 100 MiB',
    value: `${heap.toFixed(1)} MiB`,
    met: heap < 100,
  });
  return out;
}

function roleOf(r: BrowserRecord): Role {
  return (r.params.objects ?? 1) > 1 ? 'browser-small' : 'browser-large';
}

export function renderBrowserMarkdown(
  records: readonly BrowserRecord[],
  meta: {
    date: string;
    mode: string;
    repetitions: number;
    machine: string;
    software: string;
    /** The 1 GiB upload of a file from disk (file-heap.ts), when it ran. */
    fileHeap?: readonly FileHeapResult[];
  },
): string {
  const fmt = (n: number | undefined, d = 1) => (n === undefined ? '–' : n.toFixed(d));
  const lines = [
    '# Keyhole in the browser: benchmark results',
    '',
    `Run ${meta.date}, mode **${meta.mode}**, ${meta.repetitions} runs per cell, interleaved round-robin, after one unrecorded warm-up run of each.`,
    '',
    `- Machine: ${meta.machine}`,
    `- Software: ${meta.software}; headless Chromium via playwright-core`,
    "- Every strategy uploads Blobs made in the page (never read from disk) to RGW's HTTPS endpoint (`https://localhost:7443`), from a tab served by the app server it talks to (same origin, as a web app is).",
    "- keyhole: the `keyhole/client` module (`createStorage().upload(key, blob)`), default part size and queue (chosen from the size); presigned-multipart: the app server creates the upload and presigns all part URLs in one answer, 8 MiB parts, 4 in flight, XHR; presigned-put / -post: one app request, then one XHR, per object; raw-xhr-put: one XHR PUT per object to URLs presigned before the clock starts (the browser's ceiling); node-keyhole: the same client module in Node, same endpoint; amplify: Amplify JS v6 Storage `uploadData` with the `keyhole/amplify` credentials provider (Amplify's own S3 client: XHR, `UNSIGNED-PAYLOAD` for Blobs, 5 MiB parts, 4 in flight).",
    "- web-upload rows: a file of random bytes on disk, chosen in a file input (not an in-page Blob). web-app: the web app (`client/web`, dev login, served beside the broker as `npm start` does), timed in the page from the file input's `change` event until the file's row says done; keyhole-file: the client module uploading the same file from the bench page's file input. Same browser and endpoint, interleaved with each other after the table's runs.",
    "- Peak heap: the tab's V8 heap plus ArrayBuffer backing stores (CDP `Runtime.getHeapUsage`), sampled every 50 ms, highest over the runs.",
    '',
    '| Workload | Strategy | Objects in flight | Median s | Min s | MiB/s | Objects/s | App requests | STS calls | p50 ms | p99 ms | Peak heap MiB |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of records) {
    lines.push(
      `| ${r.workload} | ${r.strategy} | ${r.params.objectConcurrency} | ${fmt(r.median.seconds, 2)} | ${fmt(r.min.seconds, 2)} | ${fmt(r.median.mibPerS)} | ${fmt(r.median.objPerS)} | ${r.appRequests} | ${r.stsCalls} | ${fmt(r.latencyMs?.p50)} | ${fmt(r.latencyMs?.p99)} | ${fmt(r.peakHeapMiB)} |`,
    );
  }
  lines.push('', '## Targets (ratios of medians within this run)', '', '| Target | Measured | Met |', '|---|---|---|');
  for (const t of checkBrowserTargets(records)) {
    lines.push(`| ${t.target} | ${t.value} | ${t.met === undefined ? '–' : t.met ? 'yes' : '**no**'} |`);
  }
  if (meta.fileHeap?.length) {
    lines.push(
      '',
      '## Heap on a large upload of a file from disk',
      '',
      'Measured separately from the table above, in the same run: Keyhole (`createStorage().upload(key, file)`, default part size and queue) uploads a file of random bytes chosen in an `<input type=file>` (read from disk by the browser; in-page Blobs of 512 MiB and more fail with `ERR_BLOB_OUT_OF_MEMORY`), once per endpoint. Heap: V8 + ArrayBuffer backing stores, CDP `Runtime.getHeapUsage` every 100 ms. One upload each, so the throughput is indicative only.',
      '',
      '| Endpoint | Size MiB | Seconds | MiB/s | Peak heap MiB (V8 + ArrayBuffers) | Peak V8 heap MiB | Before MiB | Load average (1 min) before → after |',
      '|---|---|---|---|---|---|---|---|',
    );
    for (const f of meta.fileHeap) {
      lines.push(
        `| ${f.endpoint === 'https' ? 'HTTPS (parts unread, UNSIGNED-PAYLOAD)' : 'HTTP (each part hashed with WebCrypto)'} | ${f.sizeBytes / MiB} | ${fmt(f.seconds)} | ${fmt(f.mibPerS)} | ${fmt(f.peakHeapMiB)} | ${fmt(f.peakUsedMiB)} | ${fmt(f.baseHeapMiB)} | ${f.load.join(' → ')} |`,
      );
    }
  }
  lines.push('');
  return lines.join('\n');
}
