// HTTP API (payload format 2.0) events for the Lambda tests: hand-written fixtures in the shape AWS
// documents ("Working with AWS Lambda proxy integrations for HTTP APIs"), with ${VARIABLES} filled in.
import { readFileSync } from 'node:fs';
import type { HttpApiEvent } from '../../server/lambda/adapter.js';
import type { TestIssuer } from '../helpers/jwt.js';
import { stackBrokerEnv } from '../helpers/stack.js';

export type Fixture = 'credentials' | 'credentials-base64-body' | 'preflight' | 'healthz';

/** A fixture with every `${NAME}` replaced; an unfilled placeholder throws. */
export function fixture(name: Fixture, vars: Record<string, string> = {}): HttpApiEvent {
  const text = readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8');
  const filled = text.replace(/\$\{([A-Z0-9_]+)\}/g, (_, key: string) => {
    const value = vars[key];
    if (value === undefined) throw new Error(`fixture ${name}: no value for \${${key}}`);
    return JSON.stringify(value).slice(1, -1);
  });
  return JSON.parse(filled) as HttpApiEvent;
}

/** A minimal event for `method path` from `sourceIp`, as API Gateway sends it. */
export function httpEvent(
  method: string,
  path: string,
  options: {
    sourceIp?: string;
    query?: string;
    headers?: Record<string, string>;
    cookies?: string[];
    body?: string | Buffer;
    base64?: boolean;
  } = {},
): HttpApiEvent {
  const sourceIp = options.sourceIp ?? '198.51.100.23';
  const body = options.body;
  const base64 = options.base64 ?? Buffer.isBuffer(body);
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: options.query ?? '',
    ...(options.cookies ? { cookies: options.cookies } : {}),
    headers: {
      host: 'a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com',
      'x-forwarded-for': sourceIp,
      'x-forwarded-port': '443',
      'x-forwarded-proto': 'https',
      ...options.headers,
    },
    requestContext: {
      accountId: '123456789012',
      apiId: 'a1b2c3d4e5',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp, userAgent: 'test' },
      requestId: `req-${Math.random().toString(36).slice(2)}`,
      routeKey: `${method} ${path}`,
      stage: '$default',
      timeEpoch: Date.now(),
    },
    ...(body === undefined
      ? {}
      : { body: base64 ? Buffer.from(body).toString('base64') : String(body), isBase64Encoded: base64 }),
    ...(body === undefined ? { isBase64Encoded: false } : {}),
  };
}

/**
 * An S3 event notification as Lambda receives it (AWS's documented "Event message structure",
 * version 2.1), one record per object. `key` is given as S3 writes it: URL-encoded, `+` for a space.
 */
export function s3Event(bucket: string, keys: readonly string[], eventName = 'ObjectCreated:Put') {
  const text = readFileSync(new URL('./fixtures/s3-object-created.json', import.meta.url), 'utf8');
  const records = keys.map((key) => {
    const vars: Record<string, string> = { BUCKET: bucket, KEY: key, EVENT_NAME: eventName };
    const filled = text.replace(/\$\{([A-Z0-9_]+)\}/g, (_, name: string) => JSON.stringify(vars[name]!).slice(1, -1));
    return (JSON.parse(filled) as { Records: unknown[] }).Records[0];
  });
  return { Records: records } as { Records: { eventName?: string }[] };
}

/** How S3 writes a key in an event record: form-URL-encoded (`+` for a space), slashes kept. */
export function s3EventKey(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
}

/** The environment a deployed function has (infra/aws/stack.ts gives both functions the broker's), pointed at the local RGW. */
export function functionEnv(issuer: TestIssuer, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...stackBrokerEnv(issuer),
    KEYHOLE_LOG_LEVEL: 'info',
    ...extra,
  };
}
