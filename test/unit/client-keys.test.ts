import { describe, expect, it } from 'vitest';
import { createStorage, InvalidKeyError } from '../../client/index.js';
import { fullKey, listPrefix } from '../../client/keys.js';

describe('relative keys', () => {
  it.each([
    ['a.txt', 'users/alice/a.txt'],
    ['photos/2026/cat.jpg', 'users/alice/photos/2026/cat.jpg'],
    ['..a/b..', 'users/alice/..a/b..'],
    ['ünïcødé ✓.txt', 'users/alice/ünïcødé ✓.txt'],
  ])('%s → %s', (key, full) => {
    expect(fullKey('users/alice/', key)).toBe(full);
  });

  it.each([
    ['', 'key must be a non-empty string'],
    ['/etc/passwd', 'key must be relative to your prefix: remove the leading "/"'],
    ['..', 'key must not contain "." or ".." segments'],
    ['../bob/x', 'key must not contain "." or ".." segments'],
    ['a/./b', 'key must not contain "." or ".." segments'],
    ['a/..', 'key must not contain "." or ".." segments'],
    ['a//b', 'key must not contain empty segments ("//")'],
    ['dir/', 'key must not end with "/"'],
    ['a\nb', 'key must not contain control characters'],
    ['x'.repeat(1020), 'key is too long: S3 keys are at most 1024 bytes including the prefix'],
  ])('rejects %j', (key, message) => {
    expect(() => fullKey('users/alice/', key)).toThrow(InvalidKeyError);
    expect(() => fullKey('users/alice/', key)).toThrow(message);
  });

  it('list prefixes: empty means the whole grant; a trailing slash is kept', () => {
    expect(listPrefix('users/alice/', undefined)).toBe('users/alice/');
    expect(listPrefix('users/alice/', '')).toBe('users/alice/');
    expect(listPrefix('users/alice/', 'photos/')).toBe('users/alice/photos/');
    expect(() => listPrefix('users/alice/', '../')).toThrow('prefix must not contain "." or ".." segments');
  });
});

describe('createStorage options', () => {
  const credentials = Object.assign(async () => ({}) as never, {
    grant: async () => ({}) as never,
    clear: () => {},
    brokerRequests: 0,
  });
  it.each([
    [{}, TypeError, 'options.credentials must be a provider from brokerCredentials(...)'],
    [{ credentials, partSizeBytes: 1024 }, RangeError, 'options.partSizeBytes must be an integer >= 5242880 (5 MiB)'],
    [{ credentials, queueSize: 0 }, RangeError, 'options.queueSize must be an integer from 1 to 64'],
  ])('rejects %j', (options, type, message) => {
    expect(() => createStorage(options as never)).toThrow(type);
    expect(() => createStorage(options as never)).toThrow(message);
  });
});
