// Serves an app in its own process with what the bench measures from outside: requests that
// reached the server and the process's CPU time, read at GET /__bench/stats (not counted).
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AppStats {
  readonly requests: number;
  readonly cpuMs: number;
  readonly stsCalls: number;
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
