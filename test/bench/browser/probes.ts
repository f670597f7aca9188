// Diagnostic strategies for the browser bench (test/bench/browser/profile.ts runs them; `npm run
// bench` does not): they take Keyhole's small-object path apart, to see where its per-object time
// goes in Chromium. Each is the keyhole strategy minus one thing:
// - keyhole-traced: the client module with a request handler that records, per object, the time
//   from `upload()` to the HTTP request (client work: grant, middleware, SigV4 with WebCrypto) and
//   the HTTP request itself (fetch, which includes the CORS preflight of every new URL);
// - keyhole-xhr: the client module on an XMLHttpRequest handler instead of fetch;
// - keyhole-jssha: the client module signing with SHA-256 in JavaScript (@aws-crypto/sha256-js,
//   synchronous, as Amplify signs) instead of WebCrypto (asynchronous calls to the browser);
// - sdk-static: a bare S3Client (same SDK, fetch) signing with the session's keys, fetched before
//   the clock: no per-request credentials provider, no Keyhole middleware;
// - sts-xhr-put: one XHR PUT per object to URLs presigned in the page with the session's keys before
//   the clock (RGW's cost of STS session credentials, without any client work);
// - raw-xhr-post: as raw-xhr-put, with policies presigned by the app server before the clock (a POST
//   of a form is a CORS "simple" request: no preflight, where every PUT to a new URL has one).
// A POST signed with the session's keys (x-amz-security-token field) is not a probe: this RGW
// answers it 204 without storing the object.
import { Sha256 } from '@aws-crypto/sha256-js';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { HttpResponse } from '@smithy/core/protocols';
import { FetchHttpHandler } from '@smithy/fetch-http-handler';
import { brokerCredentials, createStorage } from 'keyhole/client';

declare const XMLHttpRequest: any;

export interface ProbeJob {
  readonly appUrl: string;
  readonly token: string;
  readonly keys: readonly string[];
  readonly blob: Blob;
  readonly concurrency: number;
  /** Restarts the run's clock (after work that is not timed). */
  readonly restartClock: () => void;
  readonly pool: <T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>) => Promise<number[]>;
  readonly xhrSend: (method: string, url: string, body: Blob | FormData) => Promise<string>;
  readonly callApp: <T>(path: string, body: unknown) => Promise<T>;
}

/** Per-object stage times of the last keyhole-traced run, ms. */
export const traces: { client: number[]; http: number[]; after: number[] } = { client: [], http: [], after: [] };

interface SdkRequest {
  method: string;
  protocol: string;
  hostname: string;
  port?: number;
  path: string;
  query?: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  body?: unknown;
}

function urlOf(r: SdkRequest): string {
  const q = Object.entries(r.query ?? {})
    .flatMap(([k, v]) =>
      v === null
        ? [encodeURIComponent(k)]
        : (Array.isArray(v) ? v : [v]).map((x) => `${encodeURIComponent(k)}=${encodeURIComponent(x)}`),
    )
    .join('&');
  return `${r.protocol}//${r.hostname}${r.port ? `:${r.port}` : ''}${r.path}${q ? `?${q}` : ''}`;
}

/** A minimal SDK request handler on XMLHttpRequest (what the web app and xhr-http-handler do). */
class XhrHandler {
  readonly metadata = { handlerProtocol: 'http/1.1' };
  async handle(request: SdkRequest, options?: { abortSignal?: AbortSignal }): Promise<{ response: unknown }> {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(request.method, urlOf(request));
      xhr.responseType = 'blob';
      for (const [name, value] of Object.entries(request.headers)) {
        if (!['host', 'content-length', 'expect'].includes(name.toLowerCase())) xhr.setRequestHeader(name, value);
      }
      xhr.onload = () => {
        const headers: Record<string, string> = {};
        for (const line of (xhr.getAllResponseHeaders() as string).trim().split(/[\r\n]+/)) {
          const i = line.indexOf(':');
          if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
        }
        const body = xhr.response as Blob;
        resolve({
          response: new HttpResponse({
            statusCode: xhr.status,
            headers,
            body: body.stream ? body.stream() : body,
          }),
        });
      };
      xhr.onerror = () => reject(new TypeError('network error'));
      xhr.onabort = () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
      options?.abortSignal?.addEventListener('abort', () => xhr.abort(), { once: true });
      xhr.send(request.method === 'GET' || request.method === 'HEAD' ? null : (request.body ?? null));
    });
  }
  updateHttpClientConfig(): void {}
  httpHandlerConfigs(): object {
    return {};
  }
  destroy(): void {}
}

async function sessionOf(job: ProbeJob) {
  const provider = brokerCredentials({ brokerUrl: job.appUrl, getToken: () => job.token });
  const [credentials, grant] = await Promise.all([provider(), provider.grant()]);
  const client = new S3Client({
    region: grant.region,
    endpoint: grant.endpoint!,
    forcePathStyle: true,
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken!,
    },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return { client, grant, key: (k: string) => `${grant.prefix}${k}` };
}

export const probes = {
  async 'keyhole-traced'(job: ProbeJob): Promise<number[]> {
    traces.client = [];
    traces.http = [];
    traces.after = [];
    const fetchHandler = new FetchHttpHandler();
    const started = new Map<string, number>();
    const handler = {
      metadata: { handlerProtocol: 'http/1.1' },
      async handle(request: SdkRequest, options?: object) {
        const key = decodeURIComponent(request.path.split('/').pop() ?? '');
        const t0 = performance.now();
        const s = started.get(key);
        if (s !== undefined) traces.client.push(t0 - s);
        const out = await fetchHandler.handle(request as never, options as never);
        const t1 = performance.now();
        traces.http.push(t1 - t0);
        started.set(key, t1);
        return out;
      },
      updateHttpClientConfig() {},
      httpHandlerConfigs: () => ({}),
      destroy() {},
    };
    const storage = createStorage({
      credentials: brokerCredentials({ brokerUrl: job.appUrl, getToken: () => job.token }),
      s3: { requestHandler: handler as never },
    });
    // Warm the session (grant, credentials) as the other strategies do before their clock.
    await storage.grant();
    job.restartClock();
    try {
      return await job.pool(job.keys, job.concurrency, async (key) => {
        started.set(key, performance.now());
        await storage.upload(key, job.blob);
        traces.after.push(performance.now() - started.get(key)!);
      });
    } finally {
      storage.signOut();
    }
  },
  async 'keyhole-xhr'(job: ProbeJob): Promise<number[]> {
    const storage = createStorage({
      credentials: brokerCredentials({ brokerUrl: job.appUrl, getToken: () => job.token }),
      s3: { requestHandler: new XhrHandler() as never },
    });
    try {
      return await job.pool(job.keys, job.concurrency, async (key) => {
        await storage.upload(key, job.blob);
      });
    } finally {
      storage.signOut();
    }
  },
  async 'keyhole-jssha'(job: ProbeJob): Promise<number[]> {
    const storage = createStorage({
      credentials: brokerCredentials({ brokerUrl: job.appUrl, getToken: () => job.token }),
      s3: { sha256: Sha256 },
    });
    try {
      return await job.pool(job.keys, job.concurrency, async (key) => {
        await storage.upload(key, job.blob);
      });
    } finally {
      storage.signOut();
    }
  },
  async 'sdk-static'(job: ProbeJob): Promise<number[]> {
    const { client, grant, key } = await sessionOf(job);
    job.restartClock();
    return job.pool(job.keys, job.concurrency, async (k) => {
      await client.send(new PutObjectCommand({ Bucket: grant.bucket, Key: key(k), Body: job.blob }));
    });
  },
  async 'sts-xhr-put'(job: ProbeJob): Promise<number[]> {
    const { client, grant, key } = await sessionOf(job);
    const urls = await Promise.all(
      job.keys.map((k) => getSignedUrl(client, new PutObjectCommand({ Bucket: grant.bucket, Key: key(k) }))),
    );
    job.restartClock();
    return job.pool(urls, job.concurrency, async (url) => {
      await job.xhrSend('PUT', url, job.blob);
    });
  },
  async 'raw-xhr-post'(job: ProbeJob): Promise<number[]> {
    const posts = await Promise.all(
      job.keys.map((key) =>
        job.callApp<{ url: string; fields: Record<string, string> }>('/presign/post', { key, size: job.blob.size }),
      ),
    );
    job.restartClock();
    return job.pool(posts, job.concurrency, async (post) => {
      const form = new FormData();
      for (const [name, value] of Object.entries(post.fields)) form.append(name, value);
      form.append('file', job.blob);
      await job.xhrSend('POST', post.url, form);
    });
  },
};

export type ProbeStrategy = keyof typeof probes;
/** Probes that talk to the broker (the others to the presigned-URL server). */
export const BROKER_PROBES: readonly ProbeStrategy[] = [
  'keyhole-traced',
  'keyhole-xhr',
  'keyhole-jssha',
  'sdk-static',
  'sts-xhr-put',
];
