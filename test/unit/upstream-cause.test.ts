// Issue 17, point 6: with NODE_ENV=production and no AWS credentials, /readyz said "STS AssumeRole
// failed: unknown error" and nothing was logged. An upstream failure that never got an answer now
// names its cause (no secrets), /readyz says it, and the broker logs it once, not at every probe.
import { Writable } from 'node:stream';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { readiness } from '../../server/http/readiness.js';
import { createLogger } from '../../server/index.js';
import { toCognitoError } from '../../server/vendors/cognito-calls.js';
import { describeCause } from '../../server/vendors/raw-error-code.js';
import { toUpstreamError } from '../../server/vendors/sts.js';
import { fakeVendor } from '../helpers/fake-vendor.js';

const NO_CREDENTIALS = 'Could not load credentials from any providers';
const credentialsError = () => Object.assign(new Error(NO_CREDENTIALS), { name: 'CredentialsProviderError' });

describe('an unanswered upstream failure names its cause', () => {
  it('STS and Cognito: the cause’s message, where "unknown error" used to be', () => {
    const sts = toUpstreamError(credentialsError(), 'AssumeRole');
    expect([sts.status, sts.code, sts.message]).toEqual([502, 'sts_error', `STS AssumeRole failed: ${NO_CREDENTIALS}`]);
    const cognito = toCognitoError(credentialsError(), 'GetCredentialsForIdentity');
    expect([cognito.status, cognito.code, cognito.message]).toEqual([
      502,
      'cognito_error',
      `Cognito GetCredentialsForIdentity failed: ${NO_CREDENTIALS}`,
    ]);
  });

  it('an answered error without a code is still "unknown error"; a message-less one too', () => {
    const answered = Object.assign(new Error('some body text'), {
      name: 'Unknown',
      $metadata: { httpStatusCode: 400 },
    });
    expect(toUpstreamError(answered, 'AssumeRole').message).toBe('STS AssumeRole failed: unknown error');
    expect(toUpstreamError(new Error(''), 'AssumeRole').message).toBe('STS AssumeRole failed: unknown error');
  });

  it('describeCause: first line only, key-like runs redacted, control characters dropped, 200 characters at most', () => {
    expect(describeCause(new Error('first line\nsecond line'))).toBe('first line');
    expect(
      describeCause(new Error('bad secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY in AKIAIOSFODNN7EXAMPLE')),
    ).toBe('bad secret [redacted] in AKIAIOSFODNN7EXAMPLE');
    expect(describeCause(new Error('a\u001b[31mred'))).toBe('a [31mred');
    expect(describeCause(new Error('x'.repeat(10) + ' y'.repeat(200)))!.length).toBe(200);
    expect(describeCause(undefined)).toBeUndefined();
    expect(describeCause(new Error('   '))).toBeUndefined();
  });
});

describe('/readyz and the log', () => {
  it('names the cause, logs it once while it lasts, and once more when it is gone', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk, _e, cb) {
        for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
        cb();
      },
    });
    let failing = true;
    const vendor = {
      ...fakeVendor(),
      ping: async () => {
        if (failing) throw toUpstreamError(credentialsError(), 'AssumeRole');
      },
    };
    const ready = readiness({
      vendor,
      durationSeconds: 900,
      buckets: ['uploads'],
      bucketCheck: 'accept-risk',
      logger: createLogger('info', sink),
      ttlMs: 0,
    });
    const app = express();
    app.get('/readyz', ready.handler);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/readyz`;
    const vendorLines = () =>
      lines
        .filter((l) => String(l.event).startsWith('vendor.'))
        .map(({ level, event, code, cause, msg }) => ({ level, event, code, cause, msg }));
    try {
      for (let i = 0; i < 3; i++) {
        const res = await fetch(url);
        expect(res.status).toBe(503);
        expect(await res.json()).toEqual({
          error: { code: 'sts_error', message: `STS AssumeRole failed: ${NO_CREDENTIALS}` },
        });
      }
      expect(vendorLines()).toEqual([
        {
          level: 50,
          event: 'vendor.unready',
          code: 'sts_error',
          cause: NO_CREDENTIALS,
          msg: `not ready: STS AssumeRole failed: ${NO_CREDENTIALS}`,
        },
      ]);
      failing = false;
      expect((await fetch(url)).status).toBe(200);
      expect((await fetch(url)).status).toBe(200);
      expect(vendorLines().map((l) => l.event)).toEqual(['vendor.unready', 'vendor.ready']);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('a vendor failing with a plain error: not_ready naming its message', async () => {
    const ready = readiness({
      vendor: { ...fakeVendor(), ping: () => Promise.reject(new Error('socket hang up')) },
      durationSeconds: 900,
      buckets: [],
      bucketCheck: 'accept-risk',
      logger: createLogger('silent'),
      ttlMs: 0,
    });
    const app = express();
    app.get('/readyz', ready.handler);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as { port: number }).port}/readyz`);
      expect(await res.json()).toEqual({
        error: { code: 'not_ready', message: 'vendor check failed: socket hang up' },
      });
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
