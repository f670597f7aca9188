// client/keys.ts: the S3 key limit as a literal (1024 UTF-8 bytes, prefix included), at the bound,
// with long keys built directly.
import { describe, expect, it } from 'vitest';
import { InvalidKeyError } from '../../client/errors.js';
import { fullKey } from '../../client/keys.js';

const prefix = 'users/alice/'; // 12 bytes
const TOO_LONG = 'key is too long: S3 keys are at most 1024 bytes including the prefix';

describe('fullKey: at most 1024 bytes with the prefix', () => {
  it('1024 bytes exactly is accepted; 1025 is an InvalidKeyError saying so', () => {
    expect(fullKey(prefix, 'k'.repeat(1012))).toBe(prefix + 'k'.repeat(1012));
    expect(() => fullKey(prefix, 'k'.repeat(1013))).toThrow(new InvalidKeyError(TOO_LONG));
    expect(() => fullKey(prefix, 'k'.repeat(5000))).toThrow(TOO_LONG);
  });

  it('counts bytes, not characters: 337 three-byte characters fit (1011 + 12), 338 do not', () => {
    expect(fullKey(prefix, '中'.repeat(337) + 'a')).toBe(prefix + '中'.repeat(337) + 'a');
    expect(() => fullKey(prefix, '中'.repeat(338))).toThrow(TOO_LONG);
  });
});
