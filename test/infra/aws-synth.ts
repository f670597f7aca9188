// Shared by the AWS stack tests: synthesize the stack the way `npm run aws:synth` does, and read
// the CloudFormation template it wrote back from disk (the real JSON, not the construct tree).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../infra/aws/bundle.js';

export type Json = any;

export interface SynthOutput {
  readonly outdir: string;
  /** Removes the temporary directories. */
  readonly cleanup: () => void;
  readonly stdout: string;
  readonly template: Json;
  readonly templateFile: string;
  readonly report: Json;
}

/**
 * Runs `node --import tsx infra/aws/app.ts` (what `npm run aws:synth` runs) in a child process
 * whose environment holds no AWS credentials, region or account, and no HOME configuration.
 */
export async function synthLikeNpm(settings: Record<string, string> = {}): Promise<SynthOutput> {
  const outdir = join(mkdtempSync(join(tmpdir(), 'keyhole-cdk-')), 'cdk.out');
  const home = mkdtempSync(join(tmpdir(), 'keyhole-home-'));
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'infra/aws/app.ts'], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: home,
      KEYHOLE_AWS_OUTDIR: outdir,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...settings,
    },
    timeout: 120_000,
  });
  const stackName = settings.KEYHOLE_AWS_STACK_NAME ?? 'Keyhole';
  const templateFile = join(outdir, `${stackName}.template.json`);
  return {
    outdir,
    cleanup: () => {
      rmSync(join(outdir, '..'), { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    },
    stdout,
    template: JSON.parse(readFileSync(templateFile, 'utf8')),
    templateFile,
    report: JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')),
  };
}

/** Logical ids of the template's resources of `type`. */
export function resourcesOf(template: Json, type: string): [string, Json][] {
  return Object.entries(template.Resources as Record<string, Json>).filter(([, r]) => r.Type === type);
}

export const TEST_ACCOUNT = '123456789012';

/**
 * Resolves the intrinsic functions IAM documents use (Ref, Fn::GetAtt Arn, Fn::Join, Fn::Select,
 * Fn::Split) against concrete names: a bucket's Ref is `names[id]`, a role's ARN is
 * `arn:aws:iam::123456789012:role/<names[id]>`. Anything else throws, so nothing is guessed.
 */
export function resolveIntrinsics(value: Json, template: Json, names: Record<string, string>): Json {
  const nameOf = (id: string) => {
    const name = names[id];
    if (name === undefined) throw new Error(`no test name for ${id}`);
    return name;
  };
  const arnOf = (id: string) => {
    const type = template.Resources[id]?.Type;
    if (type === 'AWS::S3::Bucket') return `arn:aws:s3:::${nameOf(id)}`;
    if (type === 'AWS::IAM::Role') return `arn:aws:iam::${TEST_ACCOUNT}:role/${nameOf(id)}`;
    if (type === 'AWS::Logs::LogGroup') return `arn:aws:logs:us-east-1:${TEST_ACCOUNT}:log-group:${nameOf(id)}:*`;
    throw new Error(`no ARN for ${id} (${type})`);
  };
  const walk = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== 'object') return v;
    const keys = Object.keys(v);
    if (keys.length === 1) {
      const [k] = keys as [string];
      const arg = v[k];
      if (k === 'Ref')
        return arg.startsWith('AWS::')
          ? {
              'AWS::Region': 'us-east-1',
              'AWS::AccountId': TEST_ACCOUNT,
              'AWS::Partition': 'aws',
              'AWS::URLSuffix': 'amazonaws.com',
            }[arg as string]
          : nameOf(arg);
      if (k === 'Fn::GetAtt') {
        if (arg[1] !== 'Arn') throw new Error(`unsupported Fn::GetAtt ${JSON.stringify(arg)}`);
        return arnOf(arg[0]);
      }
      if (k === 'Fn::Join') return (walk(arg[1]) as string[]).join(arg[0]);
      if (k === 'Fn::Select') return walk(arg[1])[arg[0]];
      if (k === 'Fn::Split') return String(walk(arg[1])).split(arg[0]);
      if (k.startsWith('Fn::')) throw new Error(`unsupported intrinsic ${k}`);
    }
    return Object.fromEntries(keys.map((key) => [key, walk(v[key])]));
  };
  return walk(value);
}
