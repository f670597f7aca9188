// Contract tests for the Cognito vendor. No Cognito can run here, so the SDK clients are mocked
// (aws-sdk-client-mock): these tests pin the exact requests Keyhole sends and how every documented
// error is answered. The live counterpart is `npm run test:aws`.
import {
  CognitoIdentityClient,
  DescribeIdentityPoolCommand,
  DeveloperUserAlreadyRegisteredException,
  ExternalServiceException,
  GetCredentialsForIdentityCommand,
  GetOpenIdTokenForDeveloperIdentityCommand,
  InternalErrorException,
  InvalidIdentityPoolConfigurationException,
  InvalidParameterException,
  LimitExceededException,
  NotAuthorizedException,
  ResourceConflictException,
  ResourceNotFoundException,
  TooManyRequestsException,
} from '@aws-sdk/client-cognito-identity';
import {
  AssumeRoleWithWebIdentityCommand,
  ExpiredTokenException,
  IDPCommunicationErrorException,
  IDPRejectedClaimException,
  InvalidIdentityTokenException,
  MalformedPolicyDocumentException,
  PackedPolicyTooLargeException,
  RegionDisabledException,
  STSClient,
} from '@aws-sdk/client-sts';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cognitoScopes, createCognitoVendor, UpstreamError, type CognitoVendorOptions } from '../../server/index.js';
import { freshSubject, startBroker, type TestBroker } from '../helpers/broker.js';

const POOL = 'eu-west-1:0f8c6a52-5b7e-4d2a-9a77-2f0f4f6f7c11';
const IDENTITY = 'eu-west-1:7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const OTHER_IDENTITY = 'eu-west-1:11111111-2222-4333-8444-555555555555';
const PROVIDER = 'login.keyhole.test';
const ISS = 'https://a.idp.test/';
const ROLE = 'arn:aws:iam::123456789012:role/keyhole-cognito';
const EXPIRES = new Date('2030-01-01T00:00:00.000Z');
const fake = { accessKeyId: 'AKIDBROKER', secretAccessKey: 'broker-secret' };

const AMPLIFY_GRANT = {
  bucket: 'amplify-bucket',
  scopes: [
    { prefix: 'private/{identityId}/', access: ['read', 'write', 'list', 'delete'] as const },
    { prefix: 'protected/{identityId}/', access: ['read', 'write', 'list', 'delete'] as const },
    { prefix: 'protected/', access: ['read', 'list'] as const },
    { prefix: 'public/', access: ['read', 'write', 'list', 'delete'] as const },
  ],
};

let cognito: CognitoIdentityClient;
let sts: STSClient;
let cm: AwsStub<any, any, any>;
let sm: AwsStub<any, any, any>;

beforeEach(() => {
  cognito = new CognitoIdentityClient({ region: 'eu-west-1', credentials: fake });
  sts = new STSClient({ region: 'eu-west-1', credentials: fake });
  cm = mockClient(cognito);
  sm = mockClient(sts);
  cm.on(GetOpenIdTokenForDeveloperIdentityCommand).resolves({ IdentityId: IDENTITY, Token: 'openid-token-1' });
  cm.on(GetCredentialsForIdentityCommand).resolves({
    IdentityId: IDENTITY,
    Credentials: { AccessKeyId: 'ASIAENH', SecretKey: 'enh-secret', SessionToken: 'enh-token', Expiration: EXPIRES },
  });
  sm.on(AssumeRoleWithWebIdentityCommand).resolves({
    Credentials: {
      AccessKeyId: 'ASIABAS',
      SecretAccessKey: 'bas-secret',
      SessionToken: 'bas-token',
      Expiration: EXPIRES,
    },
  });
});
afterEach(() => {
  cm.restore();
  sm.restore();
});

function vendor(overrides: Partial<CognitoVendorOptions> = {}) {
  return createCognitoVendor({
    identityPoolId: POOL,
    developerProviderName: PROVIDER,
    mode: 'enhanced',
    region: 'eu-west-1',
    cognitoClient: cognito,
    stsClient: sts,
    ...overrides,
  } as CognitoVendorOptions);
}

function request(subject: string, identityId: string, policy = '{"Version":"2012-10-17","Statement":[]}') {
  return { subject, issuer: ISS, identityId, sessionName: 'kh-alice-AAAAAAAAAAAA', policy, durationSeconds: 3600 };
}

describe('createCognitoVendor options (mock)', () => {
  const base = { identityPoolId: POOL, developerProviderName: PROVIDER, mode: 'enhanced', region: 'eu-west-1' };
  it.each([
    [
      { identityPoolId: 'eu-west-1_abc' },
      'options.identityPoolId must be an identity pool id such as "eu-west-1:<uuid>"',
    ],
    [
      { developerProviderName: 'bad name' },
      'options.developerProviderName must be 1-100 letters, digits, "_", "." or "-"',
    ],
    [{ mode: 'classic' }, 'options.mode must be one of "enhanced", "basic"'],
    [{ region: '' }, 'options.region must be a region name such as "eu-west-1"'],
    [
      { roleArn: 'arn:aws:iam:::role/x' },
      'options.roleArn must be an IAM role ARN such as "arn:aws:iam::123456789012:role/NAME"',
    ],
    [{ mode: 'basic' }, 'options.roleArn is required when options.mode is "basic"'],
  ])('rejects %j with a TypeError naming the option', (bad, message) => {
    expect(() => createCognitoVendor({ ...base, ...bad } as CognitoVendorOptions)).toThrow(new TypeError(message));
  });
  it('rejects a token duration out of range with a RangeError', () => {
    expect(() => createCognitoVendor({ ...base, tokenDurationSeconds: 86401 } as CognitoVendorOptions)).toThrow(
      new RangeError('options.tokenDurationSeconds must be an integer from 1 to 86400'),
    );
  });
  it('does not modify the options object', () => {
    const options = Object.freeze({ ...base, cognitoClient: cognito }) as CognitoVendorOptions;
    expect(vendor().kind).toBe('cognito');
    expect(() => createCognitoVendor(options)).not.toThrow();
  });
});

describe('enhanced flow (mock)', () => {
  it('sends exactly GetOpenIdTokenForDeveloperIdentity then GetCredentialsForIdentity, and maps the answer', async () => {
    const v = vendor();
    const identityId = await v.identityIdFor('alice', ISS);
    expect(identityId).toBe(IDENTITY);
    const creds = await v.issue(request('alice', identityId));
    expect(creds).toEqual({
      accessKeyId: 'ASIAENH',
      secretAccessKey: 'enh-secret',
      sessionToken: 'enh-token',
      expiration: EXPIRES,
    });
    const tokenCalls = cm.commandCalls(GetOpenIdTokenForDeveloperIdentityCommand);
    expect(tokenCalls.map((c) => c.args[0].input)).toEqual([
      { IdentityPoolId: POOL, Logins: { [PROVIDER]: '19:https://a.idp.test/:alice' }, TokenDuration: 60 },
    ]);
    expect(cm.commandCalls(GetCredentialsForIdentityCommand).map((c) => c.args[0].input)).toEqual([
      { IdentityId: IDENTITY, Logins: { 'cognito-identity.amazonaws.com': 'openid-token-1' } },
    ]);
    expect(sm.calls()).toHaveLength(0);
    expect(v.upstreamCalls()).toBe(2);
  });

  it('passes roleArn as CustomRoleArn', async () => {
    const v = vendor({ roleArn: ROLE });
    await v.issue(request('alice', await v.identityIdFor('alice', ISS)));
    expect(cm.commandCalls(GetCredentialsForIdentityCommand)[0]!.args[0].input).toEqual({
      IdentityId: IDENTITY,
      Logins: { 'cognito-identity.amazonaws.com': 'openid-token-1' },
      CustomRoleArn: ROLE,
    });
  });

  it('remembers the identity id, and fetches a new token when issuing later', async () => {
    const v = vendor();
    await v.issue(request('alice', await v.identityIdFor('alice', ISS)));
    expect(await v.identityIdFor('alice', ISS)).toBe(IDENTITY);
    // The second identityIdFor was answered from memory: no new token was fetched for it ...
    expect(cm.commandCalls(GetOpenIdTokenForDeveloperIdentityCommand)).toHaveLength(1);
    await v.issue(request('alice', IDENTITY));
    // ... so issue() needed its own fresh token.
    expect(cm.commandCalls(GetOpenIdTokenForDeveloperIdentityCommand)).toHaveLength(2);
    expect(cm.commandCalls(GetCredentialsForIdentityCommand)).toHaveLength(2);
  });

  it('refuses to issue when the subject now maps to another identity, and recovers on the next request', async () => {
    const v = vendor();
    await v.issue(request('alice', await v.identityIdFor('alice', ISS)));
    // An administrator unlinked and relinked the developer identity: Cognito now answers another id.
    cm.on(GetOpenIdTokenForDeveloperIdentityCommand).resolves({ IdentityId: OTHER_IDENTITY, Token: 'openid-token-2' });
    const stale = await v.identityIdFor('alice', ISS);
    expect(stale).toBe(IDENTITY);
    const err = (await v.issue(request('alice', stale)).catch((e: unknown) => e)) as UpstreamError;
    expect([err.status, err.code, err.message]).toEqual([
      502,
      'cognito_error',
      'Cognito identity changed while issuing credentials',
    ]);
    expect(cm.commandCalls(GetCredentialsForIdentityCommand)).toHaveLength(1);
    expect(await v.identityIdFor('alice', ISS)).toBe(OTHER_IDENTITY);
  });

  it('refuses credentials Cognito answered for another identity', async () => {
    cm.on(GetCredentialsForIdentityCommand).resolves({
      IdentityId: OTHER_IDENTITY,
      Credentials: { AccessKeyId: 'A', SecretKey: 'S', SessionToken: 'T', Expiration: EXPIRES },
    });
    const v = vendor();
    const err = await v.issue(request('alice', await v.identityIdFor('alice', ISS))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).message).toBe('Cognito returned credentials for another identity');
    expect((err as UpstreamError).status).toBe(502);
  });

  it('refuses an identity id that is not region:uuid (it would reach a policy verbatim)', async () => {
    cm.on(GetOpenIdTokenForDeveloperIdentityCommand).resolves({ IdentityId: 'eu-west-1:*', Token: 't' });
    const err = await vendor()
      .identityIdFor('alice', ISS)
      .catch((e: unknown) => e);
    expect((err as UpstreamError).code).toBe('cognito_error');
    expect((err as UpstreamError).message).toBe('Cognito returned an identity id of an unexpected shape');
  });

  it('refuses an answer without credentials', async () => {
    cm.on(GetCredentialsForIdentityCommand).resolves({ IdentityId: IDENTITY, Credentials: { AccessKeyId: 'A' } });
    const v = vendor();
    const err = await v.issue(request('alice', await v.identityIdFor('alice', ISS))).catch((e: unknown) => e);
    expect((err as UpstreamError).message).toBe('Cognito GetCredentialsForIdentity returned no credentials');
  });
});

describe('basic flow (mock)', () => {
  it('sends AssumeRoleWithWebIdentity with the token, session policy, name and duration', async () => {
    const v = vendor({ mode: 'basic', roleArn: ROLE });
    const identityId = await v.identityIdFor('bob', ISS);
    const { policy } = cognitoScopes(
      'amplify-bucket',
      [{ prefix: 'private/eu-west-1%3A7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d/', access: ['read'] }],
      identityId,
    );
    const creds = await v.issue(request('bob', identityId, policy));
    expect(creds).toEqual({
      accessKeyId: 'ASIABAS',
      secretAccessKey: 'bas-secret',
      sessionToken: 'bas-token',
      expiration: EXPIRES,
    });
    expect(sm.commandCalls(AssumeRoleWithWebIdentityCommand).map((c) => c.args[0].input)).toEqual([
      {
        RoleArn: ROLE,
        RoleSessionName: 'kh-alice-AAAAAAAAAAAA',
        WebIdentityToken: 'openid-token-1',
        Policy: policy,
        DurationSeconds: 3600,
      },
    ]);
    expect(cm.commandCalls(GetCredentialsForIdentityCommand)).toHaveLength(0);
    expect(cm.commandCalls(GetOpenIdTokenForDeveloperIdentityCommand)).toHaveLength(1);
  });

  it.each([
    [
      new InvalidIdentityTokenException({ message: 'bad token', $metadata: {} }),
      502,
      'sts_error',
      'InvalidIdentityTokenException',
    ],
    [new ExpiredTokenException({ message: 'expired', $metadata: {} }), 502, 'sts_error', 'ExpiredTokenException'],
    [
      new IDPRejectedClaimException({ message: 'rejected', $metadata: {} }),
      502,
      'sts_error',
      'IDPRejectedClaimException',
    ],
    [
      new IDPCommunicationErrorException({ message: 'idp down', $metadata: {} }),
      502,
      'sts_error',
      'IDPCommunicationErrorException',
    ],
    [
      new MalformedPolicyDocumentException({ message: 'bad policy', $metadata: {} }),
      502,
      'sts_error',
      'MalformedPolicyDocumentException',
    ],
    [
      new PackedPolicyTooLargeException({ message: 'too large', $metadata: {} }),
      502,
      'sts_error',
      'PackedPolicyTooLargeException',
    ],
    [
      new RegionDisabledException({ message: 'region off', $metadata: {} }),
      503,
      'sts_unavailable',
      'RegionDisabledException',
    ],
  ])('maps STS %s to %i %s', async (error, status, code, upstreamCode) => {
    sm.on(AssumeRoleWithWebIdentityCommand).rejects(error);
    const v = vendor({ mode: 'basic', roleArn: ROLE });
    const err = (await v
      .issue(request('bob', await v.identityIdFor('bob', ISS)))
      .catch((e: unknown) => e)) as UpstreamError;
    expect(err).toBeInstanceOf(UpstreamError);
    expect([err.status, err.code, err.upstreamCode]).toEqual([status, code, upstreamCode]);
    expect(err.message).toBe(`STS AssumeRoleWithWebIdentity failed: ${upstreamCode}`);
    expect(err.cause).toBe(error);
  });
});

describe('Cognito errors (mock)', () => {
  const cases = [
    [new InternalErrorException({ message: 'x', $metadata: {} }), 503, 'cognito_unavailable'],
    [new TooManyRequestsException({ message: 'x', $metadata: {} }), 503, 'cognito_unavailable'],
    [new LimitExceededException({ message: 'x', $metadata: {} }), 503, 'cognito_unavailable'],
    [new ExternalServiceException({ message: 'x', $metadata: {} }), 503, 'cognito_unavailable'],
    [new InvalidParameterException({ message: 'x', $metadata: {} }), 502, 'cognito_error'],
    [new NotAuthorizedException({ message: 'x', $metadata: {} }), 502, 'cognito_error'],
    [new ResourceConflictException({ message: 'x', $metadata: {} }), 502, 'cognito_error'],
    [new ResourceNotFoundException({ message: 'x', $metadata: {} }), 502, 'cognito_error'],
    [new DeveloperUserAlreadyRegisteredException({ message: 'x', $metadata: {} }), 502, 'cognito_error'],
    [new InvalidIdentityPoolConfigurationException({ message: 'x', $metadata: {} }), 502, 'cognito_error'],
  ] as const;

  it.each(cases)('GetOpenIdTokenForDeveloperIdentity %s -> %i %s', async (error, status, code) => {
    cm.on(GetOpenIdTokenForDeveloperIdentityCommand).rejects(error);
    const err = (await vendor()
      .identityIdFor('carol', ISS)
      .catch((e: unknown) => e)) as UpstreamError;
    expect([err.status, err.code, err.upstreamCode]).toEqual([status, code, error.name]);
    expect(err.message).toBe(`Cognito GetOpenIdTokenForDeveloperIdentity failed: ${error.name}`);
  });

  it.each(cases)('GetCredentialsForIdentity %s -> %i %s', async (error, status, code) => {
    cm.on(GetCredentialsForIdentityCommand).rejects(error);
    const v = vendor();
    const err = (await v
      .issue(request('carol', await v.identityIdFor('carol', ISS)))
      .catch((e: unknown) => e)) as UpstreamError;
    expect([err.status, err.code, err.upstreamCode]).toEqual([status, code, error.name]);
    expect(err.message).toBe(`Cognito GetCredentialsForIdentity failed: ${error.name}`);
  });

  it('maps a network failure to 503 cognito_unavailable', async () => {
    cm.on(GetOpenIdTokenForDeveloperIdentityCommand).rejects(
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED' }),
    );
    const err = (await vendor()
      .identityIdFor('carol', ISS)
      .catch((e: unknown) => e)) as UpstreamError;
    expect([err.status, err.code, err.upstreamCode, err.message]).toEqual([
      503,
      'cognito_unavailable',
      undefined,
      'Cognito GetOpenIdTokenForDeveloperIdentity failed: unreachable',
    ]);
  });
});

describe('readiness (mock)', () => {
  it('describes the pool and checks the provider and the basic flow', async () => {
    cm.on(DescribeIdentityPoolCommand).resolves({
      IdentityPoolId: POOL,
      IdentityPoolName: 'p',
      AllowUnauthenticatedIdentities: false,
      DeveloperProviderName: PROVIDER,
      AllowClassicFlow: false,
    });
    await expect(vendor().ping()).resolves.toBeUndefined();
    await expect(vendor({ mode: 'basic', roleArn: ROLE }).ping()).rejects.toThrow(
      'identity pool does not allow the basic flow',
    );
    await expect(vendor({ developerProviderName: 'other.provider' }).ping()).rejects.toThrow(
      `identity pool's developer provider is not "other.provider"`,
    );
    expect(cm.commandCalls(DescribeIdentityPoolCommand)[0]!.args[0].input).toEqual({ IdentityPoolId: POOL });
  });
});

describe('cognitoScopes: exact on AWS (mock)', () => {
  const encoded = 'eu-west-1%3A7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
  it('keeps the identity id literal in prefixes, Resource ARNs and s3:prefix', () => {
    const { scopes, policy } = cognitoScopes(
      'amplify-bucket',
      [
        { prefix: `private/${encoded}/`, access: ['read', 'write', 'list', 'delete'] },
        { prefix: 'protected/', access: ['read', 'list'] },
      ],
      IDENTITY,
    );
    expect(scopes).toEqual([
      { prefix: `private/${IDENTITY}/`, access: ['read', 'write', 'list', 'delete'] },
      { prefix: 'protected/', access: ['read', 'list'] },
    ]);
    const doc = JSON.parse(policy);
    // The hardening denies (ACL, tags, presigning) follow the grant's statements unchanged.
    expect(doc.Statement.slice(3).map((st: { Sid: string }) => st.Sid)).toEqual([
      'NoAcl',
      'NoGrantRead',
      'NoGrantReadAcp',
      'NoGrantWriteAcp',
      'NoGrantFullControl',
      'NoTags',
      'NoPresign',
    ]);
    expect({ ...doc, Statement: doc.Statement.slice(0, 3) }).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'Objects0',
          Effect: 'Allow',
          Action: [
            's3:GetObject',
            's3:PutObject',
            's3:AbortMultipartUpload',
            's3:ListMultipartUploadParts',
            's3:DeleteObject',
          ],
          Resource: `arn:aws:s3:::amplify-bucket/private/${IDENTITY}/*`,
        },
        {
          Sid: 'Objects1',
          Effect: 'Allow',
          Action: ['s3:GetObject'],
          Resource: 'arn:aws:s3:::amplify-bucket/protected/*',
        },
        {
          Sid: 'List',
          Effect: 'Allow',
          Action: 's3:ListBucket',
          Resource: 'arn:aws:s3:::amplify-bucket',
          Condition: { StringLike: { 's3:prefix': [`private/${IDENTITY}/*`, 'protected/*'] } },
        },
      ],
    });
  });
  it('refuses anything that is not a Cognito identity id', () => {
    for (const bad of ['alice', 'eu-west-1:*', 'eu-west-1:${aws:username}', `${IDENTITY}/x`]) {
      expect(() => cognitoScopes('b', [{ prefix: 'public/', access: ['read'] }], bad)).toThrow(
        `not a Cognito identity id: ${JSON.stringify(bad)}`,
      );
    }
  });
});

describe('through the broker: response shape (mock)', () => {
  let broker: TestBroker | undefined;
  afterEach(async () => {
    await broker?.close();
    broker = undefined;
  });

  it.each(['enhanced', 'basic'] as const)('%s: identityId is the Cognito id, prefixes follow Amplify', async (mode) => {
    broker = await startBroker({
      vendor: vendor(mode === 'basic' ? { mode, roleArn: ROLE } : { mode }),
      grants: [AMPLIFY_GRANT as never],
      region: 'eu-west-1',
      durationSeconds: 3600,
    });
    const sub = freshSubject('amp');
    const token = await broker.token(sub);
    const tokenExp = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).exp as number;
    const res = await broker.credentials(token);
    expect(res.status).toBe(200);
    const expected = mode === 'basic' ? ['ASIABAS', 'bas-secret', 'bas-token'] : ['ASIAENH', 'enh-secret', 'enh-token'];
    expect(res.body).toEqual({
      credentials: {
        accessKeyId: expected[0],
        secretAccessKey: expected[1],
        sessionToken: expected[2],
        // Basic: the session policy stops the credentials at the token's exp, and says so. Enhanced:
        // Cognito ignores session policies, so the broker claims no such bound.
        expiration: mode === 'basic' ? new Date(tokenExp * 1000).toISOString() : EXPIRES.toISOString(),
      },
      bucket: 'amplify-bucket',
      region: 'eu-west-1',
      prefix: `private/${IDENTITY}/`,
      identityId: IDENTITY,
      access: ['read', 'write', 'list', 'delete'],
      scopes: [
        { prefix: `private/${IDENTITY}/`, access: ['read', 'write', 'list', 'delete'] },
        { prefix: `protected/${IDENTITY}/`, access: ['read', 'write', 'list', 'delete'] },
        { prefix: 'protected/', access: ['read', 'list'] },
        { prefix: 'public/', access: ['read', 'write', 'list', 'delete'] },
      ],
      endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      forcePathStyle: true,
    });
    expect(cm.commandCalls(GetOpenIdTokenForDeveloperIdentityCommand)[0]!.args[0].input.Logins).toEqual({
      [PROVIDER]: `21:urn:keyhole:dev-login:${sub}`,
    });
    if (mode === 'basic') {
      const policy = JSON.parse(sm.commandCalls(AssumeRoleWithWebIdentityCommand)[0]!.args[0].input.Policy!);
      // Allows only (denies name "*"): scopes with the same actions share one statement.
      const allows = policy.Statement.filter((s: { Effect: string }) => s.Effect === 'Allow');
      expect(allows.map((s: { Resource: string | string[] }) => s.Resource)).toEqual([
        [
          `arn:aws:s3:::amplify-bucket/private/${IDENTITY}/*`,
          `arn:aws:s3:::amplify-bucket/protected/${IDENTITY}/*`,
          'arn:aws:s3:::amplify-bucket/public/*',
        ],
        'arn:aws:s3:::amplify-bucket/protected/*',
        'arn:aws:s3:::amplify-bucket',
      ]);
      expect(allows[2].Condition.StringLike['s3:prefix']).toEqual([
        `private/${IDENTITY}/*`,
        `protected/${IDENTITY}/*`,
        'protected/*',
        'public/*',
      ]);
    }
    // A second request with the same token is served from the broker's cache, but still knows the
    // identity: one issue. (A new token would carry another exp, so another session policy and key.)
    const again = await broker.credentials(token);
    expect(again.body.identityId).toBe(IDENTITY);
    expect(cm.commandCalls(GetOpenIdTokenForDeveloperIdentityCommand)).toHaveLength(1);
  });

  it('answers a Cognito failure as JSON 503 without a stack trace', async () => {
    cm.on(GetOpenIdTokenForDeveloperIdentityCommand).rejects(
      new TooManyRequestsException({ message: 'Rate exceeded', $metadata: {} }),
    );
    broker = await startBroker({ vendor: vendor(), grants: [AMPLIFY_GRANT as never], region: 'eu-west-1' });
    const res = await broker.credentials(await broker.token(freshSubject('amp')));
    expect(res.status).toBe(503);
    expect(res.body).toEqual({
      error: {
        code: 'cognito_unavailable',
        message: 'Cognito GetOpenIdTokenForDeveloperIdentity failed: TooManyRequestsException',
      },
    });
  });
});
