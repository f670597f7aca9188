#!/usr/bin/env node
// The `keyhole` command: upload, download, list and delete through the broker. See `keyhole --help`.
import { run } from './run.js';

const controller = new AbortController();
let interrupts = 0;
process.on('SIGINT', () => {
  // First Ctrl-C aborts the transfer (and its multipart upload on S3); a second one quits at once.
  if (++interrupts > 1) process.exit(130);
  controller.abort();
});
process.exitCode = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: controller.signal,
});
