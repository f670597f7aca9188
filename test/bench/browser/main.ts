// The browser half of `npm run bench` on its own (the Node workloads skipped), against the running
// local stack (it does not start it), writing browser.{json,md} as `npm run bench` does:
//   node --import tsx test/bench/browser/main.ts [--quick] [--reps N] [--out DIR] [--skip-file-heap]
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ownerS3, stack } from '../../helpers/stack.js';
import { createBenchIssuer } from '../auth.js';
import { assertRecords } from '../record.js';
import { BROWSER_FULL, BROWSER_QUICK, checkBrowserTargets, renderBrowserMarkdown, runBrowserBench } from './bench.js';
import { measureFileUploadHeap } from './file-heap.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    reps: { type: 'string' },
    'skip-file-heap': { type: 'boolean', default: false },
  },
});
const quick = args.quick === true;
const reps = Number(args.reps ?? (quick ? 3 : 5));
const outDir = args.out ?? join(ROOT, 'test/bench/results');
const log = (line: string) => process.stdout.write(line + '\n');
const owner = ownerS3();
const s = stack();
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function deletePrefix(prefix: string): Promise<number> {
  let deleted = 0;
  for (;;) {
    const page = await owner.send(new ListObjectsV2Command({ Bucket: s.bucket, Prefix: prefix, MaxKeys: 1000 }));
    const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (keys.length === 0) return deleted;
    await owner.send(new DeleteObjectsCommand({ Bucket: s.bucket, Delete: { Objects: keys, Quiet: true } }));
    deleted += keys.length;
  }
}

async function main(): Promise<void> {
  const issuer = await createBenchIssuer();
  const workloads = quick ? BROWSER_QUICK : BROWSER_FULL;
  const loadBefore = load();
  log(`bench (browser only): ${quick ? 'QUICK' : 'FULL'} mode, ${reps} runs per cell; load average ${loadBefore}`);
  for (const w of workloads) {
    log(
      `  ${w.name}: ${w.count} × ${w.sizeBytes} B; ${w.shape.objectConcurrency} objects in flight; strategies ${w.strategies.join(', ')}`,
    );
  }
  const { records, browser } = await runBrowserBench({ issuer, workloads, reps, log, deletePrefix });
  assertRecords(records);
  const fileHeap =
    quick || args['skip-file-heap'] === true
      ? undefined
      : await measureFileUploadHeap({ issuer, sizeBytes: 1024 * 1024 * 1024, log, deletePrefix });
  const cpus = os.cpus();
  let ceph = 'Ceph RGW';
  try {
    ceph = execFileSync('radosgw', ['--version'], { encoding: 'utf8' }).trim().split(' (')[0]!;
  } catch {
    // Left generic.
  }
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'browser.json'), JSON.stringify(records, null, 2) + '\n');
  const distro = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os.type();
  writeFileSync(
    join(outDir, 'browser.md'),
    renderBrowserMarkdown(records, {
      date: new Date().toISOString(),
      mode: quick ? 'quick' : 'full',
      repetitions: reps,
      machine: `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB RAM, ${distro}, load average at start ${loadBefore}, at end ${load()} (shared with other jobs)`,
      software: `Node ${process.version}, ${ceph} (single node, loopback), @aws-sdk/* 3.1163.0, ${browser}`,
      ...(fileHeap ? { fileHeap } : {}),
    }),
  );
  for (const t of checkBrowserTargets(records))
    log(`  target: ${t.target}: ${t.value} ${t.met === false ? 'MISSED' : t.met ? 'met' : ''}`);
  log(`bench: wrote ${join(outDir, 'browser.{json,md}')}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`browser bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
