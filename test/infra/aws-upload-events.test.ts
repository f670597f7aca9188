// Issue 15 on AWS, proven without AWS: with upload rules (KEYHOLE_UPLOAD_*) or the webhook set, the
// stack routes POST /v1/uploads/complete, grants the broker function what the rules need, and adds
// the upload-events function that S3 notifies (ObjectCreated under the grant prefix, never removals)
// plus an hourly reconciliation. Without them, none of it. The synthesized role policies are then
// evaluated as AWS would (iam-simulate): least privilege, on the bucket's grant prefix only.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSettings } from '../../infra/aws/settings.js';
import { resolveIntrinsics, resourcesOf, synthLikeNpm, type Json, type SynthOutput } from './aws-synth.js';

const ACCOUNT = '123456789012';
const BUCKET = 'keyhole-uploads-test';
const RULES = {
  KEYHOLE_UPLOAD_MAX_BYTES: '10485760',
  KEYHOLE_UPLOAD_CONTENT_TYPES: 'image/*',
  KEYHOLE_UPLOAD_QUOTA_BYTES: '104857600',
  KEYHOLE_QUARANTINE_PREFIX: 'quarantine/',
  KEYHOLE_EVENTS_WEBHOOK_URL: 'https://app.example.com/hooks/keyhole',
  KEYHOLE_EVENTS_WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 9).toString('base64')}`,
};

let withRules: SynthOutput;
let t: Template;
const cleanups: (() => void)[] = [];
afterAll(() => cleanups.forEach((c) => c()));

/** In-process synthesis of other settings, reusing the first synthesis' Lambda bundle. */
async function synthOther(env: Record<string, string>, name: string): Promise<Json> {
  const { synthesize } = await import('../../infra/aws/app.js');
  const dir = mkdtempSync(join(tmpdir(), 'keyhole-cdk-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const bundleDir = join(withRules.outdir, '..', 'Keyhole-lambda');
  const out = synthesize(readSettings({ KEYHOLE_AWS_STACK_NAME: name, ...env }), join(dir, 'cdk.out'), {
    dir: bundleDir,
    file: join(bundleDir, 'index.mjs'),
    bytes: 0,
    gzipBytes: 0,
    packages: [],
  });
  return JSON.parse(readFileSync(out.templateFile, 'utf8'));
}

let example: Json;
let webhookOnly: Json;
beforeAll(async () => {
  withRules = await synthLikeNpm(RULES);
  cleanups.push(withRules.cleanup);
  t = Template.fromJSON(withRules.template);
  example = await synthOther({}, 'KeyholeExample');
  webhookOnly = await synthOther(
    {
      KEYHOLE_EVENTS_WEBHOOK_URL: RULES.KEYHOLE_EVENTS_WEBHOOK_URL,
      KEYHOLE_EVENTS_WEBHOOK_SECRET: RULES.KEYHOLE_EVENTS_WEBHOOK_SECRET,
    },
    'KeyholeWebhook',
  );
}, 180_000);

const byPrefix = (template: Json, type: string, prefix: string): [string, Json] => {
  const found = resourcesOf(template, type).filter(([id]) => id.startsWith(prefix));
  expect(found, `${type} ${prefix}`).toHaveLength(1);
  return found[0]!;
};

/** The role's inline (default) policy document, with the bucket's name filled in. */
function policyOf(template: Json, rolePrefix: string): Json {
  const [roleId] = byPrefix(template, 'AWS::IAM::Role', rolePrefix);
  const [bucketId] = resourcesOf(template, 'AWS::S3::Bucket')[0]!;
  const policies = resourcesOf(template, 'AWS::IAM::Policy').filter(([, p]) =>
    p.Properties.Roles.some((r: Json) => r.Ref === roleId),
  );
  expect(policies).toHaveLength(1);
  const named = Object.fromEntries(
    [...resourcesOf(template, 'AWS::Logs::LogGroup'), ...resourcesOf(template, 'AWS::IAM::Role')].map(([id]) => [
      id,
      id,
    ]),
  );
  return resolveIntrinsics(policies[0]![1].Properties.PolicyDocument, template, { ...named, [bucketId]: BUCKET });
}

async function decide(policy: Json, action: string, resource: string, context: Record<string, string> = {}) {
  const result = await runSimulation(
    {
      request: {
        principal: `arn:aws:sts::${ACCOUNT}:assumed-role/keyhole-fn/fn`,
        action,
        resource: { resource, accountId: ACCOUNT },
        contextVariables: context,
      },
      identityPolicies: [{ name: 'fn', policy }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (result.resultType !== 'single') throw new Error(`simulator: ${JSON.stringify(result)}`);
  return result.overallResult;
}
const object = (key: string, bucket = BUCKET) => `arn:aws:s3:::${bucket}/${key}`;

describe('the AWS upload path, synthesized', () => {
  it('S3 notifies the upload-events function of ObjectCreated under the grant prefix, never of removals', () => {
    const [fnId, fn] = byPrefix(withRules.template, 'AWS::Lambda::Function', 'UploadEvents');
    expect(fn.Properties.Handler).toBe('index.uploadEvents');
    t.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: {
        LambdaFunctionConfigurations: [
          {
            Events: ['s3:ObjectCreated:*'],
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'users/' }] } },
            LambdaFunctionArn: { 'Fn::GetAtt': [fnId, 'Arn'] },
          },
        ],
      },
    });
    expect(JSON.stringify(withRules.template)).not.toContain('ObjectRemoved');
    // Only S3, for this bucket in this account, may invoke it.
    t.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [fnId, 'Arn'] },
      Principal: 's3.amazonaws.com',
      SourceAccount: { Ref: 'AWS::AccountId' },
      SourceArn: Match.anyValue(),
    });
  });

  it('the function runs the broker’s bundle with the broker’s environment (one loader, the same rules)', () => {
    const [, fn] = byPrefix(withRules.template, 'AWS::Lambda::Function', 'UploadEvents');
    const [, broker] = byPrefix(withRules.template, 'AWS::Lambda::Function', 'Broker');
    expect(fn.Properties.Code).toEqual(broker.Properties.Code);
    expect(fn.Properties.Environment).toEqual(broker.Properties.Environment);
    expect(fn.Properties.Environment.Variables).toMatchObject(RULES);
    expect(fn.Properties.Role).not.toEqual(broker.Properties.Role);
    expect(fn.Properties.Timeout).toBe(60);
  });

  it('routes POST /v1/uploads/complete to the broker, and schedules the reconciliation hourly', () => {
    t.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /v1/uploads/complete' });
    const [fnId] = byPrefix(withRules.template, 'AWS::Lambda::Function', 'UploadEvents');
    t.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 hour)',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [fnId, 'Arn'] },
          Input: JSON.stringify({ keyhole: 'reconcile', sinceMinutes: 75 }),
        }),
      ],
    });
  });

  it('without rules or a webhook: no route, no function, no notification, no S3 object access for the broker', () => {
    const types = Object.values(example.Resources as Record<string, Json>).map((r) => r.Type);
    expect(types).not.toContain('Custom::S3BucketNotifications');
    expect(types).not.toContain('AWS::Events::Rule');
    expect(resourcesOf(example, 'AWS::Lambda::Function').map(([id]) => id)).toEqual([expect.stringMatching(/^Broker/)]);
    const routes = resourcesOf(example, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties.RouteKey);
    expect(routes).not.toContain('POST /v1/uploads/complete');
    expect(JSON.stringify(policyOf(example, 'BrokerRole'))).not.toMatch(/s3:(GetObject|DeleteObject|ListBucket)"/);
  });
});

describe('least privilege, evaluated (iam-simulate)', () => {
  const user = 'users/alice/me.png';

  it('the upload-events role: read and delete under the grant prefix, list it, write only to quarantine', async () => {
    const p = policyOf(withRules.template, 'UploadEventsRole');
    // HEAD is authorised as s3:GetObject.
    expect(await decide(p, 's3:GetObject', object(user))).toBe('Allowed');
    expect(await decide(p, 's3:DeleteObject', object(user))).toBe('Allowed');
    expect(await decide(p, 's3:PutObject', object(`quarantine/${user}`))).toBe('Allowed');
    expect(await decide(p, 's3:ListBucket', `arn:aws:s3:::${BUCKET}`, { 's3:prefix': 'users/' })).toBe('Allowed');
    for (const [action, resource, context] of [
      ['s3:PutObject', object(user), {}],
      ['s3:GetObject', object('other/x')],
      ['s3:GetObject', object(`quarantine/${user}`)],
      ['s3:DeleteObject', object(`quarantine/${user}`)],
      ['s3:GetObject', object(user, 'another-bucket')],
      ['s3:DeleteObject', object(user, 'another-bucket')],
      ['s3:ListBucket', `arn:aws:s3:::${BUCKET}`, { 's3:prefix': 'other/' }],
      ['s3:ListBucket', `arn:aws:s3:::${BUCKET}`, {}],
      ['s3:PutBucketNotification', `arn:aws:s3:::${BUCKET}`],
      ['sts:AssumeRole', `arn:aws:iam::${ACCOUNT}:role/keyhole-uploader`],
    ] as const) {
      expect(await decide(p, action, resource, context), `${action} ${resource}`).not.toBe('Allowed');
    }
  });

  it('the broker role gains exactly what POST /v1/uploads/complete needs with these rules', async () => {
    const p = policyOf(withRules.template, 'BrokerRole');
    expect(await decide(p, 's3:GetObject', object(user))).toBe('Allowed');
    expect(await decide(p, 's3:DeleteObject', object(user))).toBe('Allowed');
    expect(await decide(p, 's3:ListBucket', `arn:aws:s3:::${BUCKET}`, { 's3:prefix': 'users/alice/' })).toBe('Allowed');
    expect(await decide(p, 's3:PutObject', object(`quarantine/${user}`))).toBe('Allowed');
    expect(await decide(p, 's3:PutObject', object(user))).not.toBe('Allowed');
    expect(await decide(p, 's3:GetObject', object('other/x'))).not.toBe('Allowed');
  });

  it('with the webhook only (no rule can reject): read and list, never delete', async () => {
    const events = policyOf(webhookOnly, 'UploadEventsRole');
    const broker = policyOf(webhookOnly, 'BrokerRole');
    expect(await decide(events, 's3:GetObject', object(user))).toBe('Allowed');
    expect(await decide(events, 's3:ListBucket', `arn:aws:s3:::${BUCKET}`, { 's3:prefix': 'users/' })).toBe('Allowed');
    expect(await decide(broker, 's3:GetObject', object(user))).toBe('Allowed');
    for (const p of [events, broker]) expect(await decide(p, 's3:DeleteObject', object(user))).not.toBe('Allowed');
    expect(await decide(broker, 's3:ListBucket', `arn:aws:s3:::${BUCKET}`, { 's3:prefix': 'users/' })).not.toBe(
      'Allowed',
    );
  });

  it('refuses KEYHOLE_NOTIFY_TOKEN in the deploy settings: S3 calls the function, not a route', () => {
    expect(() => readSettings({ KEYHOLE_NOTIFY_TOKEN: 'a'.repeat(40) })).toThrow(
      /KEYHOLE_NOTIFY_TOKEN: must not be set/,
    );
  });
});
