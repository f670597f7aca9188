// Starts a real broker on port 0 against the local RGW, with dev login, a captured log and
// counters, so tests can assert on requests, STS calls and audit lines.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { S3Client } from '@aws-sdk/client-s3';
import { createBroker, createLogger, type BrokerOptions } from '../../server/index.js';
import type { CredentialVendor } from '../../server/index.js';
import { stack, stackBucketInspector, stackVendor } from './stack.js';

export interface TestBroker {
  readonly url: string;
  readonly vendor: CredentialVendor;
  /** Every log line, parsed. */
  readonly logs: Record<string, unknown>[];
  /** Raw log text, for "no secret ever appears" checks. */
  rawLogs(): string;
  /** Requests that reached the broker's HTTP server. */
  requests(): number;
  token(sub: string, extra?: { claims?: Record<string, unknown>; ttlSeconds?: number }): Promise<string>;
  credentials(token: string, body?: unknown): Promise<{ status: number; headers: Headers; body: any }>;
  close(): Promise<void>;
}

/** The prefix the default grant gives a dev-login subject: dev identities live under `dev-<sub>`. */
export function devPrefix(sub: string): string {
  return `users/dev-${sub}/`;
}

/** A random subject, so parallel tests never share a prefix. */
export function freshSubject(label = 'user'): string {
  return `${label}-${randomBytes(6).toString('hex')}`;
}

export async function startBroker(overrides: Partial<BrokerOptions> = {}): Promise<TestBroker> {
  const s = stack();
  let raw = '';
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      const text = String(chunk);
      raw += text;
      for (const line of text.split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      cb();
    },
  });
  const vendor = overrides.vendor ?? stackVendor();
  const app = createBroker({
    grants: [{ bucket: s.bucket, scopes: [{ prefix: 'users/{sub}/', access: ['read', 'write', 'list', 'delete'] }] }],
    region: s.region,
    s3Endpoint: s.s3Endpoint,
    // Dev login cannot be combined with real issuers: a test that brings its own issuers gets none.
    devLogin: overrides.issuers === undefined,
    bucketCheck: stackBucketInspector(),
    rateLimit: false,
    logger: createLogger('info', sink),
    ...overrides,
    vendor,
  });
  let count = 0;
  const server = await new Promise<import('node:http').Server>((resolve) => {
    const srv = app.listen(0, '127.0.0.1', () => resolve(srv));
  });
  server.on('request', () => count++);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    vendor,
    logs,
    rawLogs: () => raw,
    requests: () => count,
    async token(sub, extra = {}) {
      const res = await fetch(`${url}/v1/dev/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sub, ...extra }),
      });
      const body = (await res.json()) as { token?: string; error?: unknown };
      if (!body.token) throw new Error(`dev token failed: ${res.status} ${JSON.stringify(body)}`);
      return body.token;
    },
    async credentials(token, body) {
      const res = await fetch(`${url}/v1/credentials`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      return { status: res.status, headers: res.headers, body: await res.json() };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An S3 client using exactly the credentials a broker response carried (no refresh). */
export function s3WithIssued(body: {
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  region: string;
  endpoint?: string;
}): S3Client {
  return new S3Client({
    region: body.region,
    ...(body.endpoint ? { endpoint: body.endpoint, forcePathStyle: true } : {}),
    credentials: {
      accessKeyId: body.credentials.accessKeyId,
      secretAccessKey: body.credentials.secretAccessKey,
      sessionToken: body.credentials.sessionToken,
    },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
  });
}
