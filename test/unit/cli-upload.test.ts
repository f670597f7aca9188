// `keyhole upload` sending a plan (client/cli/upload.ts) through a fake storage object: files in
// flight at once, what each upload is given, the first failure stopping the rest, Ctrl-C, the summary
// and the aggregate progress line. And run() on usage errors and an unreachable broker: one JSON
// document with --json, and where the broker URL came from. No broker and no S3 (127.0.0.1:9 is closed).
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageError, type Storage, type UploadOptions } from '../../client/index.js';
import { brokerHint } from '../../client/cli/exit-codes.js';
import { run } from '../../client/cli/run.js';
import type { PlannedFile, UploadPlan } from '../../client/cli/upload-plan.js';
import { partsPerFile, summaryLine, uploadFiles, type UploadSettings } from '../../client/cli/upload.js';
import { partSizeFor } from '../../client/storage-upload.js';

const MiB = 1024 * 1024;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'keyhole-upload-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function sink(isTTY = false): Writable & { text(): string; isTTY: boolean; columns: number } {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  });
  return Object.assign(stream, { text: () => text, isTTY, columns: 100 });
}

function io(opts: { tty?: boolean; signal?: AbortSignal; env?: Record<string, string> } = {}) {
  return {
    stdout: sink(),
    stderr: sink(opts.tty),
    env: opts.env ?? {},
    signal: opts.signal ?? new AbortController().signal,
  };
}

/** Files `name` with `size` bytes each (byte i is i % 251), planned to their own names. */
function planOf(names: string[], size = 3, extra: Partial<UploadPlan> = {}): UploadPlan {
  const files: PlannedFile[] = names.map((name) => {
    const file = join(dir, name);
    writeFileSync(file, Buffer.from(Array.from({ length: size }, (_, i) => i % 251)));
    return { file, key: name, size };
  });
  return { files, skipped: [], hasFolder: false, ...extra };
}

interface Call {
  readonly key: string;
  readonly body: unknown;
  readonly opts: UploadOptions;
}

/**
 * A storage whose uploads take `delay(key)` ms and report full progress, reject as `aborted` when
 * their signal fires, and fail with `fail(key)` when it returns an error. Counts uploads in flight.
 */
function fakeStorage(
  behave: { delay?: (key: string) => number; fail?: (key: string) => Error | undefined } = {},
): Storage & { calls: Call[]; maxInFlight: () => number } {
  const calls: Call[] = [];
  let inFlight = 0;
  let max = 0;
  const storage = {
    calls,
    maxInFlight: () => max,
    async upload(key: string, body: unknown, opts: UploadOptions = {}) {
      calls.push({ key, body, opts });
      inFlight++;
      max = Math.max(max, inFlight);
      try {
        await new Promise<void>((resolve, reject) => {
          const cancelled = () =>
            reject(new StorageError('aborted', `upload of "${key}" was cancelled`, 'AbortError', undefined));
          // As the real storage: an upload given an aborted signal is refused at once.
          if (opts.signal?.aborted) return cancelled();
          const timer = setTimeout(resolve, behave.delay?.(key) ?? 5);
          opts.signal?.addEventListener('abort', () => {
            clearTimeout(timer);
            cancelled();
          });
        });
        const failure = behave.fail?.(key);
        if (failure) throw failure;
        opts.onProgress?.({ loaded: 3, total: 3, fraction: 1 });
        return { key, fullKey: `users/p-a/${key}`, bucket: 'b', etag: '"e"' };
      } finally {
        inFlight--;
      }
    },
  };
  return storage as unknown as Storage & { calls: Call[]; maxInFlight: () => number };
}

const settings = (concurrency: number, more: Partial<UploadSettings> = {}): UploadSettings => ({
  concurrency,
  json: false,
  quiet: false,
  brokerUrlFrom: '--broker',
  ...more,
});

async function refusal(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (err) {
    return err as Error & Record<string, unknown>;
  }
  throw new Error('expected a refusal');
}

describe('uploadFiles', () => {
  it('sends at most --concurrency files at once; reports them in plan order, whatever order they finish in', async () => {
    const names = Array.from({ length: 10 }, (_, i) => `f${i}.txt`);
    const plan = planOf(names);
    for (const concurrency of [1, 3, 16]) {
      // Later files finish first.
      const storage = fakeStorage({ delay: (key) => 40 - Number(key.slice(1, -4)) * 3 });
      const out = io();
      const result = await uploadFiles(storage, plan, settings(concurrency, { json: true }), out);
      expect(storage.maxInFlight()).toBe(Math.min(concurrency, 10));
      expect(result).toEqual({
        uploaded: names.map((name) => ({
          file: join(dir, name),
          key: name,
          fullKey: `users/p-a/${name}`,
          bucket: 'b',
          size: 3,
        })),
      });
      expect(out.stdout.text()).toBe('');
      expect(out.stderr.text()).toBe('');
    }
  });

  it('gives each upload its bytes (small files whole, larger ones as a stream), part size and parts in flight', async () => {
    const small = planOf(['small.bin'], 1000).files[0]!;
    const big = planOf(['big.bin'], 5 * MiB + 1).files[0]!;
    const storage = fakeStorage();
    await uploadFiles(storage, { files: [small, big], skipped: [], hasFolder: false }, settings(8), io());
    const a = storage.calls.find((c) => c.key === 'small.bin');
    const b = storage.calls.find((c) => c.key === 'big.bin');
    expect(Buffer.isBuffer(a!.body) && (a!.body as Buffer).length).toBe(1000);
    expect((a!.body as Buffer)[250]).toBe(250 % 251);
    expect(b!.body).toBeInstanceOf(Readable);
    expect(a!.opts).toMatchObject({ queueSize: 2, partSizeBytes: partSizeFor(1000) });
    expect(b!.opts).toMatchObject({ queueSize: 2, partSizeBytes: partSizeFor(5 * MiB + 1) });
    (b!.body as Readable).destroy();
  });

  it('prints a line per file and, for several files, the summary', async () => {
    const plan = planOf(['a.txt', 'b.txt', 'c.txt']);
    const out = io();
    // One at a time, so the lines come in order.
    await uploadFiles(fakeStorage(), plan, settings(1), out);
    const lines = out.stdout.text().split('\n');
    expect(lines.slice(0, 3)).toEqual(
      ['a', 'b', 'c'].map((n) => `uploaded ${join(dir, `${n}.txt`)} -> users/p-a/${n}.txt (3 B)`),
    );
    expect(lines[3]).toMatch(/^uploaded 3 files \(9 B\) in \d+ s$/);
    expect(lines.slice(4)).toEqual(['']);
    expect(out.stderr.text()).toBe('');

    // One file alone: no summary; one file from a folder: a summary.
    const one = io();
    await uploadFiles(fakeStorage(), planOf(['solo.txt']), settings(4), one);
    expect(one.stdout.text()).toBe(`uploaded ${join(dir, 'solo.txt')} -> users/p-a/solo.txt (3 B)\n`);
    const folder = io();
    await uploadFiles(fakeStorage(), planOf(['solo.txt'], 3, { hasFolder: true }), settings(4), folder);
    expect(folder.stdout.text().split('\n')[1]).toMatch(/^uploaded 1 file \(3 B\) in \d+ s$/);
  });

  it('names skipped entries on stderr and counts them; --json lists them instead', async () => {
    const skipped = [{ file: 'd/link', reason: 'symbolic link' as const }];
    const out = io();
    await uploadFiles(fakeStorage(), planOf(['k.txt'], 3, { hasFolder: true, skipped }), settings(4), out);
    expect(out.stderr.text()).toBe('keyhole: skipped d/link (symbolic link)\n');
    expect(out.stdout.text().split('\n')[1]).toMatch(
      /^uploaded 1 file \(3 B\) in \d+ s; skipped 1 \(symbolic links and special files\)$/,
    );
    const json = io();
    const result = await uploadFiles(
      fakeStorage(),
      planOf(['k.txt'], 3, { hasFolder: true, skipped }),
      settings(4, { json: true }),
      json,
    );
    expect(result.skipped).toEqual(skipped);
    expect(json.stderr.text() + json.stdout.text()).toBe('');
  });

  it('the first failure stops the rest: files in flight are aborted, later ones never start', async () => {
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    const plan = planOf(names);
    const denied = new StorageError('access_denied', 'access denied: upload "c" is outside your grant', 'x', 403);
    // a and b finish; c fails at 30 ms while d (started when a finished) is still running.
    const storage = fakeStorage({
      delay: (key) => ({ a: 5, b: 10, c: 30, d: 1000 })[key] ?? 5,
      fail: (key) => (key === 'c' ? denied : undefined),
    });
    const err = await refusal(uploadFiles(storage, plan, settings(2), io()));
    expect(storage.calls.map((c) => c.key).sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(err).toMatchObject({
      code: 'access_denied',
      exitCode: 4,
      message: `upload of ${join(dir, 'c')} failed and was aborted: access denied: upload "c" is outside your grant; 2 of 6 files uploaded`,
      file: join(dir, 'c'),
    });
    expect((err.uploaded as { key: string }[]).map((u) => u.key)).toEqual(['a', 'b']);
    expect(err.cause).toBe(denied);
  });

  it('a single file’s failure has no tally', async () => {
    const boom = new StorageError('s3_error', 'upload of "x" failed: InvalidRequest', 'InvalidRequest', 400);
    const err = await refusal(uploadFiles(fakeStorage({ fail: () => boom }), planOf(['x']), settings(4), io()));
    expect(err).toMatchObject({
      code: 's3_error',
      exitCode: 1,
      message: `upload of ${join(dir, 'x')} failed and was aborted: upload of "x" failed: InvalidRequest`,
      uploaded: [],
    });
  });

  it('a file gone since it was planned is a local file error (exit 7), in words', async () => {
    const plan = planOf(['here.txt', 'gone.txt']);
    unlinkSync(plan.files[1]!.file);
    const err = await refusal(uploadFiles(fakeStorage(), plan, settings(1), io()));
    expect(err).toMatchObject({
      code: 'local_file',
      exitCode: 7,
      message: `cannot read "${join(dir, 'gone.txt')}": file not found; 1 of 2 files uploaded`,
      file: join(dir, 'gone.txt'),
    });
  });

  it('Ctrl-C aborts every file in flight and names them; exit 130', async () => {
    const controller = new AbortController();
    const storage = fakeStorage({ delay: () => 10_000 });
    setTimeout(() => controller.abort(), 50);
    const plan = planOf(['p', 'q', 'r']);
    const err = await refusal(uploadFiles(storage, plan, settings(2), io({ signal: controller.signal })));
    expect(storage.calls.map((c) => c.key).sort()).toEqual(['p', 'q']);
    expect(err).toMatchObject({
      code: 'aborted',
      exitCode: 130,
      message: `upload was interrupted; ${join(dir, 'p')}, ${join(dir, 'q')} were aborted and nothing of them was kept; 0 of 3 files uploaded`,
      uploaded: [],
    });

    const single = new AbortController();
    setTimeout(() => single.abort(), 50);
    const one = await refusal(uploadFiles(storage, planOf(['s']), settings(2), io({ signal: single.signal })));
    expect(one.message).toBe(`upload of ${join(dir, 's')} was interrupted and aborted; nothing was kept`);
  });

  it('on a terminal, several files share one progress line counting finished files', async () => {
    const out = io({ tty: true });
    await uploadFiles(fakeStorage({ delay: () => 120 }), planOf(['a', 'b', 'c']), settings(1), out);
    const stderr = out.stderr.text();
    expect(stderr).toContain('\r\x1b[2K0/3 files [');
    expect(stderr).toContain('\r\x1b[2K1/3 files [');
    expect(stderr).toMatch(/\r\x1b\[2K1\/3 files \[#{20}-{10}\] {2}66% {2}6 B \/ 9 B/);
    expect(stderr).toMatch(/\r\x1b\[2K3\/3 files \[#{30}\] 100% {2}9 B \/ 9 B/);
    // Cleared before each result line and at the end.
    expect(stderr.endsWith('\r\x1b[2K')).toBe(true);
    const one = io({ tty: true });
    await uploadFiles(fakeStorage({ delay: () => 120 }), planOf(['only.bin']), settings(1), one);
    expect(one.stderr.text()).toMatch(/^\r\x1b\[2Konly\.bin \[#{30}\] 100%/);
  });

  it('partsPerFile keeps at most 16 parts in flight (4 per file up to 4 files, at least 1)', () => {
    expect([1, 2, 4, 5, 8, 16, 64].map(partsPerFile)).toEqual([4, 4, 4, 3, 2, 1, 1]);
  });

  it('summaryLine', () => {
    expect(summaryLine(3, 21 * MiB, 2.4, 0)).toBe('uploaded 3 files (21 MiB) in 2 s');
    expect(summaryLine(1, 5, 0.1, 2)).toBe(
      'uploaded 1 file (5 B) in 0 s; skipped 2 (symbolic links and special files)',
    );
    expect(summaryLine(0, 0, 0, 0)).toBe('uploaded 0 files (0 B) in 0 s');
  });
});

describe('run: --json gives one JSON document on usage errors too', () => {
  it.each([
    [['ls', '--json'], 'sign in with --token JWT (or KEYHOLE_TOKEN) or --dev-login NAME'],
    [['--bogus', '--json'], 'unknown option "--bogus"'],
    [
      ['frob', '--json', '--dev-login', 'a'],
      'unknown command "frob"; expected one of: upload, download, ls, rm, uploads',
    ],
    [['--json'], 'a command is required: upload, download, ls, rm or uploads'],
    [['ls', '--json', '--dev-login', ''], '--dev-login needs a value: --dev-login NAME'],
    [['ls', '--json=1'], '--json takes no value (got "--json=1")'],
  ])('%j', async (argv, message) => {
    const out = io();
    expect(await run(argv, out)).toBe(2);
    expect(out.stderr.text()).toBe('');
    expect(out.stdout.text()).toBe(JSON.stringify({ error: { code: 'usage', message, exitCode: 2 } }) + '\n');
  });

  it('--help --json prints the usage as one JSON document, --help alone as text', async () => {
    const json = io();
    expect(await run(['--help', '--json'], json)).toBe(0);
    expect(json.stderr.text()).toBe('');
    const doc = JSON.parse(json.stdout.text()) as { usage: string };
    expect(Object.keys(doc)).toEqual(['usage']);
    expect(doc.usage).toContain('keyhole upload <paths...> [--to KEY]');
    const text = io();
    expect(await run(['--help'], text)).toBe(0);
    expect(text.stdout.text()).toBe(`${doc.usage}\n`);
  });

  it('without --json, the message and the pointer to --help on stderr', async () => {
    const out = io();
    expect(await run(['ls', '--bogus'], out)).toBe(2);
    expect(out.stdout.text()).toBe('');
    expect(out.stderr.text()).toBe('keyhole: unknown option "--bogus"\nRun "keyhole --help" for usage.\n');
  });
});

describe('run: upload refuses colliding keys before signing in', () => {
  it('exit 2 without contacting the broker (none listens there); --json lists the collisions', async () => {
    const files = ['c1', 'c2'].map((sub) => {
      mkdirSync(join(dir, sub));
      writeFileSync(join(dir, sub, 'same.txt'), sub);
      return join(dir, sub, 'same.txt');
    });
    const message = `"${files[0]}" and "${files[1]}" would be uploaded to the same key "dup/same.txt"; nothing was uploaded`;
    const as = ['--to', 'dup/', '--broker', 'http://127.0.0.1:9', '--dev-login', 'a'];
    const json = io();
    expect(await run(['upload', ...files, ...as, '--json'], json)).toBe(2);
    expect(json.stderr.text()).toBe('');
    expect(JSON.parse(json.stdout.text())).toEqual({
      error: { code: 'key_collision', message, exitCode: 2 },
      collisions: [{ key: 'dup/same.txt', files }],
    });
    const human = io();
    expect(await run(['upload', ...files, ...as], human)).toBe(2);
    expect(human.stdout.text()).toBe('');
    expect(human.stderr.text()).toBe(`keyhole: ${message}\nRun "keyhole --help" for usage.\n`);
  });
});

describe('run: an unreachable broker says where its URL came from', () => {
  const closed = 'http://127.0.0.1:9';

  it.each([
    [
      ['ls', '--dev-login', 'a', '--broker', closed],
      {},
      `the Keyhole broker at ${closed} could not be reached; is it running? The URL came from --broker (KEYHOLE_BROKER_URL sets it for every command)`,
    ],
    [
      ['ls', '--dev-login', 'a'],
      { KEYHOLE_BROKER_URL: closed },
      `the Keyhole broker at ${closed} could not be reached; is it running? The URL came from KEYHOLE_BROKER_URL`,
    ],
    [
      ['ls', '--token', 'a.b.c'],
      { KEYHOLE_BROKER_URL: closed },
      `the Keyhole broker at ${closed}/v1/credentials could not be reached; is it running? The URL came from KEYHOLE_BROKER_URL`,
    ],
  ])('%j %j', async (argv, env, message) => {
    const out = io({ env });
    expect(await run(argv, out)).toBe(6);
    expect(out.stdout.text()).toBe('');
    expect(out.stderr.text()).toBe(`keyhole: ${message}\n`);
  });

  it('the default URL: how to use another broker', () => {
    expect(brokerHint('the Keyhole broker at http://127.0.0.1:8787 could not be reached', 'default')).toBe(
      'the Keyhole broker at http://127.0.0.1:8787 could not be reached; is it running? It is the default; set KEYHOLE_BROKER_URL or pass --broker to use another broker',
    );
  });
});
