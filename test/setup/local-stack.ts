// Starts the local RGW stack when it is down (a no-op when it is up), so `npm test` never skips
// integration tests for want of a service.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const script = fileURLToPath(new URL('../../infra/local/up.sh', import.meta.url));
  execFileSync('bash', [script], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 300_000 });
}
