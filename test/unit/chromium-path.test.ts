// The one place that finds the test browser (test/helpers/chromium.ts): KEYHOLE_CHROMIUM, then
// Debian's /usr/bin/chromium, and a clear error naming the variable when there is none.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, chromiumPath, DEBIAN_CHROMIUM } from '../helpers/chromium.js';

const dir = mkdtempSync(join(tmpdir(), 'keyhole-chromium-'));
const browser = join(dir, 'chrome');
writeFileSync(browser, '#!/bin/sh\n');
chmodSync(browser, 0o755);
const notExecutable = join(dir, 'readme.txt');
writeFileSync(notExecutable, 'not a browser');
chmodSync(notExecutable, 0o644);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('chromiumPath', () => {
  it('takes KEYHOLE_CHROMIUM first, even when Debian’s Chromium exists', () => {
    expect(chromiumPath({ KEYHOLE_CHROMIUM: browser }, [process.execPath])).toBe(browser);
  });

  it('falls back to the first candidate that exists, Debian’s path by default', () => {
    expect(chromiumPath({}, [join(dir, 'missing'), browser])).toBe(browser);
    expect(DEBIAN_CHROMIUM).toBe('/usr/bin/chromium');
  });

  it.each([
    [join(dir, 'missing'), 'missing'],
    [notExecutable, 'not executable'],
    [dir, 'a folder'],
  ])('refuses KEYHOLE_CHROMIUM=%s (%s), naming the variable', (path) => {
    expect(() => chromiumPath({ KEYHOLE_CHROMIUM: path }, [browser])).toThrow(
      `KEYHOLE_CHROMIUM: "${path}" is not an executable file; set it to a Chromium or Chrome binary`,
    );
  });

  it('without any browser, says where it looked and names KEYHOLE_CHROMIUM', () => {
    const missing = join(dir, 'no-chromium');
    expect(() => chromiumPath({ KEYHOLE_CHROMIUM: '' }, [missing])).toThrow(
      `no Chromium at ${missing}: install Debian's chromium (apt-get install chromium), or set KEYHOLE_CHROMIUM to a Chromium or Chrome binary`,
    );
  });

  it('launch flags keep Chromium off the network it cannot reach', () => {
    expect(CHROMIUM_ARGS).toEqual(expect.arrayContaining(['--headless', '--disable-background-networking']));
  });
});
