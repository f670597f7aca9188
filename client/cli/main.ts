#!/usr/bin/env node
// The `keyhole` command: upload, download, list and delete through the broker. See `keyhole --help`.
import { run } from './run.js';

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
process.exitCode = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: controller.signal,
});
