// @ts-check
// `npm run test:mutation`: one StrykerJS run per group of test/mutation/groups.mjs, one after the
// other, then one table of scores per mutated file. Each group runs only its own test files, which
// is what keeps the whole run within 30 minutes on a 2-core machine (test/MUTATION.md, "Run time").
//
//   npm run test:mutation                                   # every group (incremental)
//   npm run test:mutation -- --group policy,auth            # some groups
//   npm run test:mutation -- --force                        # ignore the incremental files
//   npm run test:mutation -- --group auth --mutate server/auth/verify-token.ts
//
// Options other than --group go to every StrykerJS run. The table is also written to
// .local/mutation/summary.md, with each group's wall time and the load average before and after it:
// on a shared machine the wall time says as much about the other work as about this run.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { GROUPS, groupNamed } from './groups.mjs';

const args = process.argv.slice(2);
const at = args.findIndex((a) => a === '--group' || a.startsWith('--group='));
let names = GROUPS.map((g) => g.name);
if (at >= 0) {
  const value = args[at].includes('=') ? args[at].slice('--group='.length) : args[at + 1];
  if (!value) {
    console.error('--group needs a name (or a comma-separated list): ' + names.join(', '));
    process.exit(2);
  }
  names = value.split(',');
  args.splice(at, args[at].includes('=') ? 1 : 2);
}
const groups = names.map((n) => {
  try {
    return /** @type {import('./groups.mjs').MutationGroup} */ (groupNamed(n));
  } catch (err) {
    console.error(/** @type {Error} */ (err).message.replace('KEYHOLE_MUTATION_GROUP=', '--group '));
    process.exit(2);
  }
});

// CPU time of the finished StrykerJS runs (user + system of waited-for children, /proc on Linux):
// on a busy machine the wall time mostly measures the other work; the CPU time estimates what the
// run needs alone (with one test process, an idle machine's wall time is close to it).
const childCpuMs = () => {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    return (Number(fields[13]) + Number(fields[14])) * 10; // cutime + cstime, at 100 ticks/s
  } catch {
    return NaN;
  }
};
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
const minutes = (ms) => `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;

/** Runs StrykerJS for one group; resolves with its exit code. */
function stryker(group) {
  return new Promise((resolve) => {
    const child = spawn('npx', ['stryker', 'run', ...args], {
      stdio: 'inherit',
      env: { ...process.env, KEYHOLE_MUTATION_GROUP: group.name },
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

// Stryker's own score: detected (killed, timeout) over valid mutants (those plus survived and no
// coverage); compile and runtime errors and ignored mutants do not count.
const COUNTED = ['Killed', 'Timeout', 'Survived', 'NoCoverage'];

/** Per-file counts from a group's JSON report. */
function scores(group) {
  const report = JSON.parse(readFileSync(`.local/mutation/${group.name}/mutation.json`, 'utf8'));
  return Object.entries(report.files).map(([file, { mutants }]) => {
    const n = Object.fromEntries(COUNTED.map((s) => [s, 0]));
    for (const m of mutants) if (m.status in n) n[m.status]++;
    const valid = COUNTED.reduce((sum, s) => sum + n[s], 0);
    return { file, n, valid, score: valid ? ((n.Killed + n.Timeout) / valid) * 100 : 100 };
  });
}

const rows = [];
const runs = [];
const started = Date.now();
let failed = 0;
for (const group of groups) {
  const before = load();
  const t0 = Date.now();
  const cpu0 = childCpuMs();
  console.log(`\n=== mutation group ${group.name}: ${group.mutate.join(' ')} (load ${before})`);
  const code = await stryker(group);
  runs.push({ group: group.name, ms: Date.now() - t0, cpuMs: childCpuMs() - cpu0, before, after: load(), code });
  if (code !== 0) {
    failed++;
    continue;
  }
  rows.push(...scores(group));
}
const total = Date.now() - started;
const totalCpu = runs.reduce((sum, r) => sum + r.cpuMs, 0);
const time = (ms) => (Number.isNaN(ms) ? '–' : minutes(ms));

const lines = [
  '| File | Mutants | Killed | Timeout | Survived | No coverage | Score |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(
    (r) =>
      `| \`${r.file}\` | ${r.valid} | ${r.n.Killed} | ${r.n.Timeout} | ${r.n.Survived} | ${r.n.NoCoverage} | ${r.score.toFixed(1)}% |`,
  ),
  '',
  '| Group | Wall time | CPU time | Load before | Load after | Exit |',
  '| --- | ---: | ---: | --- | --- | ---: |',
  ...runs.map((r) => `| ${r.group} | ${time(r.ms)} | ${time(r.cpuMs)} | ${r.before} | ${r.after} | ${r.code} |`),
  `| all | ${time(total)} | ${time(totalCpu)} | | | |`,
];
mkdirSync('.local/mutation', { recursive: true });
writeFileSync('.local/mutation/summary.md', lines.join('\n') + '\n');
console.log('\n' + lines.join('\n'));
process.exit(failed ? 1 : 0);
