// The local stack's lifecycle (issue 2, section 2), on a stack instance of its own: its own state
// folder (.local/rgw-lifecycle), settings file and ports. So `npm test` never stops or restarts the
// stack a developer is using with `npm start` (issue 17, point 3); the last test checks that.
// Costs one more small cluster (~1 GB RAM) while this file runs; it is stopped afterwards and its
// data kept, so later runs start warm. Warm-start time is printed, not asserted.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerS3, stackFrom } from '../helpers/stack.js';

const repo = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
const env = process.env;
/** The lifecycle instance. Ports can be moved with KEYHOLE_LIFECYCLE_*_PORT. */
const instance = {
  KEYHOLE_LOCAL_DIR: `${repo}/.local/rgw-lifecycle`,
  KEYHOLE_ENV_FILE: `${repo}/.local/keyhole-lifecycle.env`,
  KEYHOLE_RGW_PORT: env.KEYHOLE_LIFECYCLE_RGW_PORT ?? '17480',
  KEYHOLE_RGW_SSL_PORT: env.KEYHOLE_LIFECYCLE_RGW_SSL_PORT ?? '17443',
  KEYHOLE_MON_PORT: env.KEYHOLE_LIFECYCLE_MON_PORT ?? '13400',
  KEYHOLE_MON_V1_PORT: env.KEYHOLE_LIFECYCLE_MON_V1_PORT ?? '13889',
};
const daemons = ['mon.a', 'osd.0', 'client.rgw.keyhole'];

function script(name: 'up' | 'down'): string {
  const clean = Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('KEYHOLE_')));
  return execFileSync('bash', ['-c', `bash infra/local/${name}.sh 2>&1`], {
    cwd: repo,
    env: { ...clean, ...instance },
    encoding: 'utf8',
    timeout: 300_000,
  });
}
const pidOf = (dir: string, name: string) => readFileSync(`${dir}/run/${name}.pid`, 'utf8').trim();
const alive = (pid: number | string) => {
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch {
    return false;
  }
};

/** The developer's stack (the default instance), if it is running: its daemons' pids. */
function developerStack(): string[] | undefined {
  const dir = `${repo}/.local/rgw`;
  if (!existsSync(`${dir}/run/client.rgw.keyhole.pid`)) return undefined;
  const pids = daemons.map((d) => pidOf(dir, d));
  return pids.every(alive) ? pids : undefined;
}

describe('local stack lifecycle (own instance)', () => {
  let decoy: ChildProcess | undefined;
  let developer: string[] | undefined;
  const owner = () => ownerS3(stackFrom(instance.KEYHOLE_ENV_FILE));

  beforeAll(() => {
    developer = developerStack();
    const started = performance.now();
    script('up');
    console.log(`[stack] lifecycle instance up in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  });
  afterAll(() => {
    decoy?.kill('SIGKILL');
    script('down'); // free its memory for the suites that follow; its data is kept
  });

  it('a second local:up while up changes nothing and succeeds', () => {
    const settings = readFileSync(instance.KEYHOLE_ENV_FILE, 'utf8');
    const pids = daemons.map((d) => pidOf(instance.KEYHOLE_LOCAL_DIR, d));
    const out = script('up');
    expect(out).toContain('already up');
    expect(out).not.toContain('starting mon');
    expect(readFileSync(instance.KEYHOLE_ENV_FILE, 'utf8')).toBe(settings);
    expect(daemons.map((d) => pidOf(instance.KEYHOLE_LOCAL_DIR, d))).toEqual(pids);
  });

  it('data survives local:down + local:up; down stops only its own daemons; prints warm start', async () => {
    const bucket = stackFrom(instance.KEYHOLE_ENV_FILE).bucket;
    const key = `lifecycle/${Date.now()}-${Math.random().toString(36).slice(2)}.txt`;
    await owner().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'survives' }));
    // A process that looks like a Ceph daemon but is not ours must survive local:down.
    decoy = spawn('bash', ['-c', 'exec -a ceph-osd sleep 600'], { stdio: 'ignore', detached: true });
    const ours = daemons.map((d) => pidOf(instance.KEYHOLE_LOCAL_DIR, d));
    script('down');
    for (const pid of ours) expect(alive(pid)).toBe(false);
    expect(alive(decoy.pid!)).toBe(true);
    const started = performance.now();
    const out = script('up');
    const seconds = (performance.now() - started) / 1000;
    console.log(`[stack] warm start (local:down then local:up): ${seconds.toFixed(1)} s (goal < 30 s)`);
    expect(out).toContain('starting mon, osd and radosgw');
    const got = await owner().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(await got.Body!.transformToString()).toBe('survives');
  });

  it('the developer’s stack (default instance) was not stopped or restarted', () => {
    if (developer === undefined) {
      console.log('[stack] no developer stack was running; nothing to compare');
      return;
    }
    expect(developerStack()).toEqual(developer);
  });
});
