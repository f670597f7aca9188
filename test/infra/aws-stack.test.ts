// Issue 13: the AWS stack, proven without AWS. The stack is synthesized the way `npm run aws:synth`
// does it (a child process with no credentials, account or region), and every point of the issue is
// asserted on the template JSON it wrote; a Cognito variant is synthesized in-process. The
// synthesized uploader role policy is then evaluated with iam-simulate (test/property/oracle.ts),
// intersected with the broker's own session policies for normal and adversarial subjects, and
// with the revocation statements of infra/aws/revoke.ts.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import cdkNag from 'cdk-nag';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rolePermissions } from '../../infra/local/uploader-role.mjs';
import { REPO_ROOT } from '../../infra/aws/bundle.js';
import { readSettings } from '../../infra/aws/settings.js';
import { revokeIssuedBefore, revokeSession, sessionNameOf } from '../../infra/aws/revoke.js';
import type { KeyholeError } from '../../server/errors.js';
import { compileGrants, resolveGrant } from '../../server/grants.js';
import { ALL_ACCESS, OBJECT_ACTIONS, type Access } from '../../server/policy/access.js';
import { buildSessionPolicy } from '../../server/policy/session-policy.js';
import { lambdaBroker } from '../../server/lambda/init.js';
import { adversarialSubject, anySubject, keySuffix, neighbourOf } from '../property/arbitraries.js';
import { bucketArn, decide, objectArn } from '../property/oracle.js';
import { httpEvent } from '../lambda/events.js';
import { resolveIntrinsics, resourcesOf, synthLikeNpm, type Json, type SynthOutput } from './aws-synth.js';

const EXAMPLE = readSettings({});
const BUCKET = 'keyhole-uploads-test';
// The same role policy (proven equal to the local one below) gets 1500 runs in test/property/; here a sample.
const RUNS = Number(process.env.KEYHOLE_PROPERTY_RUNS ?? 120) / 3;

let main: SynthOutput;
const cleanups: (() => void)[] = [];
afterAll(() => cleanups.forEach((c) => c()));
let t: Template;
let cognito: { template: Json; t: Template };

beforeAll(async () => {
  main = await synthLikeNpm();
  t = Template.fromJSON(main.template);
  // The Cognito variant, in-process, reusing the Lambda bundle of the first synthesis.
  const { synthesize } = await import('../../infra/aws/app.js');
  const settings = readSettings({
    KEYHOLE_AWS_STACK_NAME: 'KeyholeCognito',
    KEYHOLE_AWS_COGNITO: 'enhanced',
    KEYHOLE_PREFIX_TEMPLATE: 'private/{identityId}/',
    KEYHOLE_AWS_VERSIONING: '1',
    KEYHOLE_DURATION_SECONDS: '7200',
  });
  const bundleDir = join(main.outdir, '..', 'Keyhole-lambda');
  const cognitoDir = mkdtempSync(join(tmpdir(), 'keyhole-cdk-'));
  cleanups.push(() => rmSync(cognitoDir, { recursive: true, force: true }), main.cleanup);
  const out = synthesize(settings, join(cognitoDir, 'cdk.out'), {
    dir: bundleDir,
    file: join(bundleDir, 'index.mjs'),
    bytes: 0,
    gzipBytes: 0,
    packages: [],
  });
  const template = JSON.parse(readFileSync(out.templateFile, 'utf8'));
  cognito = { template, t: Template.fromJSON(template) };
}, 180_000);

const only = (template: Json, type: string): [string, Json] => {
  const found = resourcesOf(template, type);
  expect(found, type).toHaveLength(1);
  return found[0]!;
};
const roleByPrefix = (template: Json, prefix: string): [string, Json] => {
  const found = resourcesOf(template, 'AWS::IAM::Role').filter(([id]) => id.startsWith(prefix));
  expect(found, prefix).toHaveLength(1);
  return found[0]!;
};
/** Every IAM policy document of a template: role trust and inline policies, managed/attached policies, bucket policies. */
function policyDocuments(template: Json): { where: string; doc: Json }[] {
  const docs: { where: string; doc: Json }[] = [];
  for (const [id, r] of Object.entries(template.Resources as Record<string, Json>)) {
    const p = r.Properties ?? {};
    if (r.Type === 'AWS::IAM::Role') {
      for (const inline of p.Policies ?? [])
        docs.push({ where: `${id}.${inline.PolicyName}`, doc: inline.PolicyDocument });
    }
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy' || r.Type === 'AWS::S3::BucketPolicy') {
      docs.push({ where: id, doc: p.PolicyDocument });
    }
  }
  return docs;
}
/** A policy as IAM reads it: a one-element list is the same as its element (CDK writes the element). */
const canonical = (v: Json): Json =>
  Array.isArray(v)
    ? v.length === 1
      ? canonical(v[0])
      : v.map(canonical)
    : v !== null && typeof v === 'object'
      ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, canonical(x)]))
      : v;
const list = (v: Json): Json[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
/** IAM's wildcard match of an action pattern against a concrete action. */
const matches = (pattern: string, action: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  ).test(action);

describe('npm run aws:synth', () => {
  it('synthesizes offline with no AWS credentials, environment-agnostic, and reports the bundle', () => {
    const manifest = JSON.parse(readFileSync(join(main.outdir, 'manifest.json'), 'utf8'));
    expect(manifest.artifacts.Keyhole.environment).toBe('aws://unknown-account/unknown-region');
    expect(main.stdout).toMatch(/lambda bundle: \d+ KiB \(\d+ KiB gzipped\)/);
    expect(main.stdout).toMatch(/cdk-nag AwsSolutions: no unacknowledged finding/);
    expect(main.stdout).toContain('(the example: set KEYHOLE_AWS_ENV_FILE to deploy)');
  });
});

describe('the bucket', () => {
  it('blocks public access (all four), disables ACLs (BucketOwnerEnforced) and encrypts', () => {
    t.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
    });
  });

  it('accepts TLS only: the bucket policy denies every request without aws:SecureTransport', () => {
    const [bucketId] = only(main.template, 'AWS::S3::Bucket');
    const [, policy] = only(main.template, 'AWS::S3::BucketPolicy');
    const doc = resolveIntrinsics(policy.Properties.PolicyDocument, main.template, { [bucketId]: BUCKET });
    expect(doc.Statement).toContainEqual({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 's3:*',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
    });
  });

  it('allows the configured app origins by CORS and exposes ETag (multipart needs it)', () => {
    t.hasResourceProperties('AWS::S3::Bucket', {
      CorsConfiguration: {
        CorsRules: [
          Match.objectLike({
            AllowedOrigins: [...EXAMPLE.corsOrigins],
            AllowedMethods: Match.arrayWith(['GET', 'PUT', 'POST', 'DELETE', 'HEAD']),
            ExposedHeaders: Match.arrayWith(['ETag']),
          }),
        ],
      },
    });
  });

  it('aborts incomplete multipart uploads after 1 day; versioning only when asked', () => {
    t.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }),
        ]),
      },
      VersioningConfiguration: Match.absent(),
    });
    cognito.t.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } })]),
      },
    });
  });
});

describe('the uploader role', () => {
  it('is trusted by the broker function\u2019s role only, for exactly the actions the STS vendor\u2019s request needs', async () => {
    const [brokerRoleId] = roleByPrefix(main.template, 'BrokerRole');
    const [, uploader] = roleByPrefix(main.template, 'UploaderRole');
    const { brokerTrustActions } = await import('../../infra/aws/policies.js');
    expect(brokerTrustActions()).toEqual(['sts:AssumeRole', 'sts:SetSourceIdentity']);
    expect(uploader.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: brokerTrustActions(),
        Principal: { AWS: { 'Fn::GetAtt': [brokerRoleId, 'Arn'] } },
      },
    ]);
    // The broker role may assume this role and nothing else.
    const [, brokerPolicy] = only(main.template, 'AWS::IAM::Policy');
    const sts = brokerPolicy.Properties.PolicyDocument.Statement.filter((s: Json) =>
      list(s.Action).some((a: string) => a.startsWith('sts:')),
    );
    expect(sts).toEqual([
      {
        Effect: 'Allow',
        Action: brokerTrustActions(),
        Resource: { 'Fn::GetAtt': [roleByPrefix(main.template, 'UploaderRole')[0], 'Arn'] },
      },
    ]);
  });

  it('no role in either stack trusts the account root, * or any account', () => {
    for (const template of [main.template, cognito.template]) {
      for (const [id, role] of resourcesOf(template, 'AWS::IAM::Role')) {
        for (const s of role.Properties.AssumeRolePolicyDocument.Statement) {
          const text = JSON.stringify(s.Principal);
          expect(text, id).not.toMatch(/"\*"|:root|AWS::AccountId/);
          expect(s.NotPrincipal, id).toBeUndefined();
          expect(
            Object.keys(s.Principal).every((k) => ['AWS', 'Service', 'Federated'].includes(k)),
            id,
          ).toBe(true);
        }
      }
    }
  });

  it('has exactly the local role\u2019s permissions (infra/local/uploader-role.mjs), for this bucket', () => {
    const [bucketId] = only(main.template, 'AWS::S3::Bucket');
    const [, uploader] = roleByPrefix(main.template, 'UploaderRole');
    expect(uploader.Properties.Policies).toHaveLength(1);
    const doc = resolveIntrinsics(uploader.Properties.Policies[0].PolicyDocument, main.template, {
      [bucketId]: BUCKET,
    });
    expect(canonical(doc)).toEqual(canonical(rolePermissions(BUCKET)));
  });

  it('MaxSessionDuration covers KEYHOLE_DURATION_SECONDS (AWS minimum 3600)', () => {
    expect(roleByPrefix(main.template, 'UploaderRole')[1].Properties.MaxSessionDuration).toBe(3600);
    expect(roleByPrefix(cognito.template, 'CognitoAuthenticatedRole')[1].Properties.MaxSessionDuration).toBe(7200);
  });

  it('no statement anywhere allows s3:*, *, s3:PutObjectAcl or any s3:PutBucket* action', () => {
    const forbidden = [
      's3:PutObjectAcl',
      's3:PutObjectVersionAcl',
      's3:PutBucketAcl',
      's3:PutBucketPolicy',
      's3:PutBucketCORS',
      's3:PutBucketPublicAccessBlock',
      's3:PutBucketOwnershipControls',
      's3:PutBucketVersioning',
      's3:PutBucketNotification',
      's3:DeleteBucket',
      's3:DeleteBucketPolicy',
    ];
    let allows = 0;
    for (const template of [main.template, cognito.template]) {
      for (const { where, doc } of policyDocuments(template)) {
        for (const s of doc.Statement) {
          if (s.Effect !== 'Allow') continue;
          allows++;
          expect(s.NotAction, where).toBeUndefined();
          for (const action of list(s.Action) as string[]) {
            expect(['*', 's3:*'], where).not.toContain(action);
            for (const f of forbidden) expect(matches(action, f), `${where}: ${action} covers ${f}`).toBe(false);
            expect(action.toLowerCase().startsWith('s3:putbucket'), `${where}: ${action}`).toBe(false);
          }
        }
      }
    }
    expect(allows).toBeGreaterThan(5);
  });
});

describe('the broker function', () => {
  it('is Node 22 on arm64, handler index.handler, with its log group\u2019s retention', () => {
    const [logsId] = resourcesOf(main.template, 'AWS::Logs::LogGroup').find(([id]) => id.startsWith('BrokerLogs'))!;
    t.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: EXAMPLE.memoryMb,
      LoggingConfig: { LogGroup: { Ref: logsId } },
    });
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    expect(main.template.Resources[logsId].Properties.RetentionInDays).toBe(30);
  });

  it('is configured from the same variables as the broker, plus the bucket and role the stack made', () => {
    const [, fn] = only(main.template, 'AWS::Lambda::Function');
    const vars = fn.Properties.Environment.Variables;
    const [bucketId] = only(main.template, 'AWS::S3::Bucket');
    expect(vars).toEqual({
      ...EXAMPLE.brokerEnv,
      KEYHOLE_BUCKET: { Ref: bucketId },
      KEYHOLE_ROLE_ARN: { 'Fn::GetAtt': [roleByPrefix(main.template, 'UploaderRole')[0], 'Arn'] },
      NODE_ENV: 'production',
    });
    expect(vars.KEYHOLE_JWT_ISSUER).toBe('https://issuer.example.com/');
    expect(Object.keys(vars).filter((k) => /ACCESS_KEY|SECRET|ENDPOINT|DEV_LOGIN|TRUST_PROXY/.test(k))).toEqual([]);
  });

  it('deploys the esbuild bundle: one minified ES module, tree-shaken of test and build tools', () => {
    const [, fn] = only(main.template, 'AWS::Lambda::Function');
    const assets = JSON.parse(readFileSync(join(main.outdir, 'Keyhole.assets.json'), 'utf8'));
    const asset = assets.files[fn.Properties.Code.S3Key.replace(/\.zip$/, '')];
    expect(asset.source.packaging).toBe('zip');
    const assetDir = join(main.outdir, asset.source.path);
    expect(readdirSync(assetDir).sort()).toEqual(['index.mjs', 'index.mjs.LEGAL.txt', 'package.json']);
    const code = readFileSync(join(assetDir, 'index.mjs'), 'utf8');
    expect(code.startsWith("import{createRequire as __kh_cr}from'node:module'")).toBe(true);
    // Minified: long lines, no indentation.
    expect(code.length / code.split('\n').length).toBeGreaterThan(2000);
    // Tree-shaken to what the handler imports: runtime dependencies only, never a devDependency.
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
    const bundled = (
      JSON.parse(readFileSync(join(main.outdir, 'lambda-packages.json'), 'utf8')) as { name: string }[]
    ).map((p) => p.name);
    expect(bundled).toContain('express');
    expect(bundled).toContain('@aws-sdk/client-sts');
    // Never one of our devDependencies, unless a runtime dependency pulls it in too (the lock then
    // does not mark it `dev`: @aws-sdk/credential-provider-http, which client-sts uses).
    const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8'));
    const devOnly = (name: string) =>
      Object.hasOwn(pkg.devDependencies, name) && lock.packages[`node_modules/${name}`]?.dev === true;
    expect(Object.keys(pkg.devDependencies).filter(devOnly).length).toBeGreaterThan(10); // the check can fail
    expect(bundled.filter(devOnly)).toEqual([]);
    expect(code.includes('@cloud-copilot/iam-simulate'), 'iam-simulate').toBe(false);
    const kib = Number(/lambda bundle: (\d+) KiB/.exec(main.stdout)![1]);
    expect(Math.abs(kib - code.length / 1024)).toBeLessThan(2);
  });
});

describe('the HTTP API', () => {
  it('forwards the broker\u2019s routes only, to the function, in payload format 2.0', () => {
    const [fnId] = only(main.template, 'AWS::Lambda::Function');
    const routes = resourcesOf(main.template, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties.RouteKey);
    expect(routes.sort()).toEqual(['GET /healthz', 'GET /readyz', 'POST /v1/credentials']);
    for (const [, integration] of resourcesOf(main.template, 'AWS::ApiGatewayV2::Integration')) {
      expect(integration.Properties).toMatchObject({
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
        IntegrationUri: { 'Fn::GetAtt': [fnId, 'Arn'] },
      });
    }
    t.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
  });

  it('throttles the stage and writes access logs', () => {
    t.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('sourceIp') },
    });
  });

  it('answers CORS preflights as the broker does, for the configured origins', async () => {
    const [, api] = only(main.template, 'AWS::ApiGatewayV2::Api');
    const cors = api.Properties.CorsConfiguration;
    expect(cors.AllowOrigins).toEqual([...EXAMPLE.corsOrigins]);
    // The broker, configured as deployed, answers the same preflight with the same values.
    const broker = lambdaBroker({
      ...EXAMPLE.brokerEnv,
      KEYHOLE_BUCKET: BUCKET,
      KEYHOLE_ROLE_ARN: 'arn:aws:iam::123456789012:role/keyhole-uploader',
      AWS_REGION: 'us-east-1',
      KEYHOLE_ACCEPT_PUBLIC_ACL_RISK: '1',
      KEYHOLE_LOG_LEVEL: 'silent',
    });
    const answer = await broker.handler(
      httpEvent('OPTIONS', '/v1/credentials', {
        headers: { origin: EXAMPLE.corsOrigins[0]!, 'access-control-request-method': 'POST' },
      }),
    );
    const h = Object.fromEntries(Object.entries(answer.headers).map(([k, v]) => [k.toLowerCase(), v]));
    const norm = (v: string[] | string) =>
      (Array.isArray(v) ? v : v.split(',')).map((x) => x.trim().toLowerCase()).sort();
    expect(h['access-control-allow-origin']).toBe(EXAMPLE.corsOrigins[0]);
    expect(norm(h['access-control-allow-methods']!)).toEqual(norm(cors.AllowMethods));
    expect(norm(h['access-control-allow-headers']!)).toEqual(norm(cors.AllowHeaders));
    expect(norm(h['access-control-expose-headers']!)).toEqual(norm(cors.ExposeHeaders));
    expect(Number(h['access-control-max-age'])).toBe(cors.MaxAge);
  });
});

describe('the Cognito variant (KEYHOLE_AWS_COGNITO=enhanced)', () => {
  it('creates an identity pool with a developer provider, no guests, and no classic flow in enhanced mode', () => {
    cognito.t.hasResourceProperties('AWS::Cognito::IdentityPool', {
      AllowUnauthenticatedIdentities: false,
      DeveloperProviderName: 'keyhole',
      AllowClassicFlow: false,
    });
    expect(resourcesOf(cognito.template, 'AWS::IAM::Role').map(([id]) => id)).not.toContainEqual(
      expect.stringMatching(/^UploaderRole/),
    );
  });

  it('scopes the authenticated role like the STS path: each identity\u2019s own prefix, ACL writes denied', async () => {
    const [poolId] = only(cognito.template, 'AWS::Cognito::IdentityPool');
    const [roleId, role] = roleByPrefix(cognito.template, 'CognitoAuthenticatedRole');
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRoleWithWebIdentity',
        Principal: { Federated: 'cognito-identity.amazonaws.com' },
        Condition: {
          StringEquals: { 'cognito-identity.amazonaws.com:aud': { Ref: poolId } },
          'ForAnyValue:StringLike': { 'cognito-identity.amazonaws.com:amr': 'authenticated' },
        },
      },
    ]);
    const [bucketId] = only(cognito.template, 'AWS::S3::Bucket');
    const doc = resolveIntrinsics(role.Properties.Policies[0].PolicyDocument, cognito.template, { [bucketId]: BUCKET });
    const { cognitoRolePermissions } = await import('../../infra/aws/policies.js');
    expect(canonical(doc)).toEqual(canonical(cognitoRolePermissions(BUCKET, 'private/{identityId}/', [...ALL_ACCESS])));
    const objects = doc.Statement.find((s: Json) => s.Sid === 'Objects');
    expect(objects.Resource).toBe(`arn:aws:s3:::${BUCKET}/private/\${cognito-identity.amazonaws.com:sub}/*`);
    expect(canonical(doc.Statement.find((s: Json) => s.Sid === 'List').Condition)).toEqual({
      StringLike: { 's3:prefix': 'private/${cognito-identity.amazonaws.com:sub}/*' },
    });
    expect(canonical(doc).Statement.filter((s: Json) => s.Effect === 'Deny')).toEqual(
      canonical(rolePermissions(BUCKET)).Statement.filter((s: Json) => s.Effect === 'Deny'),
    );
    cognito.t.hasResourceProperties('AWS::Cognito::IdentityPoolRoleAttachment', {
      IdentityPoolId: { Ref: poolId },
      Roles: { authenticated: { 'Fn::GetAtt': [roleId, 'Arn'] } },
    });
  });

  it('lets the broker get developer tokens from this pool, and configures the cognito vendor', () => {
    const [poolId] = only(cognito.template, 'AWS::Cognito::IdentityPool');
    const [, policy] = only(cognito.template, 'AWS::IAM::Policy');
    const statements = policy.Properties.PolicyDocument.Statement;
    expect(statements.flatMap((s: Json) => list(s.Action)).filter((a: string) => a.startsWith('sts:'))).toEqual([]);
    const cognitoStatement = statements.find((s: Json) =>
      list(s.Action).includes('cognito-identity:GetOpenIdTokenForDeveloperIdentity'),
    );
    expect(JSON.stringify(cognitoStatement.Resource)).toContain(poolId);
    const [, fn] = only(cognito.template, 'AWS::Lambda::Function');
    expect(fn.Properties.Environment.Variables).toMatchObject({
      KEYHOLE_VENDOR: 'cognito',
      KEYHOLE_COGNITO_IDENTITY_POOL_ID: { Ref: poolId },
      KEYHOLE_COGNITO_MODE: 'enhanced',
      KEYHOLE_COGNITO_DEVELOPER_PROVIDER: 'keyhole',
      KEYHOLE_PREFIX_TEMPLATE: 'private/{identityId}/',
    });
    expect(fn.Properties.Environment.Variables.KEYHOLE_ROLE_ARN).toBeUndefined();
  });
});

describe('outputs', () => {
  it('give the API URL, bucket, role ARN and name, function, and a .env block for clients', () => {
    const outputs = main.template.Outputs;
    expect(Object.keys(outputs).sort()).toEqual([
      'ApiUrl',
      'BrokerFunctionName',
      'BucketName',
      'ClientEnv',
      'UploaderRoleArn',
      'UploaderRoleName',
    ]);
    const [apiId] = only(main.template, 'AWS::ApiGatewayV2::Api');
    const [bucketId] = only(main.template, 'AWS::S3::Bucket');
    const names = { [apiId]: 'a1b2c3d4e5', [bucketId]: BUCKET };
    expect(resolveIntrinsics(outputs.ApiUrl.Value, main.template, names)).toBe(
      'https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com',
    );
    expect(resolveIntrinsics(outputs.ClientEnv.Value, main.template, names).split('\n')).toEqual([
      'KEYHOLE_BROKER_URL=https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com',
      `KEYHOLE_BUCKET=${BUCKET}`,
      'AWS_REGION=us-east-1',
    ]);
  });
});

describe('cdk-nag (AwsSolutions)', () => {
  it('runs at synth with no unacknowledged finding; every acknowledgment carries its reason', () => {
    const [report] = main.report.pluginReports;
    expect(report).toMatchObject({ pluginName: 'AwsSolutions', conclusion: 'success', violations: [] });
    const acknowledged = report.suppressedViolations
      .flatMap((v: Json) => v.violatingConstructs.map((c: Json) => `${c.constructPath} ${v.ruleName}`))
      .sort();
    // A new acknowledgment must be reviewed here: this is the whole list.
    expect(acknowledged).toEqual([
      'Keyhole/Api/GET--healthz/Resource AwsSolutions-APIG4',
      'Keyhole/Api/GET--readyz/Resource AwsSolutions-APIG4',
      'Keyhole/Api/POST--v1--credentials/Resource AwsSolutions-APIG4',
      'Keyhole/Broker/Resource AwsSolutions-L1',
      expect.stringMatching(
        /^Keyhole\/UploaderRole\/Resource AwsSolutions-IAM5\[Resource::arn:aws:s3:::<Uploads\w+>\/\*\]$/,
      ),
      'Keyhole/Uploads/Resource AwsSolutions-S1',
    ]);
    for (const v of report.suppressedViolations) expect(v.reason.length, v.ruleName).toBeGreaterThan(60);
    // The reasons are also in the template, for compliance tooling.
    const inTemplate = Object.values(main.template.Resources as Record<string, Json>).flatMap(
      (r) => r.Metadata?.cdk_nag?.rules_to_suppress ?? [],
    );
    expect(inTemplate.length).toBeGreaterThanOrEqual(6);
    for (const rule of inTemplate) expect(rule.reason.length).toBeGreaterThan(60);
  });

  it('has teeth: an unacknowledged finding fails the synthesis', async () => {
    const { App, Stack, Validations } = await import('aws-cdk-lib');
    const { Bucket } = await import('aws-cdk-lib/aws-s3');
    const dir = mkdtempSync(join(tmpdir(), 'keyhole-nag-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const app = new App({ outdir: join(dir, 'cdk.out') });
    new Bucket(new Stack(app, 'Careless'), 'Plain');
    Validations.of(app).addPlugins(new cdkNag.AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
  });
});

// ---------------------------------------------------------------------------------------------
// The synthesized uploader role policy, as AWS would evaluate it (iam-simulate), with the broker's
// session policies and with the revocation statements.

describe('the synthesized role policy on the AWS-faithful simulator', () => {
  let rolePolicy: Json;
  beforeAll(() => {
    const [bucketId] = only(main.template, 'AWS::S3::Bucket');
    const [, uploader] = roleByPrefix(main.template, 'UploaderRole');
    rolePolicy = resolveIntrinsics(uploader.Properties.Policies[0].PolicyDocument, main.template, {
      [bucketId]: BUCKET,
    });
  });

  const TEMPLATE = EXAMPLE.prefixTemplate;
  const grantFor = (sub: string, access?: Access[]) => {
    const rules = compileGrants([{ bucket: BUCKET, scopes: [{ prefix: TEMPLATE, access: [...ALL_ACCESS] }] }]);
    try {
      const grant = resolveGrant(rules, { sub }, access);
      return { prefix: grant.scopes[0]!.prefix, policy: buildSessionPolicy(grant.bucket, grant.scopes) };
    } catch (err) {
      expect(['unsupported_subject', 'grant_too_large']).toContain((err as KeyholeError).code);
      return undefined;
    }
  };
  const check = async (
    want: 'Allowed' | 'Denied',
    sessionPolicy: string | object,
    action: string,
    resource: string,
    context?: Record<string, string>,
  ) => {
    const got = await decide({
      bucket: BUCKET,
      sessionPolicy,
      action,
      resource,
      rolePolicy,
      ...(context ? { context } : {}),
    });
    const label = `${action} ${resource} ${JSON.stringify(context ?? {})}`;
    if (want === 'Allowed') expect(got, label).toBe('Allowed');
    else expect(got, label).not.toBe('Allowed');
    return got;
  };
  const objectActions = (access: readonly Access[]) =>
    access.flatMap((a) => (a === 'list' ? [] : OBJECT_ACTIONS[a as Exclude<Access, 'list'>]));

  it(`role policy ∩ session policy: own prefix only, for random and adversarial subjects (${Math.round(RUNS)} runs)`, async () => {
    let cases = 0;
    await fc.assert(
      fc.asyncProperty(
        anySubject(48),
        fc.oneof(anySubject(48), neighbourOf('alice')),
        fc.subarray([...ALL_ACCESS] as Access[], { minLength: 1 }),
        keySuffix,
        async (me, other, access, key) => {
          fc.pre(me !== other);
          const mine = grantFor(me, access);
          const theirs = grantFor(other);
          fc.pre(mine !== undefined && theirs !== undefined);
          cases++;
          for (const action of objectActions(access)) {
            await check('Allowed', mine!.policy, action, objectArn(BUCKET, mine!.prefix + key));
            await check('Denied', mine!.policy, action, objectArn(BUCKET, theirs!.prefix + key));
            await check('Denied', mine!.policy, action, objectArn(BUCKET, key));
          }
          if (access.includes('list')) {
            await check('Allowed', mine!.policy, 's3:ListBucket', bucketArn(BUCKET), { 's3:prefix': mine!.prefix });
          }
          await check('Denied', mine!.policy, 's3:ListBucket', bucketArn(BUCKET), { 's3:prefix': theirs!.prefix });
          await check('Denied', mine!.policy, 's3:ListBucket', bucketArn(BUCKET), { 's3:prefix': '' });
          await check('Denied', mine!.policy, 's3:PutObjectAcl', objectArn(BUCKET, mine!.prefix + key));
          await check('Denied', mine!.policy, 's3:PutBucketPolicy', bucketArn(BUCKET));
        },
      ),
      { numRuns: Math.round(RUNS) },
    );
    expect(cases).toBeGreaterThan(RUNS / 2);
  }, 120_000);

  it('alone bounds any session: with an allow-everything session policy, no ACL, bucket-configuration or other-bucket action', async () => {
    const everything = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
    for (const action of ['s3:PutObjectAcl', 's3:GetObjectAcl', 's3:PutObjectTagging', 's3:GetObjectVersion']) {
      await check('Denied', everything, action, objectArn(BUCKET, 'users/alice/f.txt'));
    }
    for (const action of [
      's3:PutBucketPolicy',
      's3:PutBucketAcl',
      's3:PutBucketCORS',
      's3:PutBucketPublicAccessBlock',
      's3:PutBucketOwnershipControls',
      's3:PutBucketVersioning',
      's3:PutLifecycleConfiguration',
      's3:DeleteBucket',
      's3:ListBucketVersions',
    ]) {
      await check('Denied', everything, action, bucketArn(BUCKET));
    }
    await check('Denied', everything, 's3:GetObject', objectArn('another-bucket', 'users/alice/f.txt'));
    await check('Denied', everything, 'sts:AssumeRole', 'arn:aws:iam::123456789012:role/keyhole-uploader');
    // ACL headers on a write are explicitly denied by the role itself.
    for (const [key, value] of [
      ['s3:x-amz-acl', 'public-read'],
      ['s3:x-amz-acl', 'private'],
      ['s3:x-amz-grant-read', 'uri="http://acs.amazonaws.com/groups/global/AllUsers"'],
      ['s3:x-amz-grant-full-control', 'id="someone"'],
    ] as const) {
      expect(
        await check('Denied', everything, 's3:PutObject', objectArn(BUCKET, 'users/alice/f.txt'), { [key]: value }),
      ).toBe('ExplicitlyDenied');
    }
    await check('Allowed', everything, 's3:PutObject', objectArn(BUCKET, 'users/alice/f.txt'));
  });

  describe('revocation (infra/aws/revoke.ts) added to the synthesized role policy', () => {
    const withRevocations = (...statements: Json[]) => ({
      ...rolePolicy,
      Statement: [...rolePolicy.Statement, ...statements],
    });
    const decideAt = (policy: Json, sessionPolicy: string, key: string, context: Record<string, string>) =>
      decide({
        bucket: BUCKET,
        sessionPolicy,
        action: 's3:GetObject',
        resource: objectArn(BUCKET, key),
        rolePolicy: policy,
        context,
      });

    it('--before: every credential issued before the cutoff is denied, even on its own prefix; later ones work', async () => {
      const cutoff = new Date('2026-11-22T12:00:00Z');
      const policy = withRevocations(revokeIssuedBefore(cutoff));
      const alice = grantFor('alice')!;
      const at = (iso: string) => ({
        'aws:TokenIssueTime': iso,
        'aws:userid': `AROAEXAMPLE:${sessionNameOf('alice', 'https://id.example.com/')}`,
      });
      expect(await decideAt(policy, alice.policy, `${alice.prefix}f`, at('2026-11-22T11:59:59Z'))).toBe(
        'ExplicitlyDenied',
      );
      expect(await decideAt(policy, alice.policy, `${alice.prefix}f`, at('2026-11-22T12:00:00Z'))).toBe('Allowed');
      expect(await decideAt(policy, alice.policy, `${alice.prefix}f`, at('2026-11-22T12:00:01Z'))).toBe('Allowed');
    });

    it('--subject: only that subject\u2019s sessions issued before now are denied, for adversarial subjects and issuers', async () => {
      const issuer = 'https://id.example.com/';
      const now = new Date('2026-11-22T12:00:00Z');
      await fc.assert(
        fc.asyncProperty(
          adversarialSubject(40),
          fc.oneof(adversarialSubject(40), neighbourOf('x')),
          async (victim, bystander) => {
            fc.pre(victim !== bystander);
            const v = grantFor(victim);
            const b = grantFor(bystander);
            fc.pre(v !== undefined && b !== undefined);
            const policy = withRevocations(revokeSession(sessionNameOf(victim, issuer), now));
            const ctx = (sub: string, iso: string) => ({
              'aws:TokenIssueTime': iso,
              'aws:userid': `AROAEXAMPLEROLEID:${sessionNameOf(sub, issuer)}`,
            });
            expect(await decideAt(policy, v!.policy, `${v!.prefix}f`, ctx(victim, '2026-11-22T11:59:00Z'))).toBe(
              'ExplicitlyDenied',
            );
            // The same subject at another issuer is another caller, with another session name.
            expect(
              await decideAt(policy, v!.policy, `${v!.prefix}f`, {
                'aws:TokenIssueTime': '2026-11-22T11:59:00Z',
                'aws:userid': `AROAEXAMPLEROLEID:${sessionNameOf(victim, 'https://other.example.com/')}`,
              }),
            ).toBe('Allowed');
            expect(await decideAt(policy, b!.policy, `${b!.prefix}f`, ctx(bystander, '2026-11-22T11:59:00Z'))).toBe(
              'Allowed',
            );
            // The victim's next credentials (issued after the revocation) work.
            expect(await decideAt(policy, v!.policy, `${v!.prefix}f`, ctx(victim, '2026-11-22T12:00:05Z'))).toBe(
              'Allowed',
            );
          },
        ),
        { numRuns: Math.round(RUNS / 2) },
      );
    }, 120_000);
  });
});
