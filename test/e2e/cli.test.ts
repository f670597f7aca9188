// The `keyhole` CLI against a real broker and the local RGW: the round trip as a user runs it
// (separate processes, real exit statuses, --json documents), plus failures and interruption.
import { randomBytes } from 'node:crypto';
import {
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { HeadObjectCommand, ListMultipartUploadsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { run } from '../../client/cli/run.js';
import { freshSubject, startBroker, type TestBroker } from '../helpers/broker.js';
import { runKeyhole, type CliResult } from '../helpers/cli.js';
import { ownerS3, stack } from '../helpers/stack.js';

const MiB = 1024 * 1024;
const s3 = ownerS3();
const { bucket } = stack();

let broker: TestBroker;
let dir: string;
const payloads = {
  'notes.txt': Buffer.from('hello from the terminal\n'),
  'photo.jpg': randomBytes(300 * 1024),
  'video.bin': randomBytes(21 * MiB),
};

beforeAll(async () => {
  broker = await startBroker();
  dir = mkdtempSync(join(tmpdir(), 'keyhole-cli-'));
  for (const [name, bytes] of Object.entries(payloads)) writeFileSync(join(dir, name), bytes);
});

afterAll(async () => {
  await broker?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs the CLI as its own process in the scratch directory, stdout and stderr piped (not a TTY). */
function keyhole(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runKeyhole(dir, args, env);
}

/** Collects what the CLI writes; `isTTY` makes it draw progress. */
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

/** The prefix the broker grants these sign-in arguments, from the CLI's own `ls --json` (never derived from the subject). */
async function grantedPrefix(as: string[]): Promise<string> {
  const stdout = sink();
  const code = await run(['ls', '--json', ...as], {
    stdout,
    stderr: sink(),
    env: {},
    signal: new AbortController().signal,
  });
  expect(code).toBe(0);
  return (JSON.parse(stdout.text()) as { prefix: string }).prefix;
}

async function openUploads(prefix: string): Promise<number> {
  const out = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  return out.Uploads?.length ?? 0;
}

describe('keyhole CLI', () => {
  test('round trip: upload three files (one of 21 MiB), ls, download, rm, with exit codes and --json', async () => {
    const alice = freshSubject('alice');
    const as = ['--broker', broker.url, '--dev-login', alice];
    const prefix = `users/dev-${alice}/`;

    const up = await keyhole(['upload', 'notes.txt', 'photo.jpg', 'video.bin', '--json', ...as]);
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    expect(JSON.parse(up.stdout)).toEqual({
      uploaded: Object.entries(payloads).map(([name, bytes]) => ({
        file: name,
        key: name,
        fullKey: prefix + name,
        bucket,
        size: bytes.length,
      })),
    });
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `${prefix}video.bin` }));
    expect(head.ContentLength).toBe(21 * MiB);

    // Human output when piped: one line per file, no progress bar.
    const again = await keyhole(['upload', 'notes.txt', '--to', 'docs/readme.txt', ...as]);
    expect(again).toEqual({ code: 0, stdout: `uploaded notes.txt -> ${prefix}docs/readme.txt (24 B)\n`, stderr: '' });

    const ls = await keyhole(['ls', '--json', ...as]);
    expect(ls.code).toBe(0);
    const listed = JSON.parse(ls.stdout) as {
      bucket: string;
      prefix: string;
      objects: { key: string; size: number }[];
    };
    expect(listed.bucket).toBe(bucket);
    expect(listed.prefix).toBe(prefix);
    expect(listed.objects.map((o) => [o.key, o.size])).toEqual([
      ['docs/readme.txt', 24],
      ['notes.txt', 24],
      ['photo.jpg', 300 * 1024],
      ['video.bin', 21 * MiB],
    ]);
    const lsHuman = await keyhole(['ls', 'docs/', ...as]);
    expect(lsHuman.code).toBe(0);
    expect(lsHuman.stdout).toMatch(/^ {10}24 {2}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z {2}docs\/readme\.txt\n$/);

    const down = await keyhole(['download', 'video.bin', '-o', 'copy.bin', ...as]);
    expect(down).toEqual({ code: 0, stdout: 'downloaded video.bin -> copy.bin (21 MiB)\n', stderr: '' });
    expect(readFileSync(join(dir, 'copy.bin')).equals(payloads['video.bin'])).toBe(true);
    const toStdout = await keyhole(['download', 'notes.txt', '-o', '-', ...as]);
    expect(toStdout).toEqual({ code: 0, stdout: payloads['notes.txt'].toString('latin1'), stderr: '' });
    const downJson = await keyhole(['download', 'photo.jpg', '--json', ...as]);
    expect(downJson.code).toBe(0);
    expect(JSON.parse(downJson.stdout)).toEqual({ key: 'photo.jpg', file: 'photo.jpg', size: 300 * 1024 });

    const rm = await keyhole(['rm', 'notes.txt', '--json', ...as]);
    expect(rm).toEqual({ code: 0, stdout: '{"deleted":"notes.txt"}\n', stderr: '' });
    await expect(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `${prefix}notes.txt` }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
    const rmAgain = await keyhole(['rm', 'notes.txt', ...as]);
    expect(rmAgain).toEqual({ code: 5, stdout: '', stderr: 'keyhole: "notes.txt" does not exist\n' });

    // Bob sees none of it and cannot name a key outside his prefix.
    const bob = ['--broker', broker.url, '--dev-login', freshSubject('bob')];
    const bobLs = await keyhole(['ls', '--json', ...bob]);
    expect(bobLs.code).toBe(0);
    expect(JSON.parse(bobLs.stdout).objects).toEqual([]);
    const escape = await keyhole(['download', `../${alice}/photo.jpg`, '--json', ...bob]);
    expect(escape.code).toBe(2);
    expect(JSON.parse(escape.stdout)).toEqual({
      error: { code: 'invalid_key', message: 'key must not contain "." or ".." segments', exitCode: 2 },
    });
  });

  test('an upload a read-only grant refuses exits 4, says write is not allowed, and leaves no object or open upload', async () => {
    const readOnly = await startBroker({
      grants: [{ bucket, scopes: [{ prefix: 'users/{sub}/', access: ['read', 'list'] }] }],
    });
    try {
      const carol = freshSubject('carol');
      const res = await keyhole(['upload', 'video.bin', '--json', '--broker', readOnly.url, '--dev-login', carol]);
      expect(res.code).toBe(4);
      expect(JSON.parse(res.stdout)).toEqual({
        error: {
          code: 'access_denied',
          message:
            'upload of video.bin failed and was aborted: access denied: your grant does not allow write (upload "video.bin"; it allows read, list)',
          exitCode: 4,
        },
        uploaded: [],
        failedFile: 'video.bin',
      });
      expect(await openUploads(`users/dev-${carol}/`)).toBe(0);
    } finally {
      await readOnly.close();
    }
  });

  test('Ctrl-C during a multipart upload aborts it on S3 and exits 130; a TTY shows a progress bar', async () => {
    const dave = freshSubject('dave');
    const big = join(dir, 'big.bin');
    writeFileSync(big, randomBytes(64 * MiB));
    const controller = new AbortController();
    const stdout = sink();
    const stderr = sink(true);
    // Interrupt as soon as the first progress line is drawn: parts are in flight by then.
    const write = stderr.write.bind(stderr);
    stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (String(chunk).includes('%')) controller.abort();
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stderr.write;
    const code = await run(['upload', big, '--broker', broker.url, '--dev-login', dave], {
      stdout,
      stderr,
      env: {},
      signal: controller.signal,
    });
    expect(code).toBe(130);
    expect(stdout.text()).toBe('');
    expect(stderr.text()).toMatch(/\r\x1b\[2Kbig\.bin \[[#-]{10,30}\] +\d+% {2}[\d.]+ (KiB|MiB) \/ 64 MiB/);
    expect(stderr.text().endsWith(`keyhole: upload of ${big} was interrupted and aborted; nothing was kept\n`)).toBe(
      true,
    );
    expect(await openUploads(`users/dev-${dave}/`)).toBe(0);
    await expect(
      s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `users/dev-${dave}/big.bin` })),
    ).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
  });

  test('exit codes for usage, sign-in, unreachable broker and local file errors', async () => {
    const io = () => ({ stdout: sink(), stderr: sink(), env: {}, signal: new AbortController().signal });
    const cases: [string[], number, string][] = [
      [[], 2, 'keyhole: a command is required: upload, download, ls, rm or uploads\nRun "keyhole --help" for usage.\n'],
      [
        ['cp', 'a'],
        2,
        'keyhole: unknown command "cp"; expected one of: upload, download, ls, rm, uploads\nRun "keyhole --help" for usage.\n',
      ],
      [
        ['ls'],
        2,
        'keyhole: sign in with --token JWT (or KEYHOLE_TOKEN) or --dev-login NAME\nRun "keyhole --help" for usage.\n',
      ],
      [
        ['ls', '--token', 'a.b.c', '--dev-login', 'x'],
        2,
        'keyhole: use either --token or --dev-login, not both\nRun "keyhole --help" for usage.\n',
      ],
      [
        ['upload', 'a', 'b', '--to', 'x', '--dev-login', 'x'],
        2,
        'keyhole: with several files, --to must be a folder ending in "/"\nRun "keyhole --help" for usage.\n',
      ],
      [
        ['upload', '/nonexistent/file', '--dev-login', 'x', '--broker', broker.url],
        7,
        'keyhole: cannot read "/nonexistent/file": file not found\n',
      ],
      [
        ['ls', '--token', 'not-a-jwt', '--broker', broker.url],
        3,
        'keyhole: the broker rejected your token: the token is not a well-formed JWT\n',
      ],
    ];
    for (const [args, status, stderr] of cases) {
      const streams = io();
      expect([args, await run(args, streams)]).toEqual([args, status]);
      expect(streams.stderr.text()).toBe(stderr);
      expect(streams.stdout.text()).toBe('');
    }

    // Nothing listens there: exit 6, as a process, with the JSON error on stdout.
    const down = await keyhole(['ls', '--json', '--broker', 'http://127.0.0.1:9', '--dev-login', 'x']);
    expect(down.code).toBe(6);
    expect(JSON.parse(down.stdout)).toEqual({
      error: {
        code: 'broker_unreachable',
        message:
          'the Keyhole broker at http://127.0.0.1:9 could not be reached; is it running? The URL came from --broker (KEYHOLE_BROKER_URL sets it for every command)',
        exitCode: 6,
      },
    });

    const help = await keyhole(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('keyhole upload <paths...> [--to KEY]');
  });
});

describe('keyhole CLI: local files and terminal safety', () => {
  const io = (stderr = sink()) => ({ stdout: sink(), stderr, env: {}, signal: new AbortController().signal });

  /** A fresh user with one object `name` (written by the bucket owner); returns sign-in args and prefix. */
  async function userWith(name: string, body: Uint8Array) {
    const as = ['--broker', broker.url, '--dev-login', freshSubject('erin')];
    const prefix = await grantedPrefix(as);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: prefix + name, Body: body }));
    return { as, prefix };
  }

  test('download never writes through a symlink: not one planted at the old temp name, nor one at the target', async () => {
    const payload = randomBytes(64 * 1024);
    const { as } = await userWith('payload.bin', payload);
    const out = mkdtempSync(join(tmpdir(), 'keyhole-cli-down-'));
    const victim = join(mkdtempSync(join(tmpdir(), 'keyhole-cli-victim-')), 'victim');
    try {
      writeFileSync(victim, 'precious\n');
      // The name the old code opened with flag "w" (and so followed): run() here is this process.
      const oldTemp = join(out, `.copy.bin.keyhole-${process.pid}.partial`);
      symlinkSync(victim, oldTemp);
      const target = join(out, 'copy.bin');
      const streams = io();
      expect(await run(['download', 'payload.bin', '-o', target, ...as], streams)).toBe(0);
      expect(streams.stdout.text()).toBe(`downloaded payload.bin -> ${target} (64 KiB)\n`);
      expect(readFileSync(target).equals(payload)).toBe(true);
      expect(readFileSync(victim, 'utf8')).toBe('precious\n');
      expect(readlinkSync(oldTemp)).toBe(victim);
      expect(readdirSync(out).sort()).toEqual([oldTemp.slice(out.length + 1), 'copy.bin'].sort());
      expect(lstatSync(target).mode & 0o777).toBe(0o666 & ~process.umask());

      // -o naming a symlink: the link itself is replaced by the downloaded file; its target is untouched.
      const link = join(out, 'link.bin');
      symlinkSync(victim, link);
      const viaLink = await keyhole(['download', 'payload.bin', '-o', link, ...as]);
      expect(viaLink).toEqual({ code: 0, stdout: `downloaded payload.bin -> ${link} (64 KiB)\n`, stderr: '' });
      expect(lstatSync(link).isFile()).toBe(true);
      expect(readFileSync(link).equals(payload)).toBe(true);
      expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    } finally {
      rmSync(out, { recursive: true, force: true });
      rmSync(join(victim, '..'), { recursive: true, force: true });
    }
  });

  test('Ctrl-C during a download exits 130 and removes the temporary file', async () => {
    const { as } = await userWith('big.bin', randomBytes(16 * MiB));
    const out = mkdtempSync(join(tmpdir(), 'keyhole-cli-down-'));
    try {
      const controller = new AbortController();
      const stdout = sink();
      const stderr = sink(true);
      let tempSeen: string[] = [];
      const write = stderr.write.bind(stderr);
      stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
        // At the first progress line, the temporary file exists; interrupt then.
        if (String(chunk).includes('%') && !controller.signal.aborted) {
          tempSeen = readdirSync(out);
          controller.abort();
        }
        return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
      }) as typeof stderr.write;
      const code = await run(['download', 'big.bin', '-o', join(out, 'big.bin'), ...as], {
        stdout,
        stderr,
        env: {},
        signal: controller.signal,
      });
      expect(code).toBe(130);
      expect(tempSeen).toHaveLength(1);
      expect(tempSeen[0]).toMatch(/^\.big\.bin\.keyhole-[0-9a-f]{24}\.partial$/);
      expect(stdout.text()).toBe('');
      expect(stderr.text().endsWith('keyhole: download of big.bin was interrupted; nothing was kept\n')).toBe(true);
      expect(readdirSync(out)).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  test('ls escapes ESC, BEL, C1 and bidi controls in keys; --json carries them only as \\u escapes', async () => {
    const key = 'evil\x1b]0;pwned\x07\u009b2J\u202etxt.exe';
    const { as } = await userWith(key, Buffer.from('pwned'));

    const ls = await keyhole(['ls', ...as]);
    expect(ls.code).toBe(0);
    expect(ls.stderr).toBe('');
    // stdout is read as latin1, one character per byte: 0x1b, 0x07 and 0x9b (UTF-8 of U+009B is c2 9b) are absent.
    expect(ls.stdout).toMatch(
      /^ {11}5 {2}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z {2}evil\\x1b\]0;pwned\\x07\\u009b2J\\u202etxt\.exe\n$/,
    );
    expect(ls.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);

    const json = await keyhole(['ls', '--json', ...as]);
    expect(json.code).toBe(0);
    expect(json.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    expect(json.stdout).toContain('"key":"evil\\u001b]0;pwned\\u0007\\u009b2J\\u202etxt.exe"');
    expect((JSON.parse(json.stdout) as { objects: { key: string }[] }).objects.map((o) => o.key)).toEqual([key]);

    // Errors quoting a key or a server message are escaped the same way.
    const missing = await keyhole(['download', 'nope\u202etxt.exe', ...as]);
    expect(missing).toEqual({ code: 5, stdout: '', stderr: 'keyhole: "nope\\u202etxt.exe" does not exist\n' });
  });

  test('upload refuses a key with U+009B (8-bit CSI) before sending anything: exit 2', async () => {
    const as = ['--broker', broker.url, '--dev-login', freshSubject('frank')];
    const res = await keyhole(['upload', 'notes.txt', '--to', 'a\u009b2J.txt', ...as]);
    expect(res).toEqual({
      code: 2,
      stdout: '',
      stderr: 'keyhole: key contains control character U+009B at position 2\nRun "keyhole --help" for usage.\n',
    });
    const json = await keyhole(['upload', 'notes.txt', '--to', 'docs/\x1b[2J', '--json', ...as]);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual({
      error: { code: 'invalid_key', message: 'key contains control character U+001B at position 6', exitCode: 2 },
      uploaded: [],
      failedFile: 'notes.txt',
    });
    const prefix = await grantedPrefix(as);
    const listed = await keyhole(['ls', '--json', ...as]);
    expect(JSON.parse(listed.stdout)).toMatchObject({ prefix, objects: [] });
    expect(await openUploads(prefix)).toBe(0);
  });
});
