// test/setup/build.ts: `npm ci` no longer builds (package.json has "prepack", no "prepare"), so the
// test setup builds when an output is missing, and only then (a stale build under `npm start` stays).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OUTPUTS } from '../../infra/local/stale-build.mjs';
import { missingOutput } from '../setup/build.js';

const root = mkdtempSync(join(tmpdir(), 'keyhole-setup-build-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('test setup: build only when an output is missing', () => {
  it('names the first missing output, then none once all exist (however old)', () => {
    expect(missingOutput(root)).toBe(OUTPUTS[0]);
    for (const output of OUTPUTS.slice(0, -1)) {
      mkdirSync(dirname(join(root, output)), { recursive: true });
      writeFileSync(join(root, output), '');
    }
    expect(missingOutput(root)).toBe(OUTPUTS.at(-1));
    mkdirSync(dirname(join(root, OUTPUTS.at(-1)!)), { recursive: true });
    writeFileSync(join(root, OUTPUTS.at(-1)!), '');
    expect(missingOutput(root)).toBeUndefined();
  });

  it('the package builds at pack time, not at install: prepack, no prepare; every test config runs the setup', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(pkg.scripts.prepare).toBeUndefined();
    expect(pkg.scripts.prepack).toBe('npm run build');
    for (const config of ['vitest.config.ts', 'vitest.stack.config.ts', 'vitest.unit.config.ts']) {
      expect(readFileSync(new URL(`../../${config}`, import.meta.url), 'utf8'), config).toContain(
        "'test/setup/build.ts'",
      );
    }
  });
});
