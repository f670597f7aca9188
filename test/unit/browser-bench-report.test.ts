// The browser benchmark's target checks and report (test/bench/browser/bench.ts), on made-up
// records: the small-batch ratio, the web-app rows and targets, and the Amplify rows.
import { describe, expect, it } from 'vitest';
import { checkBrowserTargets, renderBrowserMarkdown, type BrowserRecord } from '../bench/browser/report.js';

const MiB = 1024 * 1024;

function rec(
  workload: string,
  strategy: string,
  rate: { mibPerS?: number; objPerS?: number },
  objects = 1,
): BrowserRecord {
  const seconds = 1;
  const t = { seconds, ...rate };
  return {
    workload,
    strategy,
    params: { objects, objectBytes: objects > 1 ? 16 * 1024 : 256 * MiB, objectConcurrency: objects > 1 ? 16 : 1 },
    runs: [{ ...t, appRequests: 1, appCpuMs: 0, stsCalls: 1, clientCpuMs: 0 }],
    median: t,
    min: t,
    appRequests: 1,
    appCpuMs: 0,
    stsCalls: 1,
    ...(objects > 1 ? { latencyMs: { p50: 100, p99: 200 } } : {}),
    ...(strategy === 'node-keyhole' || workload.startsWith('web-') ? {} : { peakHeapMiB: 5 }),
  };
}

const records: BrowserRecord[] = [
  rec('browser-upload-1x256MiB', 'keyhole', { mibPerS: 140 }),
  rec('browser-upload-1x256MiB', 'amplify', { mibPerS: 70 }),
  rec('browser-upload-1x256MiB', 'presigned-multipart', { mibPerS: 100 }),
  rec('browser-upload-1x256MiB', 'raw-xhr-put', { mibPerS: 150 }),
  rec('browser-upload-1x256MiB', 'node-keyhole', { mibPerS: 120 }),
  rec('browser-upload-600x16KiB', 'keyhole', { objPerS: 100 }, 600),
  rec('browser-upload-600x16KiB', 'amplify', { objPerS: 90 }, 600),
  rec('browser-upload-600x16KiB', 'presigned-put', { objPerS: 80 }, 600),
  rec('browser-upload-600x16KiB', 'presigned-post', { objPerS: 85 }, 600),
  rec('browser-upload-600x16KiB', 'raw-xhr-put', { objPerS: 130 }, 600),
  rec('web-upload-1x256MiB', 'web-app', { mibPerS: 90 }),
  rec('web-upload-1x256MiB', 'keyhole-file', { mibPerS: 130 }),
];

describe('browser bench targets', () => {
  const targets = checkBrowserTargets(records);
  const find = (start: string) => targets.find((t) => t.target.startsWith(start));

  it('compares keyhole with presigned PUT on the small batch, not with amplify or the ceiling', () => {
    expect(find('small: keyhole ≥ 1.25 × presigned PUT')).toEqual(
      expect.objectContaining({ value: '1.25×', met: true }),
    );
  });

  it('checks the web app (file from disk) against the Node client and one raw XHR PUT', () => {
    expect(find('large: the web app (file from disk) ≥ 0.8 × the Node client')).toEqual(
      expect.objectContaining({ value: '0.75×', met: false }),
    );
    expect(find('large: the web app (file from disk) ≥ 0.7 × one raw XHR PUT')).toEqual(
      expect.objectContaining({ value: '0.60×', met: false }),
    );
  });

  it('leaves the web-app targets out when the web app was not measured', () => {
    const without = checkBrowserTargets(records.filter((r) => !r.workload.startsWith('web-')));
    expect(without.some((t) => t.target.includes('web app'))).toBe(false);
    expect(without.find((t) => t.target.startsWith('large: keyhole in Chromium ≥ 0.8'))?.value).toBe('1.17×');
  });

  it('renders a row per record, the web-app and Amplify rows included, and every target', () => {
    const md = renderBrowserMarkdown(records, {
      date: '2026-12-01T00:00:00Z',
      mode: 'full',
      repetitions: 3,
      machine: 'test',
      software: 'test',
    });
    expect(md).toContain('| web-upload-1x256MiB | web-app |');
    expect(md).toContain('| browser-upload-600x16KiB | amplify |');
    for (const t of targets) expect(md).toContain(`| ${t.target} |`);
    expect(md.split('\n').filter((l) => /^\| (browser|web)-upload-/.test(l))).toHaveLength(records.length);
  });
});
