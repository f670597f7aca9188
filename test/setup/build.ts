// Builds dist/ when a build output is missing: `npm ci` no longer builds (the build runs at `npm pack`,
// see package.json "prepack"), and some tests run the built broker (dist/server/main.js) or import the
// package by its name (client/amplify/example/). An existing build is left alone, even if stale, so a test run never
// rewrites the files a running `npm start` serves; `npm start` rebuilds stale builds itself.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OUTPUTS } from '../../infra/local/stale-build.mjs';

/** The first build output missing under `root`, or undefined when all are there. */
export function missingOutput(root: string): string | undefined {
  return OUTPUTS.find((output) => !existsSync(join(root, output)));
}

export default function setup(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const missing = missingOutput(root);
  if (missing === undefined) return;
  process.stderr.write(`[test setup] building (${missing} is missing)\n`);
  const run = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (run.status !== 0)
    throw new Error(`npm run build failed (exit ${run.status ?? run.signal}); see its output above`);
}
