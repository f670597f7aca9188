// `npm run example:amplify`: runs app.ts (the Amplify example of client/amplify/README.md) against the local stack.
// What it takes, each step also what an app of your own against the local stack needs:
//   1. the local stack (`npm run local:up`; started here when it is down) and a current build;
//   2. a broker whose grant has Amplify's key layout (KEYHOLE_GRANTS; here a broker of its own on a
//      free port, so a running `npm start` with the default grant is left alone);
//   3. Node trusting the stack's CA (NODE_EXTRA_CA_CERTS, read only at process start) and resolving
//      <bucket>.localhost (--import ./infra/local/node-localhost.mjs);
//   4. Amplify's `customEndpoint` on each call (S3_CUSTOM_ENDPOINT, which app.ts passes on).
// KEYHOLE_GRANTS in the environment replaces the Amplify grant (to see what a mismatch looks like).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';

const repo = fileURLToPath(new URL('../../..', import.meta.url));
const say = (line) => process.stderr.write(`[example] ${line}\n`);

function step(cmd, args) {
  const run = spawnSync(cmd, args, { cwd: repo, stdio: ['ignore', 'inherit', 'inherit'] });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
step('bash', ['infra/local/up.sh']);
step(process.execPath, ['infra/local/stale-build.mjs', '--rebuild']);

const envFile = process.env.KEYHOLE_ENV_FILE ?? `${repo}.local/keyhole.env`;
const stack = parseEnv(readFileSync(envFile, 'utf8'));
const bucket = stack.KEYHOLE_BUCKET;
// Amplify's layout, as in client/amplify/README.md ("Grant Amplify's key layout").
const amplifyGrants = JSON.stringify([
  {
    bucket,
    scopes: [
      { prefix: 'private/{identityId}/', access: ['read', 'write', 'list', 'delete'] },
      { prefix: 'protected/{identityId}/', access: ['read', 'write', 'list', 'delete'] },
      { prefix: 'protected/', access: ['read', 'list'] },
      { prefix: 'public/', access: ['read', 'write', 'list', 'delete'] },
    ],
  },
]);

const port = await new Promise((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port: free } = probe.address();
    probe.close(() => resolve(free));
  });
});
const brokerUrl = `http://127.0.0.1:${port}`;
const quiet = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
const broker = spawn(process.execPath, ['dist/server/main.js'], {
  cwd: repo,
  stdio: ['ignore', 'ignore', 'pipe'],
  env: {
    ...process.env,
    ...quiet,
    KEYHOLE_ENV_FILE: envFile,
    KEYHOLE_DEV_LOGIN: '1',
    KEYHOLE_GRANTS: process.env.KEYHOLE_GRANTS ?? amplifyGrants,
    KEYHOLE_HOST: '127.0.0.1',
    KEYHOLE_LOG_FORMAT: 'json',
    PORT: String(port),
  },
});
let brokerErr = '';
broker.stderr.on('data', (chunk) => (brokerErr += chunk));
const stop = () => broker.exitCode === null && broker.kill('SIGTERM');
process.on('exit', stop);

for (let i = 0; ; i++) {
  if (broker.exitCode !== null) {
    say(`the broker exited (${broker.exitCode}):\n${brokerErr}`);
    process.exit(1);
  }
  const up = await fetch(`${brokerUrl}/healthz`).then(
    (r) => r.ok,
    () => false,
  );
  if (up) break;
  if (i > 150) {
    say(`the broker did not answer on ${brokerUrl} within 30 s:\n${brokerErr}`);
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 200));
}
say(
  `broker with ${process.env.KEYHOLE_GRANTS ? 'KEYHOLE_GRANTS from the environment' : "Amplify's key layout"} on ${brokerUrl}`,
);

const app = spawn(
  process.execPath,
  ['--import', 'tsx', '--import', './infra/local/node-localhost.mjs', 'client/amplify/example/app.ts'],
  {
    cwd: repo,
    stdio: 'inherit',
    env: {
      ...process.env,
      ...quiet,
      NODE_EXTRA_CA_CERTS: stack.KEYHOLE_LOCAL_CA_CERT,
      KEYHOLE_BROKER_URL: brokerUrl,
      KEYHOLE_BUCKET: bucket,
      AWS_REGION: stack.AWS_REGION,
      S3_CUSTOM_ENDPOINT: new URL(stack.KEYHOLE_S3_TLS_ENDPOINT).host,
    },
  },
);
const status = await new Promise((resolve) => app.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
stop();
say(status === 0 ? 'done' : `app.ts failed (exit ${status})`);
process.exit(status);
