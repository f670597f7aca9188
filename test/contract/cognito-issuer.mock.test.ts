// Cognito identities are per (issuer, subject). No Cognito can run here, so the SDK client is mocked
// (aws-sdk-client-mock): these tests pin the developer user identifier Keyhole sends, show that
// "alice" at one issuer and "alice" at another get different Cognito identities and credentials, that
// the vendor's identity cache never answers one issuer's subject with another's identity, and that the
// enhanced flow refuses prefixes its role policy cannot confine.
import { createHash } from 'node:crypto';
import {
  CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  GetOpenIdTokenForDeveloperIdentityCommand,
} from '@aws-sdk/client-cognito-identity';
import { STSClient } from '@aws-sdk/client-sts';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createBroker,
  createCognitoVendor,
  developerUserIdentifier,
  UpstreamError,
  type BrokerOptions,
  type CognitoVendorOptions,
} from '../../server/index.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { testIssuer } from '../helpers/jwt.js';

const POOL = 'eu-west-1:0f8c6a52-5b7e-4d2a-9a77-2f0f4f6f7c11';
const PROVIDER = 'login.keyhole.test';
const ID_A = 'eu-west-1:aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const ID_B = 'eu-west-1:bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
const ISS_A = 'https://a.idp.test/';
const ISS_B = 'https://b.idp.test/';
const DEV = 'urn:keyhole:dev-login';
const USER_A = '19:https://a.idp.test/:alice';
const USER_B = '19:https://b.idp.test/:alice';
const EXPIRES = new Date('2030-01-01T00:00:00.000Z');
const fake = { accessKeyId: 'AKIDBROKER', secretAccessKey: 'broker-secret' };

let cognito: CognitoIdentityClient;
let cm: AwsStub<any, any, any>;

// Cognito keyed by developer user identifier: each one has its own identity, token and credentials.
function answerPerUser(users: Record<string, { id: string; token: string; key: string }>) {
  for (const [user, { id, token, key }] of Object.entries(users)) {
    cm.on(GetOpenIdTokenForDeveloperIdentityCommand, { Logins: { [PROVIDER]: user } }).resolves({
      IdentityId: id,
      Token: token,
    });
    cm.on(GetCredentialsForIdentityCommand, { IdentityId: id }).resolves({
      IdentityId: id,
      Credentials: { AccessKeyId: key, SecretKey: `${key}-secret`, SessionToken: `${key}-token`, Expiration: EXPIRES },
    });
  }
}

beforeEach(() => {
  cognito = new CognitoIdentityClient({ region: 'eu-west-1', credentials: fake });
  cm = mockClient(cognito);
  cm.on(GetOpenIdTokenForDeveloperIdentityCommand).rejects(new Error('unexpected developer user identifier'));
  answerPerUser({
    [USER_A]: { id: ID_A, token: 'token-a', key: 'ASIAAAA' },
    [USER_B]: { id: ID_B, token: 'token-b', key: 'ASIABBB' },
  });
});
afterEach(() => cm.restore());

function vendor(overrides: Partial<CognitoVendorOptions> = {}) {
  return createCognitoVendor({
    identityPoolId: POOL,
    developerProviderName: PROVIDER,
    mode: 'enhanced',
    region: 'eu-west-1',
    cognitoClient: cognito,
    ...overrides,
  } as CognitoVendorOptions);
}

function request(issuer: string, identityId: string) {
  return { subject: 'alice', issuer, identityId, sessionName: 'kh-alice-x', policy: '{}', durationSeconds: 3600 };
}

const sentUsers = () =>
  cm.commandCalls(GetOpenIdTokenForDeveloperIdentityCommand).map((c) => c.args[0].input.Logins?.[PROVIDER]);

describe('per-issuer Cognito identities (mock)', () => {
  it('alice at issuer A and alice at issuer B send different developer user identifiers and get different identities and credentials', async () => {
    const v = vendor();
    const idA = await v.identityIdFor('alice', ISS_A);
    const idB = await v.identityIdFor('alice', ISS_B);
    expect(sentUsers()).toEqual([USER_A, USER_B]);
    expect([idA, idB]).toEqual([ID_A, ID_B]);
    const credsA = await v.issue(request(ISS_A, idA));
    const credsB = await v.issue(request(ISS_B, idB));
    expect([credsA.accessKeyId, credsB.accessKeyId]).toEqual(['ASIAAAA', 'ASIABBB']);
    // Each identity's credentials were asked for with that identity's own OpenID token.
    expect(cm.commandCalls(GetCredentialsForIdentityCommand).map((c) => c.args[0].input)).toEqual([
      { IdentityId: ID_A, Logins: { 'cognito-identity.amazonaws.com': 'token-a' } },
      { IdentityId: ID_B, Logins: { 'cognito-identity.amazonaws.com': 'token-b' } },
    ]);
  });

  it('the identity cache does not cross issuers (counted mocked calls)', async () => {
    const v = vendor();
    const tokenCalls = () => cm.commandCalls(GetOpenIdTokenForDeveloperIdentityCommand).length;
    expect(await v.identityIdFor('alice', ISS_A)).toBe(ID_A);
    expect(tokenCalls()).toBe(1);
    expect(await v.identityIdFor('alice', ISS_A)).toBe(ID_A);
    expect(tokenCalls()).toBe(1); // same (iss, sub): answered from the cache
    expect(await v.identityIdFor('alice', ISS_B)).toBe(ID_B);
    expect(tokenCalls()).toBe(2); // same sub, other issuer: asked Cognito, not the cache
    expect(await v.identityIdFor('alice', ISS_B)).toBe(ID_B);
    expect(await v.identityIdFor('alice', ISS_A)).toBe(ID_A);
    expect(tokenCalls()).toBe(2);
    // The OpenID tokens kept by identityIdFor are per (iss, sub) too: each issue() used its own.
    await v.issue(request(ISS_B, ID_B));
    await v.issue(request(ISS_A, ID_A));
    expect(tokenCalls()).toBe(2);
    expect(
      cm
        .commandCalls(GetCredentialsForIdentityCommand)
        .map((c) => c.args[0].input.Logins?.['cognito-identity.amazonaws.com']),
    ).toEqual(['token-b', 'token-a']);
  });

  it("refuses to issue alice@B credentials scoped to alice@A's identity", async () => {
    const v = vendor();
    const idA = await v.identityIdFor('alice', ISS_A);
    const err = (await v.issue(request(ISS_B, idA)).catch((e: unknown) => e)) as UpstreamError;
    expect(err).toBeInstanceOf(UpstreamError);
    expect([err.status, err.message]).toEqual([502, 'Cognito identity changed while issuing credentials']);
    expect(cm.commandCalls(GetCredentialsForIdentityCommand)).toHaveLength(0);
  });

  it('the developer user identifier is stable for the same (iss, sub), across vendors', async () => {
    await vendor().identityIdFor('alice', ISS_A);
    await vendor().identityIdFor('alice', ISS_A);
    expect(sentUsers()).toEqual([USER_A, USER_A]);
    expect(developerUserIdentifier(ISS_A, 'alice')).toBe(USER_A);
    expect(developerUserIdentifier(DEV, 'alice')).toBe('21:urn:keyhole:dev-login:alice');
  });

  it('the developer user identifier is unambiguous where ":" could split issuer and subject differently', () => {
    const pairs: [string, string][] = [
      ['a:b', 'c'],
      ['a', 'b:c'],
      ['1:a', 'b'],
      ['1', 'a:b'],
      ['https://a.idp.test', '/:alice'],
      [ISS_A, 'alice'],
      [ISS_A, 'alice '],
      [ISS_A, 'alicé'],
      [ISS_A, 'x'.repeat(200)],
      [ISS_A + 'x'.repeat(200), 'alice'],
    ];
    const users = pairs.map(([iss, sub]) => developerUserIdentifier(iss, sub));
    expect(new Set(users).size).toBe(pairs.length);
    expect(users.slice(0, 4)).toEqual(['3:a:b:c', '1:a:b:c', '3:1:a:b', '1:1:a:b']);
  });

  it('hashes (iss, sub) when the readable form is over 128 characters or not printable ASCII', () => {
    const hashed = (iss: string, sub: string) =>
      `sha256:${createHash('sha256')
        .update(JSON.stringify([iss, sub]), 'utf8')
        .digest('base64url')}`;
    const fits = 'x'.repeat(128 - USER_A.length + 'alice'.length);
    expect(developerUserIdentifier(ISS_A, fits)).toBe(`19:${ISS_A}:${fits}`);
    expect(developerUserIdentifier(ISS_A, fits)).toHaveLength(128);
    expect(developerUserIdentifier(ISS_A, fits + 'x')).toBe(hashed(ISS_A, fits + 'x'));
    expect(developerUserIdentifier(ISS_A, 'alicé')).toBe(hashed(ISS_A, 'alicé'));
    expect(developerUserIdentifier(ISS_A, 'alice ')).toBe(hashed(ISS_A, 'alice '));
    expect(developerUserIdentifier(ISS_A, fits + 'x')).toMatch(/^sha256:[\w-]{43}$/);
  });

  it('refuses a missing issuer rather than falling back to the subject alone', async () => {
    await expect(vendor().identityIdFor('alice', undefined as unknown as string)).rejects.toThrow(
      new TypeError('issuer must be a non-empty string'),
    );
    expect(cm.calls()).toHaveLength(0);
  });
});

describe('per-issuer Cognito identities through the broker (mock)', () => {
  let broker: TestBroker | undefined;
  afterEach(async () => {
    await broker?.close();
    broker = undefined;
  });

  it('alice at two trusted issuers gets two Cognito identities, prefixes and credentials', async () => {
    const [a, b] = await Promise.all([testIssuer(ISS_A), testIssuer(ISS_B)]);
    broker = await startBroker({
      devLogin: false,
      issuers: [a, b].map((i) => ({ issuer: i.issuer, audience: i.audience, publicKey: i.publicKeyPem })),
      vendor: vendor(),
      // Two issuers: the broker wants {iss} in every per-caller prefix (issuer separation).
      grants: [{ bucket: 'amplify-bucket', scopes: [{ prefix: 'private/{iss}/{identityId}/', access: ['read'] }] }],
      region: 'eu-west-1',
    });
    const fromA = await broker.credentials(await a.sign({ sub: 'alice' }));
    const fromB = await broker.credentials(await b.sign({ sub: 'alice' }));
    expect([fromA.status, fromB.status]).toEqual([200, 200]);
    expect([fromA.body.identityId, fromB.body.identityId]).toEqual([ID_A, ID_B]);
    expect([fromA.body.credentials.accessKeyId, fromB.body.credentials.accessKeyId]).toEqual(['ASIAAAA', 'ASIABBB']);
    expect(sentUsers()).toEqual([USER_A, USER_B]);
  });
});

describe('enhanced flow: grants the pool role cannot confine are refused (mock)', () => {
  const options = (grants: BrokerOptions['grants'], mode: 'enhanced' | 'basic' = 'enhanced'): BrokerOptions => ({
    devLogin: true,
    rateLimit: false,
    region: 'eu-west-1',
    grants,
    vendor: vendor(
      mode === 'basic'
        ? {
            mode,
            roleArn: 'arn:aws:iam::123456789012:role/keyhole-cognito',
            stsClient: new STSClient({ region: 'eu-west-1', credentials: fake }),
          }
        : {},
    ),
  });
  const reason =
    "is per caller but has no {identityId}: in the Cognito enhanced flow the identity pool's role policy is the grant, " +
    'and it can tell callers apart only by identity id (${cognito-identity.amazonaws.com:sub}); put {identityId} in ' +
    'the prefix, e.g. "private/{identityId}/", or use mode "basic" in createCognitoVendor';

  it('refuses a per-caller prefix without {identityId}, naming the option', () => {
    expect(() =>
      createBroker(
        options([
          { bucket: 'amplify-bucket', scopes: [{ prefix: 'public/', access: ['read'] }] },
          {
            bucket: 'amplify-bucket',
            scopes: [
              { prefix: 'private/{identityId}/', access: ['read'] },
              { prefix: 'users/{iss}/{sub}/', access: ['read'] },
            ],
          },
        ]),
      ),
    ).toThrow(new TypeError(`options.grants[1].scopes[1].prefix "users/{iss}/{sub}/" ${reason}`));
  });

  it('accepts {identityId} prefixes, shared prefixes, and any prefix in the basic flow', () => {
    expect(() =>
      createBroker(
        options([
          {
            bucket: 'amplify-bucket',
            scopes: [
              { prefix: 'private/{identityId}/', access: ['read'] },
              { prefix: 'tenants/{tenant}/{identityId}/', access: ['read'] },
              { prefix: 'public/', access: ['read'] },
            ],
          },
        ]),
      ),
    ).not.toThrow();
    expect(() =>
      createBroker(
        options([{ bucket: 'amplify-bucket', scopes: [{ prefix: 'users/{sub}/', access: ['read'] }] }], 'basic'),
      ),
    ).not.toThrow();
  });
});
