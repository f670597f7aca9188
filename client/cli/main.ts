#!/usr/bin/env node
// The `keyhole` command: upload, download, list and delete through the broker. See `keyhole --help`.
import { run, type Io } from './run.js';

// The SDK warns on every run that its releases after January 2027 need Node 22. This package pins
// its SDK version, so the warning says nothing about this command, and on stderr it would bury the
// command's own output. The README states the Node requirement.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const controller = new AbortController();
let interrupts = 0;
process.on('SIGINT', () => {
  // First Ctrl-C stops the transfers (a large file is kept on S3 to resume, others are aborted); a
  // second one quits at once.
  if (++interrupts > 1) process.exit(130);
  controller.abort();
});
// `keyhole reconcile` is for operators: it runs with the broker's settings, not a user's sign-in.
if (process.argv[2] === 'reconcile') {
  // Loaded by a computed path: the broker's code (dist/server) is not part of the CLI's own build.
  const serverModule = '../../server/reconcile-cli.js';
  const { reconcileCommand } = (await import(serverModule)) as {
    reconcileCommand(argv: readonly string[], io: Pick<Io, 'stdout' | 'stderr' | 'env'>): Promise<number>;
  };
  process.exitCode = await reconcileCommand(process.argv.slice(3), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
  });
} else {
  process.exitCode = await run(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    signal: controller.signal,
  });
}
