// What one audit line costs the broker (`npm run bench:audit-line`; not a test: it prints figures
// and writes test/bench/results/audit-line.md). Each case runs in a child process of its own,
// pinned to one core when taskset and a second core are there, with stdout on /dev/null (written,
// as to a log collector, not kept). It logs one line per turn of the event loop, as a broker does
// under load (one request per socket read), and reports CPU time (user + system, every thread of
// the process) per line, less the same loop without the line:
//   - keyhole: the broker's logger (`createLogger`, stdout written synchronously) and the audit
//     line as `auditIssued` writes it (the plan's fields bound in a child logger, four per request);
//   - keyhole, whole line: the same logger with every field in the logged object;
//   - pino's default stdout: `pino()` as the broker made it before, asynchronous writes through
//     libuv's thread pool (SonicBoom with `sync: false`).
//
//   npm run bench:audit-line [-- --quick]
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';
import { createLogger } from '../../server/logger.js';

const CASES = ['loop', 'keyhole', 'keyhole-whole-line', 'pino-default'] as const;
type Case = (typeof CASES)[number];
const quick = process.argv.includes('--quick');
const LINES = quick ? 20_000 : 200_000;
const ROUNDS = quick ? 1 : 5;

const plan = {
  sub: 'bench-user',
  iss: 'https://issuer.bench.test/',
  identityId: undefined,
  sourceIp: undefined,
  bucket: 'uploads',
  prefix: 'users/bench-user/',
  access: ['read', 'write', 'delete', 'list'],
  sessionName: 'keyhole-0123456789abcdef0123456789ab',
};
const perRequest = () => ({
  requestId: '3b0c7a52-1f2e-4d6b-9a8c-5e4f3d2c1b0a',
  expiration: new Date().toISOString(),
  cached: true,
  ip: '127.0.0.1',
});

/** Runs one case in this process and prints CPU nanoseconds per line on stderr. */
async function child(which: Case): Promise<void> {
  const base: Logger = which === 'pino-default' ? pino({ base: { service: 'keyhole-broker' } }) : createLogger('info');
  const bound = base.child({ event: 'credentials.issued', ...plan });
  const line: () => void = {
    loop: () => void perRequest(),
    keyhole: () => bound.info(perRequest()),
    'keyhole-whole-line': () => base.info({ event: 'credentials.issued', ...plan, ...perRequest() }),
    'pino-default': () => base.info({ event: 'credentials.issued', ...plan, ...perRequest() }),
  }[which];
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  for (let i = 0; i < LINES / 10; i++) {
    line();
    await turn();
  }
  const before = process.cpuUsage();
  for (let i = 0; i < LINES; i++) {
    line();
    await turn();
  }
  // Asynchronous writes still queued are part of the cost: wait for the stream to drain them.
  await new Promise<void>((resolve) => base.flush(() => resolve()));
  const used = process.cpuUsage(before);
  process.stderr.write(`${((used.user + used.system) * 1000) / LINES}\n`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const pinned = cpus().length >= 2 && spawnSync('taskset', ['-V']).status === 0;
  const load = loadavg().map((n) => n.toFixed(2));
  const nsPerLine = new Map<Case, number[]>(CASES.map((c) => [c, []]));
  const self = fileURLToPath(import.meta.url);
  for (let round = 0; round < ROUNDS; round++) {
    for (const which of CASES) {
      const command = [process.execPath, '--import', 'tsx', self, '--child', which, ...(quick ? ['--quick'] : [])];
      const run = spawnSync(pinned ? 'taskset' : command[0]!, pinned ? ['-c', '0', ...command] : command.slice(1), {
        stdio: ['ignore', 'ignore', 'pipe'],
        encoding: 'utf8',
      });
      const figure = Number(run.stderr.trim().split('\n').at(-1));
      if (run.status !== 0 || !Number.isFinite(figure)) throw new Error(`${which} failed: ${run.stderr}`);
      nsPerLine.get(which)!.push(figure);
    }
  }
  const loop = median(nsPerLine.get('loop')!);
  const rows = CASES.filter((c) => c !== 'loop').map((c) => {
    const all = nsPerLine.get(c)!;
    const line = median(all) - loop;
    return `| ${c} | ${(line / 1000).toFixed(1)} | ${all.map((n) => ((n - loop) / 1000).toFixed(1)).join(', ')} |`;
  });
  const report = [
    '# What one audit line costs',
    '',
    `Run ${new Date().toISOString()} with \`npm run bench:audit-line\`${quick ? ' --quick' : ''} on ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}; ${pinned ? 'each case pinned to core 0' : 'not pinned'}; ${LINES} lines per run, ${ROUNDS} runs per case, one line per turn of the event loop; load average ${load.join(' ')} before, ${loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')} after.`,
    '',
    `CPU time per line (user + system, all threads), less the same loop without a line (median ${(loop / 1000).toFixed(1)} µs):`,
    '',
    '| Case | µs per line (median) | each run |',
    '| --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
  process.stdout.write(report);
  if (!quick) writeFileSync(fileURLToPath(new URL('./results/audit-line.md', import.meta.url)), report);
}

const at = process.argv.indexOf('--child');
if (at >= 0) await child(process.argv[at + 1] as Case);
else await main();
