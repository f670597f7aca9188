// Renders results as a Markdown table (with the target checks) and a hand-written SVG bar chart.
import type { BenchRecord } from './record.js';
import type { Role } from './workloads.js';

export interface Meta {
  readonly date: string;
  readonly mode: 'full' | 'quick';
  readonly repetitions: number;
  readonly machine: string;
  readonly software: string;
  readonly roles: Readonly<Record<string, Role>>;
  readonly notes: readonly string[];
}

export interface TargetCheck {
  readonly target: string;
  readonly value: string;
  readonly met: boolean | undefined;
}

const fmt = (n: number | undefined, digits = 1) => (n === undefined || Number.isNaN(n) ? '–' : n.toFixed(digits));
const MiB = 1024 * 1024;

function find(records: readonly BenchRecord[], meta: Meta, role: Role, strategy: string): BenchRecord | undefined {
  return records.find((r) => meta.roles[r.workload] === role && r.strategy === strategy);
}

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

export function checkTargets(records: readonly BenchRecord[], meta: Meta): TargetCheck[] {
  const out: TargetCheck[] = [];
  const big = (s: string) => find(records, meta, 'large-upload', s)?.median.mibPerS;
  const small = (s: string) => find(records, meta, 'small-upload', s)?.median.objPerS;
  const check = (target: string, r: number | undefined, min: number) =>
    out.push({
      target,
      value: r === undefined ? '–' : `${r.toFixed(2)}×`,
      met: r === undefined ? undefined : r >= min,
    });
  check('large upload: keyhole ≥ 0.95 × direct (MiB/s)', ratio(big('keyhole'), big('direct')), 0.95);
  check('large upload: keyhole ≥ 1.0 × presigned-multipart', ratio(big('keyhole'), big('presigned-multipart')), 1);
  check(
    'small uploads: keyhole ≥ 1.25 × presigned-put (objects/s)',
    ratio(small('keyhole'), small('presigned-put')),
    1.25,
  );
  check(
    'small uploads: keyhole ≥ 1.1 × presigned-post (objects/s)',
    ratio(small('keyhole'), small('presigned-post')),
    1.1,
  );
  // Keyhole's app requests are per session, not per object, so they are not scaled: the check is
  // on the count measured for the whole small-upload workload (1000 objects in a full run).
  for (const s of ['keyhole', 'presigned-put', 'presigned-post']) {
    const r = find(records, meta, 'small-upload', s);
    if (!r) continue;
    const n = r.params.objects ?? 0;
    const keyhole = s === 'keyhole';
    out.push({
      target: `app-server requests for ${n} small uploads, ${s}: ${keyhole ? '≤ 2' : `≥ ${n}`} (app CPU alongside)`,
      value: `${r.appRequests} requests, ${r.appCpuMs.toFixed(0)} CPU ms`,
      met: keyhole ? r.appRequests <= 2 : r.appRequests >= n,
    });
  }
  return out;
}

// Where the CPU goes for small uploads, per object: on one small machine the client, the app
// server and RGW share the cores, so every millisecond an app request costs is taken from RGW.
function cpuBreakdown(records: readonly BenchRecord[], meta: Meta): string[] {
  const rows = records.filter((r) => meta.roles[r.workload] === 'small-upload');
  const direct = rows.find((r) => r.strategy === 'direct');
  if (!direct || rows.length === 0) return [];
  const perObject = (r: BenchRecord, k: 'clientCpuMs' | 'appCpuMs' | 'rgwCpuMs' | 'osdCpuMs') => {
    const values = r.runs.map((run) => run[k]).filter((v): v is number => v !== undefined);
    if (values.length === 0) return undefined;
    const sorted = values.sort((a, b) => a - b);
    return sorted[sorted.length >> 1]! / (r.params.objects ?? 1);
  };
  const out = [
    '',
    `## Where the CPU goes: ${rows[0]!.workload}, milliseconds per object (medians)`,
    '',
    '| Strategy | Objects/s | vs direct | Client | App server | radosgw | ceph-osd |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    out.push(
      `| ${r.strategy} | ${fmt(r.median.objPerS)} | ${fmt(ratio(r.median.objPerS, direct.median.objPerS), 2)}× | ${fmt(perObject(r, 'clientCpuMs'), 2)} | ${fmt(perObject(r, 'appCpuMs'), 2)} | ${fmt(perObject(r, 'rgwCpuMs'), 2)} | ${fmt(perObject(r, 'osdCpuMs'), 2)} |`,
    );
  }
  const keyhole = rows.find((r) => r.strategy === 'keyhole');
  const presigned = rows.filter((r) => r.strategy.startsWith('presigned-'));
  const best = [...presigned].sort((a, b) => (b.median.objPerS ?? 0) - (a.median.objPerS ?? 0))[0];
  if (keyhole && best) {
    const share = (r: BenchRecord) => fmt(ratio(r.median.objPerS, direct.median.objPerS), 2);
    out.push(
      '',
      `Direct is the AWS SDK with static keys and no app server: the ceiling for an SDK client such as Keyhole, which reached ${share(keyhole)}× of it. ` +
        `It is no ceiling for presigned URLs, whose requests skip the SDK's per-request work (middleware, SigV4 over the body's SHA-256; see the Client column): ` +
        `${presigned.map((r) => `${r.strategy} ${share(r)}×`).join(', ')}. ` +
        'Where the app server runs on other machines than the client and the store, its CPU no longer competes with RGW; what remains is one extra round trip per object, or per batch (see p50/p99).',
    );
  }
  return out;
}

/** "k of n" busy runs, or "0 of n"; "–" for results recorded without load averages. */
function busyCell(r: BenchRecord): string {
  if (!r.runs.some((run) => run.loadBefore !== undefined)) return '–';
  return `${r.busyRuns ?? 0} of ${r.runs.length}`;
}

export function renderMarkdown(records: readonly BenchRecord[], meta: Meta): string {
  const lines: string[] = [];
  lines.push(`# Keyhole vs presigned URLs: benchmark results`, '');
  lines.push(
    `Run ${meta.date}, mode **${meta.mode}**, ${meta.repetitions} runs per cell, interleaved round-robin.`,
    '',
  );
  lines.push(`- Machine: ${meta.machine}`, `- Software: ${meta.software}`);
  for (const n of meta.notes) lines.push(`- ${n}`);
  lines.push('', '![throughput chart](latest.svg)', '');
  lines.push(
    '| Workload | Strategy | Concurrency (objects × parts) | Part MiB | Median s | Min s | Max s | MiB/s | Objects/s | App requests | App CPU ms | STS calls | p50 ms | p99 ms | vs direct | Busy runs |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const r of records.filter((x) => meta.roles[x.workload])) {
    const direct = records.find((x) => x.workload === r.workload && x.strategy === 'direct');
    const rate = (t: BenchRecord) => (meta.roles[t.workload] === 'small-upload' ? t.median.objPerS : t.median.mibPerS);
    const vs = direct ? ratio(rate(r), rate(direct)) : undefined;
    lines.push(
      `| ${r.workload} | ${r.strategy} | ${r.params.objectConcurrency} × ${r.params.queueSize} | ${(r.params.partSizeBytes ?? 0) / MiB} | ${fmt(r.median.seconds, 2)} | ${fmt(r.min.seconds, 2)} | ${fmt(r.max?.seconds, 2)} | ${fmt(r.median.mibPerS)} | ${fmt(r.median.objPerS)} | ${r.appRequests} | ${fmt(r.appCpuMs, 0)} | ${r.stsCalls} | ${fmt(r.latencyMs?.p50)} | ${fmt(r.latencyMs?.p99)} | ${vs === undefined ? '–' : `${vs.toFixed(2)}×`} | ${busyCell(r)} |`,
    );
  }
  const busy = records.filter((r) => (r.busyRuns ?? 0) > 0);
  if (busy.length > 0) {
    lines.push(
      '',
      `**Busy runs:** ${busy.map((r) => `${r.workload} ${r.strategy} ${busyCell(r)}`).join(', ')} started with the load average above the core count and well above the bench's own: other work competed with them, so their times are less trustworthy.`,
    );
  }
  const capacity = records.filter((x) => !meta.roles[x.workload]);
  if (capacity.length > 0) {
    lines.push('', '## Broker capacity: `POST /v1/credentials` (autocannon)', '');
    lines.push(
      '| Case | Connections | Requests per run | Median req/s | Best req/s | p50 ms | p99 ms | Broker CPU ms | STS calls |',
      '|---|---|---|---|---|---|---|---|---|',
    );
    for (const r of capacity) {
      lines.push(
        `| ${r.strategy} | ${r.params.connections} | ${r.params.requests} | ${fmt(r.median.reqPerS, 0)} | ${fmt(r.min.reqPerS, 0)} | ${fmt(r.latencyMs?.p50)} | ${fmt(r.latencyMs?.p99)} | ${fmt(r.appCpuMs, 0)} | ${r.stsCalls} |`,
      );
    }
  }
  lines.push(...cpuBreakdown(records, meta));
  lines.push('', '## Targets (ratios of medians within this run)', '', '| Target | Measured | Met |', '|---|---|---|');
  for (const t of checkTargets(records, meta)) {
    lines.push(`| ${t.target} | ${t.value} | ${t.met === undefined ? '–' : t.met ? 'yes' : '**no**'} |`);
  }
  lines.push('');
  return lines.join('\n');
}

const COLORS: Record<string, string> = {
  direct: '#6b7280',
  keyhole: '#2563eb',
  'presigned-put': '#f59e0b',
  'presigned-put-batch': '#fbbf24',
  'presigned-post': '#d97706',
  'presigned-multipart': '#b45309',
  'presigned-get': '#f59e0b',
};

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** One group per workload; bar height is the median rate as a percentage of direct (the ceiling). */
export function renderSvg(records: readonly BenchRecord[], meta: Meta): string {
  const groups = [...new Set(records.filter((r) => meta.roles[r.workload]).map((r) => r.workload))];
  const bar = 34;
  const gap = 6;
  const groupGap = 40;
  const top = 60;
  const plotH = 260;
  const left = 60;
  const maxPct = 125;
  const widths = groups.map((g) => records.filter((r) => r.workload === g).length * (bar + gap));
  const width = left + widths.reduce((a, b) => a + b + groupGap, 0) + 20;
  const height = top + plotH + 120;
  const y = (pct: number) => top + plotH - (Math.min(pct, maxPct) / maxPct) * plotH;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${left}" y="22" font-size="15" font-weight="bold">Keyhole vs presigned URLs: median throughput, % of direct (static keys, no broker)</text>`,
    `<text x="${left}" y="40" fill="#555">${esc(`${meta.mode} run, ${meta.date}, ${meta.repetitions} runs per bar, whiskers from the slowest to the fastest run; labels are MiB/s or objects/s`)}</text>`,
  );
  for (const pct of [0, 25, 50, 75, 100, 125]) {
    out.push(
      `<line x1="${left}" x2="${width - 10}" y1="${y(pct)}" y2="${y(pct)}" stroke="${pct === 100 ? '#999' : '#e5e7eb'}"${pct === 100 ? ' stroke-dasharray="4 3"' : ''}/>`,
      `<text x="${left - 6}" y="${y(pct) + 4}" text-anchor="end" fill="#555">${pct}%</text>`,
    );
  }
  let x = left + 10;
  for (const [gi, g] of groups.entries()) {
    const rows = records.filter((r) => r.workload === g);
    const direct = rows.find((r) => r.strategy === 'direct');
    const perObject = meta.roles[g] === 'small-upload';
    const rate = (r: BenchRecord) => (perObject ? r.median.objPerS : r.median.mibPerS) ?? 0;
    const unit = perObject ? 'obj/s' : 'MiB/s';
    for (const [i, r] of rows.entries()) {
      const pct = direct ? (rate(r) / rate(direct)) * 100 : 0;
      const bx = x + i * (bar + gap);
      const color = COLORS[r.strategy] ?? '#888';
      out.push(
        `<rect x="${bx}" y="${y(pct)}" width="${bar}" height="${top + plotH - y(pct)}" fill="${color}"><title>${esc(`${g} ${r.strategy}: ${rate(r).toFixed(1)} ${unit} (${pct.toFixed(0)}% of direct)`)}</title></rect>`,
        `<text x="${bx + bar / 2}" y="${y(pct) - 4}" text-anchor="middle" font-size="10">${rate(r).toFixed(rate(r) >= 100 ? 0 : 1)}</text>`,
        `<text transform="translate(${bx + bar / 2},${top + plotH + 8}) rotate(40)" font-size="10">${esc(r.strategy)}</text>`,
      );
      // Error bar: from the slowest run's rate to the fastest's, on the same scale.
      const spread = (t: BenchRecord['min'] | undefined) =>
        t && direct ? (((perObject ? t.objPerS : t.mibPerS) ?? 0) / rate(direct)) * 100 : undefined;
      const [lo, hi] = [spread(r.max), spread(r.min)];
      if (lo !== undefined && hi !== undefined) {
        out.push(
          `<line class="spread" x1="${bx + bar / 2}" x2="${bx + bar / 2}" y1="${y(lo)}" y2="${y(hi)}" stroke="#111" stroke-width="1.5"/>`,
          `<line x1="${bx + bar / 2 - 5}" x2="${bx + bar / 2 + 5}" y1="${y(lo)}" y2="${y(lo)}" stroke="#111"/>`,
          `<line x1="${bx + bar / 2 - 5}" x2="${bx + bar / 2 + 5}" y1="${y(hi)}" y2="${y(hi)}" stroke="#111"/>`,
        );
      }
    }
    out.push(
      `<text x="${x + widths[gi]! / 2}" y="${top + plotH + 108}" text-anchor="middle" font-weight="bold">${esc(`${g} (${unit})`)}</text>`,
    );
    x += widths[gi]! + groupGap;
  }
  out.push('</svg>', '');
  return out.join('\n');
}
