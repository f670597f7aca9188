// The download writer of the CLI: temporary files never follow a planted link, and nothing partial is left.
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createTempFile,
  LocalWriteError,
  TEMP_ATTEMPTS,
  tempName,
  writeFileAtomically,
} from '../../client/cli/atomic-file.js';

let dir: string;
let victim: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'keyhole-atomic-'));
  // Outside `dir`, as a file the attacker would like overwritten.
  victim = join(mkdtempSync(join(tmpdir(), 'keyhole-victim-')), 'victim');
  writeFileSync(victim, 'precious\n');
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(join(victim, '..'), { recursive: true, force: true });
});

/** A random source that yields the given bytes in turn (each repeated to the requested size). */
function scripted(...bytes: number[]): { random: (size: number) => Buffer; calls: number } {
  const state = {
    calls: 0,
    random: (size: number) => Buffer.alloc(size, bytes[Math.min(state.calls++, bytes.length - 1)]!),
  };
  return state;
}

const umask = () => process.umask();
const modeOf = (path: string) => statSync(path).mode & 0o777;

describe('createTempFile', () => {
  it('names files .<name>.keyhole-<24 hex>.partial, with at most 48 characters of the name', () => {
    expect(tempName('copy.bin', scripted(0xab).random)).toBe(`.copy.bin.keyhole-${'ab'.repeat(12)}.partial`);
    expect(tempName('x'.repeat(300), scripted(1).random)).toBe(`.${'x'.repeat(48)}.keyhole-${'01'.repeat(12)}.partial`);
    expect(tempName('😀'.repeat(60), scripted(1).random)).toBe(
      `.${'😀'.repeat(48)}.keyhole-${'01'.repeat(12)}.partial`,
    );
  });

  it('skips a name where a symlink was planted, leaving the link and its target alone', async () => {
    const planted = join(dir, tempName('copy.bin', scripted(0x11).random));
    symlinkSync(victim, planted);
    const source = scripted(0x11, 0x22);
    const { path, handle } = await createTempFile(dir, 'copy.bin', source.random);
    await handle.writeFile('downloaded');
    await handle.close();

    expect(source.calls).toBe(2);
    expect(path).toBe(join(dir, tempName('copy.bin', scripted(0x22).random)));
    expect(readFileSync(path, 'utf8')).toBe('downloaded');
    expect(modeOf(path)).toBe(0o600 & ~umask());
    expect(lstatSync(planted).isSymbolicLink()).toBe(true);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
  });

  it('does not create the target of a dangling symlink', async () => {
    const missing = join(dir, 'created-through-the-link');
    symlinkSync(missing, join(dir, tempName('a', scripted(0x33).random)));
    const { path, handle } = await createTempFile(dir, 'a', scripted(0x33, 0x44).random);
    await handle.close();
    expect(path.endsWith(`${'44'.repeat(12)}.partial`)).toBe(true);
    expect(() => lstatSync(missing)).toThrow(/ENOENT/);
  });

  it(`gives up with EEXIST after ${TEMP_ATTEMPTS} taken names`, async () => {
    symlinkSync(victim, join(dir, tempName('a', scripted(0x55).random)));
    const source = scripted(0x55);
    await expect(createTempFile(dir, 'a', source.random)).rejects.toMatchObject({ code: 'EEXIST' });
    expect(source.calls).toBe(TEMP_ATTEMPTS);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(readdirSync(dir)).toHaveLength(1);
  });
});

describe('writeFileAtomically', () => {
  it('writes a new file with mode 0666 minus the umask, leaving nothing else behind', async () => {
    const target = join(dir, 'copy.bin');
    await writeFileAtomically(target, Readable.from([Buffer.from('hello '), Buffer.from('world')]));
    expect(readFileSync(target, 'utf8')).toBe('hello world');
    expect(modeOf(target)).toBe(0o666 & ~umask());
    expect(readdirSync(dir)).toEqual(['copy.bin']);
  });

  it('replaces an existing file and keeps its permissions', async () => {
    const target = join(dir, 'secret.txt');
    writeFileSync(target, 'old', { mode: 0o600 });
    await writeFileAtomically(target, Readable.from([Buffer.from('new')]));
    expect(readFileSync(target, 'utf8')).toBe('new');
    expect(modeOf(target)).toBe(0o600);
  });

  it('replaces a symlink at the target itself: the file it pointed to is untouched', async () => {
    const target = join(dir, 'link.bin');
    symlinkSync(victim, target);
    await writeFileAtomically(target, Readable.from([Buffer.from('downloaded')]));
    expect(lstatSync(target).isFile()).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('downloaded');
    expect(modeOf(target)).toBe(0o666 & ~umask());
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
  });

  it('a failing source: its error is thrown, the temporary file removed, the old target kept', async () => {
    const target = join(dir, 'copy.bin');
    writeFileSync(target, 'old');
    const boom = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const source = Readable.from(
      (async function* () {
        yield Buffer.from('partial data');
        throw boom;
      })(),
    );
    await expect(writeFileAtomically(target, source)).rejects.toBe(boom);
    expect(readdirSync(dir)).toEqual(['copy.bin']);
    expect(readFileSync(target, 'utf8')).toBe('old');
  });

  it('an abort: the temporary file is removed and no target appears', async () => {
    const target = join(dir, 'copy.bin');
    const controller = new AbortController();
    const source = new Readable({ read() {} });
    source.push(Buffer.alloc(1024));
    const writing = writeFileAtomically(target, source, { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(readdirSync(dir)).toHaveLength(1); // the temporary file, while the download runs
    controller.abort();
    await expect(writing).rejects.toMatchObject({ name: 'AbortError' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a local failure is a LocalWriteError naming the target, and the source is released', async () => {
    const target = join(dir, 'missing-dir', 'copy.bin');
    const source = Readable.from([Buffer.from('x')]);
    const err = await writeFileAtomically(target, source).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LocalWriteError);
    expect(err).toMatchObject({ path: target, code: 'ENOENT', message: `cannot write "${target}": ENOENT` });
    expect(source.destroyed).toBe(true);
  });

  it('a rename onto a directory fails as a LocalWriteError and removes the temporary file', async () => {
    mkdirSync(join(dir, 'sub'));
    await expect(writeFileAtomically(join(dir, 'sub'), Readable.from([Buffer.from('x')]))).rejects.toMatchObject({
      name: 'LocalWriteError',
      code: 'EISDIR',
    });
    expect(readdirSync(dir)).toEqual(['sub']);
  });
});
