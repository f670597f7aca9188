// The browser side of the browser benchmark: bundled by vite (test/bench/browser/build.ts) and
// loaded, same origin, from the app server a strategy talks to (the broker for Keyhole, the
// presigned-URL server for the baselines), as a web app would be. The driver (browser.ts) calls
// `window.khBench` through playwright. Bodies are Blobs made in the page, never read from disk.
import { Amplify } from 'aws-amplify';
import { uploadData } from 'aws-amplify/storage';
import { createAmplifyCredentialsProvider } from 'keyhole/amplify';
import { brokerCredentials, createStorage, type UploadOptions } from 'keyhole/client';
import { probes, traces, type ProbeStrategy } from './probes.js';

// Browser globals this file uses that the test tsconfig (Node types, no DOM) does not declare.
declare const window: any;
declare const document: any;
declare const XMLHttpRequest: any;

const MiB = 1024 * 1024;

export interface PageShape {
  readonly objectConcurrency: number;
  /** Parts in flight per object; undefined lets Keyhole choose. */
  readonly queueSize?: number;
  /** Part size; undefined lets Keyhole choose (presigned multipart then uses 8 MiB). */
  readonly partSizeBytes?: number;
}

export interface PageJob {
  readonly appUrl: string;
  readonly token: string;
  /** Keys, relative to the user's prefix; every object gets the same Blob. */
  readonly keys: readonly string[];
  readonly sizeBytes: number;
  readonly shape: PageShape;
  /** For the amplify strategy: the S3 endpoint's `host:port` (Amplify's `customEndpoint`). */
  readonly customEndpoint?: string;
}

const blobs = new Map<number, Blob>();
/** When the current run's clock started; a strategy may restart it after work that is not timed. */
let clockStart = 0;

/** A Blob of `size` pseudo-random bytes, made in the page (1 MiB of random bytes, repeated). */
function blobOf(size: number): Blob {
  let blob = blobs.get(size);
  if (!blob) {
    const block = new Uint8Array(Math.min(size, MiB));
    for (let i = 0; i < block.length; i += 65536) crypto.getRandomValues(block.subarray(i, i + 65536));
    const parts: Uint8Array[] = [];
    for (let left = size; left > 0; left -= block.length)
      parts.push(left >= block.length ? block : block.slice(0, left));
    blob = new Blob(parts, { type: 'application/octet-stream' });
    blobs.set(size, blob);
  }
  return blob;
}

async function pool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      const started = performance.now();
      await work(item);
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return latencies;
}

async function callApp<T>(job: PageJob, path: string, body: unknown): Promise<T> {
  const res = await fetch(job.appUrl + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${job.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

/** One XMLHttpRequest; resolves with the ETag, rejects unless 2xx. */
function xhrSend(method: string, url: string, body: Blob | FormData): Promise<string> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.onload = () =>
      xhr.status >= 200 && xhr.status < 300
        ? resolve(xhr.getResponseHeader('etag') ?? '')
        : reject(new Error(`${method} answered ${xhr.status}: ${xhr.responseText.slice(0, 300)}`));
    xhr.onerror = () => reject(new TypeError(`${method} ${url.split('?')[0]} failed`));
    xhr.send(body);
  });
}

async function presignedMultipart(job: PageJob, key: string, blob: Blob): Promise<void> {
  const partSize = job.shape.partSizeBytes ?? 8 * MiB;
  const parts = Math.max(1, Math.ceil(blob.size / partSize));
  const { uploadId, urls } = await callApp<{ uploadId: string; urls: string[] }>(job, '/presign/multipart/create', {
    key,
    parts,
  });
  const etags = new Array<string>(parts);
  await pool(
    urls.map((url, i) => ({ url, i })),
    job.shape.queueSize ?? 4,
    async ({ url, i }) => {
      etags[i] = await xhrSend('PUT', url, blob.slice(i * partSize, (i + 1) * partSize));
    },
  );
  await callApp(job, '/presign/multipart/complete', { key, uploadId, etags });
}

const strategies = {
  async keyhole(job: PageJob): Promise<number[]> {
    const storage = createStorage({
      credentials: brokerCredentials({ brokerUrl: job.appUrl, getToken: () => job.token }),
    });
    const blob = blobOf(job.sizeBytes);
    const opts: UploadOptions = {
      ...(job.shape.partSizeBytes ? { partSizeBytes: job.shape.partSizeBytes } : {}),
      ...(job.shape.queueSize ? { queueSize: job.shape.queueSize } : {}),
    };
    try {
      return await pool(job.keys, job.shape.objectConcurrency, async (key) => {
        await storage.upload(key, blob, opts);
      });
    } finally {
      storage.signOut();
    }
  },
  /**
   * Amplify JS v6 Storage (`uploadData`) with the keyhole/amplify credentials provider, as an
   * Amplify app would use Keyhole: Amplify's own S3 client (XHR, UNSIGNED-PAYLOAD for Blobs,
   * virtual-hosted addressing, 5 MiB parts, 4 in flight), credentials from the broker.
   */
  async amplify(job: PageJob): Promise<number[]> {
    const provider = createAmplifyCredentialsProvider({ brokerUrl: job.appUrl, getToken: () => job.token });
    const grant = await provider.grant();
    Amplify.configure(
      { Storage: { S3: { bucket: grant.bucket, region: grant.region } } },
      { Auth: { credentialsProvider: provider } },
    );
    // Amplify's per-call `customEndpoint` works but is not in its public option types.
    const local = { customEndpoint: job.customEndpoint } as object;
    const blob = blobOf(job.sizeBytes);
    try {
      return await pool(job.keys, job.shape.objectConcurrency, async (key) => {
        await uploadData({ path: `${grant.prefix}${key}`, data: blob, options: local }).result;
      });
    } finally {
      provider.clearCredentialsAndIdentityId();
    }
  },
  'presigned-put': (job: PageJob) =>
    pool(job.keys, job.shape.objectConcurrency, async (key) => {
      const { url } = await callApp<{ url: string }>(job, '/presign/put', { key });
      await xhrSend('PUT', url, blobOf(job.sizeBytes));
    }),
  'presigned-post': (job: PageJob) =>
    pool(job.keys, job.shape.objectConcurrency, async (key) => {
      const post = await callApp<{ url: string; fields: Record<string, string> }>(job, '/presign/post', {
        key,
        size: job.sizeBytes,
      });
      const form = new FormData();
      for (const [name, value] of Object.entries(post.fields)) form.append(name, value);
      form.append('file', blobOf(job.sizeBytes));
      await xhrSend('POST', post.url, form);
    }),
  'presigned-multipart': (job: PageJob) =>
    pool(job.keys, job.shape.objectConcurrency, (key) => presignedMultipart(job, key, blobOf(job.sizeBytes))),
  /** The browser's own ceiling: one XHR PUT per object to a URL presigned before the clock starts. */
  async 'raw-xhr-put'(job: PageJob): Promise<number[]> {
    const urls = await Promise.all(
      job.keys.map(async (key) => (await callApp<{ url: string }>(job, '/presign/put', { key })).url),
    );
    clockStart = performance.now();
    return pool(urls, job.shape.objectConcurrency, async (url) => {
      await xhrSend('PUT', url, blobOf(job.sizeBytes));
    });
  },
};

export type PageStrategy = keyof typeof strategies;

/**
 * Keyhole uploading the File chosen in the page's `<input type=file>` (disk-backed, as a user's
 * file is; in-page Blobs of 512 MiB and more fail in Chromium with ERR_BLOB_OUT_OF_MEMORY), with
 * the part size and queue Keyhole chooses.
 */
async function uploadChosenFile(job: Omit<PageJob, 'keys' | 'sizeBytes' | 'shape'> & { key: string }) {
  const file: Blob | undefined = document.querySelector('#file')?.files?.[0];
  if (!file) throw new Error('no file chosen in #file');
  const storage = createStorage({
    credentials: brokerCredentials({ brokerUrl: job.appUrl, getToken: () => job.token }),
  });
  const started = performance.now();
  try {
    await storage.upload(job.key, file);
  } finally {
    storage.signOut();
  }
  return { ms: performance.now() - started, bytes: file.size };
}

/** What the driver calls, as `window.khBench`. */
export interface PageApi {
  prepare(sizeBytes: number): number;
  run(strategy: PageStrategy, job: PageJob): Promise<{ ms: number; latencies: number[] }>;
  /** A diagnostic strategy (probes.ts), for test/bench/browser/profile.ts. */
  probe(strategy: ProbeStrategy, job: PageJob): Promise<{ ms: number; latencies: number[]; traces: typeof traces }>;
  uploadChosenFile: typeof uploadChosenFile;
  forget(): void;
}

const api: PageApi = {
  prepare: (sizeBytes) => blobOf(sizeBytes).size,
  async run(strategy, job) {
    clockStart = performance.now();
    const latencies = await strategies[strategy](job);
    return { ms: performance.now() - clockStart, latencies };
  },
  async probe(strategy, job) {
    clockStart = performance.now();
    const latencies = await probes[strategy]({
      appUrl: job.appUrl,
      token: job.token,
      keys: job.keys,
      blob: blobOf(job.sizeBytes),
      concurrency: job.shape.objectConcurrency,
      restartClock: () => {
        clockStart = performance.now();
      },
      pool,
      xhrSend,
      callApp: (path, body) => callApp(job, path, body),
    });
    return { ms: performance.now() - clockStart, latencies, traces };
  },
  uploadChosenFile,
  forget: () => blobs.clear(),
};
window.khBench = api;
