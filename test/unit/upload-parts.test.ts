// The parts driver (client/upload-parts.ts) with a stub S3 client: only the parts missing from
// `done` are sent, each part's checksums go back to CompleteMultipartUpload, and a pause aborts the
// parts in flight and sends them again on resume.
import { describe, expect, it } from 'vitest';
import { donePart, partCount, partsBytes, PauseGate, sendParts } from '../../client/upload-parts.js';
import { countedSignal } from '../helpers/fake-storage.js';

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

/** A job over 15 MiB in 5 MiB parts, 2 in flight, through `stub`'s client. */
function job(stub: { client: never }, gate: PauseGate) {
  return {
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
  };
}

describe('sendParts', () => {
  it('sends only the missing parts, in order of need, and returns every part with its checksums', async () => {
    const stub = stubClient();
    const blob = new Blob([new Uint8Array(12 * MiB)]);
    const done = new Map([[2, donePart({ ETag: '"old2"', ChecksumCRC32: 'k2' })]]);
    const progress: number[] = [];
    const run = sendParts({
      ...job(stub, new PauseGate()),
      blob,
      queueSize: 4,
      done,
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
    const run = sendParts(job(stub, gate));
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

  it('resume() when not paused changes nothing: a pause after it still stops the parts in flight', async () => {
    const stub = stubClient();
    const gate = new PauseGate();
    const run = sendParts({ ...job(stub, gate), blob: new Blob([new Uint8Array(10 * MiB)]) });
    while (stub.inFlight() < 2) await tick();
    const signal = gate.signal;
    gate.resume();
    expect(gate.signal).toBe(signal);
    gate.pause();
    gate.pause(); // twice: still one pause, one resume ends it
    expect(signal.aborted).toBe(true);
    await tick();
    expect(stub.inFlight()).toBe(0);
    gate.resume();
    expect(gate.paused).toBe(false);
    while (stub.inFlight() < 2) await tick();
    stub.release();
    expect((await run).map((p) => p.PartNumber)).toEqual([1, 2]);
    expect(stub.sent).toEqual([1, 2, 1, 2]);
  });

  it('a cancel as the last part is acknowledged still rejects: nothing comes back to complete', async () => {
    const stub = stubClient();
    const cancel = new AbortController();
    const run = sendParts({
      ...job(stub, new PauseGate()),
      blob: new Blob([new Uint8Array(5 * MiB)]),
      signal: cancel.signal,
      onPart: () => cancel.abort(),
    });
    while (stub.inFlight() < 1) await tick();
    stub.release();
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('a part that fails for another reason than a pause rejects with its error, and no further part starts', async () => {
    const gate = new PauseGate();
    const sent: number[] = [];
    const client = {
      send: async (command: { input: { PartNumber: number } }) => {
        sent.push(command.input.PartNumber);
        throw Object.assign(new Error('boom'), { name: 'InternalError' });
      },
    };
    const run = sendParts({ ...job({ client: client as never }, gate), queueSize: 1 });
    await expect(run).rejects.toMatchObject({ name: 'InternalError', message: 'boom' });
    expect(sent).toEqual([1]);
  });

  it('a cancel while paused rejects with the cancel’s reason', async () => {
    const gate = new PauseGate();
    gate.pause();
    const cancel = new AbortController();
    const waiting = gate.wait(cancel.signal);
    cancel.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
  });

  it('wait(): resolves at once when not paused, rejects at once when already cancelled', async () => {
    await expect(new PauseGate().wait(new AbortController().signal)).resolves.toBeUndefined();
    await expect(new PauseGate().wait(AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone');
  });

  it('wait(): a resume lets every waiter go, and removes each one’s listener from the cancel signal', async () => {
    const gate = new PauseGate();
    gate.pause();
    const { signal, listeners } = countedSignal();
    const waiters = [gate.wait(signal), gate.wait(signal)];
    await tick();
    expect(listeners.size).toBe(2);
    gate.resume();
    await Promise.all(waiters);
    expect(listeners.size).toBe(0);
  });
});

describe('part arithmetic', () => {
  it('counts parts and the bytes of the parts named (out-of-range numbers count 0)', () => {
    expect(partCount(12 * MiB, 5 * MiB)).toBe(3);
    expect(partCount(10 * MiB, 5 * MiB)).toBe(2);
    expect(partCount(0, 5 * MiB)).toBe(1);
    expect(partsBytes([3, 1, 1, 9], 12 * MiB, 5 * MiB)).toBe(7 * MiB);
    expect(partsBytes([0, 4, -1], 12 * MiB, 5 * MiB)).toBe(0);
    expect(partsBytes([2], 12 * MiB, 5 * MiB)).toBe(5 * MiB);
    expect(partsBytes([1, 2, 3], 12 * MiB, 5 * MiB)).toBe(12 * MiB);
  });
});

describe('donePart', () => {
  it('keeps the ETag (empty when S3 gave none) and every checksum S3 returned, and nothing else', () => {
    expect(donePart({})).toEqual({ ETag: '' });
    const checksums = {
      ChecksumCRC32: 'a',
      ChecksumCRC32C: 'b',
      ChecksumSHA1: 'c',
      ChecksumSHA256: 'd',
      ChecksumCRC64NVME: 'f',
    };
    expect(donePart({ ETag: '"e"', ...checksums, Size: 5 } as never)).toEqual({ ETag: '"e"', ...checksums });
    expect(donePart({ ETag: '"e"', ChecksumSHA256: '' })).toEqual({ ETag: '"e"' });
  });
});
