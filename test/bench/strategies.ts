// One function per strategy. Every strategy gets the same files, the same object concurrency,
// the same part size and the same parts-in-flight, so only the way to S3 differs.
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { brokerCredentials, createStorage } from '../../client/index.js';
import { ownerS3, type Stack } from '../helpers/stack.js';
import { timedPool } from './pool.js';

export type UploadStrategy = 'direct' | 'keyhole' | 'presigned-put' | 'presigned-post' | 'presigned-multipart';
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
  /** The user's full prefix, `users/<sub>/`. */
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

async function expectOk(res: Response, what: string): Promise<Response> {
  if (!res.ok) throw new Error(`${what} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  return res;
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

async function presignedMultipart(ctx: RunContext, file: BenchFile, shape: Shape): Promise<void> {
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
      const res = await expectOk(await fetch(url, { method: 'PUT', body }), `part ${i + 1}`);
      await res.arrayBuffer();
      etags[i] = res.headers.get('etag') ?? '';
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
      return timedPool(files, shape.objectConcurrency, async (f) => {
        const { url } = await callApp<{ url: string }>(ctx, '/presign/put', { key: f.key });
        await (await expectOk(await fetch(url, { method: 'PUT', body: f.body }), 'presigned PUT')).arrayBuffer();
      });
    case 'presigned-post':
      return timedPool(files, shape.objectConcurrency, async (f) => {
        const post = await callApp<{ url: string; fields: Record<string, string> }>(ctx, '/presign/post', {
          key: f.key,
          size: f.body.byteLength,
        });
        const form = new FormData();
        for (const [name, value] of Object.entries(post.fields)) form.append(name, value);
        form.append('file', new Blob([f.body]));
        await (await expectOk(await fetch(post.url, { method: 'POST', body: form }), 'presigned POST')).arrayBuffer();
      });
    case 'presigned-multipart':
      return timedPool(files, shape.objectConcurrency, (f) => presignedMultipart(ctx, f, shape));
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
      const res = await expectOk(await fetch(url), 'presigned GET');
      return drain(res.body!);
    }
  }
}
