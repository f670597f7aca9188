// The verdict in words, as the web app and the keyhole command show it (issue 15, point 4).
import { describe, expect, it } from 'vitest';
import { reasonInWords, sizeInWords, verdictInWords } from '../../client/verdict-message.js';

describe('verdictInWords', () => {
  it.each([
    [{ status: 'accepted' }, 'accepted'],
    [{ status: 'rejected', reason: 'too_large', limit: 10 * 1024 * 1024 }, 'rejected: larger than 10 MiB'],
    [{ status: 'rejected', reason: 'too_large' }, 'rejected: too large'],
    [{ status: 'rejected', reason: 'type_not_allowed', allowed: ['image/*'] }, 'rejected: not an image'],
    [{ status: 'rejected', reason: 'type_mismatch', allowed: ['image/png', 'image/jpeg'] }, 'rejected: not an image'],
    [{ status: 'rejected', reason: 'type_not_allowed', allowed: ['video/*'] }, 'rejected: not a video'],
    [
      { status: 'rejected', reason: 'type_not_allowed', allowed: ['image/*', 'application/pdf'] },
      'rejected: not an allowed type (image/*, application/pdf)',
    ],
    [{ status: 'rejected', reason: 'type_mismatch' }, 'rejected: its content is not what its declared type says'],
    [
      { status: 'rejected', reason: 'quota_exceeded', limit: 100 * 1024 * 1024 },
      'rejected: over your storage quota of 100 MiB',
    ],
  ] as const)('%j -> %s', (facts, words) => {
    expect(verdictInWords(facts)).toBe(words);
  });

  it('sizes: whole units stay whole, others get one decimal', () => {
    expect([1, 1024, 1536, 10 * 1024 ** 2, 5 * 1024 ** 4].map(sizeInWords)).toEqual([
      '1 B',
      '1 KiB',
      '1.5 KiB',
      '10 MiB',
      '5 TiB',
    ]);
    expect(reasonInWords({ reason: null })).toBe('refused');
  });
});
