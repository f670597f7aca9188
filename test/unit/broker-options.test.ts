// createBroker validates its options once, with errors naming the option, and never mutates them.
import { describe, expect, it } from 'vitest';
import { createBroker, createStsVendor, type BrokerOptions, type CredentialVendor } from '../../server/index.js';

const vendor: CredentialVendor = {
  kind: 'test',
  identityIdFor: async (s) => s,
  issue: async () => ({
    accessKeyId: 'A',
    secretAccessKey: 'S',
    sessionToken: 'T',
    expiration: new Date(Date.now() + 9e5),
  }),
  ping: async () => {},
  upstreamCalls: () => 0,
};
const valid: BrokerOptions = {
  devLogin: true,
  vendor,
  region: 'us-east-1',
  grants: [{ bucket: 'uploads', scopes: [{ prefix: 'users/{sub}/', access: ['read', 'write'] }] }],
};

describe('createBroker options', () => {
  it.each([
    [{ vendor: undefined }, TypeError, 'options.vendor must be a credential vendor such as createStsVendor(...)'],
    [{ region: '' }, TypeError, 'options.region must be a non-empty string'],
    [{ awsSdkRoute: 'yes' as unknown as boolean }, TypeError, 'options.awsSdkRoute must be a boolean'],
    [{ grants: [] }, TypeError, 'options.grants must be a non-empty array'],
    [
      { grants: [{ bucket: 'UPLOADS', scopes: [{ prefix: 'u/{sub}/', access: ['read'] }] }] },
      TypeError,
      'options.grants[0].bucket must be a valid S3 bucket name',
    ],
    [
      { grants: [{ bucket: 'uploads', scopes: [{ prefix: 'users/{sub}', access: ['read'] }] }] },
      TypeError,
      'options.grants[0].scopes[0].prefix: prefix template "users/{sub}" must end with "/"',
    ],
    [
      { grants: [{ bucket: 'uploads', scopes: [{ prefix: 'users/x{sub}/', access: ['read'] }] }] },
      TypeError,
      'options.grants[0].scopes[0].prefix: prefix template "users/x{sub}/" has an invalid segment "x{sub}": use letters, digits and ._@+=- or a whole-segment {claim}',
    ],
    [
      { grants: [{ bucket: 'uploads', scopes: [{ prefix: 'users/{sub}/', access: ['own'] }] }] },
      TypeError,
      'options.grants[0].scopes[0].access must be a non-empty array of "read", "write", "list", "delete"',
    ],
    [{ durationSeconds: 600 }, RangeError, 'options.durationSeconds must be an integer from 900 to 43200'],
    [{ s3Endpoint: 'localhost:7480' }, TypeError, 'options.s3Endpoint must be an absolute http(s) URL'],
    [
      { corsOrigins: ['*'] },
      TypeError,
      'options.corsOrigins entries must be exact origins like "https://app.example.com"; got "*"',
    ],
    [
      { rateLimit: { perSubject: { limit: 0, windowSeconds: 60 } } },
      TypeError,
      'options.rateLimit.perSubject must be false or { limit, windowSeconds } with positive integers',
    ],
    [
      { credentialCache: { maxEntries: 0 } },
      RangeError,
      'options.credentialCache.maxEntries must be a positive integer',
    ],
    [{ devLogin: false }, TypeError, 'options.issuers must list at least one trusted issuer (or set devLogin: true)'],
    [
      { devLogin: false, issuers: [{ issuer: 'https://i/', audience: 'a' }] },
      TypeError,
      'options.issuers[0] must set exactly one of jwksUrl, jwks, publicKey (got none)',
    ],
    [
      { devLogin: false, issuers: [{ issuer: 'https://i/', audience: 'a', jwksUrl: 'http://idp.example.com/jwks' }] },
      TypeError,
      'options.issuers[0].jwksUrl must be https (http is allowed on loopback only)',
    ],
    [
      {
        devLogin: false,
        issuers: [{ issuer: 'https://i/', audience: 'a', jwks: { keys: [] }, algorithms: ['HS256'] }],
      },
      TypeError,
      'options.issuers[0].algorithms may only contain RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA; got "HS256"',
    ],
    [{ clockToleranceSeconds: 3600 }, RangeError, 'options.clockToleranceSeconds must be an integer from 0 to 300'],
  ])('%j', (overrides, type, message) => {
    const options = { ...valid, ...overrides } as BrokerOptions;
    expect(() => createBroker(options)).toThrow(type);
    expect(() => createBroker(options)).toThrow(message);
  });

  it('does not mutate the caller’s options', () => {
    const options = structuredClone({ ...valid, vendor: undefined }) as unknown as BrokerOptions;
    const frozen = JSON.stringify(options);
    createBroker({ ...options, vendor });
    expect(JSON.stringify(options)).toBe(frozen);
  });

  it('createStsVendor names its options', () => {
    expect(() => createStsVendor({ roleArn: 'uploader', region: 'us-east-1' })).toThrow(
      'options.roleArn must be an IAM role ARN such as "arn:aws:iam::123456789012:role/NAME"',
    );
    expect(() => createStsVendor({ roleArn: 'arn:aws:iam::123456789012:role/x', region: '' })).toThrow(
      'options.region must be a non-empty string',
    );
  });
});
