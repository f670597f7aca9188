// `keyhole upload` of folders and of colliding keys, against a real broker (port 0) and the local RGW,
// each user on a fresh prefix: what lands in the bucket, byte for byte, and that a refused upload
// sends nothing. Also the newcomer's messages: a missing file, an empty --dev-login, an unknown option,
// a read-only grant, and KEYHOLE_BROKER_URL.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { formatBytes } from '../../client/format.js';
import { devPrefix, freshSubject, startBroker, type TestBroker } from '../helpers/broker.js';
import { runKeyhole } from '../helpers/cli.js';
import { ownerS3, stack } from '../helpers/stack.js';

const MiB = 1024 * 1024;
const s3 = ownerS3();
const { bucket } = stack();

let broker: TestBroker;
let readOnly: TestBroker;
let dir: string;

/** The tree uploaded: relative path → bytes. One file is above the 5 MiB single-PUT limit (multipart). */
const tree: Record<string, Buffer> = {
  'a.txt': Buffer.from('a\n'),
  'sub/b.txt': Buffer.from('b\n'),
  'sub/deeper/c.bin': randomBytes(70 * 1024),
  'sub/deeper/big.bin': randomBytes(6 * MiB + 17),
  'z/one.txt': Buffer.from('one'),
  'z/two.txt': Buffer.from('two'),
  'z/three.txt': Buffer.from('three'),
  'z/.hidden': Buffer.from('hidden'),
};

beforeAll(async () => {
  broker = await startBroker();
  readOnly = await startBroker({
    grants: [{ bucket, scopes: [{ prefix: 'users/{sub}/', access: ['read', 'list'] }] }],
  });
  dir = mkdtempSync(join(tmpdir(), 'keyhole-cli-folders-'));
  for (const [path, bytes] of Object.entries(tree)) {
    mkdirSync(join(dir, 'tree', path, '..'), { recursive: true });
    writeFileSync(join(dir, 'tree', path), bytes);
  }
  mkdirSync(join(dir, 'tree/empty'));
  // A link inside the folder, to a file outside it: skipped, never followed.
  writeFileSync(join(dir, 'secret.txt'), 'not for the bucket');
  symlinkSync(join(dir, 'secret.txt'), join(dir, 'tree/sub/link.txt'));
  for (const sub of ['x', 'y']) {
    mkdirSync(join(dir, 'd2', sub), { recursive: true });
    writeFileSync(join(dir, 'd2', sub, 'c.txt'), `${sub}\n`);
  }
});

afterAll(async () => {
  await broker?.close();
  await readOnly?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const keyhole = (args: string[], env: Record<string, string> = {}) => runKeyhole(dir, args, env);

/** Every object under `prefix` (owner's view), key relative to it → bytes. */
async function bucketContents(prefix: string): Promise<Record<string, Buffer>> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  const out: Record<string, Buffer> = {};
  for (const o of listed.Contents ?? []) {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }));
    out[o.Key!.slice(prefix.length)] = Buffer.from(await got.Body!.transformToByteArray());
  }
  return out;
}

async function openUploads(prefix: string): Promise<number> {
  const out = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  return out.Uploads?.length ?? 0;
}

function user(on: TestBroker = broker) {
  const sub = freshSubject('folders');
  return { as: ['--broker', on.url, '--dev-login', sub], prefix: devPrefix(sub) };
}

describe('keyhole upload: folders', () => {
  test('a folder is uploaded recursively with relative keys, links skipped, a line per file and a summary', async () => {
    const { as, prefix } = user();
    const res = await keyhole(['upload', 'tree', '--concurrency', '3', ...as]);
    expect(res.code).toBe(0);
    expect(res.stderr).toBe('keyhole: skipped tree/sub/link.txt (symbolic link)\n');
    const lines = res.stdout.trimEnd().split('\n');
    const files = Object.keys(tree).length;
    expect(lines).toHaveLength(files + 1);
    // Lines come as files finish; each names the file and its full key.
    expect(lines.slice(0, -1).sort()).toEqual(
      Object.entries(tree)
        .map(([path, bytes]) => `uploaded tree/${path} -> ${prefix}tree/${path} (${formatBytes(bytes.length)})`)
        .sort(),
    );
    expect(lines).toContain(`uploaded tree/sub/deeper/big.bin -> ${prefix}tree/sub/deeper/big.bin (6.0 MiB)`);
    expect(lines.at(-1)).toMatch(
      /^uploaded 8 files \(6\.1 MiB\) in \d+ s; skipped 1 \(symbolic links and special files\)$/,
    );
    const stored = await bucketContents(prefix);
    expect(Object.keys(stored).sort()).toEqual(
      Object.keys(tree)
        .map((p) => `tree/${p}`)
        .sort(),
    );
    for (const [path, bytes] of Object.entries(tree)) expect(stored[`tree/${path}`]!.equals(bytes), path).toBe(true);
    expect(await openUploads(prefix)).toBe(0);
  });

  test('--to KEY puts a folder’s files below KEY; --json lists every file (in path order) and what was skipped', async () => {
    const { as, prefix } = user();
    const res = await keyhole(['upload', 'tree/sub', '--to', 'backup', '--json', '-r', ...as]);
    expect(res.code).toBe(0);
    expect(res.stderr).toBe('');
    expect(JSON.parse(res.stdout)).toEqual({
      uploaded: ['deeper/big.bin', 'deeper/c.bin', 'b.txt'].sort().map((path) => ({
        file: `tree/sub/${path}`,
        key: `backup/${path}`,
        fullKey: `${prefix}backup/${path}`,
        bucket,
        size: tree[`sub/${path}`]!.length,
      })),
      skipped: [{ file: 'tree/sub/link.txt', reason: 'symbolic link' }],
    });
    const stored = await bucketContents(prefix);
    expect(Object.keys(stored).sort()).toEqual(['backup/b.txt', 'backup/deeper/big.bin', 'backup/deeper/c.bin']);
    expect(stored['backup/deeper/big.bin']!.equals(tree['sub/deeper/big.bin']!)).toBe(true);
  });

  test('colliding keys are refused before anything is uploaded: exit 2, nothing in the bucket', async () => {
    const { as, prefix } = user();
    const res = await keyhole(['upload', 'd2/x/c.txt', 'd2/y/c.txt', '--to', 'dup/', ...as]);
    expect(res).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'keyhole: "d2/x/c.txt" and "d2/y/c.txt" would be uploaded to the same key "dup/c.txt"; nothing was uploaded\n' +
        'Run "keyhole --help" for usage.\n',
    });
    // Two folders of the same name, with --json: the shared key and its files; the file only one of
    // them has (other/z/new.txt) is not uploaded either.
    mkdirSync(join(dir, 'other/z'), { recursive: true });
    writeFileSync(join(dir, 'other/z/one.txt'), 'another one');
    writeFileSync(join(dir, 'other/z/new.txt'), 'new');
    const json = await keyhole(['upload', 'tree/z', 'other/z', '--json', ...as]);
    expect(json.code).toBe(2);
    expect(json.stderr).toBe('');
    expect(JSON.parse(json.stdout)).toEqual({
      error: {
        code: 'key_collision',
        message:
          '"tree/z/one.txt" and "other/z/one.txt" would be uploaded to the same key "z/one.txt"; nothing was uploaded',
        exitCode: 2,
      },
      collisions: [{ key: 'z/one.txt', files: ['tree/z/one.txt', 'other/z/one.txt'] }],
    });
    expect(await bucketContents(prefix)).toEqual({});
    expect(await openUploads(prefix)).toBe(0);
  });

  test('a read-only grant: exit 4, "does not allow write", the tally, nothing stored and no open upload', async () => {
    const { as, prefix } = user(readOnly);
    const res = await keyhole(['upload', 'tree/sub/deeper', '--concurrency', '1', '--json', ...as]);
    expect(res.code).toBe(4);
    expect(JSON.parse(res.stdout)).toEqual({
      error: {
        code: 'access_denied',
        message:
          'upload of tree/sub/deeper/big.bin failed and was aborted: access denied: your grant does not allow write ' +
          '(upload "deeper/big.bin"; it allows read, list); 0 of 2 files uploaded',
        exitCode: 4,
      },
      uploaded: [],
      failedFile: 'tree/sub/deeper/big.bin',
    });
    expect(await bucketContents(prefix)).toEqual({});
    expect(await openUploads(prefix)).toBe(0);
  });
});

describe('keyhole: messages a newcomer meets', () => {
  test('a missing file, an empty --dev-login and an unknown option, in our own words', async () => {
    const { as } = user();
    expect(await keyhole(['upload', 'nope.txt', ...as])).toEqual({
      code: 7,
      stdout: '',
      stderr: 'keyhole: cannot read "nope.txt": file not found\n',
    });
    expect(await keyhole(['ls', '--broker', broker.url, '--dev-login', ''])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'keyhole: --dev-login needs a value: --dev-login NAME\nRun "keyhole --help" for usage.\n',
    });
    expect(await keyhole(['ls', '--bogus', ...as])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'keyhole: unknown option "--bogus"\nRun "keyhole --help" for usage.\n',
    });
    expect(await keyhole(['ls', '--bogus', '--json', ...as])).toEqual({
      code: 2,
      stdout: '{"error":{"code":"usage","message":"unknown option \\"--bogus\\"","exitCode":2}}\n',
      stderr: '',
    });
  });

  test('KEYHOLE_BROKER_URL picks the broker; unreachable, the error names the variable', async () => {
    const sub = freshSubject('env');
    const ls = await keyhole(['ls', '--json', '--dev-login', sub], { KEYHOLE_BROKER_URL: broker.url });
    expect(ls.code).toBe(0);
    expect(JSON.parse(ls.stdout)).toEqual({ bucket, prefix: devPrefix(sub), objects: [] });
    const down = await keyhole(['ls', '--dev-login', sub], { KEYHOLE_BROKER_URL: 'http://127.0.0.1:9' });
    expect(down).toEqual({
      code: 6,
      stdout: '',
      stderr:
        'keyhole: the Keyhole broker at http://127.0.0.1:9 could not be reached; is it running? The URL came from KEYHOLE_BROKER_URL\n',
    });
  });
});
