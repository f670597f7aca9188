// The shape of test/bench/results/latest.json: an array of these, one per workload × strategy.

export interface Throughput {
  readonly seconds: number;
  readonly mibPerS?: number;
  readonly objPerS?: number;
  /** Broker capacity records only: credential requests per second. */
  readonly reqPerS?: number;
}

export interface Run extends Throughput {
  readonly appRequests: number;
  readonly appCpuMs: number;
  readonly stsCalls: number;
  /** CPU of the bench process itself (the client side). */
  readonly clientCpuMs: number;
  /** CPU of radosgw during the run; other work on the machine can add to it. */
  readonly rgwCpuMs?: number;
  /** CPU of ceph-osd during the run; other work on the machine can add to it. */
  readonly osdCpuMs?: number;
  readonly latencyP50Ms?: number;
  readonly latencyP99Ms?: number;
  readonly errors?: number;
  /** 1-minute load average just before and just after the run (the bench's own load included). */
  readonly loadBefore?: number;
  readonly loadAfter?: number;
  /** How long the bench waited for radosgw and ceph-osd to go idle before the run, ms. */
  readonly settleMs?: number;
  /** The load average was above the core count when the run started: other work competed with it. */
  readonly busy?: boolean;
}

export interface BenchRecord {
  readonly workload: string;
  readonly strategy: string;
  readonly params: {
    readonly objects?: number;
    readonly objectBytes?: number;
    readonly objectConcurrency?: number;
    readonly queueSize?: number;
    readonly partSizeBytes?: number;
    readonly connections?: number;
    readonly requests?: number;
  };
  readonly runs: readonly Run[];
  /** Median over runs. */
  readonly median: Throughput;
  /** The fastest run. */
  readonly min: Throughput;
  /** The slowest run (absent in results recorded before it was kept). */
  readonly max?: Throughput;
  /** How many of the runs were busy (see Run.busy). */
  readonly busyRuns?: number;
  /** Medians over runs. */
  readonly appRequests: number;
  readonly appCpuMs: number;
  readonly stsCalls: number;
  /** Per object (per request for broker capacity), over all runs' objects together. */
  readonly latencyMs?: { readonly p50: number; readonly p99: number };
}

/** Throws unless `value` is a well-formed results array; used by the smoke test and before writing. */
export function assertRecords(value: unknown): asserts value is BenchRecord[] {
  const fail = (why: string): never => {
    throw new TypeError(`results are malformed: ${why}`);
  };
  if (!Array.isArray(value) || value.length === 0) fail('not a non-empty array');
  const isNum = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && n >= 0;
  for (const [i, r] of (value as Record<string, any>[]).entries()) {
    const at = `[${i}]`;
    if (typeof r.workload !== 'string' || typeof r.strategy !== 'string') fail(`${at} needs workload and strategy`);
    if (!Array.isArray(r.runs) || r.runs.length < 1) fail(`${at}.runs is empty`);
    for (const k of ['appRequests', 'appCpuMs', 'stsCalls']) if (!isNum(r[k])) fail(`${at}.${k} is not a number`);
    for (const t of [r.median, r.min, ...(r.max === undefined ? [] : [r.max])]) {
      if (!t || !isNum(t.seconds) || t.seconds <= 0) fail(`${at} median/min.seconds must be > 0`);
      if (t.mibPerS === undefined && t.objPerS === undefined && t.reqPerS === undefined) fail(`${at} has no rate`);
      for (const k of ['mibPerS', 'objPerS', 'reqPerS']) if (t[k] !== undefined && !isNum(t[k])) fail(`${at}.${k}`);
    }
  }
}
