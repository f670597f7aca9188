// Upload rules (issue 15): validated at startup, with errors naming the option or the variable,
// and the verdict table for size, real type and quota. No stack: the S3 side is in
// test/integration/upload-rules.test.ts.
import { S3Client } from '@aws-sdk/client-s3';
import { supportedMimeTypes } from 'file-type';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.js';
import { compileGrants } from '../../server/grants.js';
import { ConfigError, createBroker } from '../../server/index.js';
import { judge, typeVerdict } from '../../server/uploads/judge.js';
import { uploadsOptionsFrom } from '../../server/config/uploads-env.js';
import { checkUploadsOptions } from '../../server/uploads/options.js';
import { checkQuarantinePrefix, compileUploadRules } from '../../server/uploads/rules.js';
import { fakeVendor } from '../helpers/fake-vendor.js';

const env = {
  AWS_REGION: 'us-east-1',
  KEYHOLE_ROLE_ARN: 'arn:aws:iam::123456789012:role/keyhole-uploader',
  KEYHOLE_JWT_ISSUER: 'https://id.example.com/',
  KEYHOLE_JWT_AUDIENCE: 'keyhole',
  KEYHOLE_JWKS_URL: 'https://id.example.com/.well-known/jwks.json',
};

const grants = (uploads: unknown) =>
  JSON.stringify([{ bucket: 'uploads', scopes: [{ prefix: 'users/{sub}/', access: ['read', 'write'], uploads }] }]);

function configError(extra: Record<string, string>): string {
  try {
    loadConfig({ ...env, ...extra });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  return 'no error';
}

describe('upload rules in KEYHOLE_GRANTS', () => {
  it('accepts maxBytes, contentTypes and quotaBytes per scope and keeps them', () => {
    const c = loadConfig({
      ...env,
      KEYHOLE_GRANTS: grants({ maxBytes: 1024, contentTypes: ['image/*', 'Image/PNG'], quotaBytes: 4096 }),
      KEYHOLE_QUARANTINE_PREFIX: 'quarantine/',
    });
    expect(c.broker.grants[0]!.scopes[0]!.uploads).toEqual({
      maxBytes: 1024,
      contentTypes: ['image/*', 'Image/PNG'],
      quotaBytes: 4096,
    });
    expect(c.uploads).toEqual({ region: 'us-east-1', quarantinePrefix: 'quarantine/' });
    const compiled = compileGrants(c.broker.grants);
    expect(compiled[0]!.scopes[0]!.uploads).toEqual({
      maxBytes: 1024,
      contentTypes: ['image/*', 'image/png'],
      quotaBytes: 4096,
    });
  });

  it.each([
    [{ maxBytes: 0 }, 'KEYHOLE_GRANTS: [0.scopes.0.uploads.maxBytes] expected a positive number of bytes'],
    [{ maxBytes: 1.5 }, 'KEYHOLE_GRANTS: [0.scopes.0.uploads.maxBytes] expected a whole number of bytes'],
    [{ quotaBytes: -1 }, 'KEYHOLE_GRANTS: [0.scopes.0.uploads.quotaBytes] expected a positive number of bytes'],
    [{ contentTypes: [] }, 'KEYHOLE_GRANTS: [0.scopes.0.uploads.contentTypes] expected at least one MIME pattern'],
    [
      { contentTypes: ['image'] },
      'KEYHOLE_GRANTS: [0].scopes[0].uploads.contentTypes[0] must be a MIME type or "type/*" (got "image")',
    ],
    [
      { contentTypes: ['*/*'] },
      'KEYHOLE_GRANTS: [0].scopes[0].uploads.contentTypes[0] must be a MIME type or "type/*" (got "*/*")',
    ],
    [
      { maxBytes: 6 * 1024 ** 4 },
      "KEYHOLE_GRANTS: [0].scopes[0].uploads.maxBytes must be at most 5497558138880 (5 TiB, S3's largest object)",
    ],
    [{ maxSize: 1 }, 'KEYHOLE_GRANTS: [0.scopes.0.uploads] Unrecognized key: "maxSize"'],
  ])('refuses %j with one line naming KEYHOLE_GRANTS', (uploads, message) => {
    expect(configError({ KEYHOLE_GRANTS: grants(uploads) })).toBe(message);
  });

  it.each([
    [
      'users/',
      'KEYHOLE_QUARANTINE_PREFIX: "users/" overlaps the grant prefix "users/{sub}/": users could read quarantined objects; choose a prefix outside every grant',
    ],
    [
      'users/x/',
      'KEYHOLE_QUARANTINE_PREFIX: "users/x/" overlaps the grant prefix "users/{sub}/": users could read quarantined objects; choose a prefix outside every grant',
    ],
    [
      'quarantine',
      'KEYHOLE_QUARANTINE_PREFIX: must be a relative folder such as "quarantine/" (ending in "/", no empty segments)',
    ],
    [
      '/q/',
      'KEYHOLE_QUARANTINE_PREFIX: must be a relative folder such as "quarantine/" (ending in "/", no empty segments)',
    ],
    [
      'q//',
      'KEYHOLE_QUARANTINE_PREFIX: must be a relative folder such as "quarantine/" (ending in "/", no empty segments)',
    ],
  ])('refuses KEYHOLE_QUARANTINE_PREFIX=%s', (prefix, message) => {
    expect(configError({ KEYHOLE_BUCKET: 'uploads', KEYHOLE_QUARANTINE_PREFIX: prefix })).toBe(message);
  });

  it('refuses any quarantine prefix when a grant prefix starts with a placeholder', () => {
    expect(() => checkQuarantinePrefix('quarantine/', ['{sub}/'], 'q')).toThrow(
      'q "quarantine/" overlaps the grant prefix "{sub}/"',
    );
  });
});

describe('upload rules as library options', () => {
  const base = {
    vendor: fakeVendor(),
    region: 'us-east-1',
    issuers: [{ issuer: 'https://id.example.com/', audience: 'a', jwksUrl: 'https://id.example.com/jwks' }],
  };
  const withRules = (uploads: unknown) => [
    { bucket: 'uploads', scopes: [{ prefix: 'users/{sub}/', access: ['write' as const], uploads: uploads as never }] },
  ];

  it('names the option path of a bad rule', () => {
    expect(() => createBroker({ ...base, grants: withRules({ contentTypes: 'image/*' }) })).toThrow(
      new TypeError(
        'options.grants[0].scopes[0].uploads.contentTypes must be a non-empty array of MIME patterns such as "image/*"',
      ),
    );
    expect(() => createBroker({ ...base, grants: withRules({ quotaBytes: '5' }) })).toThrow(
      new RangeError('options.grants[0].scopes[0].uploads.quotaBytes must be a positive integer (bytes)'),
    );
  });

  it('refuses rules without options.uploads, which nothing could enforce', () => {
    expect(() => createBroker({ ...base, grants: withRules({ maxBytes: 1 }) })).toThrow(
      new TypeError(
        'options.uploads is required: options.grants[0].scopes[0] has upload rules, which the broker checks with its own S3 access',
      ),
    );
  });

  it('checks options.uploads', () => {
    const rules = compileGrants(withRules({ maxBytes: 1 }));
    const s3 = new S3Client({ region: 'us-east-1' });
    expect(checkUploadsOptions({ s3 }, rules)).toEqual({
      s3,
      quarantinePrefix: undefined,
      quotaMaxObjects: 10000,
      rememberOutcomes: 10000,
      webhook: undefined,
      notifications: undefined,
    });
    expect(() => checkUploadsOptions({ s3: {} as S3Client }, rules)).toThrow(
      "options.uploads.s3 must be an S3Client with the broker's own credentials",
    );
    expect(() => checkUploadsOptions({ s3, notifications: { token: 'short' } }, rules)).toThrow(
      'options.uploads.notifications.token must be 32 to 256 letters, digits, "_" or "-"',
    );
    expect(() =>
      checkUploadsOptions({ s3, notifications: { token: 'a'.repeat(32), keyEncoding: 'base64' as never } }, rules),
    ).toThrow('options.uploads.notifications.keyEncoding must be "raw" or "url"');
    expect(checkUploadsOptions({ s3, notifications: { token: 'a'.repeat(32) } }, rules)?.notifications).toEqual({
      token: 'a'.repeat(32),
      keyEncoding: 'raw',
    });
    expect(() => checkUploadsOptions({ s3, quotaMaxObjects: 0 }, rules)).toThrow(
      'options.uploads.quotaMaxObjects must be an integer from 1 to 1000000',
    );
    expect(() => checkUploadsOptions({ s3, quarantinePrefix: 'users/q/' }, rules)).toThrow(
      'options.uploads.quarantinePrefix "users/q/" overlaps the grant prefix "users/{sub}/"',
    );
    expect(
      checkUploadsOptions(
        undefined,
        compileGrants([{ bucket: 'uploads', scopes: [{ prefix: 'u/', access: ['read'] }] }]),
      ),
    ).toBeUndefined();
  });

  it('compiles an empty rule object to no limits', () => {
    expect(compileUploadRules({}, 'x')).toEqual({
      maxBytes: undefined,
      contentTypes: undefined,
      quotaBytes: undefined,
    });
  });
});

describe('the verdict', () => {
  const images = ['image/*'];
  it.each([
    // [patterns, declared, detected, reason]
    [images, 'image/png', 'image/png', undefined],
    [images, undefined, 'image/png', undefined],
    [images, 'application/octet-stream', 'image/png', undefined],
    [images, 'image/png; charset=binary', 'image/png', undefined],
    [images, 'image/jpg', 'image/jpeg', undefined],
    [images, 'image/jpeg', 'image/png', 'type_mismatch'],
    [images, 'text/plain', 'image/png', 'type_mismatch'],
    [images, 'image/png', undefined, 'type_mismatch'], // a text file named .png, declared image/png
    [images, 'image/svg+xml', undefined, 'type_not_allowed'], // not detectable: never through a wildcard
    [['image/svg+xml'], 'image/svg+xml', undefined, undefined], // ... but listed exactly
    [images, 'text/plain', undefined, 'type_not_allowed'],
    [images, undefined, undefined, 'type_not_allowed'],
    [images, 'application/pdf', 'application/pdf', 'type_not_allowed'],
    [['text/plain'], 'text/plain', undefined, undefined],
    [['text/plain'], 'application/pdf', undefined, 'type_not_allowed'],
    [['image/png', 'application/pdf'], 'application/pdf', undefined, 'type_mismatch'],
  ] as const)('%j declared %s, detected %s: %s', (patterns, declared, detected, reason) => {
    expect(typeVerdict(patterns, declared, detected, supportedMimeTypes)).toBe(reason);
  });

  it('checks size, then type, then quota, and reports the first broken rule', () => {
    const rules = { maxBytes: 10, contentTypes: ['image/*'], quotaBytes: 100 };
    const facts = { size: 11, declaredType: 'text/plain', detectedType: undefined, usedBytes: 1000 };
    expect(judge(rules, facts, supportedMimeTypes)).toBe('too_large');
    expect(judge(rules, { ...facts, size: 10 }, supportedMimeTypes)).toBe('type_not_allowed');
    expect(judge(rules, { ...facts, size: 10, detectedType: 'image/png' }, supportedMimeTypes)).toBe('type_mismatch');
    expect(
      judge(rules, { ...facts, size: 10, declaredType: 'image/png', detectedType: 'image/png' }, supportedMimeTypes),
    ).toBe('quota_exceeded');
    expect(
      judge(
        rules,
        { size: 10, declaredType: 'image/png', detectedType: 'image/png', usedBytes: 100 },
        supportedMimeTypes,
      ),
    ).toBeUndefined();
    expect(
      judge(
        rules,
        { size: 10, declaredType: 'image/png', detectedType: 'image/png', usedBytes: Infinity },
        supportedMimeTypes,
      ),
    ).toBe('quota_exceeded');
    expect(judge(undefined, facts, supportedMimeTypes)).toBeUndefined();
  });
});

describe('the upload webhook from the environment', () => {
  const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
  it('reads KEYHOLE_EVENTS_WEBHOOK_URL and KEYHOLE_EVENTS_WEBHOOK_SECRET together', () => {
    const c = loadConfig({
      ...env,
      KEYHOLE_BUCKET: 'uploads',
      KEYHOLE_EVENTS_WEBHOOK_URL: 'https://app.example.com/hooks/keyhole',
      KEYHOLE_EVENTS_WEBHOOK_SECRET: secret,
    });
    expect(c.uploads?.webhook).toEqual({ url: 'https://app.example.com/hooks/keyhole', secret });
  });

  it.each([
    [
      { KEYHOLE_EVENTS_WEBHOOK_URL: 'https://a.example/h' },
      'KEYHOLE_EVENTS_WEBHOOK_SECRET: is required with KEYHOLE_EVENTS_WEBHOOK_URL',
    ],
    [
      { KEYHOLE_EVENTS_WEBHOOK_SECRET: secret },
      'KEYHOLE_EVENTS_WEBHOOK_URL: is required with KEYHOLE_EVENTS_WEBHOOK_SECRET',
    ],
    [
      { KEYHOLE_EVENTS_WEBHOOK_URL: 'http://app.example.com/h', KEYHOLE_EVENTS_WEBHOOK_SECRET: secret },
      'KEYHOLE_EVENTS_WEBHOOK_URL: must be https (http only on loopback) (got "http://app.example.com/h")',
    ],
    [
      { KEYHOLE_EVENTS_WEBHOOK_URL: 'https://a.example/h', KEYHOLE_EVENTS_WEBHOOK_SECRET: 'hunter2-not-a-secret' },
      'KEYHOLE_EVENTS_WEBHOOK_SECRET: must be "whsec_" followed by base64 of 24 to 64 random bytes',
    ],
    [
      { KEYHOLE_EVENTS_WEBHOOK_URL: 'https://a.example/h', KEYHOLE_EVENTS_WEBHOOK_SECRET: 'whsec_c2hvcnQ=' },
      'KEYHOLE_EVENTS_WEBHOOK_SECRET: must be "whsec_" followed by base64 of 24 to 64 random bytes',
    ],
  ])('refuses %j, never echoing the secret', (extra, message) => {
    expect(configError({ KEYHOLE_BUCKET: 'uploads', ...extra })).toBe(message);
  });

  it('reads KEYHOLE_NOTIFY_TOKEN into the notify route (raw keys, as RGW sends them); refuses a short one unechoed', () => {
    const token = 'a'.repeat(40);
    const c = loadConfig({ ...env, KEYHOLE_BUCKET: 'uploads', KEYHOLE_NOTIFY_TOKEN: token });
    expect(c.uploads?.notifyToken).toBe(token);
    expect(uploadsOptionsFrom(c.uploads!).notifications).toEqual({ token, keyEncoding: 'raw' });
    expect(
      uploadsOptionsFrom(loadConfig({ ...env, KEYHOLE_BUCKET: 'uploads' }).uploads!).notifications,
    ).toBeUndefined();
    expect(configError({ KEYHOLE_BUCKET: 'uploads', KEYHOLE_NOTIFY_TOKEN: 'short-secret' })).toBe(
      'KEYHOLE_NOTIFY_TOKEN: expected 32 to 256 letters, digits, "_" or "-" (openssl rand -hex 32)',
    );
  });

  it('reads the single rule upload rules from KEYHOLE_UPLOAD_*, and names the variable of a bad one', () => {
    const c = loadConfig({
      ...env,
      KEYHOLE_BUCKET: 'uploads',
      KEYHOLE_UPLOAD_MAX_BYTES: '10485760',
      KEYHOLE_UPLOAD_CONTENT_TYPES: 'image/*, application/pdf',
      KEYHOLE_UPLOAD_QUOTA_BYTES: '104857600',
    });
    expect(c.broker.grants[0]!.scopes[0]!.uploads).toEqual({
      maxBytes: 10485760,
      contentTypes: ['image/*', 'application/pdf'],
      quotaBytes: 104857600,
    });
    expect(loadConfig({ ...env, KEYHOLE_BUCKET: 'uploads' }).broker.grants[0]!.scopes[0]!.uploads).toBeUndefined();
    expect(configError({ KEYHOLE_BUCKET: 'uploads', KEYHOLE_UPLOAD_CONTENT_TYPES: 'images' })).toBe(
      'KEYHOLE_UPLOAD_CONTENT_TYPES: must be a MIME type or "type/*" (got "images")',
    );
    expect(configError({ KEYHOLE_BUCKET: 'uploads', KEYHOLE_UPLOAD_MAX_BYTES: String(6 * 1024 ** 4) })).toBe(
      "KEYHOLE_UPLOAD_MAX_BYTES: must be at most 5497558138880 (5 TiB, S3's largest object)",
    );
    expect(
      configError({
        KEYHOLE_GRANTS: '[{"bucket":"uploads","scopes":[{"prefix":"u/{sub}/","access":["write"]}]}]',
        KEYHOLE_UPLOAD_QUOTA_BYTES: '5',
      }),
    ).toBe(
      'KEYHOLE_UPLOAD_QUOTA_BYTES: is for the single rule; with KEYHOLE_GRANTS, give each scope its "uploads" rules',
    );
  });

  it('refuses onUpload without uploads, and a bad webhook option, naming the option', () => {
    const base = {
      vendor: fakeVendor(),
      region: 'us-east-1',
      issuers: [{ issuer: 'https://id.example.com/', audience: 'a', jwksUrl: 'https://id.example.com/jwks' }],
      grants: [{ bucket: 'uploads', scopes: [{ prefix: 'users/{sub}/', access: ['write' as const] }] }],
    };
    expect(() => createBroker({ ...base, onUpload: () => {} })).toThrow(
      'options.onUpload needs options.uploads: outcomes come from POST /v1/uploads/complete',
    );
    const s3 = new S3Client({ region: 'us-east-1' });
    expect(() => createBroker({ ...base, uploads: { s3, webhook: { url: 'ftp://x', secret } } })).toThrow(
      'options.uploads.webhook.url must be an absolute http(s) URL',
    );
    expect(() =>
      createBroker({ ...base, uploads: { s3, webhook: { url: 'https://x.example/h', secret, maxQueue: 0 } } }),
    ).toThrow('options.uploads.webhook.maxQueue must be an integer from 1 to 100000');
  });
});
