// The pure decisions of the browser upload path (client/storage-upload.ts, client/blob-upload.ts):
// the default part size and queue depth chosen from the body's size, whether Blob slices get their
// SHA-256 signed (plain HTTP) or go UNSIGNED-PAYLOAD (HTTPS), and when an upload goes by slices.
// Exact values at every boundary, and S3's 10,000-part limit for every size up to 5 TiB.
import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { hashesPayload, sendsBlobSlices } from '../../client/blob-upload.js';
import { MIN_PART_BYTES, partSizeFor, queueSizeFor } from '../../client/storage-upload.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;
const MAX_PARTS = 10_000;

describe('partSizeFor: parts read into memory (bytes, streams, hashed Blobs)', () => {
  it('is 8 MiB when the size is unknown, whichever path', () => {
    expect(partSizeFor(undefined)).toBe(8 * MiB);
    expect(partSizeFor(undefined, false)).toBe(8 * MiB);
    expect(partSizeFor(undefined, true)).toBe(8 * MiB);
  });

  it('is 8 MiB from 0 bytes up to exactly 10,000 × 8 MiB', () => {
    for (const size of [0, 1, MIN_PART_BYTES, 8 * MiB, 8 * MiB + 1, GiB, 64 * GiB, MAX_PARTS * 8 * MiB]) {
      expect(partSizeFor(size), `size ${size}`).toBe(8 * MiB);
    }
  });

  it('grows by whole MiB beyond 10,000 × 8 MiB, so the part count never exceeds 10,000', () => {
    expect(partSizeFor(MAX_PARTS * 8 * MiB + 1)).toBe(9 * MiB);
    expect(partSizeFor(MAX_PARTS * 9 * MiB)).toBe(9 * MiB);
    expect(partSizeFor(MAX_PARTS * 9 * MiB + 1)).toBe(10 * MiB);
    // S3's largest object: 5 TiB / 10,000 = 524.288 MiB, rounded up to 525 MiB.
    expect(partSizeFor(5 * TiB)).toBe(525 * MiB);
  });
});

describe('partSizeFor: Blob slices sent unread (browser over HTTPS)', () => {
  it('is 8 MiB up to 64 MiB (an eighth of the size, at least 8 MiB)', () => {
    for (const size of [0, 1, 8 * MiB, 20 * MiB, 63 * MiB, 64 * MiB]) {
      expect(partSizeFor(size, true), `size ${size}`).toBe(8 * MiB);
    }
  });

  it('is an eighth of the size rounded up to a whole MiB between 64 and 512 MiB', () => {
    expect(partSizeFor(64 * MiB + 1, true)).toBe(9 * MiB);
    expect(partSizeFor(128 * MiB, true)).toBe(16 * MiB);
    expect(partSizeFor(256 * MiB, true)).toBe(32 * MiB);
    expect(partSizeFor(256 * MiB + 1, true)).toBe(33 * MiB);
    expect(partSizeFor(512 * MiB, true)).toBe(64 * MiB);
  });

  it('stops at 64 MiB above 512 MiB, until 10,000 × 64 MiB', () => {
    for (const size of [512 * MiB + 1, GiB, 100 * GiB, MAX_PARTS * 64 * MiB]) {
      expect(partSizeFor(size, true), `size ${size}`).toBe(64 * MiB);
    }
  });

  it('grows by whole MiB beyond 10,000 × 64 MiB', () => {
    expect(partSizeFor(MAX_PARTS * 64 * MiB + 1, true)).toBe(65 * MiB);
    expect(partSizeFor(5 * TiB, true)).toBe(525 * MiB);
  });
});

describe('partSizeFor: invariants over sizes up to 5 TiB', () => {
  // Every boundary above ± 1 byte, plus a spread of sizes in between.
  const sizes = new Set<number>();
  for (const b of [0, 8 * MiB, 64 * MiB, 512 * MiB, GiB, MAX_PARTS * 8 * MiB, MAX_PARTS * 64 * MiB, 5 * TiB]) {
    for (const d of [-1, 0, 1]) if (b + d >= 0) sizes.add(b + d);
  }
  for (let size = 1; size <= 5 * TiB; size = Math.ceil(size * 1.37) + 12_345) sizes.add(size);

  it.each([false, true])('unread=%s: a whole number of MiB, at least 5 MiB, at most 10,000 parts', (unread) => {
    for (const size of sizes) {
      const part = partSizeFor(size, unread);
      expect(Number.isInteger(part / MiB), `size ${size}: ${part}`).toBe(true);
      expect(part, `size ${size}`).toBeGreaterThanOrEqual(MIN_PART_BYTES);
      expect(Math.ceil(size / part), `size ${size}: ${part}`).toBeLessThanOrEqual(MAX_PARTS);
    }
  });

  it('never picks smaller parts for slices sent unread than for parts read into memory', () => {
    for (const size of sizes) expect(partSizeFor(size, true)).toBeGreaterThanOrEqual(partSizeFor(size, false));
  });

  it('MIN_PART_BYTES is S3 minimum part size, 5 MiB', () => {
    expect(MIN_PART_BYTES).toBe(5 * MiB);
  });
});

describe('queueSizeFor', () => {
  it('is 4 parts in flight for every size, known or not', () => {
    for (const size of [undefined, 0, 1, 8 * MiB, GiB, 5 * TiB]) expect(queueSizeFor(size), `size ${size}`).toBe(4);
  });
});

describe('hashesPayload: which endpoints get each slice hashed and signed', () => {
  it('hashes over plain HTTP, whatever the case of the scheme', () => {
    expect(hashesPayload('http://127.0.0.1:7480')).toBe(true);
    expect(hashesPayload('http://localhost')).toBe(true);
    expect(hashesPayload('HTTP://S3.EXAMPLE.TEST:80/')).toBe(true);
    expect(hashesPayload('Http://s3.example.test')).toBe(true);
  });

  it('signs UNSIGNED-PAYLOAD over HTTPS, and when there is no endpoint (AWS, always HTTPS)', () => {
    expect(hashesPayload(undefined)).toBe(false);
    expect(hashesPayload('https://localhost:7443')).toBe(false);
    expect(hashesPayload('HTTPS://s3.eu-west-1.amazonaws.com')).toBe(false);
  });

  it('looks at the scheme only, not at "http" elsewhere in the URL', () => {
    expect(hashesPayload('https://http.example.test')).toBe(false);
    expect(hashesPayload('https://example.test/http://x')).toBe(false);
  });
});

describe('sendsBlobSlices: which uploads go by Blob slices', () => {
  const client = (runtime: string, checksums: string) =>
    ({
      config: { runtime, requestChecksumCalculation: async () => checksums },
    }) as unknown as S3Client;
  const blob = new Blob([new Uint8Array(16)]);

  it('a Blob, in a browser client, with checksums only when required', async () => {
    expect(await sendsBlobSlices(client('browser', 'WHEN_REQUIRED'), blob)).toBe(true);
    expect(await sendsBlobSlices(client('browser', 'WHEN_REQUIRED'), new File([blob], 'a.bin'))).toBe(true);
  });

  it('not other bodies', async () => {
    for (const body of [new Uint8Array(16), 'text', new ReadableStream(), undefined]) {
      expect(await sendsBlobSlices(client('browser', 'WHEN_REQUIRED'), body)).toBe(false);
    }
  });

  it('not in Node (its handler cannot send a Blob body)', async () => {
    expect(await sendsBlobSlices(client('node', 'WHEN_REQUIRED'), blob)).toBe(false);
    // A real Node S3Client, as Node callers get.
    const real = new S3Client({ region: 'us-east-1', requestChecksumCalculation: 'WHEN_REQUIRED' });
    expect(await sendsBlobSlices(real, blob)).toBe(false);
    real.destroy();
  });

  it('not when the SDK would add a flexible checksum (it would stream the Blob as aws-chunked)', async () => {
    expect(await sendsBlobSlices(client('browser', 'WHEN_SUPPORTED'), blob)).toBe(false);
  });
});
