// The HTTP API v2 adapter on its own, with a plain Node listener that echoes what it received:
// request decoding (paths, comma-joined headers, cookies, base64 bodies, the client address) and
// response encoding (cookies, repeated and hop-by-hop headers, binary bodies, the header limit).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { maxHeaderSize } from 'node:http';
import { describe, expect, it } from 'vitest';
import { httpApiHandler } from '../../server/lambda/adapter.js';
import { fixture, httpEvent } from './events.js';

interface Seen {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  remoteAddress: string | undefined;
  body: string;
}

function echo() {
  const seen: Seen[] = [];
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        remoteAddress: req.socket.remoteAddress,
        body: body.toString('base64'),
      });
      if (req.url === '/binary') {
        res.setHeader('content-type', 'application/octet-stream');
        res.end(Buffer.from([0, 1, 2, 253, 254, 255]));
        return;
      }
      res.setHeader('set-cookie', ['a=1; Secure; HttpOnly', 'b=2']);
      res.setHeader('x-multi', ['one', 'two']);
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.end(JSON.stringify({ ok: true, text: 'é中😀' }));
    });
  };
  return { seen, handler: httpApiHandler(listener) };
}

describe('HTTP API v2 event -> request', () => {
  it('rebuilds method, URL, headers, cookies and body as a TCP client would have sent them', async () => {
    const { seen, handler } = echo();
    const body = JSON.stringify({ access: ['read'] });
    const event = fixture('credentials-base64-body', {
      TOKEN: 'tok',
      SOURCE_IP: '203.0.113.77',
      BODY_LENGTH: '999',
      BODY_BASE64: Buffer.from(body).toString('base64'),
    });
    const result = await handler({ ...event, rawQueryString: 'a=1&a=2&b=%20x' });
    expect(result.statusCode).toBe(200);
    const [req] = seen;
    expect(req!.method).toBe('POST');
    expect(req!.url).toBe('/v1/credentials?a=1&a=2&b=%20x');
    expect(req!.remoteAddress).toBe('203.0.113.77');
    expect(Buffer.from(req!.body, 'base64').toString()).toBe(body);
    // The stale content-length of the event is replaced by the decoded body's length.
    expect(req!.headers['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(req!.headers.cookie).toBe('session=abc123; theme=dark');
    expect(req!.headers.authorization).toBe('Bearer tok');
    expect(req!.headers['accept-encoding']).toBe('gzip, deflate, br');
    expect(req!.headers['x-forwarded-for']).toBe('203.0.113.77');
  });

  it('passes comma-joined headers through as one value and merges a cookie header with the cookies array', async () => {
    const { seen, handler } = echo();
    await handler(
      httpEvent('GET', '/x', {
        headers: { accept: 'text/html, application/json', cookie: 'first=0', 'x-forwarded-for': '1.2.3.4, 5.6.7.8' },
        cookies: ['second=1', 'third=2'],
      }),
    );
    expect(seen[0]!.headers.accept).toBe('text/html, application/json');
    expect(seen[0]!.headers.cookie).toBe('first=0; second=1; third=2');
    expect(seen[0]!.headers['x-forwarded-for']).toBe('1.2.3.4, 5.6.7.8');
    // The client address is requestContext.http.sourceIp, whatever X-Forwarded-For says.
    expect(seen[0]!.remoteAddress).toBe('198.51.100.23');
  });

  it('decodes base64 bodies byte for byte, and drops hop-by-hop request headers', async () => {
    const { seen, handler } = echo();
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await handler(
      httpEvent('PUT', '/x', { body: bytes, headers: { 'transfer-encoding': 'chunked', connection: 'keep-alive' } }),
    );
    expect(Buffer.from(seen[0]!.body, 'base64').equals(bytes)).toBe(true);
    expect(seen[0]!.headers['transfer-encoding']).toBeUndefined();
    expect(seen[0]!.headers.connection).toBeUndefined();
    expect(seen[0]!.headers['content-length']).toBe('256');
  });

  it('gives each of many concurrent invocations its own client address', async () => {
    const { seen, handler } = echo();
    const ips = Array.from({ length: 20 }, (_, i) => `192.0.2.${i + 1}`);
    await Promise.all(ips.map((ip) => handler(httpEvent('GET', `/ip/${ip}`, { sourceIp: ip }))));
    for (const s of seen) expect(s.url).toBe(`/ip/${s.remoteAddress}`);
    expect(seen).toHaveLength(20);
  });

  it('refuses an event of another shape (payload format 1.0, or not an HTTP API event)', async () => {
    const { handler } = echo();
    const v1 = { version: '1.0', httpMethod: 'GET', path: '/x', requestContext: {} };
    expect(() => handler(v1 as never)).toThrow(/payload format version 2\.0/);
    expect(() => handler({} as never)).toThrow(/payload format version 2\.0/);
  });

  it('answers 431 with no body, as Node\u2019s HTTP server does, when the header section exceeds its limit', async () => {
    const { seen, handler } = echo();
    const result = await handler(httpEvent('GET', '/x', { headers: { 'x-big': 'a'.repeat(maxHeaderSize) } }));
    expect(result).toEqual({ statusCode: 431, headers: {}, body: '', isBase64Encoded: false });
    expect(seen).toHaveLength(0);
  });
});

describe('response -> HTTP API v2 result', () => {
  it('returns Set-Cookie as cookies, joins repeated headers, keeps Date, drops hop-by-hop headers', async () => {
    const { handler } = echo();
    const result = await handler(fixture('healthz', { SOURCE_IP: '192.0.2.1' }));
    expect(result.statusCode).toBe(200);
    expect(result.cookies).toEqual(['a=1; Secure; HttpOnly', 'b=2']);
    expect(result.headers['x-multi']).toBe('one, two');
    expect(result.headers.Date).toMatch(/GMT$/);
    expect(Object.keys(result.headers).map((h) => h.toLowerCase())).not.toContain('connection');
    expect(Object.keys(result.headers).map((h) => h.toLowerCase())).not.toContain('set-cookie');
    expect(result.isBase64Encoded).toBe(false);
    expect(JSON.parse(result.body)).toEqual({ ok: true, text: 'é中😀' });
  });

  it('base64-encodes binary bodies and says so', async () => {
    const { handler } = echo();
    const result = await handler(httpEvent('GET', '/binary'));
    expect(result.isBase64Encoded).toBe(true);
    expect([...Buffer.from(result.body, 'base64')]).toEqual([0, 1, 2, 253, 254, 255]);
  });

  it('sends no body for HEAD', async () => {
    const { handler } = echo();
    const result = await handler(httpEvent('HEAD', '/x'));
    expect(result.statusCode).toBe(200);
    expect(result.body).toBe('');
  });
});
