// The parts driver (client/upload-parts.ts) with a stub S3 client: only the parts missing from
// `done` are sent, each part's checksums go back to CompleteMultipartUpload, and a pause aborts the
// parts in flight and sends them again on resume.
import { describe, expect, it } from 'vitest';
import { donePart, partCount, partsBytes, PauseGate, sendParts } from '../../client/upload-parts.js';

const MiB = 1024 * 1024;

/** A client whose UploadPart answers when `release()` is called, or rejects when its signal aborts. */
function stubClient() {
  const sent: number[] = [];
  const waiting = new Set<() => void>();
  const client = {
    send(command: { input: { PartNumber: number; Body: Uint8Array } }, opts: { abortSignal: AbortSignal }) {
      const n = command.input.PartNumber;
      sent.push(n);
      return new Promise((resolve, reject) => {
        const done = () => {
          waiting.delete(done);
          resolve({
            ETag: `"e${n}"`,
            ChecksumCRC32: `c${n}`,
            ChecksumSHA1: undefined,
            Size: command.input.Body.length,
          });
        };
        waiting.add(done);
        opts.abortSignal.addEventListener('abort', () => {
          waiting.delete(done);
          reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
        });
      });
    },
  };
  const release = () => [...waiting].forEach((f) => f());
  return { client: client as never, sent, release, inFlight: () => waiting.size };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('sendParts', () => {
  it('sends only the missing parts, in order of need, and returns every part with its checksums', async () => {
    const stub = stubClient();
    const blob = new Blob([new Uint8Array(12 * MiB)]);
    const done = new Map([[2, donePart({ ETag: '"old2"', ChecksumCRC32: 'k2' })]]);
    const progress: number[] = [];
    const run = sendParts({
      client: stub.client,
      Bucket: 'b',
      Key: 'k',
      UploadId: 'u',
      blob,
      partSize: 5 * MiB,
      queueSize: 4,
      slices: false,
      done,
      signal: new AbortController().signal,
      gate: new PauseGate(),
      onProgress: (loaded) => progress.push(loaded),
    });
    while (stub.inFlight() < 2) await tick();
    stub.release();
    const parts = await run;
    expect(stub.sent.sort()).toEqual([1, 3]);
    expect(parts).toEqual([
      { PartNumber: 1, ETag: '"e1"', ChecksumCRC32: 'c1' },
      { PartNumber: 2, ETag: '"old2"', ChecksumCRC32: 'k2' },
      { PartNumber: 3, ETag: '"e3"', ChecksumCRC32: 'c3' },
    ]);
    expect(progress[0]).toBe(5 * MiB);
    expect(progress.at(-1)).toBe(12 * MiB);
  });

  it('pause aborts the parts in flight and starts none; resume sends them again', async () => {
    const stub = stubClient();
    const gate = new PauseGate();
    const run = sendParts({
      client: stub.client,
      Bucket: 'b',
      Key: 'k',
      UploadId: 'u',
      blob: new Blob([new Uint8Array(15 * MiB)]),
      partSize: 5 * MiB,
      queueSize: 2,
      slices: false,
      done: new Map(),
      signal: new AbortController().signal,
      gate,
    });
    while (stub.inFlight() < 2) await tick();
    gate.pause();
    await tick();
    expect(stub.inFlight()).toBe(0);
    expect(stub.sent).toEqual([1, 2]);
    gate.resume();
    while (stub.inFlight() < 2) await tick();
    expect(stub.sent).toEqual([1, 2, 1, 2]);
    stub.release();
    while (stub.inFlight() < 1) await tick();
    stub.release();
    expect((await run).map((p) => p.PartNumber)).toEqual([1, 2, 3]);
    expect(stub.sent).toEqual([1, 2, 1, 2, 3]);
  });

  it('a cancel while paused rejects', async () => {
    const gate = new PauseGate();
    gate.pause();
    const cancel = new AbortController();
    const waiting = gate.wait(cancel.signal);
    cancel.abort();
    await expect(waiting).rejects.toThrow();
  });
});

describe('part arithmetic', () => {
  it('counts parts and the bytes of the parts named (out-of-range numbers count 0)', () => {
    expect(partCount(12 * MiB, 5 * MiB)).toBe(3);
    expect(partCount(0, 5 * MiB)).toBe(1);
    expect(partsBytes([3, 1, 1, 9], 12 * MiB, 5 * MiB)).toBe(7 * MiB);
  });
});
