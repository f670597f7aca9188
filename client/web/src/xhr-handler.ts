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

// What the SDK's own handlers reject with when a request is aborted; lib-storage and the client's
// error mapping recognise it by name.
function abortError(): Error {
  return Object.assign(new Error('Request aborted'), { name: 'AbortError' });
}

/** The request's path decoded, as the S3 key it writes appears in it. */
function decodedPath(request: SdkRequest): string {
  try {
    return decodeURIComponent(request.path);
  } catch {
    return request.path;
  }
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

/**
 * An SDK `requestHandler` on XMLHttpRequest that reports upload progress per S3 key and can stop
 * the bodies in flight to a key (see {@link XhrRequestHandler.abortSending}).
 */
function openXhr(request: SdkRequest): XMLHttpRequest {
  const xhr = new XMLHttpRequest();
  xhr.open(request.method, urlOf(request));
  xhr.responseType = 'blob';
  for (const [name, value] of Object.entries(request.headers)) {
    if (!FORBIDDEN.has(name.toLowerCase())) xhr.setRequestHeader(name, value);
  }
  return xhr;
}

function responseOf(xhr: XMLHttpRequest): unknown {
  return { statusCode: xhr.status, reason: xhr.statusText, headers: headersOf(xhr), body: xhr.response as Blob };
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

  /** Sends one SDK request over XHR; rejects like fetch() when nothing answers, with AbortError when stopped. */
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
      const key = this.#watchedKey(request);
      // A stopped key's parts that were still being read or signed are refused as they arrive.
      if (signal?.aborted || (key !== undefined && request.method === 'PUT' && this.#stopped.has(key))) {
        reject(abortError());
        return;
      }
      const xhr = openXhr(request);
      const untrack = key !== undefined && request.method === 'PUT' ? this.#track(key, request, xhr) : () => {};
      const onAbort = () => xhr.abort();
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = (outcome: () => void) => () => {
        signal?.removeEventListener('abort', onAbort);
        untrack();
        outcome();
      };
      xhr.addEventListener(
        'load',
        settle(() => resolve({ response: responseOf(xhr) })),
      );
      // XHR's error event carries no detail: nothing answered. Reject with what fetch() gives then,
      // so the SDK's retries and isNetworkError() (client/network-error.ts) treat both handlers alike.
      xhr.addEventListener(
        'error',
        settle(() => reject(new TypeError('Failed to fetch'))),
      );
      xhr.addEventListener(
        'abort',
        settle(() => reject(abortError())),
      );
      xhr.send((request.body ?? null) as XMLHttpRequestBodyInit | null);
    });
  }

  /** The watched key this request writes or reads, if any. */
  #watchedKey(request: SdkRequest): string | undefined {
    const path = decodedPath(request);
    // Path-style requests go to /bucket/key, virtual-hosted ones to /key.
    return [path.slice(path.indexOf('/', 1) + 1), path.slice(1)].find((k) => this.#listeners.has(k));
  }

  /** Reports the upload progress of `xhr` to the key's listener and counts it as sending; returns the undo. */
  #track(key: string, request: SdkRequest, xhr: XMLHttpRequest): () => void {
    const listener = this.#listeners.get(key)!;
    const part = Number(request.query?.partNumber ?? 0) || 0;
    xhr.upload.addEventListener('progress', (event) => listener(part, event.loaded));
    const sending = this.#sending.get(key) ?? new Set();
    this.#sending.set(key, sending.add(xhr));
    return () => {
      sending.delete(xhr);
      if (sending.size === 0) this.#sending.delete(key);
    };
  }

  /** Part of the SDK's handler interface; this handler has no settings. */
  updateHttpClientConfig(): void {}

  /** Part of the SDK's handler interface; this handler has no settings. */
  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  /** Part of the SDK's handler interface; nothing to release (no connection pool). */
  destroy(): void {}
}
