// client/amplify/example (issue 17, point 4): the README's Amplify example runs as written against the local
// stack with `npm run example:amplify` (its own broker with Amplify's key layout, on a free port), it
// type-checks, the README shows the same code, and with the default grant the error names the
// missing access instead of a bare AccessDenied.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { stack } from '../helpers/stack.js';

const repo = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

function example(env: Record<string, string> = {}) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'KEYHOLE_GRANTS'));
  return spawnSync('npm', ['run', '--silent', 'example:amplify'], {
    cwd: repo,
    env: { ...clean, ...env },
    encoding: 'utf8',
    timeout: 400_000,
  });
}

describe('client/amplify/example: the README Amplify example against the local stack', { timeout: 450_000 }, () => {
  it('npm run example:amplify uploads (small and multipart), downloads, lists and removes', () => {
    const run = example();
    expect(run.status, run.stdout + run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toContain('hello');
    expect(run.stdout).toMatch(/\[ 'private\/[^/']+\/hello\.txt' \]/);
    expect(lines.at(-1)).toMatch(/^private\/[^/]+\/big\.bin$/);
    expect(run.stderr).toContain("[example] broker with Amplify's key layout on http://127.0.0.1:");
    expect(run.stderr).toContain('[example] done');
  });

  it('with the default grant (users/{sub}/), the error names the path, the missing access and the grant', () => {
    const grants = [
      { bucket: stack().bucket, scopes: [{ prefix: 'users/{sub}/', access: ['read', 'write', 'list', 'delete'] }] },
    ];
    const run = example({ KEYHOLE_GRANTS: JSON.stringify(grants) });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(
      /AccessDenied: access denied: uploadData "private\/([^/"]+)\/hello\.txt" needs write; your Keyhole grant gives no access there\. The grant allows: users\/\1\/ \(read, write, list, delete\)/,
    );
    expect(run.stderr).toContain("Grant Amplify's key layout");
  });

  it('type-checks as an app would (keyhole/amplify by its package name, no casts on customEndpoint)', () => {
    const tsc = join(repo, 'node_modules/typescript/bin/tsc');
    const out = spawnSync(process.execPath, [tsc, '-p', 'client/amplify/example'], { cwd: repo, encoding: 'utf8' });
    expect(out.stdout + out.stderr).toBe('');
    expect(out.status).toBe(0);
  });

  it('the README shows the example’s code as it is', () => {
    const app = readFileSync(join(repo, 'client/amplify/example/app.ts'), 'utf8');
    const body = app
      .slice(app.indexOf('// --- the README') + 1)
      .split('\n')
      .slice(1)
      .join('\n')
      .trim();
    const readme = readFileSync(join(repo, 'client/amplify/README.md'), 'utf8');
    const imports = app.split('\n').filter((l) => l.startsWith('import '));
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    const shown = blocks.filter((b) => b.includes(body) && imports.every((i) => b.includes(i)));
    expect(
      shown,
      'a client/amplify/README.md ts block with app.ts imports and code after "the README" marker',
    ).toHaveLength(1);
  });
});
