// Load/soak through 3 brokers behind haproxy (`npm run bench:soak`; not a test: it prints figures
// and, unless --quick, writes test/bench/results/soak.json and soak.md). See test/helpers/soak.ts.
//
//   npm run bench:soak [-- --users 20 --seconds 20 --quick]
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { rssGrowth, runSoak } from '../helpers/soak.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
// The SDK's notice about Node 20 (read when clients are made, below) is not a figure.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const quick = process.argv.includes('--quick');
const users = arg('users', quick ? 5 : 20);
const seconds = arg('seconds', quick ? 5 : 20);
const loadBefore = loadavg().map((n) => Number(n.toFixed(2)));
const r = await runSoak({ users, seconds });
const loadAfter = loadavg().map((n) => Number(n.toFixed(2)));
const growth = rssGrowth(r, Math.min(5, seconds / 4));
const rssLine = (samples: readonly (readonly [number, number])[]) =>
  samples
    .filter((_, i) => i % Math.max(1, Math.floor(samples.length / 8)) === 0 || i === samples.length - 1)
    .map(([t, m]) => `${Math.round(t)}s:${m}`)
    .join(' ');
const lines = [
  `${users} users × ${seconds} s through haproxy → 3 brokers (one Redis), on ${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.version}, load average ${loadBefore.join(' ')} before, ${loadAfter.join(' ')} after`,
  `iterations (credentials + upload ${16} KiB + list): ${r.iterations}`,
  `requests: ${r.requests.total} (broker ${r.requests.broker}, upload ${r.requests.upload}, list ${r.requests.list}); ${(r.requests.total / seconds).toFixed(0)}/s`,
  `broker requests per instance (metrics): ${r.requestsPerBroker.join(' / ')}`,
  `errors: ${r.errors}${r.errorSamples.length ? ` (${r.errorSamples.join('; ')})` : ''}`,
  `STS calls: ${r.stsCalls} for ${r.subjects} subjects`,
  ...r.rssMiB.map((s, i) => `broker ${i + 1} RSS MiB: ${rssLine(s)} (growth after warm-up ${growth[i]} MiB)`),
];
process.stdout.write(lines.join('\n') + '\n');
if (!quick) {
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  const date = new Date().toISOString();
  writeFileSync(
    `${dir}soak.json`,
    JSON.stringify({ date, loadBefore, loadAfter, growthMiB: growth, ...r }, null, 2) + '\n',
  );
  writeFileSync(
    `${dir}soak.md`,
    [
      '# Load/soak: 3 brokers behind haproxy',
      '',
      `Run ${date} with \`npm run bench:soak\`.`,
      '',
      ...lines.map((l) => `- ${l}`),
      '',
    ].join('\n'),
  );
}
if (r.errors !== 0 || r.stsCalls !== r.subjects) process.exitCode = 1;
