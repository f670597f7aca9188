// `npm run broker` (and `npm start`): validates configuration, then serves the broker. A
// configuration error exits with status 2 and one line per wrong variable, never a stack trace.
import { brokerAppFrom, parseConfig, type KeyholeConfig } from './config.js';
import { KeyholeError } from './errors.js';
import { listenFailure } from './http/listen-error.js';
import { createLogger, logOutput, prettyInstalled } from './logger.js';

function refuse(lines: readonly string[]): never {
  for (const line of lines) process.stderr.write(`keyhole: invalid configuration: ${line}\n`);
  process.exit(2);
}

const result = parseConfig(process.env);
if (!result.ok) refuse(result.problems.map((p) => `${p.variable}: ${p.message}`));
const config: KeyholeConfig = result.config;
if (config.logFormat === 'pretty' && !prettyInstalled()) {
  refuse(['KEYHOLE_LOG_FORMAT: "pretty" needs the pino-pretty package (a devDependency); install it or use "json"']);
}
const output = logOutput(config.logFormat, {
  isTTY: process.stdout.isTTY === true,
  production: config.production,
  prettyInstalled: prettyInstalled(),
});

let app;
try {
  app = brokerAppFrom(config, createLogger(config.logLevel, undefined, output));
} catch (err) {
  // The library checks its options again; anything the loader let through is still one line.
  const message =
    err instanceof KeyholeError || err instanceof TypeError || err instanceof RangeError ? err.message : String(err);
  refuse([message.split('\n')[0]!]);
}

// Express 5 calls this with the error when listening fails: then only the 'error' line below is printed.
const server = app.listen(config.port, config.host, (err?: Error) => {
  if (err) return;
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const base = `http://${config.host}:${port}`;
  process.stdout.write(`keyhole broker listening on ${base}\n`);
  if (config.web) process.stdout.write(`web app: open ${base}/ in a browser\n`);
  if (config.broker.devLogin) {
    process.stdout.write(
      `try it:\n  TOKEN=$(curl -s -X POST ${base}/v1/dev/token -H 'content-type: application/json' -d '{"sub":"alice"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).token')\n` +
        `  curl -s -X POST ${base}/v1/credentials -H "authorization: Bearer $TOKEN"\n`,
    );
  }
});
server.on('error', (err: NodeJS.ErrnoException) => {
  process.stderr.write(`${listenFailure(config.host, config.port, err)}\n`);
  process.exit(1);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
