// infra/local/up.sh and the ports of the local stack (issue 18, point 3). Cheap: no cluster is
// built. The running stack of this checkout (started by the test setup) is reused as is; a second
// checkout, or any other process holding a port, gets one line naming the holder and exit 3,
// before anything is created.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ENV_FILE } from '../helpers/stack.js';

const repo = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
const PORT_VARS = 'KEYHOLE_RGW_PORT, KEYHOLE_RGW_SSL_PORT, KEYHOLE_MON_PORT and KEYHOLE_MON_V1_PORT';
const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A second checkout: a copy of infra/ in a fresh folder. */
function clone(): string {
  const dir = mkdtempSync(join(tmpdir(), 'keyhole-clone-'));
  temps.push(dir);
  cpSync(join(repo, 'infra'), join(dir, 'infra'), { recursive: true });
  return dir;
}

function up(checkout: string, env: Record<string, string> = {}) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KEYHOLE_')));
  return spawnSync('bash', [join(checkout, 'infra/local/up.sh')], {
    cwd: checkout,
    env: { ...clean, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
}

const pidFile = (name: string) => readFileSync(join(repo, '.local/rgw/run', `${name}.pid`), 'utf8').trim();
const daemons = ['mon.a', 'osd.0', 'client.rgw.keyhole'];

/** Processes whose command line mentions `text` (our daemons carry their conf path). */
function processesMentioning(text: string): string[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    });
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('local stack ports', () => {
  it('this checkout’s running stack is reused: exit 0, "already up", same daemons, same settings file', () => {
    const pids = daemons.map(pidFile);
    const settings = readFileSync(ENV_FILE, 'utf8');
    const run = up(repo);
    expect(run.status).toBe(0);
    expect(run.stderr).toContain('[keyhole local] already up');
    expect(run.stderr).not.toContain('starting mon');
    expect(daemons.map(pidFile)).toEqual(pids);
    expect(readFileSync(ENV_FILE, 'utf8')).toBe(settings);
  });

  it('a second checkout on the same ports: one line naming this checkout, exit 3, no cluster built', () => {
    const other = clone();
    const run = up(other);
    expect(run.status).toBe(3);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^\\[keyhole local\\] port \\d+ is held by the Keyhole local stack of the checkout in ${repo.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(pid \\d+\\); ` +
          'stop it with `npm run local:down` there, or choose other ports with ' +
          PORT_VARS.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&') +
          '$',
      ),
    );
    const pid = /\(pid (\d+)\)/.exec(lines[0]!)![1]!;
    expect(daemons.map(pidFile)).toContain(pid);
    // Nothing was created or started for the second checkout.
    const state = join(other, '.local/rgw');
    for (const made of ['.initialized', 'fsid', 'mon', 'osd', 'ceph.conf', 'tls']) {
      expect(existsSync(join(state, made))).toBe(false);
    }
    expect(existsSync(join(other, '.local/keyhole.env'))).toBe(false);
    expect(processesMentioning(join(state, 'ceph.conf'))).toEqual([]);
  });

  it('a port held by some other program: its name and pid, exit 3, nothing created', async () => {
    const holder: Server = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    try {
      const port = (holder.address() as { port: number }).port;
      const other = clone();
      const run = up(other, {
        KEYHOLE_RGW_PORT: String(port),
        KEYHOLE_RGW_SSL_PORT: String(await freePort()),
        KEYHOLE_MON_PORT: String(await freePort()),
        KEYHOLE_MON_V1_PORT: String(await freePort()),
      });
      expect(run.status).toBe(3);
      const lines = run.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      // The holder is this test process: up.sh names it by its argv[0].
      const argv0 = readFileSync(`/proc/${process.pid}/cmdline`, 'utf8').split('\0')[0];
      expect(lines[0]).toBe(
        `[keyhole local] port ${port} is held by ${argv0} (pid ${process.pid}); stop it, or choose other ports with ${PORT_VARS}`,
      );
      expect(existsSync(join(other, '.local/rgw/.initialized'))).toBe(false);
    } finally {
      await new Promise<void>((r) => holder.close(() => r()));
    }
  });

  it('another state folder of this same checkout on the same ports is refused too, naming the folder’s checkout', () => {
    const state = mkdtempSync(join(tmpdir(), 'keyhole-state-'));
    temps.push(state);
    const run = up(repo, { KEYHOLE_LOCAL_DIR: state, KEYHOLE_ENV_FILE: join(state, 'keyhole.env') });
    expect(run.status).toBe(3);
    expect(run.stderr).toContain(`held by the Keyhole local stack of the checkout in ${repo} (pid `);
    expect(existsSync(join(state, '.initialized'))).toBe(false);
    expect(existsSync(join(state, 'keyhole.env'))).toBe(false);
  });
});
