// An in-memory S3 behind the SDK: a request handler (`s3: { requestHandler }`) that answers the
// calls client/storage.ts makes, path-style, with real S3 XML, so the whole SDK middleware stack
// (serialisers, the storage's multipart watcher, error parsing) runs without RGW or a network.
// It enforces one prefix like a session policy would (403 outside it) and lets a test inject
// latency and faults per operation. Not a faithful S3: enough for the storage object's contract.
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';

export type Operation =
  | 'PutObject'
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'ListParts'
  | 'GetObject'
  | 'HeadObject'
  | 'ListObjectsV2'
  | 'DeleteObject';

export interface StoredObject {
  readonly body: Buffer;
  readonly etag: string;
  readonly contentType: string | undefined;
  readonly metadata: Record<string, string>;
  readonly lastModified: Date;
}

export interface FakeRequest {
  readonly op: Operation;
  readonly key: string;
  readonly query: Record<string, string>;
  readonly headers: Record<string, string>;
  /** What the SDK handed the handler as the body: a Blob sent as it is (a browser's slices) or bytes. */
  readonly bodyType: 'none' | 'Blob' | 'bytes' | 'stream' | 'string';
}

/**
 * Return an S3 error to answer with it, `{ reject }` to fail the request with that value as the
 * handler's own error (a network or abort error), or undefined to proceed. May wait (latency).
 */
export type Fault = (
  req: FakeRequest,
) => Promise<{ status: number; code: string } | { reject: unknown } | undefined> | undefined;

interface HttpRequestLike {
  method: string;
  path: string;
  query?: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  body?: unknown;
}

const xml = (inner: string) => `<?xml version="1.0" encoding="UTF-8"?>${inner}`;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

async function collect(body: unknown): Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body);
  if (typeof (body as Readable).pipe === 'function' || Symbol.asyncIterator in (body as object)) {
    const chunks: Buffer[] = [];
    for await (const c of body as AsyncIterable<Uint8Array | string>) chunks.push(Buffer.from(c));
    return Buffer.concat(chunks);
  }
  if (body instanceof Blob) return Buffer.from(await body.arrayBuffer());
  throw new Error(`fake S3: unsupported request body ${Object.prototype.toString.call(body)}`);
}

function bodyType(body: unknown): FakeRequest['bodyType'] {
  if (body === undefined || body === null) return 'none';
  if (typeof body === 'string') return 'string';
  if (body instanceof Uint8Array) return 'bytes';
  if (body instanceof Blob) return 'Blob';
  return 'stream';
}

function abortError(): Error {
  return Object.assign(new Error('The operation was aborted'), { name: 'AbortError' });
}

export class FakeS3 {
  readonly objects = new Map<string, StoredObject>();
  /** Open multipart uploads: uploadId → key and parts. */
  readonly uploads = new Map<string, { key: string; parts: Map<number, Buffer> }>();
  /** Every request, in arrival order. */
  readonly log: FakeRequest[] = [];
  /** Requests being handled right now, per operation. */
  readonly inflight = new Map<Operation, number>();
  /** Highest number of UploadPart requests in flight at once. */
  maxPartsInFlight = 0;
  /** Parts per ListParts page (S3's default is 1000); lower it to make the client page. */
  listPartsPageSize = 1000;
  /** How CompleteMultipartUpload's answer writes the ETag (RGW 16 leaves out the quotes AWS puts in). */
  completeEtag: (etag: string) => string = (etag) => etag;
  fault: Fault | undefined;

  constructor(
    readonly bucket: string,
    /** Keys outside this prefix are 403 AccessDenied (like a session policy). */
    readonly allowedPrefix: string,
  ) {}

  /** The request handler to pass as `s3: { requestHandler }`. */
  readonly handler = {
    handle: (request: HttpRequestLike, options?: { abortSignal?: AbortSignal }) => this.#handle(request, options),
    destroy: () => {},
    updateHttpClientConfig: () => {},
    httpHandlerConfigs: () => ({}),
  };

  /** Open multipart uploads under a prefix, as "key uploadId". */
  openUploads(prefix = ''): string[] {
    return [...this.uploads].filter(([, u]) => u.key.startsWith(prefix)).map(([id, u]) => `${u.key} ${id}`);
  }

  count(op: Operation): number {
    return this.log.filter((r) => r.op === op).length;
  }

  async #handle(request: HttpRequestLike, options: { abortSignal?: AbortSignal } = {}) {
    const signal = options.abortSignal;
    if (signal?.aborted) throw abortError();
    const query: Record<string, string> = {};
    for (const [k, v] of Object.entries(request.query ?? {})) query[k] = Array.isArray(v) ? v[0]! : (v ?? '');
    const [, bucket = '', ...rest] = request.path.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const op = this.#operation(request.method, key, query);
    const req: FakeRequest = { op, key, query, headers: request.headers, bodyType: bodyType(request.body) };
    this.log.push(req);
    this.inflight.set(op, (this.inflight.get(op) ?? 0) + 1);
    if (op === 'UploadPart') this.maxPartsInFlight = Math.max(this.maxPartsInFlight, this.inflight.get(op)!);
    try {
      const body = await collect(request.body);
      const injected = await this.fault?.(req);
      if (signal?.aborted) throw abortError();
      if (injected && 'reject' in injected) throw injected.reject;
      if (injected) return this.#error(injected.status, injected.code, request.method);
      if (decodeURIComponent(bucket) !== this.bucket) return this.#error(404, 'NoSuchBucket', request.method);
      const listing = op === 'ListObjectsV2';
      const target = listing ? (query.prefix ?? '') : key;
      if (!target.startsWith(this.allowedPrefix)) return this.#error(403, 'AccessDenied', request.method);
      return this.#answer(req, body);
    } finally {
      this.inflight.set(op, this.inflight.get(op)! - 1);
    }
  }

  #operation(method: string, key: string, q: Record<string, string>): Operation {
    if (method === 'GET' && key === '' && q['list-type'] === '2') return 'ListObjectsV2';
    if (method === 'GET' && 'uploadId' in q) return 'ListParts';
    if (method === 'PUT' && 'uploadId' in q) return 'UploadPart';
    if (method === 'PUT') return 'PutObject';
    if (method === 'POST' && 'uploads' in q) return 'CreateMultipartUpload';
    if (method === 'POST' && 'uploadId' in q) return 'CompleteMultipartUpload';
    if (method === 'DELETE' && 'uploadId' in q) return 'AbortMultipartUpload';
    if (method === 'DELETE') return 'DeleteObject';
    if (method === 'HEAD') return 'HeadObject';
    if (method === 'GET') return 'GetObject';
    throw new Error(`fake S3: no operation for ${method} ${key} ${JSON.stringify(q)}`);
  }

  #respond(statusCode: number, headers: Record<string, string> = {}, body: string | Buffer = '') {
    return {
      response: {
        statusCode,
        reason: undefined,
        headers: { 'x-amz-request-id': randomUUID(), ...headers },
        body: Readable.from([typeof body === 'string' ? Buffer.from(body) : body]),
      },
    };
  }

  #error(status: number, code: string, method: string) {
    // HEAD answers carry no body: the SDK then names the error after the status (404 → NotFound).
    if (method === 'HEAD') return this.#respond(status);
    return this.#respond(
      status,
      { 'content-type': 'application/xml' },
      xml(`<Error><Code>${code}</Code><Message>${code} (fake S3)</Message><RequestId>fake</RequestId></Error>`),
    );
  }

  #store(key: string, body: Buffer, etag: string, headers: Record<string, string>) {
    const metadata: Record<string, string> = {};
    for (const [h, v] of Object.entries(headers)) if (h.startsWith('x-amz-meta-')) metadata[h.slice(11)] = v;
    this.objects.set(key, { body, etag, contentType: headers['content-type'], metadata, lastModified: new Date() });
  }

  #answer(req: FakeRequest, body: Buffer) {
    const { op, key, query, headers } = req;
    switch (op) {
      case 'PutObject': {
        const etag = `"${md5(body)}"`;
        this.#store(key, body, etag, headers);
        return this.#respond(200, { etag });
      }
      case 'CreateMultipartUpload': {
        const id = `upload-${randomUUID()}`;
        this.uploads.set(id, { key, parts: new Map() });
        // Remember the headers of the create for the completed object.
        this.#pendingHeaders.set(id, headers);
        return this.#respond(
          200,
          { 'content-type': 'application/xml' },
          xml(
            `<InitiateMultipartUploadResult><Bucket>${this.bucket}</Bucket><Key>${esc(key)}</Key><UploadId>${id}</UploadId></InitiateMultipartUploadResult>`,
          ),
        );
      }
      case 'UploadPart': {
        const upload = this.uploads.get(query.uploadId!);
        if (!upload || upload.key !== key) return this.#error(404, 'NoSuchUpload', 'PUT');
        upload.parts.set(Number(query.partNumber), body);
        return this.#respond(200, { etag: `"${md5(body)}"` });
      }
      case 'CompleteMultipartUpload': {
        const upload = this.uploads.get(query.uploadId!);
        if (!upload || upload.key !== key) return this.#error(404, 'NoSuchUpload', 'POST');
        const numbers = [...body.toString('utf8').matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((m) =>
          Number(m[1]),
        );
        const data = Buffer.concat(numbers.map((n) => upload.parts.get(n) ?? Buffer.alloc(0)));
        const etag = `"${md5(data)}-${numbers.length}"`;
        this.#store(key, data, etag, this.#pendingHeaders.get(query.uploadId!) ?? {});
        this.uploads.delete(query.uploadId!);
        return this.#respond(
          200,
          { 'content-type': 'application/xml' },
          xml(
            `<CompleteMultipartUploadResult><Location>http://fake/${this.bucket}/${esc(key)}</Location><Bucket>${this.bucket}</Bucket><Key>${esc(key)}</Key><ETag>${esc(this.completeEtag(etag))}</ETag></CompleteMultipartUploadResult>`,
          ),
        );
      }
      case 'AbortMultipartUpload': {
        if (!this.uploads.delete(query.uploadId!)) return this.#error(404, 'NoSuchUpload', 'DELETE');
        return this.#respond(204);
      }
      case 'ListParts': {
        const upload = this.uploads.get(query.uploadId!);
        if (!upload || upload.key !== key) return this.#error(404, 'NoSuchUpload', 'GET');
        const marker = query['part-number-marker'] === undefined ? -Infinity : Number(query['part-number-marker']);
        const numbers = [...upload.parts.keys()].filter((n) => n > marker).sort((a, b) => a - b);
        const page = numbers.slice(0, this.listPartsPageSize);
        const truncated = numbers.length > page.length;
        const parts = page
          .map((n) => {
            const b = upload.parts.get(n)!;
            return `<Part><PartNumber>${n}</PartNumber><ETag>"${md5(b)}"</ETag><Size>${b.length}</Size></Part>`;
          })
          .join('');
        return this.#respond(
          200,
          { 'content-type': 'application/xml' },
          xml(
            `<ListPartsResult><Bucket>${this.bucket}</Bucket><Key>${esc(key)}</Key><UploadId>${query.uploadId}</UploadId><PartNumberMarker>${marker}</PartNumberMarker>${truncated ? `<NextPartNumberMarker>${page.at(-1)}</NextPartNumberMarker>` : ''}<IsTruncated>${truncated}</IsTruncated>${parts}</ListPartsResult>`,
          ),
        );
      }
      case 'GetObject':
      case 'HeadObject': {
        const o = this.objects.get(key);
        if (!o) return this.#error(404, 'NoSuchKey', op === 'HeadObject' ? 'HEAD' : 'GET');
        let data = o.body;
        let status = 200;
        const extra: Record<string, string> = {};
        const range = /^bytes=(\d+)-(\d*)$/.exec(headers.range ?? '');
        if (range) {
          const start = Number(range[1]);
          const end = range[2] ? Math.min(Number(range[2]), o.body.length - 1) : o.body.length - 1;
          data = o.body.subarray(start, end + 1);
          status = 206;
          extra['content-range'] = `bytes ${start}-${end}/${o.body.length}`;
        }
        const head = {
          'content-length': String(data.length),
          etag: o.etag,
          'last-modified': o.lastModified.toUTCString(),
          ...(o.contentType ? { 'content-type': o.contentType } : {}),
          ...Object.fromEntries(Object.entries(o.metadata).map(([k, v]) => [`x-amz-meta-${k}`, v])),
          ...extra,
        };
        return this.#respond(status, head, op === 'HeadObject' ? '' : data);
      }
      case 'ListObjectsV2': {
        const prefix = query.prefix ?? '';
        const max = Number(query['max-keys'] ?? 1000);
        const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
        const after = query['continuation-token']
          ? Buffer.from(query['continuation-token'], 'base64url').toString()
          : '';
        const rest = keys.filter((k) => k > after);
        const page = rest.slice(0, max);
        const truncated = rest.length > page.length;
        const contents = page
          .map((k) => {
            const o = this.objects.get(k)!;
            return `<Contents><Key>${esc(k)}</Key><LastModified>${o.lastModified.toISOString()}</LastModified><ETag>${esc(o.etag)}</ETag><Size>${o.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
          })
          .join('');
        const next = truncated
          ? `<NextContinuationToken>${Buffer.from(page.at(-1)!).toString('base64url')}</NextContinuationToken>`
          : '';
        return this.#respond(
          200,
          { 'content-type': 'application/xml' },
          xml(
            `<ListBucketResult><Name>${this.bucket}</Name><Prefix>${esc(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${max}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${contents}${next}</ListBucketResult>`,
          ),
        );
      }
      case 'DeleteObject': {
        this.objects.delete(key);
        return this.#respond(204);
      }
    }
  }

  readonly #pendingHeaders = new Map<string, Record<string, string>>();
}
