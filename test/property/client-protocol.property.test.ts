// Property: brokerCredentials accepts exactly the answers the protocol's schema accepts, and refuses
// every other with invalid_response after one request. Answers are valid credentials responses with
// at most one field replaced by any JSON value, a near miss, or nothing. Whatever is accepted also
// meets the rules stated here by hand (not read from the schema), so a loosened schema fails too.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { brokerCredentials, InvalidResponseError, type Grant } from '../../client/index.js';
import { CredentialsResponseSchema } from '../../client/protocol/index.js';

const segment = fc.stringMatching(/^[a-z0-9._-]{1,8}$/);
const prefix = fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => `${s.join('/')}/`);
const access = fc.subarray(['read', 'write', 'list', 'delete'], { minLength: 1 });
const text = fc.string({ minLength: 1, maxLength: 24 });

const validResponse = fc.record(
  {
    credentials: fc.record({
      accessKeyId: text,
      secretAccessKey: text,
      sessionToken: text,
      // In the future, so grant() answers from the cache instead of asking again.
      expiration: fc
        .date({ min: new Date(Date.now() + 3_600_000), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true })
        .map((d) => d.toISOString()),
    }),
    bucket: text,
    region: text,
    prefix,
    identityId: text,
    access,
    scopes: fc.array(fc.record({ prefix, access }), { minLength: 2, maxLength: 3 }),
    endpoint: fc.constantFrom('http://127.0.0.1:7480', 'https://s3.example.com', 'http://[::1]:9000/'),
    forcePathStyle: fc.boolean(),
  },
  { requiredKeys: ['credentials', 'bucket', 'region', 'prefix', 'identityId', 'access'] },
);

const PATHS: readonly (readonly (string | number)[])[] = [
  [],
  ['credentials'],
  ['credentials', 'accessKeyId'],
  ['credentials', 'secretAccessKey'],
  ['credentials', 'sessionToken'],
  ['credentials', 'expiration'],
  ['bucket'],
  ['region'],
  ['prefix'],
  ['identityId'],
  ['access'],
  ['access', 0],
  ['scopes'],
  ['scopes', 0, 'prefix'],
  ['endpoint'],
  ['forcePathStyle'],
];
const DELETE = Symbol('delete');
const NEAR_MISSES = [
  '',
  '/',
  'a',
  '/users/alice/',
  'users/alice',
  'users/alice/',
  'javascript:alert(1)',
  'file:///etc/passwd',
  'ftp://files.example.com',
  'http://127.0.0.1:7480',
  'read',
  'admin',
  '2030-01-01T00:00:00Z',
  '2030-01-01T00:00:00+02:00',
  'tomorrow',
  [],
  ['read'],
  ['read', 'admin'],
  [{ prefix: 'a/', access: ['read'] }],
  {},
  0,
  true,
  null,
];
const replacement = fc.oneof(fc.constant(DELETE), fc.constantFrom(...NEAR_MISSES), fc.jsonValue({ maxDepth: 2 }));
const mutation = fc.option(fc.record({ path: fc.constantFrom(...PATHS), value: replacement }), { nil: undefined });

function mutate(body: unknown, change: { path: readonly (string | number)[]; value: unknown } | undefined): unknown {
  if (!change) return body;
  if (change.path.length === 0) return change.value === DELETE ? undefined : change.value;
  const copy = structuredClone(body) as Record<string | number, unknown>;
  let parent: Record<string | number, unknown> | undefined = copy;
  for (const part of change.path.slice(0, -1)) {
    const next: unknown = parent?.[part];
    parent = next !== null && typeof next === 'object' ? (next as Record<string | number, unknown>) : undefined;
  }
  if (!parent) return copy;
  const last = change.path[change.path.length - 1]!;
  if (change.value === DELETE) delete parent[last];
  else parent[last] = change.value;
  return copy;
}

// The rules, stated independently of the schema.
function followsTheRules(grant: Grant, credentials: { accessKeyId: string; expiration: Date }): boolean {
  const goodPrefix = (p: string) => p.length >= 2 && p.endsWith('/') && !p.startsWith('/');
  const ACCESS = ['read', 'write', 'list', 'delete'];
  const goodAccess = (a: readonly string[]) => a.length > 0 && a.every((x) => ACCESS.includes(x));
  return (
    credentials.accessKeyId !== '' &&
    !Number.isNaN(credentials.expiration.getTime()) &&
    [grant.bucket, grant.region, grant.identityId].every((s) => typeof s === 'string' && s !== '') &&
    goodPrefix(grant.prefix) &&
    goodAccess(grant.access) &&
    (grant.endpoint === undefined || /^https?:\/\//.test(grant.endpoint)) &&
    (grant.forcePathStyle === undefined || typeof grant.forcePathStyle === 'boolean') &&
    (grant.scopes === undefined ||
      (grant.scopes.length >= 2 && grant.scopes.every((s) => goodPrefix(s.prefix) && goodAccess(s.access))))
  );
}

describe('brokerCredentials accepts exactly the valid credentials responses', () => {
  it('refuses what the schema refuses (invalid_response, one request), accepts and keeps the rest', async () => {
    const seen = { accepted: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(validResponse, mutation, async (valid, change) => {
        const body = mutate(valid, change);
        const json = body === undefined ? '' : JSON.stringify(body);
        let requests = 0;
        const provider = brokerCredentials({
          brokerUrl: 'http://broker.test',
          getToken: () => 'jwt',
          retries: 2,
          fetch: async () => {
            requests++;
            return new Response(json, { status: 200, headers: { 'content-type': 'application/json' } });
          },
        });
        const expected = CredentialsResponseSchema.safeParse(body === undefined ? undefined : JSON.parse(json));
        const outcome = await provider().then(
          (credentials) => ({ credentials }),
          (error: unknown) => ({ error }),
        );
        expect(requests).toBe(1);
        if (!expected.success) {
          expect('error' in outcome && outcome.error).toBeInstanceOf(InvalidResponseError);
          const err = (outcome as { error: InvalidResponseError }).error;
          expect(err.code).toBe('invalid_response');
          expect(err.problems.length).toBeGreaterThan(0);
          expect(err.message).toMatch(
            /^the answer from http:\/\/broker\.test\/v1\/credentials is not a Keyhole credentials response: .+; check that brokerUrl points to a Keyhole broker$/,
          );
          seen.refused++;
          return;
        }
        expect(outcome).toHaveProperty('credentials');
        const { credentials } = outcome as { credentials: { accessKeyId: string; expiration: Date } };
        const grant = await provider.grant();
        const { credentials: sent, ...sentGrant } = expected.data;
        expect(grant).toEqual(sentGrant);
        expect(credentials).toMatchObject({ accessKeyId: sent.accessKeyId, secretAccessKey: sent.secretAccessKey });
        expect(followsTheRules(grant, credentials)).toBe(true);
        expect(requests).toBe(1);
        seen.accepted++;
      }),
      { numRuns: 400 },
    );
    // Both sides were exercised, not just one.
    expect(seen.accepted).toBeGreaterThan(40);
    expect(seen.refused).toBeGreaterThan(100);
  });
});
