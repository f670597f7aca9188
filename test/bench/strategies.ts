// One function per strategy. Every strategy gets the same files, the same object concurrency,
// the same part size and the same parts-in-flight, so only the way to S3 differs. Every S3 request,
// presigned or not, goes through the AWS SDK's own Node HTTP handler (see sdkHttp), and every app
// request through fetch (as the client module asks the broker).
import type { Readable } from 'node:stream';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { brokerCredentials, createStorage } from '../../client/index.js';
import { ownerS3, type Stack } from '../helpers/stack.js';
import { timedPool } from './pool.js';

export type UploadStrategy =
  'direct' | 'keyhole' | 'presigned-put' | 'presigned-put-batch' | 'presigned-post' | 'presigned-multipart';
export type DownloadStrategy = 'direct' | 'keyhole' | 'presigned-get';
export type Strategy = UploadStrategy | DownloadStrategy;

export interface Shape {
  /** Objects in flight. */
  readonly objectConcurrency: number;
  /** Parts in flight per object (multipart only). */
  readonly queueSize: number;
  /** Multipart part size; objects at or below it go in one request. */
  readonly partSizeBytes: number;
}

export interface RunContext {
  readonly stack: Stack;
  readonly brokerUrl: string;
  readonly presignUrl: string;
  /** The user's JWT, minted before the run. */
  readonly token: string;
  /** The user's full prefix, `bench-users/<sub>/`. */
  readonly prefix: string;
}

export interface BenchFile {
  /** Key relative to the user's prefix. */
  readonly key: string;
  readonly body: Uint8Array;
}

function keyholeStorage(ctx: RunContext, shape: Shape) {
  return createStorage({
    credentials: brokerCredentials({ brokerUrl: ctx.brokerUrl, getToken: () => ctx.token }),
    partSizeBytes: shape.partSizeBytes,
    queueSize: shape.queueSize,
  });
}

async function callApp<T>(ctx: RunContext, path: string, body: unknown): Promise<T> {
  const res = await fetch(ctx.presignUrl + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${ctx.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`baseline ${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

async function drain(stream: ReadableStream<Uint8Array>): Promise<number> {
  let bytes = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return bytes;
    bytes += value.byteLength;
  }
}

async function drainNode(stream: Readable): Promise<number> {
  let bytes = 0;
  for await (const chunk of stream) bytes += (chunk as Uint8Array).byteLength;
  return bytes;
}

/** An S3 answer to a presigned request: status, headers (lower-case) and the body's length, read to the end. */
interface S3Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly bytes: number;
}

interface SdkHttp {
  send(url: string, method: 'PUT' | 'POST' | 'GET', body?: Uint8Array, contentType?: string): Promise<S3Answer>;
  destroy(): void;
}

/**
 * The HTTP path of the SDK strategies, for presigned URLs: the request handler of an S3Client made as
 * direct's and keyhole's are (the SDK's NodeHttpHandler: node:http, a keep-alive agent of 50 sockets
 * per client). So presigned, direct and keyhole differ in signing and app round trips only, not in
 * the HTTP client (the presigned strategies used fetch, that is undici, before). What stays different
 * is the SDK's own doing: it signs each body's SHA-256 over HTTP, where a presigned URL is
 * UNSIGNED-PAYLOAD, and sends `Expect: 100-continue` on bodies of 2 MiB and more, each such request on
 * a connection of its own (the handler's rule for that header).
 */
function sdkHttp(stack: Stack): SdkHttp {
  const client = new S3Client({ region: stack.region, endpoint: stack.s3Endpoint, forcePathStyle: true });
  const handler = client.config.requestHandler;
  return {
    async send(url, method, body, contentType) {
      const u = new URL(url);
      const headers: Record<string, string> = { host: u.host };
      if (body) headers['content-length'] = String(body.byteLength);
      if (contentType) headers['content-type'] = contentType;
      const { response } = await handler.handle({
        method,
        protocol: u.protocol,
        hostname: u.hostname,
        port: Number(u.port) || undefined,
        // The signed query exactly as the presigner encoded it.
        path: u.pathname + u.search,
        query: {},
        headers,
        body,
      } as never);
      const answer = response as { statusCode: number; headers: Record<string, string>; body: Readable };
      const bytes = await drainNode(answer.body);
      if (answer.statusCode < 200 || answer.statusCode > 299) {
        throw new Error(`presigned ${method} answered ${answer.statusCode} (${bytes} bytes of body)`);
      }
      return { status: answer.statusCode, headers: answer.headers, bytes };
    },
    destroy: () => client.destroy(),
  };
}

/** A form as multipart/form-data bytes and its content type (with the boundary), as fetch would send it. */
async function formBody(form: FormData): Promise<{ body: Uint8Array; contentType: string }> {
  const encoded = new Request('http://form.invalid/', { method: 'POST', body: form });
  return {
    body: new Uint8Array(await encoded.arrayBuffer()),
    contentType: encoded.headers.get('content-type')!,
  };
}

async function presignedMultipart(ctx: RunContext, http: SdkHttp, file: BenchFile, shape: Shape): Promise<void> {
  const parts = Math.max(1, Math.ceil(file.body.byteLength / shape.partSizeBytes));
  const { uploadId, urls } = await callApp<{ uploadId: string; urls: string[] }>(ctx, '/presign/multipart/create', {
    key: file.key,
    parts,
  });
  const etags = new Array<string>(parts);
  await timedPool(
    urls.map((url, i) => ({ url, i })),
    shape.queueSize,
    async ({ url, i }) => {
      const body = file.body.subarray(i * shape.partSizeBytes, (i + 1) * shape.partSizeBytes);
      etags[i] = (await http.send(url, 'PUT', body)).headers.etag ?? '';
    },
  );
  await callApp(ctx, '/presign/multipart/complete', { key: file.key, uploadId, etags });
}

/** Uploads every file; returns each object's latency in ms (including any app-server round trip). */
export async function upload(
  strategy: UploadStrategy,
  ctx: RunContext,
  files: readonly BenchFile[],
  shape: Shape,
): Promise<number[]> {
  switch (strategy) {
    case 'direct': {
      // The same settings createStorage uses against a non-AWS endpoint: direct differs only in credentials.
      const client = ownerS3();
      try {
        return await timedPool(files, shape.objectConcurrency, async (f) => {
          await new Upload({
            client,
            params: { Bucket: ctx.stack.bucket, Key: ctx.prefix + f.key, Body: f.body },
            partSize: shape.partSizeBytes,
            queueSize: shape.queueSize,
            leavePartsOnError: false,
          }).done();
        });
      } finally {
        client.destroy();
      }
    }
    case 'keyhole': {
      const storage = keyholeStorage(ctx, shape);
      try {
        return await timedPool(files, shape.objectConcurrency, async (f) => {
          await storage.upload(f.key, f.body);
        });
      } finally {
        storage.clear();
      }
    }
    case 'presigned-put':
      return withSdkHttp(ctx, (http) =>
        timedPool(files, shape.objectConcurrency, async (f) => {
          const { url } = await callApp<{ url: string }>(ctx, '/presign/put', { key: f.key });
          await http.send(url, 'PUT', f.body);
        }),
      );
    case 'presigned-put-batch':
      // One app request presigns every object of the run, then the PUTs go as presigned-put's do.
      // Every object waits for that answer, so its latency includes the whole batch's round trip.
      return withSdkHttp(ctx, async (http) => {
        const started = performance.now();
        const { urls } = await callApp<{ urls: string[] }>(ctx, '/presign/put/batch', {
          keys: files.map((f) => f.key),
        });
        const batchMs = performance.now() - started;
        const latencies = await timedPool(
          files.map((f, i) => ({ f, url: urls[i]! })),
          shape.objectConcurrency,
          async ({ f, url }) => void (await http.send(url, 'PUT', f.body)),
        );
        return latencies.map((ms) => ms + batchMs);
      });
    case 'presigned-post':
      return withSdkHttp(ctx, (http) =>
        timedPool(files, shape.objectConcurrency, async (f) => {
          const post = await callApp<{ url: string; fields: Record<string, string> }>(ctx, '/presign/post', {
            key: f.key,
            size: f.body.byteLength,
          });
          const form = new FormData();
          for (const [name, value] of Object.entries(post.fields)) form.append(name, value);
          form.append('file', new Blob([f.body]));
          const { body, contentType } = await formBody(form);
          await http.send(post.url, 'POST', body, contentType);
        }),
      );
    case 'presigned-multipart':
      return withSdkHttp(ctx, (http) =>
        timedPool(files, shape.objectConcurrency, (f) => presignedMultipart(ctx, http, f, shape)),
      );
  }
}

/** Runs `fn` with a fresh SDK HTTP handler (a new agent, as each SDK strategy run gets a new client). */
async function withSdkHttp<T>(ctx: RunContext, fn: (http: SdkHttp) => Promise<T>): Promise<T> {
  const http = sdkHttp(ctx.stack);
  try {
    return await fn(http);
  } finally {
    http.destroy();
  }
}

/** Downloads one object (key relative to the prefix) and reads it to the end; returns the bytes read. */
export async function download(
  strategy: DownloadStrategy,
  ctx: RunContext,
  key: string,
  shape: Shape,
): Promise<number> {
  switch (strategy) {
    case 'direct': {
      // The same settings createStorage uses against a non-AWS endpoint: direct differs only in credentials.
      const client = ownerS3();
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: ctx.stack.bucket, Key: ctx.prefix + key }));
        return await drain(
          (out.Body as unknown as { transformToWebStream(): ReadableStream<Uint8Array> }).transformToWebStream(),
        );
      } finally {
        client.destroy();
      }
    }
    case 'keyhole': {
      const storage = keyholeStorage(ctx, shape);
      try {
        return await drain((await storage.download(key, { as: 'stream' })).body);
      } finally {
        storage.clear();
      }
    }
    case 'presigned-get': {
      const { url } = await callApp<{ url: string }>(ctx, '/presign/get', { key });
      return withSdkHttp(ctx, async (http) => (await http.send(url, 'GET')).bytes);
    }
  }
}
