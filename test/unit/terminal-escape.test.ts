// What the CLI prints for keys, file names and server text: nothing that a terminal would act on.
import { describe, expect, it } from 'vitest';
import { escapeForTerminal, terminalSafeJson } from '../../client/format.js';

describe('escapeForTerminal', () => {
  it.each([
    ['notes.txt', 'notes.txt'],
    ['ünïcødé ✓ 😀.txt', 'ünïcødé ✓ 😀.txt'],
    ['', ''],
    // OSC 0 (set the window title), ended by BEL, then an 8-bit CSI "clear screen".
    ['evil\x1b]0;pwned\x07\u009b2J.txt', 'evil\\x1b]0;pwned\\x07\\u009b2J.txt'],
    ['\x1b[2J\x1b[H', '\\x1b[2J\\x1b[H'],
    ['a\nb\tc\rd', 'a\\x0ab\\x09c\\x0dd'],
    ['\x00\x1f\x7f', '\\x00\\x1f\\x7f'],
    ['\u0080\u0085\u009f', '\\u0080\\u0085\\u009f'],
    // Just outside the ranges: printed as they are.
    ['\x20~\u00a0\u00ff', ' ~\u00a0\u00ff'],
    ['line\u2028para\u2029', 'line\\u2028para\\u2029'],
    // Bidi controls: "txt.exe" with RLO would show as "exe.txt".
    ['invoice\u202etxt.exe', 'invoice\\u202etxt.exe'],
    ['\u202a\u202b\u202c\u202d', '\\u202a\\u202b\\u202c\\u202d'],
    ['\u2066\u2067\u2068\u2069', '\\u2066\\u2067\\u2068\\u2069'],
    ['\u061c\u200e\u200f', '\\u061c\\u200e\\u200f'],
    // A backslash is doubled, so a key really named `a\x1b` cannot pass for an escaped ESC.
    ['a\\x1b', 'a\\\\x1b'],
    ['C:\\dir', 'C:\\\\dir'],
  ])('%j -> %j', (raw, shown) => {
    expect(escapeForTerminal(raw)).toBe(shown);
  });

  it('leaves no C0, DEL, C1, separator or bidi control in any output', () => {
    let all = '';
    for (let c = 0; c <= 0x2100; c++) all += String.fromCharCode(c);
    const out = escapeForTerminal(all);
    expect(out).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
  });
});

describe('terminalSafeJson', () => {
  it('escapes DEL, C1, separators and bidi controls as \\u, which parse back to the same value', () => {
    const value = { key: 'evil\x1b]0;pwned\x07\u009b2J\u202e\u2028\x7f\\.txt', size: 1 };
    const json = terminalSafeJson(value);
    expect(json).toBe('{"key":"evil\\u001b]0;pwned\\u0007\\u009b2J\\u202e\\u2028\\u007f\\\\.txt","size":1}');
    expect(JSON.parse(json)).toEqual(value);
  });

  it('is JSON.stringify for ordinary values', () => {
    const value = { uploaded: [{ file: 'ünï "q".txt', size: 24 }], error: null };
    expect(terminalSafeJson(value)).toBe(JSON.stringify(value));
  });
});
