// The page side of browser-upload.test.ts, bundled by esbuild with `keyhole/client` from this
// checkout: uploads a Blob made in the page (or a File chosen in the page's file input) through
// `createStorage().upload`, and reports the result or the error as plain data.
import {
  brokerCredentials,
  createStorage,
  isNetworkError,
  StorageError,
  type UploadOptions,
} from '../../client/index.js';
import { content } from './browser-upload-content.js';

// Browser globals this file uses that the test tsconfig (Node types, no DOM) does not declare.
declare const window: any;

export interface UploadJob {
  readonly brokerUrl: string;
  readonly token: string;
  readonly key: string;
  /** Upload a Blob of `content(size, seed)` made in the page. */
  readonly size: number;
  readonly seed: number;
  readonly partSizeBytes?: number;
  readonly queueSize?: number;
}

export type UploadOutcome =
  | { ok: true; etag: string | undefined; fullKey: string; progress: number[] }
  | {
      ok: false;
      name: string | undefined;
      code: string | undefined;
      storageError: boolean;
      /** `isNetworkError(err)`: no answer arrived. */
      network: boolean;
      message: string;
      progress: number[];
    };

let current: AbortController | undefined;

async function upload(job: UploadJob): Promise<UploadOutcome> {
  const storage = createStorage({
    credentials: brokerCredentials({ brokerUrl: job.brokerUrl, getToken: () => job.token }),
  });
  const blob = new Blob([content(job.size, job.seed) as Uint8Array<ArrayBuffer>], {
    type: 'application/octet-stream',
  });
  const controller = (current = new AbortController());
  const progress: number[] = [];
  const opts: UploadOptions = {
    signal: controller.signal,
    onProgress: (p) => progress.push(p.loaded),
    ...(job.partSizeBytes ? { partSizeBytes: job.partSizeBytes } : {}),
    ...(job.queueSize ? { queueSize: job.queueSize } : {}),
  };
  try {
    const out = await storage.upload(job.key, blob, opts);
    return { ok: true, etag: out.etag, fullKey: out.fullKey, progress };
  } catch (err) {
    const e = err as { name?: string; code?: string; message?: string };
    return {
      ok: false,
      name: e?.name,
      code: e?.code,
      storageError: err instanceof StorageError,
      network: isNetworkError(err),
      message: String(e?.message),
      progress,
    };
  } finally {
    storage.signOut();
  }
}

window.khTest = { upload, cancel: () => current?.abort() };
