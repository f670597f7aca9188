// Fixtures for the upload-rules and completion tests: real PNG bytes and a captured log.
import { Writable } from 'node:stream';
import { createLogger } from '../../server/index.js';

/** A valid 1×1 PNG (69 bytes), as an image editor writes it. */
export const PNG_1X1 = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a0f5c1bd0000000049454e44ae426082',
  'hex',
);

/** A PNG of exactly `size` bytes: the 1×1 image, then padding after its IEND chunk (still a PNG to every decoder). */
export function pngOfSize(size: number): Buffer {
  if (size < PNG_1X1.length) throw new RangeError(`a PNG is at least ${PNG_1X1.length} bytes`);
  return Buffer.concat([PNG_1X1, Buffer.alloc(size - PNG_1X1.length, 0x20)]);
}

/** A pino logger writing parsed lines into `lines`. */
export function capturedLogger(): { logger: ReturnType<typeof createLogger>; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      cb();
    },
  });
  return { logger: createLogger('info', sink), lines };
}
