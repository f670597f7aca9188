// Issue 11, point 3: createBroker is a composition of small modules, and each is tested here on
// its own, without RGW: a real Express app on port 0 for the middleware and routes, plain calls
// for the credentials steps. The whole broker is tested in broker-*.test.ts and test/integration.
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import express, { type Express, type Request, type Response } from 'express';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { CredentialsResponseSchema } from '../../client/protocol/credentials.js';
import { BROKER_ERRORS } from '../../client/protocol/errors.js';
import type { DevLogin } from '../../server/auth/dev-login.js';
import type { TokenVerifier } from '../../server/auth/verify-token.js';
import { CredentialCache } from '../../server/credential-cache.js';
import { brokerError, ConfigError, isBrokerError, KeyholeError, type BrokerErrorCode } from '../../server/errors.js';
import { compileGrants } from '../../server/grants.js';
import { errorHandler, notFound, toKeyholeError } from '../../server/http/errors.js';
import { jsonBody } from '../../server/http/request-body.js';
import { requestId } from '../../server/http/request-id.js';
import { securityHeaders } from '../../server/http/security-headers.js';
import { createMetrics } from '../../server/metrics.js';
import {
  auditRefusal,
  credentialsHandler,
  credentialsResponse,
  issueCredentials,
  type CredentialsPlan,
  type CredentialsRouteOptions,
} from '../../server/routes/credentials.js';
import { devTokenHandler } from '../../server/routes/dev-token.js';
import { healthz } from '../../server/routes/health.js';
import { fakeVendor } from '../helpers/fake-vendor.js';

// A pino logger whose lines land in an array, parsed.
function memoryLogger() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

const servers: { close(): void }[] = [];
afterEach(() => {
  while (servers.length > 0) servers.pop()!.close();
});

async function listen(app: Express): Promise<string> {
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('request id and security headers', () => {
  async function app(corsOrigins: readonly string[] = []) {
    const a = express();
    a.use(requestId, ...securityHeaders(corsOrigins).middlewares);
    a.get('/echo', (_req, res) => {
      res.json({ id: res.locals.requestId });
    });
    return listen(a);
  }

  it('gives each request its own UUID, in the header and in res.locals, and ignores the client’s', async () => {
    const url = await app();
    const answers = await Promise.all(
      [1, 2].map(() => fetch(`${url}/echo`, { headers: { 'X-Request-Id': 'forged' } })),
    );
    const ids = await Promise.all(
      answers.map(async (res) => ({
        header: res.headers.get('x-request-id'),
        body: ((await res.json()) as { id: string }).id,
      })),
    );
    for (const { header, body } of ids) {
      expect(header).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(body).toBe(header);
    }
    expect(ids[0]!.header).not.toBe(ids[1]!.header);
  });

  it('sets the JSON API’s CSP, and CORS for the exact listed origins only', async () => {
    const url = await app(['https://app.example.com']);
    const allowed = await fetch(`${url}/echo`, { headers: { Origin: 'https://app.example.com' } });
    expect(allowed.headers.get('content-security-policy')).toBe("default-src 'none';frame-ancestors 'none'");
    expect(allowed.headers.get('cross-origin-resource-policy')).toBe('same-site');
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(allowed.headers.get('access-control-expose-headers')).toBe('Retry-After,X-Request-Id,Date');
    const other = await fetch(`${url}/echo`, { headers: { Origin: 'https://evil.example.com' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${url}/echo`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://app.example.com', 'Access-Control-Request-Method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toBe('POST,GET');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('Authorization,Content-Type');
    expect(preflight.headers.get('access-control-max-age')).toBe('600');
  });
});

describe('GET /healthz', () => {
  it('answers exactly {"status":"ok"}, not cached', async () => {
    const a = express();
    a.get('/healthz', healthz);
    const res = await fetch(`${await listen(a)}/healthz`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.text()).toBe('{"status":"ok"}');
  });
});

describe('POST /v1/dev/token', () => {
  function counting() {
    const minted: unknown[] = [];
    const devLogin = {
      publicKey: undefined as never,
      mint: async (input: unknown) => {
        minted.push(input);
        return 'a.b.c';
      },
    } satisfies DevLogin;
    return { devLogin, minted };
  }

  it('warns once when built, and mints for a loopback caller with the parsed body', async () => {
    const { logger, lines } = memoryLogger();
    const { devLogin, minted } = counting();
    const a = express();
    a.post('/v1/dev/token', jsonBody(2048), devTokenHandler(devLogin, logger));
    expect(lines.map((l) => [l.level, l.event])).toEqual([[40, 'dev_login.enabled']]);
    const res = await fetch(`${await listen(a)}/v1/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"sub":"alice"}',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.text()).toBe('{"token":"a.b.c"}');
    expect(minted).toEqual([{ sub: 'alice' }]);
    expect(lines).toHaveLength(1);
  });

  it('refuses a caller whose TCP peer is not loopback (403 dev_login_remote), before minting', async () => {
    const { logger } = memoryLogger();
    const { devLogin, minted } = counting();
    const handler = devTokenHandler(devLogin, logger);
    const req = { socket: { remoteAddress: '203.0.113.7' }, body: { sub: 'alice' } } as unknown as Request;
    const err = await Promise.resolve(handler(req, {} as Response, () => {})).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyholeError);
    expect(err).toMatchObject({ code: 'dev_login_remote', status: 403 });
    expect(minted).toEqual([]);
  });
});

describe('error codes and statuses come from the protocol registry', () => {
  it('brokerError takes its status from BROKER_ERRORS', () => {
    for (const code of Object.keys(BROKER_ERRORS) as BrokerErrorCode[]) {
      const err = brokerError(code, 'm');
      expect([err.code, err.status]).toEqual([code, BROKER_ERRORS[code]]);
      expect(isBrokerError(err)).toBe(true);
    }
  });

  it.each([
    ['entity.parse.failed', 'malformed_body', 400],
    ['entity.too.large', 'body_too_large', 413],
    ['encoding.unsupported', 'unsupported_encoding', 415],
    ['charset.unsupported', 'unsupported_charset', 415],
    ['request.aborted', 'request_aborted', 400],
    ['request.size.invalid', 'malformed_body', 400],
  ])('a body-parser %s error is %s %i', (type, code, status) => {
    const cause = Object.assign(new Error('x'), { type });
    expect(toKeyholeError(cause)).toMatchObject({ code, status, cause });
  });

  it('anything else, a ConfigError or an inherited property name as `type` included, is 500 internal_error', () => {
    const config = new ConfigError('KEYHOLE_X', 'is wrong');
    expect(config).toBeInstanceOf(KeyholeError);
    expect(config).toMatchObject({ code: 'invalid_config', status: 500, message: 'KEYHOLE_X: is wrong' });
    expect(isBrokerError(config)).toBe(false);
    for (const err of [config, Object.assign(new Error('x'), { type: 'constructor' }), 'text', null]) {
      expect(toKeyholeError(err)).toMatchObject({ code: 'internal_error', status: 500, message: 'internal error' });
    }
  });
});

describe('the credentials steps', () => {
  const rules = compileGrants([
    { bucket: 'uploads', scopes: [{ prefix: 'users/{sub}/', access: ['read', 'write', 'list', 'delete'] }] },
  ]);
  const later = new Date('2030-01-01T00:00:00.000Z');

  function plan(overrides: Partial<CredentialsPlan> = {}): CredentialsPlan {
    return {
      caller: { claims: { iss: 'https://issuer.test/', sub: 'alice' }, issuer: 'https://issuer.test/', namespace: '' },
      identityId: 'alice',
      bucket: 'uploads',
      scopes: [{ prefix: 'users/alice/', access: ['read', 'list'] }],
      access: ['read', 'list'],
      restrictions: {},
      policy: '{"Version":"2012-10-17","Statement":[]}',
      sessionName: 'keyhole-alice',
      ...overrides,
    };
  }
  const credentials = { accessKeyId: 'AK', secretAccessKey: 'SK', sessionToken: 'ST', expiration: later };

  it('the response has exactly the protocol’s fields, scopes and endpoint only when they apply', () => {
    const aws = credentialsResponse(plan(), credentials, {
      region: 'eu-west-1',
      s3Endpoint: undefined,
      forcePathStyle: false,
    });
    expect(JSON.stringify(aws)).toBe(
      '{"credentials":{"accessKeyId":"AK","secretAccessKey":"SK","sessionToken":"ST",' +
        '"expiration":"2030-01-01T00:00:00.000Z"},"bucket":"uploads","region":"eu-west-1",' +
        '"prefix":"users/alice/","identityId":"alice","access":["read","list"]}',
    );
    const scopes = [
      { prefix: 'private/alice/', access: ['read', 'write'] as const },
      { prefix: 'public/', access: ['read'] as const },
    ];
    const rgw = credentialsResponse(plan({ scopes, access: ['read', 'write'] }), credentials, {
      region: 'us-east-1',
      s3Endpoint: 'http://127.0.0.1:7480',
      forcePathStyle: true,
    });
    expect(rgw).toMatchObject({
      prefix: 'private/alice/',
      scopes: [
        { prefix: 'private/alice/', access: ['read', 'write'] },
        { prefix: 'public/', access: ['read'] },
      ],
      endpoint: 'http://127.0.0.1:7480',
      forcePathStyle: true,
    });
    for (const body of [aws, rgw]) expect(CredentialsResponseSchema.parse(body)).toEqual(body);
  });

  it('caps expiration at the token’s expiry, unless the vendor ignores session policies', async () => {
    const notAfter = new Date(Date.now() + 60_000);
    const bounded = plan({ restrictions: { notAfter } });
    const vendor = fakeVendor();
    const issued = await issueCredentials(bounded, { vendor, durationSeconds: 900, cache: undefined });
    expect(issued.credentials.expiration).toEqual(notAfter);
    expect(issued.cached).toBe(false);
    const cognito = { ...fakeVendor(), appliesSessionPolicy: false };
    const unbounded = await issueCredentials(bounded, { vendor: cognito, durationSeconds: 900, cache: undefined });
    expect(unbounded.credentials.expiration.getTime()).toBeGreaterThan(notAfter.getTime());
  });

  it('reuses cached credentials for an identical plan only, and asks the vendor with the plan’s fields', async () => {
    const vendor = fakeVendor();
    const options = { vendor, durationSeconds: 900, cache: new CredentialCache(10) };
    const first = await issueCredentials(plan(), options);
    const again = await issueCredentials(plan(), options);
    const narrower = await issueCredentials(plan({ policy: '{"other":1}' }), options);
    expect([first.cached, again.cached, narrower.cached]).toEqual([false, true, false]);
    expect(again.credentials).toEqual(first.credentials);
    expect(narrower.credentials.accessKeyId).not.toBe(first.credentials.accessKeyId);
    expect(vendor.seen).toEqual([
      {
        subject: 'alice',
        issuer: 'https://issuer.test/',
        identityId: 'alice',
        sessionName: 'keyhole-alice',
        policy: plan().policy,
        durationSeconds: 900,
      },
      expect.objectContaining({ policy: '{"other":1}' }),
    ]);
  });

  it('a refusal is audited with the code and status the client sees, counted, and rethrown as it is', async () => {
    const { logger, lines } = memoryLogger();
    const metrics = createMetrics(fakeVendor());
    const err = Object.assign(new Error('too large'), { type: 'entity.too.large' });
    const call = { ip: '192.0.2.1', requestId: 'r-1', headers: {} };
    expect(() => auditRefusal(call, err, 'alice', { metrics, logger })).toThrow(err);
    expect(
      lines.map(({ level, event, requestId, status, code, sub, ip }) => ({
        level,
        event,
        requestId,
        status,
        code,
        sub,
        ip,
      })),
    ).toEqual([
      {
        level: 30,
        event: 'credentials.refused',
        requestId: 'r-1',
        status: 413,
        code: 'body_too_large',
        sub: 'alice',
        ip: '192.0.2.1',
      },
    ]);
    expect((await metrics.refused.get()).values).toEqual([{ value: 1, labels: { code: 'body_too_large' } }]);
  });

  describe('POST /v1/credentials on its own', () => {
    async function route(overrides: Partial<CredentialsRouteOptions> = {}) {
      const { logger, lines } = memoryLogger();
      const tokens: string[] = [];
      const verify: TokenVerifier = async (token) => {
        tokens.push(token);
        return { iss: 'https://issuer.test/', sub: token, exp: Math.floor(later.getTime() / 1000) };
      };
      const vendor = fakeVendor({
        issue: async () => ({ ...credentials, expiration: new Date(later.getTime() + 3600_000) }),
      });
      const a = express();
      a.use(requestId);
      a.post(
        '/v1/credentials',
        credentialsHandler({
          verify,
          rules,
          vendor,
          region: 'eu-west-1',
          durationSeconds: 900,
          s3Endpoint: undefined,
          forcePathStyle: false,
          json: jsonBody(2048),
          cache: undefined,
          subjectLimiter: undefined,
          addressLimiter: undefined,
          metrics: createMetrics(vendor),
          logger,
          ...overrides,
        }),
      );
      a.use(notFound, errorHandler(logger));
      return { url: await listen(a), tokens, vendor, lines };
    }

    it('answers the protocol’s body, bounded by the token, with no-store and one audit line', async () => {
      const { url, tokens, vendor, lines } = await route();
      const res = await fetch(`${url}/v1/credentials`, {
        method: 'POST',
        headers: { authorization: 'Bearer alice', 'content-type': 'application/json' },
        body: '{"access":["list","read"]}',
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('pragma')).toBe('no-cache');
      expect(await res.text()).toBe(
        '{"credentials":{"accessKeyId":"AK","secretAccessKey":"SK","sessionToken":"ST",' +
          '"expiration":"2030-01-01T00:00:00.000Z"},"bucket":"uploads","region":"eu-west-1",' +
          '"prefix":"users/alice/","identityId":"alice","access":["read","list"]}',
      );
      expect(tokens).toEqual(['alice']);
      expect(vendor.seen).toHaveLength(1);
      expect(lines.map((l) => [l.event, l.sub, l.cached, l.access])).toEqual([
        ['credentials.issued', 'alice', false, ['read', 'list']],
      ]);
      expect(JSON.stringify(lines)).not.toContain('SK');
    });

    it('a body that is not JSON is 415 after the token is checked, and never reaches the vendor', async () => {
      const { url, tokens, vendor, lines } = await route();
      const res = await fetch(`${url}/v1/credentials`, {
        method: 'POST',
        headers: { authorization: 'Bearer alice', 'content-type': 'text/plain' },
        body: 'read',
      });
      expect(res.status).toBe(415);
      expect(await res.text()).toBe(
        '{"error":{"code":"unsupported_media_type","message":"the request body must be application/json"}}',
      );
      expect(tokens).toEqual(['alice']);
      expect(vendor.seen).toEqual([]);
      expect(lines.map((l) => [l.event, l.code, l.status, l.sub])).toEqual([
        ['credentials.refused', 'unsupported_media_type', 415, 'alice'],
      ]);
    });
  });
});
