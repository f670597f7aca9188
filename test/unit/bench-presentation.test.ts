// Benchmark presentation (issue 17, point 16): results go to a temporary folder unless asked, only
// --publish overwrites the committed ones; a busy machine is detected; every row shows its spread
// (median, fastest, slowest), busy runs are counted and named, and the chart has min-max whiskers.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isBusy, isBusyRun, PUBLISHED_DIR, resolveOutDir } from '../bench/conditions.js';
import { assertRecords, type BenchRecord, type Run } from '../bench/record.js';
import { renderMarkdown, renderSvg, type Meta } from '../bench/report.js';

const run = (seconds: number, extra: Partial<Run> = {}): Run => ({
  seconds,
  objPerS: Math.round(1000 / seconds),
  appRequests: 2,
  appCpuMs: 10,
  stsCalls: 1,
  clientCpuMs: 100,
  ...extra,
});

function record(strategy: string, runs: Run[], busyRuns?: number): BenchRecord {
  const sorted = [...runs].sort((a, b) => a.seconds - b.seconds);
  const t = (r: Run) => ({ seconds: r.seconds, objPerS: r.objPerS! });
  return {
    workload: 'small',
    strategy,
    params: { objects: 1000, objectBytes: 16384, objectConcurrency: 16, queueSize: 1, partSizeBytes: 0 },
    runs,
    median: t(sorted[sorted.length >> 1]!),
    min: t(sorted[0]!),
    max: t(sorted.at(-1)!),
    ...(busyRuns ? { busyRuns } : {}),
    appRequests: 2,
    appCpuMs: 10,
    stsCalls: 1,
  };
}

const meta: Meta = {
  date: '2026-12-01T00:00:00.000Z',
  mode: 'quick',
  repetitions: 3,
  machine: 'test',
  software: 'test',
  roles: { small: 'small-upload' },
  notes: [],
};

describe('bench output folder', () => {
  it('a temporary folder by default; --out as given; --publish the committed results; not both', () => {
    expect(resolveOutDir({}, '/repo', () => '/tmp/keyhole-bench-x')).toBe('/tmp/keyhole-bench-x');
    expect(resolveOutDir({ out: '/somewhere' }, '/repo', () => 'unused')).toBe('/somewhere');
    expect(resolveOutDir({ publish: true }, '/repo', () => 'unused')).toBe(join('/repo', PUBLISHED_DIR));
    expect(PUBLISHED_DIR).toBe('test/bench/results');
    expect(() => resolveOutDir({ out: '/x', publish: true }, '/repo')).toThrow(
      /--out and --publish exclude each other/,
    );
  });

  it('the default temporary folder is a new one each time, outside the repository', () => {
    const a = resolveOutDir({}, '/repo');
    const b = resolveOutDir({}, '/repo');
    expect(a).not.toBe(b);
    expect(a.startsWith('/repo')).toBe(false);
    expect(a).toMatch(/keyhole-bench-/);
  });
});

describe('busy machine', () => {
  it('busy when the 1-minute load average exceeds the cores', () => {
    expect(isBusy(1.9, 2)).toBe(false);
    expect(isBusy(2, 2)).toBe(false);
    expect(isBusy(2.01, 2)).toBe(true);
    expect(isBusy(19, 2)).toBe(true);
  });

  it('a run is busy only above the cores and 1.5 × the bench’s own typical load', () => {
    expect(isBusyRun(3.5, 3, 2)).toBe(false); // the bench's own load
    expect(isBusyRun(4.6, 3, 2)).toBe(true);
    expect(isBusyRun(1.9, 0.5, 2)).toBe(false); // below the cores
    expect(isBusyRun(2.1, 0.5, 2)).toBe(true);
  });
});

describe('bench report: spread and busy runs', () => {
  const direct = record(
    'direct',
    [
      run(1.89, { loadBefore: 0.5, loadAfter: 1.2 }),
      run(2.2, { loadBefore: 0.7, loadAfter: 1.1 }),
      run(2.99, { loadBefore: 3.1, loadAfter: 3.5, busy: true }),
    ],
    1,
  );
  const keyhole = record('keyhole', [
    run(2.0, { loadBefore: 0.4, loadAfter: 1 }),
    run(2.1, { loadBefore: 0.6, loadAfter: 1 }),
    run(2.3, { loadBefore: 0.5, loadAfter: 1 }),
  ]);
  const records = [direct, keyhole];

  it('the table has Min s and Max s beside the median, and busy runs per row', () => {
    assertRecords(records);
    const md = renderMarkdown(records, meta);
    expect(md).toContain('| Median s | Min s | Max s |');
    const directRow = md.split('\n').find((l) => l.startsWith('| small | direct |'))!;
    expect(directRow).toContain('| 2.20 | 1.89 | 2.99 |');
    expect(directRow.trim().endsWith('| 1 of 3 |')).toBe(true);
    expect(
      md
        .split('\n')
        .find((l) => l.startsWith('| small | keyhole |'))!
        .trim()
        .endsWith('| 0 of 3 |'),
    ).toBe(true);
    expect(md).toContain(
      "**Busy runs:** small direct 1 of 3 started with the load average above the core count and well above the bench's own",
    );
  });

  it('older results without load averages or max still render (dashes), and validate', () => {
    const old = records.map(({ max: _max, busyRuns: _b, ...r }) => ({
      ...r,
      runs: r.runs.map(({ loadBefore: _l, loadAfter: _a, busy: _u, ...x }) => x),
    }));
    assertRecords(old);
    const md = renderMarkdown(old, meta);
    expect(md.split('\n').find((l) => l.startsWith('| small | direct |'))).toMatch(
      /\| 2\.20 \| 1\.89 \| – \|.*\| – \|$/,
    );
    expect(md).not.toContain('**Busy runs:**');
  });

  it('a malformed max is refused', () => {
    expect(() => assertRecords([{ ...direct, max: { seconds: 0, objPerS: 1 } }])).toThrow(
      /median\/min\.seconds must be > 0/,
    );
  });

  it('the chart draws a whisker from the slowest to the fastest run on each bar', () => {
    const svg = renderSvg(records, meta);
    const whiskers = [...svg.matchAll(/<line class="spread" [^>]*y1="([\d.]+)" y2="([\d.]+)"/g)];
    expect(whiskers).toHaveLength(2);
    // direct: slowest 2.99 s, fastest 1.89 s: a long whisker, the slowest lower on the chart (larger y).
    const [y1, y2] = whiskers[0]!.slice(1).map(Number);
    expect(y1!).toBeGreaterThan(y2!);
    expect(svg).toContain('whiskers from the slowest to the fastest run');
  });
});
