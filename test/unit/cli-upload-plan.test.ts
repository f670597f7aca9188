// What `keyhole upload` decides before sending anything: the files (folders walked, links skipped),
// their keys, and that no two files share a key. Local temporary folders only; no broker, no S3.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeErrno, localFileError } from '../../client/cli/local-errors.js';
import { collisions, KeyCollisionError, planUpload } from '../../client/cli/upload-plan.js';

let root: string;
let socket: Server;
const cwd = process.cwd();

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'keyhole-plan-'));
  const file = (path: string, text: string) => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  file('d2/x/c.txt', 'x-c');
  file('d2/y/c.txt', 'y-c!');
  file('photos/b.jpg', 'bb');
  file('photos/2024/a.jpg', 'a');
  file('photos/2024/Z.jpg', 'zzz');
  file('photos/.hidden', 'h');
  mkdirSync(join(root, 'photos/empty'));
  file('notes.txt', 'notes');
  file('outside/secret.txt', 'secret');
  symlinkSync(join(root, 'outside/secret.txt'), join(root, 'photos/link.txt'));
  symlinkSync(join(root, 'outside'), join(root, 'photos/linked-dir'));
  symlinkSync(join(root, 'notes.txt'), join(root, 'notes-link.txt'));
  mkdirSync(join(root, 'empty'));
  file('bad/a\u009b2J.txt', 'x');
  // A special file inside a folder: a Unix socket.
  mkdirSync(join(root, 'special'));
  file('special/ok.txt', 'ok');
  socket = createServer();
  await new Promise<void>((resolve) => socket.listen(join(root, 'special/sock'), resolve));
  process.chdir(root);
});

afterAll(() => {
  process.chdir(cwd);
  socket?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

async function refusal(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (err) {
    return err as Error & Record<string, unknown>;
  }
  throw new Error('expected a refusal');
}

describe('files', () => {
  it('a file goes to its name, to --to, or into a --to folder', async () => {
    expect(await planUpload(['notes.txt'], undefined)).toEqual({
      files: [{ file: 'notes.txt', key: 'notes.txt', size: 5 }],
      skipped: [],
      hasFolder: false,
    });
    expect((await planUpload(['d2/x/c.txt'], 'docs/c.txt')).files).toEqual([
      { file: 'd2/x/c.txt', key: 'docs/c.txt', size: 3 },
    ]);
    expect((await planUpload(['notes.txt', 'd2/y/c.txt'], 'in/')).files).toEqual([
      { file: 'notes.txt', key: 'in/notes.txt', size: 5 },
      { file: 'd2/y/c.txt', key: 'in/c.txt', size: 4 },
    ]);
  });

  it('a link named on the command line is followed: it is uploaded under its own name', async () => {
    expect((await planUpload(['notes-link.txt'], undefined)).files).toEqual([
      { file: 'notes-link.txt', key: 'notes-link.txt', size: 5 },
    ]);
  });

  it('a missing path is "file not found" (exit 7), not ENOENT', async () => {
    const err = await refusal(planUpload(['notes.txt', 'nope.txt'], undefined));
    expect(err).toMatchObject({ code: 'local_file', exitCode: 7, message: 'cannot read "nope.txt": file not found' });
    expect((await refusal(planUpload(['notes.txt/x'], undefined))).message).toBe(
      'cannot read "notes.txt/x": a part of the path is not a folder',
    );
  });

  it('a special file named on the command line is refused', async () => {
    const err = await refusal(planUpload(['special/sock'], undefined));
    expect(err).toMatchObject({
      code: 'local_file',
      exitCode: 7,
      message: '"special/sock" is not a regular file or a folder',
    });
  });
});

describe('folders', () => {
  it('are walked: every file keeps its path below the folder’s name, in name order; links are skipped', async () => {
    expect(await planUpload(['photos'], undefined)).toEqual({
      files: [
        { file: 'photos/.hidden', key: 'photos/.hidden', size: 1 },
        { file: 'photos/2024/Z.jpg', key: 'photos/2024/Z.jpg', size: 3 },
        { file: 'photos/2024/a.jpg', key: 'photos/2024/a.jpg', size: 1 },
        { file: 'photos/b.jpg', key: 'photos/b.jpg', size: 2 },
      ],
      skipped: [
        { file: 'photos/link.txt', reason: 'symbolic link' },
        { file: 'photos/linked-dir', reason: 'symbolic link' },
      ],
      hasFolder: true,
    });
  });

  it('--to: a folder ending in "/" holds the folder; a key without "/" replaces its name', async () => {
    expect((await planUpload(['photos/2024'], 'backup/')).files.map((f) => f.key)).toEqual([
      'backup/2024/Z.jpg',
      'backup/2024/a.jpg',
    ]);
    expect((await planUpload(['photos/2024'], 'year')).files.map((f) => f.key)).toEqual(['year/Z.jpg', 'year/a.jpg']);
  });

  it('files and folders together; "." and "x/.." name the folder they resolve to', async () => {
    expect((await planUpload(['notes.txt', 'd2'], undefined)).files.map((f) => [f.file, f.key])).toEqual([
      ['notes.txt', 'notes.txt'],
      ['d2/x/c.txt', 'd2/x/c.txt'],
      ['d2/y/c.txt', 'd2/y/c.txt'],
    ]);
    process.chdir(join(root, 'd2'));
    try {
      expect((await planUpload(['.'], undefined)).files.map((f) => [f.file, f.key])).toEqual([
        ['x/c.txt', 'd2/x/c.txt'],
        ['y/c.txt', 'd2/y/c.txt'],
      ]);
      expect((await planUpload(['x/..'], 'k/')).files.map((f) => f.key)).toEqual(['k/d2/x/c.txt', 'k/d2/y/c.txt']);
    } finally {
      process.chdir(root);
    }
  });

  it('special files inside a folder are skipped; an empty folder plans nothing', async () => {
    expect(await planUpload(['special'], undefined)).toEqual({
      files: [{ file: 'special/ok.txt', key: 'special/ok.txt', size: 2 }],
      skipped: [{ file: 'special/sock', reason: 'not a regular file' }],
      hasFolder: true,
    });
    expect(await planUpload(['empty'], undefined)).toEqual({ files: [], skipped: [], hasFolder: true });
  });

  it('the file system root cannot be uploaded', async () => {
    expect(await refusal(planUpload(['/'], undefined))).toMatchObject({
      code: 'usage',
      exitCode: 2,
      message: 'cannot upload "/": name a folder below it',
    });
  });

  it('a file name that makes an invalid key is refused, naming the file', async () => {
    const err = await refusal(planUpload(['notes.txt', 'bad'], undefined));
    expect(err).toMatchObject({
      code: 'invalid_key',
      message: 'key contains control character U+009B at position 6',
      file: 'bad/a\u009b2J.txt',
      uploaded: [],
    });
  });
});

describe('collisions', () => {
  it('two files for one key are refused before anything is sent, naming both and the key', async () => {
    const err = await refusal(planUpload(['d2/x/c.txt', 'd2/y/c.txt'], 'dup/'));
    expect(err).toBeInstanceOf(KeyCollisionError);
    expect(err).toMatchObject({
      code: 'key_collision',
      exitCode: 2,
      message: '"d2/x/c.txt" and "d2/y/c.txt" would be uploaded to the same key "dup/c.txt"; nothing was uploaded',
      collisions: [{ key: 'dup/c.txt', files: ['d2/x/c.txt', 'd2/y/c.txt'] }],
    });
    // The same without --to, and the same file named twice.
    expect((await refusal(planUpload(['d2/x/c.txt', 'd2/y/c.txt'], undefined))).message).toBe(
      '"d2/x/c.txt" and "d2/y/c.txt" would be uploaded to the same key "c.txt"; nothing was uploaded',
    );
    expect((await refusal(planUpload(['notes.txt', './notes.txt'], undefined))).message).toBe(
      '"notes.txt" and "./notes.txt" would be uploaded to the same key "notes.txt"; nothing was uploaded',
    );
  });

  it('a folder and a file, three files, and several shared keys', async () => {
    mkdirSync(join(root, 'more/d2/x'), { recursive: true });
    writeFileSync(join(root, 'more/d2/x/c.txt'), 'again');
    writeFileSync(join(root, 'more/c.txt'), 'c');
    const err = await refusal(planUpload(['d2', 'more/d2', 'd2/x/c.txt', 'more/c.txt'], undefined));
    expect(err.message).toBe(
      '"d2/x/c.txt" and "more/d2/x/c.txt" would be uploaded to the same key "d2/x/c.txt" (1 other key is shared too); nothing was uploaded',
    );
    expect(err.collisions).toEqual([
      { key: 'd2/x/c.txt', files: ['d2/x/c.txt', 'more/d2/x/c.txt'] },
      { key: 'c.txt', files: ['d2/x/c.txt', 'more/c.txt'] },
    ]);
    expect(
      collisions([
        { file: 'a', key: 'k', size: 1 },
        { file: 'b', key: 'k', size: 1 },
        { file: 'c', key: 'k', size: 1 },
        { file: 'd', key: 'j', size: 1 },
      ]),
    ).toEqual([{ key: 'k', files: ['a', 'b', 'c'] }]);
    expect(
      new KeyCollisionError([
        { key: 'k', files: ['a', 'b', 'c'] },
        { key: 'j', files: ['d', 'e'] },
        { key: 'i', files: ['f', 'g'] },
      ]).message,
    ).toBe(
      '"a", "b" and "c" would be uploaded to the same key "k" (2 other keys are shared too); nothing was uploaded',
    );
  });
});

describe('local file errors in words', () => {
  it.each([
    ['ENOENT', 'read', 'file not found'],
    ['ENOENT', 'write', 'folder not found'],
    ['EACCES', 'read', 'permission denied'],
    ['EISDIR', 'write', 'it is a folder'],
    ['ENOSPC', 'write', 'no space left on the device'],
    ['EROFS', 'write', 'the file system is read-only'],
    ['EWHATEVER', 'read', 'EWHATEVER'],
    [undefined, 'read', 'error'],
  ] as const)('%s while %s → %s', (code, action, words) => {
    expect(describeErrno(code, action)).toBe(words);
  });

  it('localFileError is a local_file error (exit 7) naming the path and the reason', () => {
    const cause = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
    const err = localFileError('nope.txt', cause, 'read');
    expect(err).toMatchObject({ code: 'local_file', exitCode: 7, message: 'cannot read "nope.txt": file not found' });
    expect(err.cause).toBe(cause);
    expect(localFileError('out/x.bin', cause, 'write').message).toBe('cannot write "out/x.bin": folder not found');
  });
});
