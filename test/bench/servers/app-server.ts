// Serves an app in its own process with what the bench measures from outside: requests that
// reached the server and the process's CPU time, read at GET /__bench/stats (not counted).
import { readFileSync } from 'node:fs';
import { createServer, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';

export interface AppStats {
  readonly requests: number;
  readonly cpuMs: number;
  readonly stsCalls: number;
}

/** Environment variable: a built browser-bench page (test/bench/browser) to serve at {@link PAGE_PATH}. */
export const PAGE_DIR_ENV = 'KEYHOLE_BENCH_PAGE_DIR';
/** Environment variable: the S3 endpoint the app server hands out (default: the stack's HTTP one). */
export const S3_ENDPOINT_ENV = 'KEYHOLE_BENCH_S3_ENDPOINT';
/** Where the browser-bench page is served, same origin as the app, not counted as app requests. */
export const PAGE_PATH = '/__bench/page/';

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };

function servePage(dir: string, url: string, res: ServerResponse): void {
  const rel = normalize(decodeURIComponent(url.slice(PAGE_PATH.length).split('?')[0]!) || 'index.html');
  if (rel.startsWith('..')) {
    res.statusCode = 404;
    res.end();
    return;
  }
  try {
    const body = readFileSync(join(dir, rel));
    res.setHeader('content-type', TYPES[extname(rel)] ?? 'application/octet-stream');
    res.end(body);
  } catch {
    res.statusCode = 404;
    res.end();
  }
}

export function serveForBench(app: RequestListener, stsCalls: () => number = () => 0): void {
  let requests = 0;
  const server = createServer((req, res) => {
    if (req.url === '/__bench/stats') {
      const cpu = process.cpuUsage();
      const stats: AppStats = { requests, cpuMs: (cpu.user + cpu.system) / 1000, stsCalls: stsCalls() };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(stats));
      return;
    }
    const pageDir = process.env[PAGE_DIR_ENV];
    if (pageDir && req.url?.startsWith(PAGE_PATH)) {
      servePage(pageDir, req.url, res);
      return;
    }
    requests++;
    app(req, res);
  });
  // Clients keep connections alive across runs; the defaults would close idle ones mid-bench.
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${port}` }) + '\n');
  });
  process.on('SIGTERM', () => process.exit(0));
  // Exit with the parent: a crashed bench must not leave servers behind.
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}
