// Runs the `keyhole` command as its own process (the TypeScript source, through tsx), as a user
// would: real exit statuses, stdout and stderr piped (not a TTY).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../client/cli/main.ts', import.meta.url));
// The tsx loader by absolute URL: the CLI runs in a scratch directory, outside the repository.
const TSX = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href;

export interface CliResult {
  readonly code: number;
  /** Read as latin1, one character per byte, so stray control bytes show. */
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `keyhole args…` in `cwd` with the test's environment plus `env`. */
export function runKeyhole(cwd: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', TSX, MAIN, ...args],
      {
        cwd,
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
        encoding: 'buffer',
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({
          code: typeof code === 'number' ? code : 1,
          stdout: stdout.toString('latin1'),
          stderr: stderr.toString(),
        });
      },
    );
  });
}
