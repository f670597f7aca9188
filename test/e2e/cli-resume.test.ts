// Issue 16, point 3: `keyhole upload` resumes after a crash (SIGKILL) or Ctrl-C, with its state file
// beside the user's configuration; --no-resume starts over; `keyhole uploads` lists and --abort
// discards. The broker hands out an S3 endpoint behind a counting TCP proxy, so the bytes a rerun
// sends are measured on the wire, not taken from the client's word.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { ListPartsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { run } from '../../client/cli/run.js';
import { devPrefix, freshSubject, startBroker, type TestBroker } from '../helpers/broker.js';
import { runKeyhole } from '../helpers/cli.js';
import { ownerS3, stack } from '../helpers/stack.js';
import { startTcpFaultProxy, type TcpFaultProxy } from '../helpers/tcp-fault-proxy.js';
import { openUploads, partsOnS3, sha256, storedSha256, until } from '../helpers/multipart.js';

const MiB = 1024 * 1024;
const PART = 8 * MiB; // partSizeFor() of these sizes
const s3 = ownerS3();
const { bucket } = stack();
const MAIN = fileURLToPath(new URL('../../client/cli/main.ts', import.meta.url));
const TSX = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href;

let broker: TestBroker;
let proxy: TcpFaultProxy;
let dir: string;
let config: string;

beforeAll(async () => {
  const s3Url = new URL(stack().s3Endpoint);
  proxy = await startTcpFaultProxy({ host: s3Url.hostname, port: Number(s3Url.port) });
  broker = await startBroker({ s3Endpoint: proxy.url });
  dir = mkdtempSync(join(tmpdir(), 'keyhole-resume-'));
  config = join(dir, 'config');
});

afterAll(async () => {
  await broker?.close();
  await proxy?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const env = () => ({ KEYHOLE_CONFIG_DIR: config, KEYHOLE_BROKER_URL: broker.url });

/** Starts `keyhole upload`, waits until S3 holds `parts` parts of it, and kills it with SIGKILL. */
async function killMidway(args: string[], prefix: string, parts: number) {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], {
    cwd: dir,
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env() },
    stdio: 'ignore',
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  await until(async () => (await partsOnS3(prefix)) >= parts, `${parts} parts on S3`);
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
}

function sink(): Writable & { text(): string } {
  let text = '';
  return Object.assign(
    new Writable({
      write(chunk, _enc, cb) {
        text += String(chunk);
        cb();
      },
    }),
    { text: () => text },
  );
}

describe('keyhole upload resumes', () => {
  test('SIGKILL mid-upload, rerun: completes, bytes equal, only the missing parts cross the wire', async () => {
    const sub = freshSubject('kill');
    const prefix = devPrefix(sub);
    // Large enough that the kill lands mid-way on a fast machine: 16 parts, 4 in flight.
    const bytes = randomBytes(128 * MiB);
    writeFileSync(join(dir, 'kill.bin'), bytes);
    const before = readdirSync(dir).sort();
    await killMidway(['upload', 'kill.bin', '--dev-login', sub, '--json', '--concurrency', '1'], prefix, 3);

    // The state file is beside the configuration, owner-only, with no credentials or token in it.
    const state = join(config, 'uploads.json');
    expect(statSync(state).mode & 0o777).toBe(0o600);
    const text = readFileSync(state, 'utf8');
    expect(text).toContain(`${prefix}kill.bin`);
    expect(text).not.toMatch(/eyJ|secret|sessionToken|accessKey/i);
    expect(readdirSync(dir).sort()).toEqual(before.includes('config') ? before : [...before, 'config'].sort());

    const up = proxy.bytesUp;
    const out = await runKeyhole(dir, ['upload', 'kill.bin', '--dev-login', sub, '--json'], env());
    const sent = proxy.bytesUp - up;
    expect(out.code, out.stderr + out.stdout).toBe(0);
    const doc = JSON.parse(out.stdout);
    // Parts whose bytes had all reached RGW before the kill may still land after it: what ListParts
    // said at resume time is what counts.
    expect(doc.uploaded[0]).toMatchObject({
      key: 'kill.bin',
      size: 128 * MiB,
      resumed: { partsDone: expect.any(Number) },
    });
    const onS3 = doc.uploaded[0].resumed.partsDone as number;
    expect(onS3).toBeGreaterThanOrEqual(3);
    expect(onS3).toBeLessThan(16);
    expect(await storedSha256(`${prefix}kill.bin`)).toBe(sha256(bytes));
    // Only the missing parts went up again (plus headers and the small S3 calls).
    const missing = (16 - onS3) * PART;
    expect(sent).toBeGreaterThanOrEqual(missing);
    expect(sent).toBeLessThan(missing + PART / 2);
    expect(await openUploads(prefix)).toEqual([]);
    expect(JSON.parse(readFileSync(state, 'utf8')).uploads).toEqual({});
  });

  test('--no-resume discards the unfinished upload and sends everything again', async () => {
    const sub = freshSubject('fresh');
    const prefix = devPrefix(sub);
    const bytes = randomBytes(96 * MiB);
    writeFileSync(join(dir, 'fresh.bin'), bytes);
    await killMidway(['upload', 'fresh.bin', '--dev-login', sub, '--concurrency', '1'], prefix, 1);
    const [old] = await openUploads(prefix);
    const up = proxy.bytesUp;
    const out = await runKeyhole(dir, ['upload', 'fresh.bin', '--dev-login', sub, '--no-resume'], env());
    expect(out.code, out.stderr).toBe(0);
    expect(out.stderr).toContain('keyhole: discarded the unfinished upload of fresh.bin; starting over');
    expect(proxy.bytesUp - up).toBeGreaterThanOrEqual(96 * MiB);
    expect(await storedSha256(`${prefix}fresh.bin`)).toBe(sha256(bytes));
    expect(await openUploads(prefix)).toEqual([]);
    const gone = await s3
      .send(new ListPartsCommand({ Bucket: bucket, Key: old!.Key, UploadId: old!.UploadId }))
      .catch((e: { name?: string }) => e.name);
    expect(['NoSuchUpload', 'NoSuchKey']).toContain(gone);
  });

  test('keyhole uploads lists the unfinished ones; --abort discards them on S3 and in the state file', async () => {
    const sub = freshSubject('list');
    const prefix = devPrefix(sub);
    writeFileSync(join(dir, 'list.bin'), randomBytes(96 * MiB));
    await killMidway(['upload', 'list.bin', '--to', 'later/list.bin', '--dev-login', sub], prefix, 1);
    const listed = await runKeyhole(dir, ['uploads', '--dev-login', sub], env());
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(
      new RegExp(`[\\d.]+ (B|KiB|MiB) / 96 MiB  \\d{4}-\\d\\d-\\d\\dT[^ ]+  later/list\\.bin  <- .*list\\.bin\\n$`),
    );
    // Another user sees none of it.
    const other = await runKeyhole(dir, ['uploads', '--dev-login', freshSubject('other'), '--json'], env());
    expect(JSON.parse(other.stdout)).toEqual({ uploads: [] });

    const aborted = await runKeyhole(dir, ['uploads', '--abort', '--dev-login', sub, '--json'], env());
    expect(aborted.code, aborted.stderr).toBe(0);
    expect(JSON.parse(aborted.stdout).discarded).toEqual([
      expect.objectContaining({ key: 'later/list.bin', size: 96 * MiB }),
    ]);
    expect(await openUploads(prefix)).toEqual([]);
    const again = await runKeyhole(dir, ['uploads', '--dev-login', sub], env());
    expect(again.stdout).toBe('no unfinished uploads\n');
  });

  test('Ctrl-C keeps a large file on S3 and says how to resume; the same command then finishes it', async () => {
    const sub = freshSubject('ctrlc');
    const prefix = devPrefix(sub);
    const bytes = randomBytes(48 * MiB);
    const file = join(dir, 'ctrlc.bin');
    writeFileSync(file, bytes);
    const controller = new AbortController();
    const stderr = sink();
    const running = run(['upload', file, '--dev-login', sub, '--concurrency', '1'], {
      stdout: sink(),
      stderr,
      env: env(),
      signal: controller.signal,
    });
    await until(async () => (await partsOnS3(prefix)) >= 1, 'a part on S3');
    controller.abort();
    expect(await running).toBe(130);
    expect(stderr.text()).toMatch(
      new RegExp(
        `keyhole: upload of ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} was interrupted; \\d of 6 parts are kept on S3: run the same command again to resume, or "keyhole uploads --abort" to discard\\n$`,
      ),
    );
    expect(await openUploads(prefix)).toHaveLength(1);
    const out = await runKeyhole(dir, ['upload', file, '--dev-login', sub], env());
    expect(out.code, out.stderr).toBe(0);
    expect(out.stderr).toMatch(/keyhole: resuming .*ctrlc\.bin: \d of 6 parts \([\d.]+ MiB\) already uploaded/);
    expect(await storedSha256(`${prefix}ctrlc.bin`)).toBe(sha256(bytes));
    expect(await openUploads(prefix)).toEqual([]);
    expect(existsSync(join(dir, 'uploads.json'))).toBe(false);
  });
});
