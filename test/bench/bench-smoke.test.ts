// Smoke check of `npm run bench -- --quick`: the three result files appear and are well formed,
// and the request/STS counts (which do not depend on speed) are exact. Speed is never asserted.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isBusyRun } from './conditions.js';
import { assertRecords, type BenchRecord } from './record.js';
import { median } from './stats.js';
import { QUICK } from './workloads.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'keyhole-bench-'));
let records: BenchRecord[];
let stdout: string;

beforeAll(async () => {
  ({ stdout } = await promisify(execFile)(
    process.execPath,
    // --allow-busy: the rest of the suite runs alongside; this checks the files, not the figures.
    ['--import', 'tsx', 'test/bench/run.ts', '--quick', '--skip-browser', '--allow-busy', '--out', out],
    { cwd: ROOT, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 },
  ));
  const parsed: unknown = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8'));
  assertRecords(parsed);
  records = parsed;
}, 250_000);

afterAll(() => rmSync(out, { recursive: true, force: true }));

const cell = (workload: string, strategy: string) => {
  const r = records.find((x) => x.workload === workload && x.strategy === strategy);
  if (!r) throw new Error(`no record for ${workload} × ${strategy}`);
  return r;
};
const small = QUICK.find((w) => w.role === 'small-upload')!;
const large = QUICK.find((w) => w.role === 'large-upload')!;

describe('npm run bench -- --quick', () => {
  it('prints the concurrency and part size it used', () => {
    expect(stdout).toContain(
      `${small.name}: ${small.count} × 16384 B; concurrency 16 objects × 1 parts; part size 8 MiB`,
    );
  });

  it('writes one record per workload × strategy, plus the two broker-capacity cases, each with 3 runs', () => {
    const expected = [
      ...QUICK.flatMap((w) => w.strategies.map((s) => `${w.name}|${s}`)),
      'broker-credentials|same-subject (cache hit)',
      'broker-credentials|distinct subjects',
    ];
    expect(records.map((r) => `${r.workload}|${r.strategy}`)).toEqual(expected);
    for (const r of records) expect(r.runs.length).toBe(3);
  });

  it('counts app-server requests and STS calls exactly', () => {
    expect(cell(small.name, 'keyhole').runs.map((r) => [r.appRequests, r.stsCalls])).toEqual([
      [1, 1],
      [1, 1],
      [1, 1],
    ]);
    expect(cell(small.name, 'presigned-put').runs.map((r) => r.appRequests)).toEqual([200, 200, 200]);
    expect(cell(small.name, 'presigned-put-batch').runs.map((r) => r.appRequests)).toEqual([1, 1, 1]);
    expect(cell(small.name, 'presigned-post').runs.map((r) => r.appRequests)).toEqual([200, 200, 200]);
    expect(cell(small.name, 'direct').runs.map((r) => r.appRequests)).toEqual([0, 0, 0]);
    expect(cell(large.name, 'presigned-multipart').runs.map((r) => r.appRequests)).toEqual([2, 2, 2]);
    const distinct = cell('broker-credentials', 'distinct subjects');
    expect(distinct.runs.map((r) => [r.appRequests, r.stsCalls, r.errors])).toEqual([
      [150, 150, 0],
      [150, 150, 0],
      [150, 150, 0],
    ]);
    const hit = cell('broker-credentials', 'same-subject (cache hit)');
    expect(hit.runs.map((r) => [r.appRequests, r.stsCalls, r.errors])).toEqual([
      [500, 1, 0],
      [500, 1, 0],
      [500, 1, 0],
    ]);
  });

  it('records the load average before and after every transfer run, the slowest run, and flags busy runs', () => {
    const transfers = records.filter((x) => x.workload !== 'broker-credentials');
    const typical = median(transfers.flatMap((r) => r.runs.map((run) => run.loadBefore!)));
    for (const r of transfers) {
      for (const run of r.runs) {
        expect(run.loadBefore, `${r.workload} ${r.strategy}`).toBeTypeOf('number');
        expect(run.loadAfter).toBeTypeOf('number');
        expect(run.busy === true).toBe(isBusyRun(run.loadBefore!, typical));
      }
      expect(r.max!.seconds).toBe(Math.max(...r.runs.map((x) => x.seconds)));
      expect(r.busyRuns ?? 0).toBe(r.runs.filter((x) => x.busy).length);
    }
    expect(stdout).toContain(`bench: results go to ${out}`);
    expect(stdout).toMatch(/ load \d+(\.\d+)? → \d+(\.\d+)?/);
  });

  it('reports per-object latency for multi-object workloads only', () => {
    expect(Object.keys(cell(small.name, 'keyhole').latencyMs ?? {})).toEqual(['p50', 'p99']);
    expect(cell(large.name, 'keyhole').latencyMs).toBe(undefined);
  });

  it('writes a Markdown table with a row per record and the target checks', () => {
    const md = readFileSync(join(out, 'latest.md'), 'utf8');
    expect(md).toContain('| Workload | Strategy | Concurrency (objects × parts) | Part MiB | Median s | Min s |');
    for (const w of QUICK) for (const s of w.strategies) expect(md).toContain(`| ${w.name} | ${s} |`);
    expect(md).toContain('| same-subject (cache hit) | 16 | 500 |');
    expect(md).toContain('| small uploads: keyhole ≥ 1.25 × presigned-put (objects/s) |');
  });

  it('writes an SVG bar chart with one bar per upload/download record and one label per workload', () => {
    const svg = readFileSync(join(out, 'latest.svg'), 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    const bars = QUICK.reduce((n, w) => n + w.strategies.length, 0);
    expect(svg.match(/<rect [^>]*><title>/g)?.length).toBe(bars);
    for (const w of QUICK) expect(svg).toContain(`>${w.name} (`);
  });
});
