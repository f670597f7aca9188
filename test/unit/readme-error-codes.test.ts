// Issue 11, point 1: the error-code tables in the docs are what integrators match on, so they must
// list exactly the codes the code can produce. The broker's table is in server/README.md (HTTP API),
// the client's in client/README.md (issue 17 moved them out of the front README). The broker's table is checked against the protocol's
// registry (code and status), the client's against CLIENT_ERROR_CODES. A code added to either list
// fails here until it is documented, and a documented code that no longer exists fails too.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLIENT_ERROR_CODES } from '../../client/errors.js';
import { BROKER_ERRORS } from '../../client/protocol/errors.js';

const SERVER_README = readFileSync(new URL('../../server/README.md', import.meta.url), 'utf8');
const CLIENT_README = readFileSync(new URL('../../client/README.md', import.meta.url), 'utf8');

const BROKER_MARKER = '<!-- broker-error-codes';
const CLIENT_MARKER = '<!-- client-error-codes';

/**
 * The body rows of the Markdown table that follows `marker` (only blank lines in between), as
 * trimmed cells. The header must be `header`, so a table moved or reshaped is noticed.
 */
function tableAfter(text: string, marker: string, header: readonly string[]): string[][] {
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`README has no "${marker}" marker`);
  if (text.indexOf(marker, at + 1) >= 0) throw new Error(`README has "${marker}" twice`);
  const lines = text.slice(at).split('\n').slice(1);
  const first = lines.findIndex((line) => line.trim() !== '');
  if (first < 0 || !lines[first]!.startsWith('|')) throw new Error(`no table right after "${marker}"`);
  const end = lines.findIndex((line, i) => i > first && !line.startsWith('|'));
  const rows = lines
    .slice(first, end < 0 ? undefined : end)
    // An escaped \| inside a cell is not a column separator.
    .map((line) =>
      line
        .trim()
        .replace(/^\|/, '')
        .replace(/\|$/, '')
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim()),
    );
  const [head, rule, ...body] = rows;
  if (!head || !rule || !rule.every((cell) => /^:?-+:?$/.test(cell))) throw new Error(`"${marker}": not a table`);
  expect(head, `"${marker}": header`).toEqual(header);
  return body;
}

/** The codes in one cell: every `backticked` word, each of which must look like a code. */
function codesIn(cell: string): string[] {
  const codes = [...cell.matchAll(/`([^`]*)`/g)].map((m) => m[1]!);
  for (const code of codes) expect(code, `"${code}" in "${cell}"`).toMatch(/^[a-z][a-z0-9_]*$/);
  // Nothing but the codes and their separators: prose in the code column would hide a code.
  expect(cell.replace(/`[^`]*`/g, '').replace(/[,\s]/g, ''), `stray text in "${cell}"`).toBe('');
  return codes;
}

/** Every code of a table's `column`, checking that none is listed twice. */
function listedCodes(rows: readonly string[][], column: number): string[] {
  const codes = rows.flatMap((row) => codesIn(row[column] ?? ''));
  const twice = codes.filter((code, i) => codes.indexOf(code) !== i);
  expect(twice, 'codes listed more than once').toEqual([]);
  return codes;
}

const BROKER_HEADER = ['Status', '`error.code`', 'When'];
const CLIENT_HEADER = ['`code`', 'Class', 'When'];

describe('server/README.md: broker error codes', () => {
  const rows = () => tableAfter(SERVER_README, BROKER_MARKER, BROKER_HEADER);

  it('lists every code in BROKER_ERRORS, once, and no other', () => {
    expect(listedCodes(rows(), 1).sort()).toEqual(Object.keys(BROKER_ERRORS).sort());
  });

  it('gives each code the status BROKER_ERRORS gives it', () => {
    const documented = Object.fromEntries(
      rows().flatMap((row) => {
        const status = Number(row[0]);
        expect(Number.isInteger(status) && status >= 400 && status <= 599, `status "${row[0]}"`).toBe(true);
        return codesIn(row[1] ?? '').map((code) => [code, status] as const);
      }),
    );
    expect(documented).toEqual({ ...BROKER_ERRORS });
  });
});

describe('client/README.md: client error codes', () => {
  const rows = () => tableAfter(CLIENT_README, CLIENT_MARKER, CLIENT_HEADER);

  it('lists every code in CLIENT_ERROR_CODES, once, and no other', () => {
    expect(listedCodes(rows(), 0).sort()).toEqual([...CLIENT_ERROR_CODES].sort());
  });
});

// The checks above are only as good as the parser; these feed it tables that must fail.
describe('the README table parser', () => {
  const doc = (table: string) => `intro\n\n${BROKER_MARKER} -->\n\n${table}\n\nafter`;
  const header = '| Status | `error.code` | When |\n| --- | --- | --- |';

  it('reads codes and statuses, with escaped pipes inside a cell', () => {
    const rows = tableAfter(
      doc(`${header}\n| 400 | \`a_b\`, \`c\` | x \\| y |\n| 503 | \`d\` | z |`),
      BROKER_MARKER,
      BROKER_HEADER,
    );
    expect(rows).toEqual([
      ['400', '`a_b`, `c`', 'x \\| y'],
      ['503', '`d`', 'z'],
    ]);
    expect(listedCodes(rows, 1)).toEqual(['a_b', 'c', 'd']);
  });

  it('refuses a code listed twice, prose in the code column, or a marker with no table after it', () => {
    expect(() =>
      listedCodes(
        [
          ['400', '`a`'],
          ['401', '`a`'],
        ],
        1,
      ),
    ).toThrow(/more than once/);
    expect(() => codesIn('`a` and `b`')).toThrow(/stray text/);
    expect(() => codesIn('`http_<status>`')).toThrow();
    expect(() => tableAfter(doc(`words\n\n${header}`), BROKER_MARKER, BROKER_HEADER)).toThrow(/no table/);
    expect(() => tableAfter('no marker here', BROKER_MARKER, BROKER_HEADER)).toThrow(/no ".*" marker/);
  });
});
