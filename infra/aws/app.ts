// The CDK app. `npm run aws:synth` runs this file: it bundles the Lambda, synthesizes the stack
// (environment-agnostic: no account, region or credentials needed) into .local/cdk.out, runs cdk-nag's
// AwsSolutions pack, and fails on any unsuppressed finding. `npm run aws:deploy` deploys that output.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { Code } from 'aws-cdk-lib/aws-lambda';
import cdkNag from 'cdk-nag';
import { bundleLambda, REPO_ROOT, type LambdaBundle } from './bundle.js';
import { readSettings, StackSettingsError, type StackSettings } from './settings.js';
import { KeyholeStack } from './stack.js';

// cdk-nag is CommonJS whose exports Node cannot list statically.
const { AwsSolutionsChecks } = cdkNag;

export const DEFAULT_OUTDIR = join(REPO_ROOT, '.local/cdk.out');

export interface Synthesized {
  readonly app: App;
  readonly stack: KeyholeStack;
  readonly assembly: CloudAssembly;
  readonly bundle: LambdaBundle;
  /** Path of the synthesized CloudFormation template (JSON). */
  readonly templateFile: string;
  /** Every package in the Lambda bundle with its bytes, as JSON (`lambda-packages.json` in the output). */
  readonly bundlePackagesFile: string;
  /** cdk-nag's validation report (`validation-report.json` in the output). */
  readonly nagReportFile: string;
  /** Findings acknowledged in code, each with its reason. Unacknowledged findings fail the synthesis. */
  readonly nagAcknowledged: readonly { readonly rule: string; readonly path: string; readonly reason: string }[];
}

interface ValidationReport {
  pluginReports: {
    pluginName: string;
    conclusion: string;
    violations: unknown[];
    suppressedViolations?: {
      ruleName: string;
      reason: string;
      violatingConstructs: { constructPath: string }[];
    }[];
  }[];
}

/**
 * Bundles the Lambda (unless `bundle` is given) and synthesizes the stack for `settings` into
 * `outdir`, with cdk-nag's AwsSolutions checks as a validation plugin: an unacknowledged finding
 * makes the synthesis throw, and the report is written next to the template.
 */
export function synthesize(
  settings: StackSettings,
  outdir: string = DEFAULT_OUTDIR,
  bundle: LambdaBundle = bundleLambda(join(outdir, '..', `${settings.stackName}-lambda`)),
): Synthesized {
  const app = new App({ outdir });
  const stack = new KeyholeStack(app, settings.stackName, {
    settings,
    code: Code.fromAsset(bundle.dir),
    description: 'Keyhole: a token broker that vends prefix-scoped S3 credentials (infra/aws)',
  });
  Validations.of(app).addPlugins(
    new AwsSolutionsChecks(app, { verbose: true, writeSuppressionsToCloudFormation: true }),
  );
  const assembly = app.synth();
  const artifact = assembly.getStackArtifact(stack.artifactId);
  const nagReportFile = join(outdir, 'validation-report.json');
  const bundlePackagesFile = join(outdir, 'lambda-packages.json');
  writeFileSync(bundlePackagesFile, JSON.stringify(bundle.packages, null, 2) + '\n');
  const report = JSON.parse(readFileSync(nagReportFile, 'utf8')) as ValidationReport;
  return {
    app,
    stack,
    assembly,
    bundle,
    templateFile: join(outdir, artifact.templateFile),
    bundlePackagesFile,
    nagReportFile,
    nagAcknowledged: report.pluginReports.flatMap((r) =>
      (r.suppressedViolations ?? []).flatMap((v) =>
        v.violatingConstructs.map((c) => ({ rule: v.ruleName, path: c.constructPath, reason: v.reason })),
      ),
    ),
  };
}

function main(): void {
  let settings: StackSettings;
  try {
    settings = readSettings(process.env);
  } catch (err) {
    if (!(err instanceof StackSettingsError) && (err as { name?: string }).name !== 'ConfigError') throw err;
    process.stderr.write(`keyhole: invalid AWS stack settings: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const started = performance.now();
  const outdir = process.env.KEYHOLE_AWS_OUTDIR || DEFAULT_OUTDIR;
  let out: Synthesized;
  try {
    out = synthesize(settings, outdir);
  } catch (err) {
    if (!/Validation failed|Acknowledge with/.test((err as Error).message)) throw err;
    // CDK printed the report above; every finding must be fixed or acknowledged with a reason in stack.ts.
    process.stderr.write(
      `keyhole: cdk-nag findings are not acknowledged (report: ${join(outdir, 'validation-report.json')})\n`,
    );
    process.exit(1);
  }
  const kb = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  process.stdout.write(
    [
      `stack ${settings.stackName}: ${out.templateFile}`,
      `settings: ${settings.source}${settings.example ? ' (the example: set KEYHOLE_AWS_ENV_FILE to deploy)' : ''}`,
      `lambda bundle: ${kb(out.bundle.bytes)} (${kb(out.bundle.gzipBytes)} gzipped), ${out.bundle.file}`,
      `biggest packages: ${out.bundle.packages
        .slice(0, 8)
        .map((p) => `${p.name} ${kb(p.bytes)}`)
        .join(', ')} (all: ${out.bundlePackagesFile})`,
      `cdk-nag AwsSolutions: no unacknowledged finding; ${out.nagAcknowledged.length} acknowledged in code, with reasons:`,
      ...out.nagAcknowledged.map((a) => `  ${a.rule} at ${a.path}`),
      `report: ${out.nagReportFile}`,
      `synthesized in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    ].join('\n') + '\n',
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
