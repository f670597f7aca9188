// An S3 request handler on XMLHttpRequest, for byte-level upload progress: fetch() cannot report
// how much of a request body was sent, so with the SDK's default handler a 5 MiB part shows 0%
// until it is done. (@aws-sdk/xhr-http-handler would do this, but it is not published at the
// SDK version this project pins, and lib-storage mixes up its events between concurrent uploads:
// it matches them by part number only.) Progress is reported per object key here instead.

interface SdkRequest {
  readonly method: string;
  readonly protocol: string;
  readonly hostname: string;
  readonly port?: number;
  readonly path: string;
  readonly query?: Record<string, string | string[] | null>;
  readonly headers: Record<string, string>;
  readonly body?: unknown;
}

/** Called as parts of an object's body go out: `part` is the part number (0 for a single PUT). */
export type UploadListener = (part: number, loaded: number) => void;

// The browser sets these itself and logs an error when a page tries to.
const FORBIDDEN = new Set(['host', 'content-length', 'connection', 'expect', 'keep-alive', 'transfer-encoding']);

function encode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function urlOf(request: SdkRequest): string {
  const pairs: string[] = [];
  for (const [key, value] of Object.entries(request.query ?? {})) {
    // A null value is a bare flag, as in "?uploads".
    if (value === null) pairs.push(encode(key));
    else for (const v of Array.isArray(value) ? value : [value]) pairs.push(`${encode(key)}=${encode(v)}`);
  }
  const port = request.port ? `:${request.port}` : '';
  return `${request.protocol}//${request.hostname}${port}${request.path}${pairs.length ? `?${pairs.join('&')}` : ''}`;
}

function headersOf(xhr: XMLHttpRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of xhr
    .getAllResponseHeaders()
    .trim()
    .split(/[\r\n]+/)) {
    const at = line.indexOf(':');
    if (at > 0) out[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
  }
  return out;
}

export class XhrRequestHandler {
  readonly metadata = { handlerProtocol: 'http/1.1' };
  readonly #listeners = new Map<string, UploadListener>();
  readonly #sending = new Map<string, Set<XMLHttpRequest>>();
  readonly #stopped = new Set<string>();

  /** Reports body progress of requests that write the S3 key `key`; returns a function to stop. */
  watch(key: string, listener: UploadListener): () => void {
    this.#listeners.set(key, listener);
    this.#stopped.delete(key);
    return () => {
      this.#listeners.delete(key);
      this.#stopped.delete(key);
    };
  }

  /**
   * Stops the bodies being sent to `key` now. lib-storage does not pass its abort signal to part
   * uploads, so without this a cancelled upload keeps sending its parts in flight to the end.
   */
  abortSending(key: string): void {
    // Parts still being read or signed are refused when they arrive, until the next watch().
    if (this.#listeners.has(key)) this.#stopped.add(key);
    for (const xhr of this.#sending.get(key) ?? []) xhr.abort();
  }

  handle(request: SdkRequest, options: { abortSignal?: AbortSignal } = {}): Promise<{ response: unknown }> {
    const body = request.body;
    if (
      body !== undefined &&
      body !== null &&
      !(typeof body === 'string' || body instanceof Uint8Array || body instanceof Blob)
    ) {
      return Promise.reject(new TypeError('XhrRequestHandler sends strings, bytes and Blobs only'));
    }
    return new Promise((resolve, reject) => {
      const signal = options.abortSignal;
      if (signal?.aborted) {
        reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' }));
        return;
      }
      const xhr = new XMLHttpRequest();
      xhr.open(request.method, urlOf(request));
      xhr.responseType = 'blob';
      for (const [name, value] of Object.entries(request.headers)) {
        if (!FORBIDDEN.has(name.toLowerCase())) xhr.setRequestHeader(name, value);
      }
      let path: string;
      try {
        path = decodeURIComponent(request.path);
      } catch {
        path = request.path;
      }
      // Path-style requests go to /bucket/key, virtual-hosted ones to /key.
      const key = [path.slice(path.indexOf('/', 1) + 1), path.slice(1)].find((k) => this.#listeners.has(k));
      const listener = key === undefined ? undefined : this.#listeners.get(key);
      let sending: Set<XMLHttpRequest> | undefined;
      if (key !== undefined && request.method === 'PUT' && this.#stopped.has(key)) {
        reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' }));
        return;
      }
      if (key !== undefined && listener && request.method === 'PUT') {
        const part = Number(request.query?.partNumber ?? 0) || 0;
        xhr.upload.addEventListener('progress', (event) => listener(part, event.loaded));
        sending = this.#sending.get(key) ?? new Set();
        this.#sending.set(key, sending.add(xhr));
      }
      const onAbort = () => xhr.abort();
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => {
        signal?.removeEventListener('abort', onAbort);
        sending?.delete(xhr);
        if (key !== undefined && sending?.size === 0) this.#sending.delete(key);
      };
      xhr.addEventListener('load', () => {
        done();
        resolve({
          response: {
            statusCode: xhr.status,
            reason: xhr.statusText,
            headers: headersOf(xhr),
            body: xhr.response as Blob,
          },
        });
      });
      xhr.addEventListener('error', () => {
        done();
        reject(Object.assign(new TypeError('Failed to fetch'), { name: 'TypeError' }));
      });
      xhr.addEventListener('abort', () => {
        done();
        reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' }));
      });
      xhr.send((body ?? null) as XMLHttpRequestBodyInit | null);
    });
  }

  updateHttpClientConfig(): void {}

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  destroy(): void {}
}
