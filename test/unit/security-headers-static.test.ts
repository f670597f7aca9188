// The broker sets helmet's headers from a list recorded once at startup (no per-request helmet
// chain). The recorded list must give exactly the headers helmet itself gives, and recording must
// refuse a middleware whose headers would depend on the request.
import { createServer, get, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import { describe, expect, it } from 'vitest';
import {
  apiHelmet,
  applyHeaders,
  rawHeaders,
  recordStaticHeaders,
  securityHeaders,
} from '../../server/http/security-headers.js';

async function headersOf(...middleware: RequestHandler[]): Promise<Record<string, string>> {
  const app = express();
  app.use(...middleware);
  app.get('/x', (_req, res) => void res.send('ok'));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/x`);
    const skip = new Set(['date', 'connection', 'keep-alive', 'content-length', 'etag', 'vary']);
    return Object.fromEntries([...res.headers].filter(([name]) => !skip.has(name)));
  } finally {
    server.close();
  }
}

describe('precomputed security headers', () => {
  it('are exactly the headers helmet sets itself (and X-Powered-By is removed)', async () => {
    const fromHelmet = await headersOf(apiHelmet());
    const precomputed = await headersOf(securityHeaders([]).middlewares[0]!);
    expect(precomputed).toEqual(fromHelmet);
    expect(precomputed['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
    expect(precomputed['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    expect(precomputed['x-content-type-options']).toBe('nosniff');
    expect(precomputed).not.toHaveProperty('x-powered-by');
    expect(Object.keys(precomputed).length).toBeGreaterThanOrEqual(12);
  });

  it('recording refuses a middleware that reads the request, fails, or does not finish at once', () => {
    expect(() => recordStaticHeaders((req, res, next) => void (res.setHeader('X-A', req.path), next()))).toThrow(
      /read the request \(path\)/,
    );
    expect(() => recordStaticHeaders((_req, _res, next) => next(new Error('nope')))).toThrow('nope');
    expect(() => recordStaticHeaders(() => undefined)).toThrow(/did not finish at once/);
  });
});

describe('rawHeaders: recorded steps as one writeHead list', () => {
  it('gives the header lines Node gives for the same setHeader/removeHeader calls, in its order', async () => {
    const steps = [
      ['set', 'X-A', '1'],
      ['set', 'Vary', ['Origin', 'Accept']],
      ['set', 'X-B', 2],
      ['set', 'x-a', 'again'], // set again: keeps its place, latest spelling
      ['remove', 'X-B'],
      ['set', 'X-B', '3'], // removed and set again: moves to the end
      ['remove', 'X-Gone'],
    ] as const;
    expect(rawHeaders(steps)).toEqual(['x-a', 'again', 'Vary', 'Origin', 'Vary', 'Accept', 'X-B', '3']);

    const lines = async (write: (res: ServerResponse) => void) => {
      const server = createServer((_req, res) => write(res));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      try {
        const port = (server.address() as AddressInfo).port;
        const raw = await new Promise<string[]>((resolve, reject) =>
          get(`http://127.0.0.1:${port}/`, (res) => resolve(res.rawHeaders.slice())).on('error', reject),
        );
        const skip = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding']);
        return raw.flatMap((v, i, all) => (i % 2 === 0 && !skip.has(v.toLowerCase()) ? [v, all[i + 1]!] : []));
      } finally {
        server.close();
      }
    };
    const bySetHeader = await lines((res) => {
      applyHeaders(res, steps);
      res.end();
    });
    const byWriteHead = await lines((res) => res.writeHead(200, [...rawHeaders(steps)]).end());
    expect(byWriteHead).toEqual(bySetHeader);
  });
});
