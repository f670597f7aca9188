// CLIENT_ERROR_CODES is the list of every code the client module, keyhole/amplify and the keyhole
// command produce themselves. Read from the sources, so a new code thrown without being listed (or a
// listed code nobody throws any more) fails here.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLIENT_ERROR_CODES } from '../../client/index.js';

const ROOT = join(import.meta.dirname, '../../client');
const DIRS = ['.', 'amplify', 'cli'];

function sources(): { file: string; text: string }[] {
  return DIRS.flatMap((dir) =>
    readdirSync(join(ROOT, dir))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
      .map((f) => ({
        file: `client/${dir === '.' ? '' : `${dir}/`}${f}`,
        text: readFileSync(join(ROOT, dir, f), 'utf8'),
      })),
  );
}

// The first argument that is a code: `new StorageError('x', ...)`, `new BrokerError(0, 'x', ...)`,
// `new CliError(body.error?.code ?? 'x', ...)`, `super('x', ...)`. Captures every snake_case literal
// in that argument.
const CONSTRUCTION =
  /(?:new\s+(?:KeyholeClientError|BrokerError|InvalidResponseError|StorageError|CliError)|super)\(\s*(?:\d+\s*,\s*|status\s*,\s*)?([^,]*)/g;

function thrownCodes(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const { file, text } of sources()) {
    for (const match of text.matchAll(CONSTRUCTION)) {
      for (const [, code] of (match[1] ?? '').matchAll(/'([a-z][a-z0-9_]*)'/g)) {
        found.set(code!, [...(found.get(code!) ?? []), file]);
      }
    }
  }
  return found;
}

describe('CLIENT_ERROR_CODES', () => {
  it('is frozen and has no duplicates', () => {
    expect(Object.isFrozen(CLIENT_ERROR_CODES)).toBe(true);
    expect(new Set(CLIENT_ERROR_CODES).size).toBe(CLIENT_ERROR_CODES.length);
  });

  it('lists every code constructed in client/, client/amplify and client/cli, and only those', () => {
    const thrown = thrownCodes();
    const unlisted = [...thrown.keys()].filter((c) => !(CLIENT_ERROR_CODES as readonly string[]).includes(c));
    expect(unlisted.map((c) => `${c} (${thrown.get(c)!.join(', ')})`)).toEqual([]);
    // And the reverse: a listed code that nothing constructs any more is a stale entry.
    expect([...CLIENT_ERROR_CODES].filter((c) => !thrown.has(c))).toEqual([]);
  });

  it('finds the codes it should (the scan itself works)', () => {
    const thrown = thrownCodes();
    expect(thrown.get('cleanup_failed')).toEqual(['client/storage-upload.ts']);
    expect(thrown.get('dev_login_failed')).toEqual(['client/cli/run.ts']);
    expect(thrown.get('broker_unreachable')).toEqual(
      expect.arrayContaining(['client/broker-request.ts', 'client/cli/run.ts']),
    );
  });
});
