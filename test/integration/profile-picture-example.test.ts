// The "profile picture" example (server/examples/profile-picture/app.ts, README "After the upload")
// runs as written: `npm run example:profile-picture` against the local stack. Upload, rules, signed
// webhook, and the app's record, for an accepted picture and two rejected uploads.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ENV_FILE } from '../helpers/stack.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));

describe('npm run example:profile-picture', () => {
  it('shows the verdicts in words, and the app points the record at the accepted picture only', () => {
    const run = spawnSync('npm', ['run', '--silent', 'example:profile-picture'], {
      cwd: repo,
      env: { ...process.env, KEYHOLE_ENV_FILE: ENV_FILE, PROFILE_USER: 'pp-example' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    const accepted = /^app: pp-example\.avatarKey = (users\/dev-pp-example\/avatars\/\d+-0\.png)$/.exec(lines[1]!);
    expect(lines[0]).toBe('page: uploaded a 1×1 PNG: accepted');
    expect(accepted, lines[1]).not.toBeNull();
    const key = accepted![1]!;
    expect(lines.slice(2)).toEqual([
      'page: uploaded a text file named .png: rejected: not an image',
      expect.stringMatching(
        new RegExp(
          `^app: pp-example\\.avatarKey = ${key} \\(last rejected: users/dev-pp-example/avatars/\\d+-1\\.png: type_mismatch\\)$`,
        ),
      ),
      'page: uploaded an 11 MiB PNG: rejected: larger than 10 MiB',
      expect.stringMatching(
        new RegExp(
          `^app: pp-example\\.avatarKey = ${key} \\(last rejected: users/dev-pp-example/avatars/\\d+-2\\.png: too_large\\)$`,
        ),
      ),
    ]);
  });
});
