// The one line `npm run broker` (and `npm start`) prints when it cannot listen: which address, why,
// and for a port in use, which program holds it when this user may see it (Linux /proc).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** The process listening on a TCP port. */
export interface PortHolder {
  readonly pid: number;
  /** Its argv[0], as `ps` would show it. */
  readonly name: string;
}

// /proc/net/tcp{,6}: "sl local_address rem_address st ... inode"; st 0A is LISTEN.
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length > 9 && fields[3] === '0A' && fields[1]!.endsWith(`:${hexPort}`)) inodes.add(fields[9]!);
    }
  }
  return inodes;
}

/**
 * The process listening on `port` (any address), or undefined when there is none this user may
 * see, or no /proc (not Linux). Reads /proc only: no `ss` or `lsof` needed.
 */
export function portHolder(port: number): PortHolder | undefined {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return undefined;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode === undefined || !inodes.has(inode)) continue;
      let name = '';
      try {
        name = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
      } catch {
        // It exited meanwhile; the pid is still worth naming.
      }
      return { pid: Number(pid), name: name || 'a process' };
    }
  }
  return undefined;
}

/**
 * The line for a failed `listen` on `host:port`, without a trailing newline. A port in use names
 * its holder when known (`holder` is looked up when not given) and how to get out of the way.
 */
export function listenFailure(
  host: string,
  port: number,
  err: NodeJS.ErrnoException,
  holder: PortHolder | undefined = err.code === 'EADDRINUSE' ? portHolder(port) : undefined,
): string {
  const where = `keyhole: cannot listen on ${host}:${port}`;
  if (err.code === 'EADDRINUSE') {
    const by = holder ? ` by ${holder.name} (pid ${holder.pid})` : '';
    return `${where}: port ${port} is already in use${by}; stop it, or choose another port with PORT`;
  }
  if (err.code === 'EACCES') return `${where}: permission denied (EACCES); choose a port from 1024 up with PORT`;
  if (err.code === 'EADDRNOTAVAIL') {
    return `${where}: ${host} is not an address of this machine (EADDRNOTAVAIL); check KEYHOLE_HOST`;
  }
  return `${where}: ${err.code ?? err.message}`;
}
