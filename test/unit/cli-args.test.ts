// The `keyhole` command line: every misuse is a usage error (exit 2) in one line of our own words,
// naming the option as typed, and --json is recognised even on a command line that is otherwise invalid.
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONCURRENCY, MAX_CONCURRENCY, parseInvocation, USAGE, wantsJson } from '../../client/cli/args.js';

const SIGNED_IN = ['--dev-login', 'alice'];

function usageError(argv: string[], env: Record<string, string> = {}): string {
  try {
    parseInvocation(argv, env);
  } catch (err) {
    expect(err).toMatchObject({ code: 'usage', exitCode: 2 });
    return (err as Error).message;
  }
  throw new Error(`expected a usage error for ${JSON.stringify(argv)}`);
}

describe('options', () => {
  it.each([
    [['ls', '--bogus'], 'unknown option "--bogus"'],
    [['ls', '--bogus=1'], 'unknown option "--bogus"'],
    [['ls', '-x'], 'unknown option "-x"'],
    // Combined short options: the unknown one is named, not the group.
    [['ls', '-qz'], 'unknown option "-z"'],
    [['ls', '--no-json'], 'unknown option "--no-json"'],
  ])('%j → %s', (argv, message) => {
    expect(usageError([...argv, ...SIGNED_IN])).toBe(message);
  });

  it('an unknown option is refused before anything else is looked at', () => {
    expect(usageError(['--bogus'])).toBe('unknown option "--bogus"');
    expect(usageError(['frob', '--bogus'])).toBe('unknown option "--bogus"');
  });

  it.each([
    [['ls', '--broker'], '--broker needs a value: --broker URL'],
    [['ls', '--broker='], '--broker needs a value: --broker URL'],
    [['ls', '--token'], '--token needs a value: --token JWT'],
    [['ls', '--dev-login'], '--dev-login needs a value: --dev-login NAME'],
    [['ls', '--dev-login', ''], '--dev-login needs a value: --dev-login NAME'],
    [['upload', 'a', '--to'], '--to needs a value: --to KEY'],
    [['download', 'a', '-o'], '-o needs a value: -o FILE'],
    [['download', 'a', '--output'], '--output needs a value: --output FILE'],
    [['upload', 'a', '--concurrency'], '--concurrency needs a value: --concurrency N'],
  ])('a string option without a value: %j → %s', (argv, message) => {
    expect(usageError(argv)).toBe(message);
  });

  it('an option where a value belongs is named, with the way to pass such a value', () => {
    expect(usageError(['upload', 'a', '--to', '--json', ...SIGNED_IN])).toBe(
      '--to needs a value: --to KEY (got the option "--json"; write --to=--json if that is the value)',
    );
    // "-" alone is a value (stdout), and an inline value may start with "-".
    expect(parseInvocation(['download', 'k', '-o', '-', ...SIGNED_IN], {}).command).toEqual({
      name: 'download',
      key: 'k',
      output: '-',
    });
    expect(parseInvocation(['upload', 'a', '--to=-x', ...SIGNED_IN], {}).command).toMatchObject({ to: '-x' });
  });

  it('a flag given a value is refused', () => {
    expect(usageError(['ls', '--json=1', ...SIGNED_IN])).toBe('--json takes no value (got "--json=1")');
    expect(usageError(['ls', '--quiet=yes', ...SIGNED_IN])).toBe('--quiet takes no value (got "--quiet=yes")');
  });

  it('no message is Node’s own (multi-line, or with its unbalanced quotes)', () => {
    for (const argv of [['--bogus'], ['-x'], ['ls', '--broker'], ['ls', '--broker', '--json'], ['ls', '--json=1']]) {
      const message = usageError(argv);
      expect(message).not.toMatch(/\n|Unknown option|argument missing|ambiguous|'/);
      expect(message.split('"').length % 2, message).toBe(1);
    }
  });
});

describe('--dev-login', () => {
  it('an empty name is a usage error, not the broker’s schema message', () => {
    expect(usageError(['ls', '--dev-login', ''])).toBe('--dev-login needs a value: --dev-login NAME');
    expect(usageError(['ls', '--dev-login='])).toBe('--dev-login needs a value: --dev-login NAME');
  });

  it('a name longer than the dev login accepts (1024) is refused here', () => {
    expect(parseInvocation(['ls', '--dev-login', 'a'.repeat(1024)], {}).auth).toEqual({
      kind: 'dev',
      name: 'a'.repeat(1024),
    });
    expect(usageError(['ls', '--dev-login', 'a'.repeat(1025)])).toBe(
      '--dev-login NAME must be at most 1024 characters (got 1025)',
    );
  });
});

describe('upload options', () => {
  it(`--concurrency defaults to ${DEFAULT_CONCURRENCY} and takes 1 to ${MAX_CONCURRENCY}`, () => {
    expect(parseInvocation(['upload', 'a', ...SIGNED_IN], {}).command).toEqual({
      name: 'upload',
      files: ['a'],
      to: undefined,
      concurrency: 4,
      resume: true,
      confirm: false,
    });
    expect(parseInvocation(['upload', 'a', '--no-resume', ...SIGNED_IN], {}).command).toMatchObject({ resume: false });
    expect(parseInvocation(['upload', 'a', '--confirm', ...SIGNED_IN], {}).command).toMatchObject({ confirm: true });
    expect(parseInvocation(['uploads', ...SIGNED_IN], {}).command).toEqual({ name: 'uploads', abort: false });
    expect(parseInvocation(['uploads', '--abort', ...SIGNED_IN], {}).command).toEqual({ name: 'uploads', abort: true });
    expect(() => parseInvocation(['ls', '--no-resume', ...SIGNED_IN], {})).toThrow(
      '--no-resume applies to upload only',
    );
    expect(() => parseInvocation(['upload', 'a', '--abort', ...SIGNED_IN], {})).toThrow(
      '--abort applies to uploads only',
    );
    expect(() => parseInvocation(['uploads', 'x', ...SIGNED_IN], {})).toThrow('uploads takes no arguments');
    expect(parseInvocation(['upload', 'a', '--concurrency', '1', ...SIGNED_IN], {}).command).toMatchObject({
      concurrency: 1,
    });
    expect(parseInvocation(['upload', 'a', '--concurrency=64', ...SIGNED_IN], {}).command).toMatchObject({
      concurrency: 64,
    });
    for (const bad of ['0', '65', '-1', '1.5', 'four', '1e1', ' 2', '0x10', '0004']) {
      expect(usageError(['upload', 'a', `--concurrency=${bad}`, ...SIGNED_IN])).toBe(
        `--concurrency must be a whole number from 1 to 64 (got "${bad}")`,
      );
    }
  });

  it('-r/--recursive is accepted for upload (folders are always recursive), refused elsewhere', () => {
    expect(parseInvocation(['upload', '-r', 'dir', ...SIGNED_IN], {}).command).toMatchObject({ files: ['dir'] });
    expect(parseInvocation(['upload', 'dir', '--recursive', ...SIGNED_IN], {}).command).toMatchObject({
      files: ['dir'],
    });
    expect(usageError(['ls', '-r', ...SIGNED_IN])).toBe('-r/--recursive applies to upload only');
    expect(usageError(['ls', '--concurrency', '2', ...SIGNED_IN])).toBe('--concurrency applies to upload only');
  });

  it('upload without paths, and several paths with a --to that is not a folder', () => {
    expect(usageError(['upload', ...SIGNED_IN])).toBe('upload needs at least one file or folder');
    expect(usageError(['upload', 'a', 'b', '--to', 'x', ...SIGNED_IN])).toBe(
      'with several files, --to must be a folder ending in "/"',
    );
  });

  it('the usage text documents the new options', () => {
    expect(USAGE).toContain('keyhole upload <paths...> [--to KEY]');
    expect(USAGE).toContain('--concurrency N     upload: files sent at once, 1 to 64 (default 4)');
    expect(USAGE).toContain('-r, --recursive');
  });
});

describe('wantsJson', () => {
  it.each([
    [['ls', '--json'], true],
    [['--json', '--bogus'], true],
    [['frob', '--json'], true],
    [['ls', '--json=1'], true],
    [['ls'], false],
    // After "--" it is a file name, and as the value of --to it is the key.
    [['upload', '--', '--json'], false],
    [['upload', 'a', '--to', '--json'], false],
  ])('%j → %s', (argv, expected) => {
    expect(wantsJson(argv)).toBe(expected);
  });
});
