// A thin adapter from API Gateway HTTP API events (payload format 2.0) to a Node request listener,
// such as the broker's Express app. Each event becomes one IncomingMessage/ServerResponse pair in
// memory: no socket, no second HTTP parser. What the listener writes is read back as the raw HTTP/1.0
// response Node produced (status, headers with Date, body), so the answer is the one the Express
// broker gives over TCP (test/lambda/handler-rgw.test.ts compares them). test/bench/lambda.ts
// measures it against @codegenie/serverless-express and against Node's own parser over a duplex
// pair: it is the fastest of the three, and has no dependency.
import { IncomingMessage, maxHeaderSize, ServerResponse, type RequestListener } from 'node:http';

/** The API Gateway HTTP API request event, payload format 2.0 (the fields the adapter reads). */
export interface HttpApiEvent {
  readonly version: string;
  readonly routeKey?: string;
  readonly rawPath: string;
  readonly rawQueryString?: string;
  /** Cookie header values, split on `;`. API Gateway removes the `cookie` header itself. */
  readonly cookies?: readonly string[];
  /** Lower-case names; repeated headers arrive as one comma-joined value. */
  readonly headers?: Readonly<Record<string, string | undefined>>;
  readonly requestContext: {
    readonly http: {
      readonly method: string;
      readonly path?: string;
      readonly protocol?: string;
      /** The address of the TCP connection API Gateway accepted: the only client address trusted. */
      readonly sourceIp?: string;
      readonly userAgent?: string;
    };
    readonly requestId?: string;
    readonly [key: string]: unknown;
  };
  readonly body?: string | null;
  readonly isBase64Encoded?: boolean;
  readonly [key: string]: unknown;
}

/** The structured response of payload format 2.0. */
export interface HttpApiResult {
  statusCode: number;
  headers: Record<string, string>;
  cookies?: string[];
  body: string;
  isBase64Encoded: boolean;
}

// Headers about one hop of a connection, meaningless once the request is in memory.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'upgrade', 'proxy-connection']);
const TEXT = /^(text\/|application\/(json|javascript|xml|x-www-form-urlencoded)\b|[^;]*\+(json|xml)\b)/i;

/** The socket the request claims to come from: only its address, and that it was TLS at API Gateway. */
function fakeSocket(remoteAddress: string | undefined) {
  return {
    remoteAddress,
    encrypted: true,
    readable: true,
    writable: true,
    resume() {},
    pause() {},
    destroy() {},
    end() {},
    on() {},
    once() {},
    removeListener() {},
    setTimeout() {},
  };
}

/** Decodes the event into method, URL, headers and body, exactly as a TCP client would have sent them. */
function requestFrom(event: HttpApiEvent) {
  const http = event?.requestContext?.http;
  if (event?.version !== '2.0' || typeof http?.method !== 'string' || typeof event.rawPath !== 'string') {
    throw new TypeError(
      'keyhole/lambda: expected an API Gateway HTTP API event with payload format version 2.0 ' +
        '(set the integration\u2019s PayloadFormatVersion to 2.0)',
    );
  }
  const body =
    event.body === undefined || event.body === null || event.body === ''
      ? undefined
      : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    const key = name.toLowerCase();
    if (value === undefined || HOP_BY_HOP.has(key) || key === 'content-length') continue;
    headers[key] = headers[key] === undefined ? String(value) : `${headers[key]}, ${String(value)}`;
  }
  const cookies = [...(headers.cookie ? [headers.cookie] : []), ...(event.cookies ?? [])];
  if (cookies.length > 0) headers.cookie = cookies.join('; ');
  if (body) headers['content-length'] = String(body.length);
  const path = event.rawPath.startsWith('/') ? event.rawPath : `/${event.rawPath}`;
  const url = event.rawQueryString ? `${path}?${event.rawQueryString}` : path;
  return { method: http.method.toUpperCase(), url, headers, body, sourceIp: http.sourceIp };
}

/** Bytes of the request line and header section, as Node's parser counts them against `maxHeaderSize`. */
function headerBytes(method: string, url: string, headers: Record<string, string>): number {
  let n = Buffer.byteLength(`${method} ${url} HTTP/1.1\r\n`);
  for (const [name, value] of Object.entries(headers)) n += name.length + 4 + Buffer.byteLength(value);
  return n + 2;
}

/** Splits Node's raw response into the structured result; `Set-Cookie` lines become `cookies`. */
function resultFrom(statusCode: number, raw: Buffer): HttpApiResult {
  const end = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, end === -1 ? raw.length : end).toString('latin1');
  const body = end === -1 ? Buffer.alloc(0) : raw.subarray(end + 4);
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  const seen = new Map<string, string>();
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) continue;
    if (lower === 'set-cookie') {
      cookies.push(value);
      continue;
    }
    const key = seen.get(lower) ?? name;
    seen.set(lower, key);
    headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
  }
  const type = headers[seen.get('content-type') ?? 'content-type'] ?? '';
  const text = body.length === 0 || TEXT.test(type);
  return {
    statusCode,
    headers,
    ...(cookies.length > 0 ? { cookies } : {}),
    body: body.toString(text ? 'utf8' : 'base64'),
    isBase64Encoded: !text,
  };
}

/** What the Node server answers a request whose header section exceeds `maxHeaderSize`: 431, no body. */
const HEADERS_TOO_LARGE: HttpApiResult = { statusCode: 431, headers: {}, body: '', isBase64Encoded: false };

/**
 * Returns a Lambda handler that serves HTTP API (payload format 2.0) events with `listener`. The
 * client address the listener sees (`req.socket.remoteAddress`, so Express's `req.ip` without
 * `trust proxy`) is `requestContext.http.sourceIp`; `X-Forwarded-For` stays an ordinary header.
 */
export function httpApiHandler(listener: RequestListener): (event: HttpApiEvent) => Promise<HttpApiResult> {
  return (event) => {
    const { method, url, headers, body, sourceIp } = requestFrom(event);
    if (headerBytes(method, url, headers) > maxHeaderSize) return Promise.resolve({ ...HEADERS_TOO_LARGE });
    const socket = fakeSocket(sourceIp);
    const req = new IncomingMessage(socket as never);
    req.method = method;
    req.url = url;
    // HTTP/1.0 without TE: Node never chunks the response, so its body is the raw remainder.
    req.httpVersionMajor = 1;
    req.httpVersionMinor = 0;
    req.httpVersion = '1.0';
    req.headers = headers;
    req.rawHeaders = Object.entries(headers).flat();
    req.complete = true;
    if (body) req.push(body);
    req.push(null);
    const res = new ServerResponse(req);
    const chunks: Buffer[] = [];
    // What Node writes to the socket: the status line, the headers and the body, in order. A plain
    // object, not a Writable (measurably slower); Node's ServerResponse.end() sets
    // `_writableState.corked` on its socket, as @codegenie/serverless-express's socket also allows.
    const out = {
      _writableState: {},
      writable: true,
      write(chunk: Buffer | string, encoding?: BufferEncoding | (() => void), done?: () => void) {
        chunks.push(
          typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? encoding : 'utf8') : chunk,
        );
        (typeof encoding === 'function' ? encoding : done)?.();
        return true;
      },
      cork() {},
      uncork() {},
      on() {},
      once() {},
      removeListener() {},
      destroy() {},
      end() {},
    };
    return new Promise<HttpApiResult>((resolve, reject) => {
      res.on('finish', () => resolve(resultFrom(res.statusCode, Buffer.concat(chunks))));
      res.on('error', reject);
      res.assignSocket(out as never);
      listener(req, res);
    });
  };
}
