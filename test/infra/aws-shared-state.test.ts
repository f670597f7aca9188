// Issue 14 on AWS: the CDK stack can run the broker function in a VPC and give every container one
// shared store, a Valkey cache (ElastiCache Serverless) that only the function's security group can
// reach. Proven on the synthesized template (in-process, a stub Lambda bundle: the bundle itself is
// covered by aws-stack.test.ts) and on the deploy settings' refusals, each naming its variable.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthesize } from '../../infra/aws/app.js';
import { readSettings } from '../../infra/aws/settings.js';
import { resourcesOf, type Json } from './aws-synth.js';

const VPC = 'vpc-0abc12345def67890';
const SUBNETS = ['subnet-0abc12345def67890', 'subnet-0abc12345def67891'];
const KEY = Buffer.alloc(32, 7).toString('base64');
const SHARED = {
  KEYHOLE_AWS_STACK_NAME: 'KeyholeShared',
  KEYHOLE_AWS_VPC_ID: VPC,
  KEYHOLE_AWS_SUBNET_IDS: SUBNETS.join(', '),
  KEYHOLE_AWS_SHARED_STATE: 'elasticache',
  KEYHOLE_REDIS_KEYS: KEY,
};

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function synth(env: Record<string, string>): Json {
  const dir = mkdtempSync(join(tmpdir(), 'keyhole-cdk-shared-'));
  dirs.push(dir);
  const bundleDir = join(dir, 'lambda');
  mkdirSync(bundleDir);
  const file = join(bundleDir, 'index.mjs');
  writeFileSync(file, 'export const handler = async () => ({ statusCode: 200 });\n');
  // A stub bundle: the asset is only hashed and copied here.
  const out = synthesize(readSettings(env), join(dir, 'cdk.out'), {
    dir: bundleDir,
    file,
    bytes: 0,
    gzipBytes: 0,
    packages: [],
  });
  return Template.fromStack(out.stack).toJSON();
}

const brokerFunction = (template: Json): Json => {
  const found = resourcesOf(template, 'AWS::Lambda::Function').filter(([id]) => id.startsWith('Broker'));
  expect(found).toHaveLength(1);
  return found[0]![1];
};

describe('KEYHOLE_AWS_SHARED_STATE=elasticache: one Valkey cache for every broker container', () => {
  let shared: Json;
  let plain: Json;
  beforeAll(() => {
    shared = synth(SHARED);
    plain = synth({ KEYHOLE_AWS_STACK_NAME: 'KeyholePlain' });
  }, 120_000);

  it('creates a serverless Valkey cache in the given subnets, storage bounded to 1 GB', () => {
    const caches = resourcesOf(shared, 'AWS::ElastiCache::ServerlessCache');
    expect(caches).toHaveLength(1);
    const [, cache] = caches[0]!;
    expect(cache.Properties).toMatchObject({
      Engine: 'valkey',
      MajorEngineVersion: '8',
      ServerlessCacheName: 'keyholeshared-shared',
      SubnetIds: SUBNETS,
      CacheUsageLimits: { DataStorage: { Maximum: 1, Unit: 'GB' } },
    });
  });

  it('puts the function in those subnets with its own security group, and points it at the cache over TLS', () => {
    const fn = brokerFunction(shared);
    const [sgId] = resourcesOf(shared, 'AWS::EC2::SecurityGroup').find(([id]) => id.startsWith('BrokerSecurityGroup'))!;
    expect(fn.Properties.VpcConfig).toEqual({
      SubnetIds: SUBNETS,
      SecurityGroupIds: [{ 'Fn::GetAtt': [sgId, 'GroupId'] }],
    });
    const [cacheId] = resourcesOf(shared, 'AWS::ElastiCache::ServerlessCache')[0]!;
    expect(fn.Properties.Environment.Variables.KEYHOLE_REDIS_URL).toEqual({
      'Fn::Join': [
        '',
        [
          'rediss://',
          { 'Fn::GetAtt': [cacheId, 'Endpoint.Address'] },
          ':',
          { 'Fn::GetAtt': [cacheId, 'Endpoint.Port'] },
        ],
      ],
    });
    expect(fn.Properties.Environment.Variables.KEYHOLE_REDIS_KEYS).toBe(KEY);
  });

  it('admits the function\u2019s security group alone, on the cache port alone; the cache sends nothing out', () => {
    const groups = resourcesOf(shared, 'AWS::EC2::SecurityGroup');
    const [brokerSg] = groups.find(([id]) => id.startsWith('BrokerSecurityGroup'))!;
    const [cacheSgId, cacheSg] = groups.find(([id]) => id.startsWith('SharedCacheSecurityGroup'))!;
    expect(cacheSg.Properties.SecurityGroupIngress ?? []).toEqual([]);
    // CDK's "no outbound" placeholder: one ICMP rule to 255.255.255.255/32.
    expect(cacheSg.Properties.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '255.255.255.255/32' })]);
    const ingress = resourcesOf(shared, 'AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties);
    expect(ingress).toEqual([
      expect.objectContaining({
        GroupId: { 'Fn::GetAtt': [cacheSgId, 'GroupId'] },
        SourceSecurityGroupId: { 'Fn::GetAtt': [brokerSg, 'GroupId'] },
        IpProtocol: 'tcp',
        FromPort: 6379,
        ToPort: 6379,
      }),
    ]);
    const [, cache] = resourcesOf(shared, 'AWS::ElastiCache::ServerlessCache')[0]!;
    expect(cache.Properties.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [cacheSgId, 'GroupId'] }]);
    // Nothing else in the template accepts traffic.
    expect(groups.flatMap(([, g]) => g.Properties.SecurityGroupIngress ?? [])).toEqual([]);
  });

  it('gives the function\u2019s own role exactly the network-interface actions Lambda needs in a VPC', () => {
    const statements = resourcesOf(shared, 'AWS::IAM::Policy')
      .filter(([id]) => id.startsWith('BrokerRole'))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Json[]);
    const ec2 = statements.filter((s) => [s.Action].flat().some((a: string) => a.startsWith('ec2:')));
    expect(ec2).toHaveLength(1);
    expect([ec2[0].Action].flat().sort()).toEqual([
      'ec2:AssignPrivateIpAddresses',
      'ec2:CreateNetworkInterface',
      'ec2:DeleteNetworkInterface',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeSubnets',
      'ec2:UnassignPrivateIpAddresses',
    ]);
    expect(ec2[0].Effect).toBe('Allow');
  });

  it('without the settings: no VPC, no cache, no security group, no EC2 permission, no Redis variable', () => {
    const fn = brokerFunction(plain);
    expect(fn.Properties.VpcConfig).toBeUndefined();
    expect(fn.Properties.Environment.Variables.KEYHOLE_REDIS_URL).toBeUndefined();
    expect(resourcesOf(plain, 'AWS::ElastiCache::ServerlessCache')).toEqual([]);
    expect(resourcesOf(plain, 'AWS::EC2::SecurityGroup')).toEqual([]);
    expect(JSON.stringify(plain)).not.toContain('ec2:');
  });

  it('a VPC without the cache runs the function there and leaves the store to KEYHOLE_REDIS_URL', () => {
    const template = synth({
      KEYHOLE_AWS_STACK_NAME: 'KeyholeVpc',
      KEYHOLE_SDK_CREDENTIALS_ROUTE: '1',
      KEYHOLE_AWS_VPC_ID: VPC,
      KEYHOLE_AWS_SUBNET_IDS: SUBNETS.join(','),
      KEYHOLE_REDIS_URL: 'rediss://my-redis.internal:6379',
      KEYHOLE_REDIS_KEYS: KEY,
    });
    const fn = brokerFunction(template);
    expect(fn.Properties.VpcConfig.SubnetIds).toEqual(SUBNETS);
    expect(fn.Properties.Environment.Variables.KEYHOLE_REDIS_URL).toBe('rediss://my-redis.internal:6379');
    expect(resourcesOf(template, 'AWS::ElastiCache::ServerlessCache')).toEqual([]);
    // With KEYHOLE_SDK_CREDENTIALS_ROUTE=1 the HTTP API forwards the SDK route too (not by default: aws-stack.test.ts).
    const routes = resourcesOf(template, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties.RouteKey);
    expect(routes.sort()).toEqual([
      'GET /healthz',
      'GET /readyz',
      'GET /v1/credentials/aws-sdk',
      'POST /v1/credentials',
    ]);
    expect(resourcesOf(plain, 'AWS::ApiGatewayV2::Route')).toHaveLength(3);
  }, 60_000);
});

describe('shared-state deploy settings: each refusal names its variable and what to do', () => {
  const refused = (env: Record<string, string>) => {
    try {
      readSettings(env);
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('accepted');
  };

  it('elasticache needs a VPC, keys, and no URL of its own', () => {
    expect(refused({ KEYHOLE_AWS_SHARED_STATE: 'elasticache', KEYHOLE_REDIS_KEYS: KEY })).toBe(
      'KEYHOLE_AWS_SHARED_STATE: elasticache needs KEYHOLE_AWS_VPC_ID and KEYHOLE_AWS_SUBNET_IDS: the cache is reachable inside a VPC only, so the function runs there too',
    );
    expect(refused({ ...SHARED, KEYHOLE_REDIS_KEYS: '' })).toBe(
      'KEYHOLE_REDIS_KEYS: is required with KEYHOLE_AWS_SHARED_STATE=elasticache: credentials are sealed in the cache with it (`openssl rand -base64 32`)',
    );
    expect(refused({ ...SHARED, KEYHOLE_REDIS_URL: 'rediss://elsewhere:6379' })).toBe(
      'KEYHOLE_REDIS_URL: must not be set with KEYHOLE_AWS_SHARED_STATE=elasticache: the stack creates the cache and sets it',
    );
    expect(refused({ ...SHARED, KEYHOLE_AWS_SHARED_STATE: 'dynamodb' })).toBe(
      'KEYHOLE_AWS_SHARED_STATE: expected off or elasticache (got "dynamodb")',
    );
  });

  it('the VPC and its subnets come together, as IDs, two or more, no repeats', () => {
    expect(refused({ KEYHOLE_AWS_SUBNET_IDS: SUBNETS.join(',') })).toBe(
      'KEYHOLE_AWS_VPC_ID: is required with KEYHOLE_AWS_SUBNET_IDS',
    );
    expect(refused({ KEYHOLE_AWS_VPC_ID: VPC })).toBe(
      'KEYHOLE_AWS_SUBNET_IDS: is required with KEYHOLE_AWS_VPC_ID: two or more private subnet IDs in different Availability Zones, comma-separated',
    );
    expect(refused({ KEYHOLE_AWS_VPC_ID: 'my-vpc', KEYHOLE_AWS_SUBNET_IDS: SUBNETS.join(',') })).toBe(
      'KEYHOLE_AWS_VPC_ID: expected a VPC ID such as vpc-0abc12345def67890 (got "my-vpc")',
    );
    expect(refused({ KEYHOLE_AWS_VPC_ID: VPC, KEYHOLE_AWS_SUBNET_IDS: `${SUBNETS[0]},subnet-XYZ` })).toBe(
      'KEYHOLE_AWS_SUBNET_IDS: expected subnet IDs such as subnet-0abc12345def67890 (got "subnet-XYZ")',
    );
    expect(refused({ KEYHOLE_AWS_VPC_ID: VPC, KEYHOLE_AWS_SUBNET_IDS: `${SUBNETS[0]},${SUBNETS[0]}` })).toBe(
      'KEYHOLE_AWS_SUBNET_IDS: lists a subnet twice',
    );
    expect(refused({ KEYHOLE_AWS_VPC_ID: VPC, KEYHOLE_AWS_SUBNET_IDS: SUBNETS[0]! })).toBe(
      'KEYHOLE_AWS_SUBNET_IDS: needs two or more subnets in different Availability Zones (Lambda and ElastiCache both want more than one)',
    );
  });

  it('reads a valid set into the settings', () => {
    const s = readSettings(SHARED);
    expect(s.vpc).toEqual({ vpcId: VPC, subnetIds: SUBNETS });
    expect(s.sharedState).toBe('elasticache');
    expect(s.brokerEnv.KEYHOLE_REDIS_URL).toBeUndefined();
    expect(readSettings({}).sharedState).toBeUndefined();
    expect(readSettings({}).vpc).toBeUndefined();
  });
});
