// brokerCredentials validates what the broker sends: a real HTTP server on port 0 answers 200 with
// malformed or hostile bodies, and each must be refused with InvalidResponseError, once (no retry),
// with a message naming the field, quoting nothing from the answer, and saying what to check.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BrokerError,
  brokerCredentials,
  CLIENT_ERROR_CODES,
  InvalidResponseError,
  KeyholeClientError,
} from '../../client/index.js';

const servers: Server[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

/** Answers every request with `status`, `body` and `contentType`; counts requests. */
async function broker(
  body: string,
  { status = 200, contentType = 'application/json' } = {},
): Promise<{ url: string; count: () => number }> {
  let n = 0;
  const server = createServer((req, res) => {
    n++;
    req.resume();
    req.on('end', () => res.writeHead(status, { 'content-type': contentType }).end(body));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, count: () => n };
}

const SECRET = 'SECRET-never-in-a-message';
const valid = () => ({
  credentials: {
    accessKeyId: 'AKIAEXAMPLE',
    secretAccessKey: SECRET,
    sessionToken: 'token',
    expiration: new Date(Date.now() + 900_000).toISOString(),
  },
  bucket: 'uploads',
  region: 'us-east-1',
  prefix: 'users/alice/',
  identityId: 'alice',
  access: ['read', 'write'],
});
type Body = ReturnType<typeof valid> & Record<string, unknown>;
const withField = (change: (b: Body) => void): string => {
  const b = valid() as Body;
  change(b);
  return JSON.stringify(b);
};

const ACCESS_VALUES = '"read", "write", "list", "delete"';

// [what, body, the problems named in the message]
const CASES: readonly (readonly [string, string, string])[] = [
  ['an HTML page (wrong brokerUrl, captive portal)', '<!doctype html><title>Sign in</title>', 'the body is not JSON'],
  ['an empty body', '', 'the body is empty'],
  ['truncated JSON', JSON.stringify(valid()).slice(0, 40), 'the body is not JSON'],
  ['JSON null', 'null', 'the body must be a JSON object'],
  ['a JSON array', '[]', 'the body must be a JSON object'],
  ['a JSON string', '"credentials"', 'the body must be a JSON object'],
  ['an empty object', '{}', 'credentials is missing; bucket is missing; region is missing; and 3 more problems'],
  ['no credentials', withField((b) => delete (b as Partial<Body>).credentials), 'credentials is missing'],
  [
    'an empty access key id',
    withField((b) => (b.credentials.accessKeyId = '')),
    'credentials.accessKeyId must not be empty',
  ],
  [
    'a missing session token',
    withField((b) => delete (b.credentials as Partial<Body['credentials']>).sessionToken),
    'credentials.sessionToken is missing',
  ],
  [
    'an expiration that is not a date',
    withField((b) => (b.credentials.expiration = 'in 15 minutes')),
    'credentials.expiration must be an ISO 8601 date-time in UTC, such as "2030-01-01T00:00:00.000Z"',
  ],
  ['a numeric bucket', withField((b) => ((b as Record<string, unknown>)['bucket'] = 5)), 'bucket must be a string'],
  ['an empty region', withField((b) => (b.region = '')), 'region must not be empty'],
  [
    'an empty prefix (the whole bucket)',
    withField((b) => (b.prefix = '')),
    'prefix must be at least 2 characters long; prefix must end with "/"',
  ],
  ['an absolute prefix', withField((b) => (b.prefix = '/users/alice/')), 'prefix must not start with "/"'],
  [
    'a prefix that is the root',
    withField((b) => (b.prefix = '/')),
    'prefix must be at least 2 characters long; prefix must not start with "/"',
  ],
  [
    'a prefix that is not a folder',
    withField((b) => (b.prefix = 'a')),
    'prefix must be at least 2 characters long; prefix must end with "/"',
  ],
  ['a prefix with no trailing slash', withField((b) => (b.prefix = 'users/alice')), 'prefix must end with "/"'],
  [
    'a prefix that climbs out with ".."',
    withField((b) => (b.prefix = 'users/../bob/')),
    'prefix must not contain empty, "." or ".." segments',
  ],
  [
    'a prefix with an empty segment',
    withField((b) => (b.prefix = 'users//')),
    'prefix must not contain empty, "." or ".." segments',
  ],
  [
    'a prefix with a control character',
    withField((b) => (b.prefix = 'users/\u001b[2J/')),
    'prefix must not contain control characters',
  ],
  ['an empty identity id', withField((b) => (b.identityId = '')), 'identityId must not be empty'],
  ['no access', withField((b) => (b.access = [])), 'access must not be empty'],
  ['an unknown access', withField((b) => (b.access = ['read', 'admin'])), `access[1] must be one of ${ACCESS_VALUES}`],
  [
    'access as a string',
    withField((b) => ((b as Record<string, unknown>)['access'] = 'read')),
    'access must be an array',
  ],
  [
    'a javascript: endpoint',
    withField((b) => (b['endpoint'] = 'javascript:alert(1)')),
    'endpoint must be an http(s) URL',
  ],
  ['a file: endpoint', withField((b) => (b['endpoint'] = 'file:///etc/passwd')), 'endpoint must be an http(s) URL'],
  ['a relative endpoint', withField((b) => (b['endpoint'] = '//evil.example')), 'endpoint must be an http(s) URL'],
  [
    'forcePathStyle as a string',
    withField((b) => (b['forcePathStyle'] = 'yes')),
    'forcePathStyle must be true or false',
  ],
  [
    'a single scope',
    withField((b) => (b['scopes'] = [{ prefix: 'users/alice/', access: ['read'] }])),
    'scopes must have at least 2 items when present',
  ],
  [
    'an absolute scope prefix',
    withField(
      (b) =>
        (b['scopes'] = [
          { prefix: 'users/alice/', access: ['read'] },
          { prefix: '/public/', access: ['read'] },
        ]),
    ),
    'scopes[1].prefix must not start with "/"',
  ],
  [
    'hostile text where the prefix should be',
    withField((b) => (b.prefix = '<img src=x onerror=alert(1)>')),
    'prefix must end with "/"',
  ],
];

describe('a malformed or hostile credentials response is refused with invalid_response', () => {
  it.each(CASES)('%s', async (_what, body, problems) => {
    const b = await broker(body);
    const provider = brokerCredentials({ brokerUrl: b.url, getToken: () => 'jwt', retries: 3 });
    const err = await provider().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InvalidResponseError);
    expect(err).toBeInstanceOf(BrokerError);
    expect(err).toBeInstanceOf(KeyholeClientError);
    expect(err).toMatchObject({
      name: 'InvalidResponseError',
      code: 'invalid_response',
      status: 200,
      retryAfterSeconds: undefined,
      message:
        `the answer from ${b.url}/v1/credentials is not a Keyhole credentials response: ${problems}; ` +
        'check that brokerUrl points to a Keyhole broker',
    });
    const message = (err as Error).message;
    // Nothing from the answer is quoted: not its secret, not its markup.
    expect(message).not.toContain(SECRET);
    expect(message).not.toContain('<');
    // Not retried: the same server would answer the same.
    expect(b.count()).toBe(1);
    expect(provider.brokerRequests).toBe(1);
    // Nothing was cached: the next call asks again, and fails the same way.
    await expect(provider.grant()).rejects.toBeInstanceOf(InvalidResponseError);
    expect(b.count()).toBe(2);
  });

  it('lists every problem on the error, and keeps the validation failure as its cause', async () => {
    const b = await broker('{}');
    const err = (await brokerCredentials({ brokerUrl: b.url, getToken: () => 'jwt' })().catch(
      (e: unknown) => e,
    )) as InvalidResponseError;
    expect(err.problems).toEqual([
      'credentials is missing',
      'bucket is missing',
      'region is missing',
      'prefix is missing',
      'identityId is missing',
      'access is missing',
    ]);
    expect(Object.isFrozen(err.problems)).toBe(true);
    expect(err.cause).toBeInstanceOf(Error);
  });

  it('a non-JSON body keeps the parse error as its cause', async () => {
    const b = await broker('<html>', { contentType: 'text/html' });
    const err = (await brokerCredentials({ brokerUrl: b.url, getToken: () => 'jwt' })().catch(
      (e: unknown) => e,
    )) as InvalidResponseError;
    expect(err.problems).toEqual(['the body is not JSON']);
    expect(err.cause).toBeInstanceOf(SyntaxError);
  });

  it('invalid_response is one of CLIENT_ERROR_CODES', () => {
    expect(CLIENT_ERROR_CODES).toContain('invalid_response');
  });
});

describe('a valid response is used as sent, minus what the protocol does not define', () => {
  it('drops unknown fields, including __proto__, and keeps every defined one', async () => {
    const body = {
      ...valid(),
      endpoint: 'http://127.0.0.1:7480',
      forcePathStyle: true,
      scopes: [
        { prefix: 'users/alice/', access: ['read', 'write'] },
        { prefix: 'public/', access: ['read'] },
      ],
      admin: true,
      policy: { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
    };
    const json = JSON.stringify(body).replace(/^\{/, '{"__proto__":{"polluted":true},');
    const b = await broker(json);
    const provider = brokerCredentials({ brokerUrl: b.url, getToken: () => 'jwt' });
    const credentials = await provider();
    const grant = await provider.grant();
    expect(grant).toEqual({
      bucket: 'uploads',
      region: 'us-east-1',
      prefix: 'users/alice/',
      identityId: 'alice',
      access: ['read', 'write'],
      endpoint: 'http://127.0.0.1:7480',
      forcePathStyle: true,
      scopes: body.scopes,
    });
    expect(Object.keys(grant)).not.toContain('admin');
    expect(Object.keys(grant)).not.toContain('policy');
    expect(Object.getPrototypeOf(grant)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect((grant as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(credentials).toMatchObject({ accessKeyId: 'AKIAEXAMPLE', secretAccessKey: SECRET, sessionToken: 'token' });
    expect(b.count()).toBe(1);
  });
});

describe('error bodies', () => {
  it('a Keyhole error body gives the broker’s code and message', async () => {
    const b = await broker('{"error":{"code":"no_grant","message":"no grant applies to this identity"}}', {
      status: 403,
    });
    const err = await brokerCredentials({ brokerUrl: b.url, getToken: () => 'jwt' })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BrokerError);
    expect(err).not.toBeInstanceOf(InvalidResponseError);
    expect(err).toMatchObject({ status: 403, code: 'no_grant', message: 'no grant applies to this identity' });
  });

  it.each([
    ['a numeric code', '{"error":{"code":5,"message":"x"}}'],
    ['an empty code', '{"error":{"code":"","message":"x"}}'],
    ['no message', '{"error":{"code":"no_grant"}}'],
    ['a string error', '{"error":"denied"}'],
    ['an HTML page', '<html>Forbidden</html>'],
  ])('%s is not a Keyhole error body: http_403 and a generic message', async (_what, body) => {
    const b = await broker(body, { status: 403 });
    const err = await brokerCredentials({ brokerUrl: b.url, getToken: () => 'jwt' })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BrokerError);
    expect(err).not.toBeInstanceOf(InvalidResponseError);
    expect(err).toMatchObject({ status: 403, code: 'http_403', message: 'the broker answered HTTP 403' });
    expect(b.count()).toBe(1);
  });
});
