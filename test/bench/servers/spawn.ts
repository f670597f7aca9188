// Starts an app server in a child process, so its CPU time is its own and not the client's.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { AppStats } from './app-server.js';

export interface AppProcess {
  readonly url: string;
  readonly pid: number;
  stats(): Promise<AppStats>;
  stop(): void;
}

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export async function startApp(
  entry: 'broker-main.ts' | 'presign-main.ts',
  env: Record<string, string>,
): Promise<AppProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL(entry, import.meta.url))],
    {
      cwd: ROOT,
      env: { ...process.env, ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${entry} did not start within 60 s`)), 60_000);
    child.once('exit', (code) => reject(new Error(`${entry} exited with code ${code} before listening`)));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve((JSON.parse(line) as { url: string }).url);
    });
  });
  return {
    url,
    pid: child.pid!,
    async stats() {
      const res = await fetch(`${url}/__bench/stats`);
      return (await res.json()) as AppStats;
    },
    stop: () => void child.kill('SIGTERM'),
  };
}
