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
    ['a\nb', 'key contains control character U+000A at position 2'],
    ['\u0000', 'key contains control character U+0000 at position 1'],
    ['tab\there', 'key contains control character U+0009 at position 4'],
    ['del\u007f', 'key contains control character U+007F at position 4'],
    // C1: U+009B is an 8-bit CSI on some terminals; U+0080 and U+009F are the ends of the range.
    ['ab\u009b2J', 'key contains control character U+009B at position 3'],
    ['\u0080.txt', 'key contains control character U+0080 at position 1'],
    ['x\u009f', 'key contains control character U+009F at position 2'],
    // Positions count characters: the emoji (two UTF-16 units) is one.
    ['😀\u0085', 'key contains control character U+0085 at position 2'],
    // The first offender is named.
    ['a\u001b]0;t\u0007\u009b', 'key contains control character U+001B at position 2'],
    ['x'.repeat(1020), 'key is too long: S3 keys are at most 1024 bytes including the prefix'],
  ])('rejects %j', (key, message) => {
    expect(() => fullKey('users/alice/', key)).toThrow(InvalidKeyError);
    expect(() => fullKey('users/alice/', key)).toThrow(message);
  });

  it.each([['\u00a0nbsp'], ['\u00ff'], ['\u2028'], ['é/ü']])('accepts %j: the C1 range ends at U+009F', (key) => {
    expect(fullKey('users/alice/', key)).toBe(`users/alice/${key}`);
  });

  it('a control character in a list prefix is named as such', () => {
    expect(() => listPrefix('users/alice/', 'a\u009b/')).toThrow(
      'prefix contains control character U+009B at position 2',
    );
  });

  it('list prefixes: empty means the whole grant; a trailing slash is kept', () => {
    expect(listPrefix('users/alice/', undefined)).toBe('users/alice/');
    expect(listPrefix('users/alice/', '')).toBe('users/alice/');
    expect(listPrefix('users/alice/', 'photos/')).toBe('users/alice/photos/');
    expect(() => listPrefix('users/alice/', '../')).toThrow('prefix must not contain "." or ".." segments');
  });
});

describe('a malformed key sends nothing, not even a broker request', () => {
  it.each([['a//b'], ['../bob/x'], ['/etc/passwd'], ['ab\u009b2J']])('%j', async (key) => {
    let asked = 0;
    const credentials = Object.assign(async () => (asked++, {}) as never, {
      grant: async () => (asked++, {}) as never,
      clear: () => {},
      brokerRequests: 0,
    });
    const storage = createStorage({ credentials } as never);
    for (const op of [
      () => storage.download(key),
      () => storage.head(key),
      () => storage.delete(key),
      () => storage.upload(key, new Uint8Array(1)),
      () => storage.discardUpload(key),
    ]) {
      await expect(op()).rejects.toBeInstanceOf(InvalidKeyError);
    }
    expect(asked).toBe(0);
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
