// Smoke check of `npm run bench:audit-line -- --quick`: it runs and prints one figure per case.
// Speed is never asserted; the figures are for test/bench/results/audit-line.md.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

it('npm run bench:audit-line -- --quick prints a row per case, each with a figure per run', async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', 'test/bench/audit-line.ts', '--quick'],
    { cwd: ROOT, timeout: 120_000 },
  );
  const rows = stdout.split('\n').filter((line) => /^\| (keyhole|pino)/.test(line));
  expect(rows.map((row) => row.split('|')[1]!.trim())).toEqual(['keyhole', 'keyhole-whole-line', 'pino-default']);
  for (const row of rows) expect(row).toMatch(/^\| [\w-]+ \| -?\d+\.\d \| -?\d+\.\d \|$/);
}, 130_000);
