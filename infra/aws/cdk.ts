// `npm run aws:deploy` and `npm run aws:destroy`: synthesize exactly as `npm run aws:synth` does
// (bundle, cdk-nag), then hand the cloud assembly to the AWS CDK CLI. Extra arguments go to the CLI:
//   npm run aws:deploy -- --profile prod --require-approval never
//   npm run aws:destroy -- --force
// Deploy writes the stack outputs to .local/<stack>.outputs.json and the client block to
// .local/<stack>.client.env.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_OUTDIR, synthesize } from './app.js';
import { REPO_ROOT } from './bundle.js';
import { readSettings, StackSettingsError } from './settings.js';

const [command, ...rest] = process.argv.slice(2);
if (command !== 'deploy' && command !== 'destroy' && command !== 'diff') {
  process.stderr.write('usage: node --import tsx infra/aws/cdk.ts deploy|destroy|diff [cdk options]\n');
  process.exit(2);
}
let settings;
try {
  settings = readSettings(process.env);
} catch (err) {
  if (!(err instanceof StackSettingsError) && (err as { name?: string }).name !== 'ConfigError') throw err;
  process.stderr.write(`keyhole: invalid AWS stack settings: ${(err as Error).message}\n`);
  process.exit(2);
}
if (settings.example && command === 'deploy') {
  process.stderr.write(
    'keyhole: refusing to deploy the example settings (its issuer accepts no token).\n' +
      'Copy infra/aws/example.env, set your issuer, and run with KEYHOLE_AWS_ENV_FILE=<your copy>.\n',
  );
  process.exit(2);
}
const outdir = process.env.KEYHOLE_AWS_OUTDIR || DEFAULT_OUTDIR;
const out = synthesize(settings, outdir);
process.stdout.write(
  `synthesized ${settings.stackName} (bundle ${(out.bundle.bytes / 1024).toFixed(0)} KiB, cdk-nag clean)\n`,
);
const outputsFile = join(REPO_ROOT, '.local', `${settings.stackName}.outputs.json`);
const args = [command, '--app', outdir, settings.stackName, ...rest];
if (command === 'deploy' && !rest.some((a) => a.startsWith('--outputs-file'))) args.push('--outputs-file', outputsFile);
const cdk = join(REPO_ROOT, 'node_modules/.bin/cdk');
const result = spawnSync(cdk, args, { stdio: 'inherit', env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' } });
if (result.status === 0 && command === 'deploy' && existsSync(outputsFile)) {
  const outputs = JSON.parse(readFileSync(outputsFile, 'utf8'))[settings.stackName] as Record<string, string>;
  const clientEnv = join(REPO_ROOT, '.local', `${settings.stackName}.client.env`);
  writeFileSync(clientEnv, `${outputs.ClientEnv}\n`);
  process.stdout.write(
    `\nbroker: ${outputs.ApiUrl}\nbucket: ${outputs.BucketName}\nrole:   ${outputs.UploaderRoleName}\n` +
      `client settings: ${clientEnv}\n`,
  );
}
process.exit(result.status ?? 1);
