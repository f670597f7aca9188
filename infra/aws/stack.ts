// The Keyhole stack: the uploads bucket, the uploader role, the broker Lambda behind an HTTP API,
// and optionally a Cognito identity pool. Environment-agnostic: it synthesizes with no account,
// region or credentials. Policy documents come from the same sources as the local stack
// (infra/local/uploader-role.mjs) and the broker (requiredTrustActions, OBJECT_ACTIONS).
import { Aws, CfnOutput, Duration, Fn, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  CorsHttpMethod,
  HttpApi,
  HttpMethod,
  HttpRoute,
  HttpStage,
  LogGroupLogDestination,
  PayloadFormatVersion,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { CfnIdentityPool, CfnIdentityPoolRoleAttachment } from 'aws-cdk-lib/aws-cognito';
import { Port, SecurityGroup, Subnet, Vpc } from 'aws-cdk-lib/aws-ec2';
import { CfnServerlessCache } from 'aws-cdk-lib/aws-elasticache';
import {
  ArnPrincipal,
  FederatedPrincipal,
  PolicyDocument,
  PolicyStatement,
  Role,
  ServicePrincipal,
} from 'aws-cdk-lib/aws-iam';
import { Architecture, Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  CfnBucket,
  HttpMethods,
  EventType,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { LambdaDestination } from 'aws-cdk-lib/aws-s3-notifications';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction as LambdaFunctionTarget } from 'aws-cdk-lib/aws-events-targets';
import type { Construct } from 'constructs';
import { rolePermissions } from '../local/uploader-role.mjs';
import {
  brokerTrustActions,
  cognitoPrefix,
  cognitoRolePermissions,
  uploadCheckStatements,
  type UploadChecks,
} from './policies.js';
import type { StackSettings } from './settings.js';

/** CORS of the broker's API, as `createBroker` answers it; the HTTP API answers preflights the same way. */
export const API_CORS = {
  allowMethods: [CorsHttpMethod.POST, CorsHttpMethod.GET],
  allowHeaders: ['authorization', 'content-type'],
  exposeHeaders: ['retry-after', 'x-request-id', 'date'],
  maxAgeSeconds: 600,
} as const;

/** The broker's routes: the only paths the HTTP API forwards to the function. */
export const BROKER_ROUTES: readonly { readonly method: HttpMethod; readonly path: string }[] = [
  { method: HttpMethod.POST, path: '/v1/credentials' },
  { method: HttpMethod.GET, path: '/healthz' },
  { method: HttpMethod.GET, path: '/readyz' },
];

/** `POST /v1/uploads/complete`, forwarded when upload rules or the webhook are set. */
export const UPLOADS_COMPLETE_ROUTE = { method: HttpMethod.POST, path: '/v1/uploads/complete' } as const;

/** `GET /v1/credentials/aws-sdk`, forwarded when the deploy settings set `KEYHOLE_SDK_CREDENTIALS_ROUTE=1`. */
export const AWS_SDK_ROUTE = { method: HttpMethod.GET, path: '/v1/credentials/aws-sdk' } as const;

/** The broker's principal, trusted for exactly the actions its request needs (one statement). */
class BrokerPrincipal extends ArnPrincipal {
  constructor(
    arn: string,
    private readonly trustActions: readonly string[],
  ) {
    super(arn);
  }

  override addToAssumeRolePolicy(document: PolicyDocument): void {
    document.addStatements(
      new PolicyStatement({ actions: [...this.trustActions], principals: [new ArnPrincipal(this.arn)] }),
    );
  }
}

export interface KeyholeStackProps extends StackProps {
  readonly settings: StackSettings;
  /** The bundled `keyhole/lambda` (infra/aws/bundle.ts). */
  readonly code: Code;
}

export class KeyholeStack extends Stack {
  readonly bucket: Bucket;
  readonly brokerFunction: LambdaFunction;
  readonly api: HttpApi;
  readonly uploaderRole: Role;
  /** The function's security group, when it runs in a VPC (`KEYHOLE_AWS_VPC_ID`). */
  readonly brokerSecurityGroup: SecurityGroup | undefined;
  /** The Valkey cache the brokers share (`KEYHOLE_AWS_SHARED_STATE=elasticache`). */
  readonly sharedCache: CfnServerlessCache | undefined;
  /** The function S3 notifies of new uploads, when upload rules or the webhook are set. */
  readonly uploadEventsFunction: LambdaFunction | undefined;

  constructor(scope: Construct, id: string, props: KeyholeStackProps) {
    super(scope, id, props);
    const s = props.settings;
    const removal = s.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    // --- The bucket: private, ACLs disabled, TLS only, encrypted, multipart debris cleaned up. ---
    this.bucket = new Bucket(this, 'Uploads', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      encryption: BucketEncryption.S3_MANAGED,
      versioned: s.versioned,
      ...(s.corsOrigins.length === 0
        ? {}
        : {
            cors: [
              {
                allowedOrigins: [...s.corsOrigins],
                allowedMethods: [
                  HttpMethods.GET,
                  HttpMethods.PUT,
                  HttpMethods.POST,
                  HttpMethods.DELETE,
                  HttpMethods.HEAD,
                ],
                allowedHeaders: ['*'],
                // Multipart uploads read each part's ETag in the browser.
                exposedHeaders: ['ETag'],
                maxAge: 3000,
              },
            ],
          }),
      lifecycleRules: [
        { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        ...(s.versioned ? [{ id: 'expire-old-versions', noncurrentVersionExpiration: Duration.days(30) }] : []),
      ],
      removalPolicy: removal,
    });
    acknowledge(
      this.bucket,
      'S1',
      'Every credential the broker issues is audit-logged (subject, prefix, session name, also set as SourceIdentity ' +
        'for CloudTrail); per-object access logs are an operator choice (server access logs or CloudTrail data events).',
    );

    // --- The broker function's role: logs, its bucket check, and AssumeRole on the uploader role. ---
    const brokerRole = new Role(this, 'BrokerRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'Keyhole broker Lambda: assumes the uploader role with a per-user session policy',
    });

    let vendorEnv: Record<string, string>;
    if (!s.cognito) {
      // --- The uploader role: trusted by the broker's role only, bounded to the bucket's objects. ---
      const trustActions = brokerTrustActions();
      this.uploaderRole = new Role(this, 'UploaderRole', {
        assumedBy: new BrokerPrincipal(brokerRole.roleArn, trustActions),
        description: 'Keyhole uploader: every session is narrowed to one user prefix by the broker',
        // AWS accepts 1 to 12 hours; the broker asks for KEYHOLE_DURATION_SECONDS (at least 900 s).
        maxSessionDuration: Duration.seconds(Math.max(3600, s.durationSeconds)),
        inlinePolicies: { 'keyhole-uploader': PolicyDocument.fromJson(rolePermissions(this.bucket.bucketName)) },
      });
      brokerRole.addToPolicy(new PolicyStatement({ actions: trustActions, resources: [this.uploaderRole.roleArn] }));
      vendorEnv = { KEYHOLE_ROLE_ARN: this.uploaderRole.roleArn };
    } else {
      // --- Cognito: an identity pool with a developer provider; its authenticated role is scoped like the uploader role. ---
      const pool = new CfnIdentityPool(this, 'IdentityPool', {
        allowUnauthenticatedIdentities: false,
        developerProviderName: s.cognitoDeveloperProvider,
        allowClassicFlow: s.cognito === 'basic',
      });
      this.uploaderRole = new Role(this, 'CognitoAuthenticatedRole', {
        assumedBy: new FederatedPrincipal(
          'cognito-identity.amazonaws.com',
          {
            StringEquals: { 'cognito-identity.amazonaws.com:aud': pool.ref },
            'ForAnyValue:StringLike': { 'cognito-identity.amazonaws.com:amr': 'authenticated' },
          },
          'sts:AssumeRoleWithWebIdentity',
        ),
        description: 'Keyhole Cognito identities: each reaches its own prefix only',
        maxSessionDuration: Duration.seconds(Math.max(3600, s.durationSeconds)),
        inlinePolicies: {
          'keyhole-identity': PolicyDocument.fromJson(
            cognitoRolePermissions(this.bucket.bucketName, s.prefixTemplate, s.access),
          ),
        },
      });
      new CfnIdentityPoolRoleAttachment(this, 'IdentityPoolRoles', {
        identityPoolId: pool.ref,
        roles: { authenticated: this.uploaderRole.roleArn },
      });
      brokerRole.addToPolicy(
        new PolicyStatement({
          actions: ['cognito-identity:GetOpenIdTokenForDeveloperIdentity', 'cognito-identity:DescribeIdentityPool'],
          resources: [`arn:${Aws.PARTITION}:cognito-identity:${Aws.REGION}:${Aws.ACCOUNT_ID}:identitypool/${pool.ref}`],
        }),
      );
      vendorEnv = {
        KEYHOLE_VENDOR: 'cognito',
        KEYHOLE_COGNITO_IDENTITY_POOL_ID: pool.ref,
        ...(s.cognito === 'basic' ? { KEYHOLE_ROLE_ARN: this.uploaderRole.roleArn } : {}),
      };
    }
    const bucketId = this.getLogicalId(this.bucket.node.defaultChild as CfnBucket);
    acknowledge(
      this.uploaderRole,
      'IAM5',
      'Objects of this one bucket only. The broker narrows every session to one user prefix with an inline session ' +
        'policy (SECURITY.md section 1); with Cognito the role itself is per identity.',
      // cdk-nag writes tokens and policy variables as <name>.
      `Resource::arn:aws:s3:::<${bucketId}>/${s.cognito ? cognitoPrefix(s.prefixTemplate).replace(/\$\{([^}]+)\}/g, '<$1>') : ''}*`,
    );

    // /readyz reads the bucket's ACL settings with the broker's own identity.
    brokerRole.addToPolicy(
      new PolicyStatement({
        actions: ['s3:GetBucketOwnershipControls', 's3:GetBucketPublicAccessBlock'],
        resources: [this.bucket.bucketArn],
      }),
    );

    // --- Optionally in a VPC, with a Valkey cache shared by every container (KEYHOLE_AWS_SHARED_STATE). ---
    const network = s.vpc ? this.#network(s, s.vpc, brokerRole) : undefined;
    this.brokerSecurityGroup = network?.securityGroup;
    this.sharedCache = network?.cache;

    // --- The broker function. ---
    const logs = new LogGroup(this, 'BrokerLogs', {
      retention: s.logRetentionDays as RetentionDays,
      removalPolicy: removal,
    });
    logs.grantWrite(brokerRole);
    const functionEnv = {
      ...s.brokerEnv,
      ...vendorEnv,
      ...(network?.cache
        ? {
            // ElastiCache Serverless speaks TLS only; the security groups are its access control.
            KEYHOLE_REDIS_URL: `rediss://${network.cache.attrEndpointAddress}:${network.cache.attrEndpointPort}`,
          }
        : {}),
      KEYHOLE_BUCKET: this.bucket.bucketName,
      NODE_ENV: 'production',
    };
    // POST /v1/uploads/complete reads, and may delete or quarantine, with the function's own role.
    const checks = s.uploads && { ...s.uploads, versioned: s.versioned };
    if (checks) {
      for (const statement of uploadCheckStatements(this.bucket.bucketName, checks, 'broker')) {
        brokerRole.addToPolicy(PolicyStatement.fromJson(statement));
      }
      acknowledgeUploadChecks(brokerRole, bucketId, checks);
    }
    this.brokerFunction = new LambdaFunction(this, 'Broker', {
      description: 'Keyhole token broker (keyhole/lambda)',
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      handler: 'index.handler',
      code: props.code,
      role: brokerRole,
      memorySize: s.memoryMb,
      timeout: Duration.seconds(10),
      logGroup: logs,
      ...(s.reservedConcurrency !== undefined ? { reservedConcurrentExecutions: s.reservedConcurrency } : {}),
      ...(network
        ? { vpc: network.vpc, vpcSubnets: { subnets: network.subnets }, securityGroups: [network.securityGroup] }
        : {}),
      environment: functionEnv,
    });
    acknowledge(
      this.brokerFunction,
      'L1',
      'Pinned to Node.js 22, the runtime the bundle is built and tested for (infra/aws/bundle.ts, target node22).',
    );

    // --- The HTTP API: the broker's routes only, throttled, CORS as the broker answers it. ---
    this.api = new HttpApi(this, 'Api', {
      description: 'Keyhole token broker',
      createDefaultStage: false,
      ...(s.corsOrigins.length === 0
        ? {}
        : {
            corsPreflight: {
              allowOrigins: [...s.corsOrigins],
              allowMethods: [...API_CORS.allowMethods],
              allowHeaders: [...API_CORS.allowHeaders],
              exposeHeaders: [...API_CORS.exposeHeaders],
              maxAge: Duration.seconds(API_CORS.maxAgeSeconds),
            },
          }),
    });
    const integration = new HttpLambdaIntegration('Broker', this.brokerFunction, {
      payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
    });
    for (const route of BROKER_ROUTES) {
      this.api.addRoutes({ path: route.path, methods: [route.method], integration });
    }
    if (checks) {
      this.api.addRoutes({ path: UPLOADS_COMPLETE_ROUTE.path, methods: [UPLOADS_COMPLETE_ROUTE.method], integration });
      this.uploadEventsFunction = this.#uploadEvents(props, s, checks, functionEnv, removal);
    }
    // The AWS SDKs' credential-provider route, only where the broker serves it.
    if (['1', 'true'].includes(s.brokerEnv.KEYHOLE_SDK_CREDENTIALS_ROUTE ?? '')) {
      this.api.addRoutes({ path: AWS_SDK_ROUTE.path, methods: [AWS_SDK_ROUTE.method], integration });
    }
    const accessLogs = new LogGroup(this, 'ApiAccessLogs', {
      retention: s.logRetentionDays as RetentionDays,
      removalPolicy: removal,
    });
    new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: s.throttle.rateLimit, burstLimit: s.throttle.burstLimit },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            responseLength: '$context.responseLength',
            integrationLatency: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });
    for (const route of this.api.node.findAll()) {
      if (route instanceof HttpRoute) {
        acknowledge(
          route,
          'APIG4',
          'The broker authorizes every request itself: it verifies the bearer JWT (signature, iss, aud, exp, nbf, sub) ' +
            'before any STS call and answers its JSON errors; /healthz and /readyz are public by design.',
        );
      }
    }

    // --- Outputs. ---
    const apiUrl = `https://${this.api.apiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}`;
    new CfnOutput(this, 'ApiUrl', { value: apiUrl, description: 'The broker\u2019s base URL (KEYHOLE_BROKER_URL)' });
    new CfnOutput(this, 'BucketName', { value: this.bucket.bucketName });
    new CfnOutput(this, 'UploaderRoleArn', {
      value: this.uploaderRole.roleArn,
      description: 'The role every vended credential is a session of',
    });
    new CfnOutput(this, 'UploaderRoleName', {
      value: this.uploaderRole.roleName,
      description: 'For infra/aws/revoke.ts --role-name',
    });
    new CfnOutput(this, 'BrokerFunctionName', { value: this.brokerFunction.functionName });
    new CfnOutput(this, 'ClientEnv', {
      description: 'A .env block for the keyhole CLI and scripts',
      value: Fn.join('\n', [
        `KEYHOLE_BROKER_URL=${apiUrl}`,
        `KEYHOLE_BUCKET=${this.bucket.bucketName}`,
        `AWS_REGION=${Aws.REGION}`,
      ]),
    });
  }

  /**
   * The upload-events function: S3 invokes it for every object created under the grant prefix (S3
   * event notifications straight to Lambda: no other service to run, the prefix filter is S3's own,
   * and Lambda's asynchronous invocation retries twice; EventBridge would add a rule and a bill for
   * routing a single target). An hourly schedule runs the same function's bounded reconciliation.
   * Its role can read, and when a rule can reject, delete, under the grant prefix only.
   */
  #uploadEvents(
    props: KeyholeStackProps,
    s: StackSettings,
    checks: UploadChecks,
    environment: Record<string, string>,
    removal: RemovalPolicy,
  ): LambdaFunction {
    const role = new Role(this, 'UploadEventsRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'Keyhole upload events: judges new uploads under the grant prefix (read, delete, quarantine)',
    });
    for (const statement of uploadCheckStatements(this.bucket.bucketName, checks, 'events')) {
      role.addToPolicy(PolicyStatement.fromJson(statement));
    }
    const logs = new LogGroup(this, 'UploadEventsLogs', {
      retention: s.logRetentionDays as RetentionDays,
      removalPolicy: removal,
    });
    logs.grantWrite(role);
    const fn = new LambdaFunction(this, 'UploadEvents', {
      description: 'Keyhole upload events: S3 ObjectCreated notifications into the upload rules and the webhook',
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      handler: 'index.uploadEvents',
      code: props.code,
      role,
      memorySize: 512,
      // Rules (HEAD, a ranged GET, a listing, a delete) and the webhook's attempts (LAMBDA_WEBHOOK_TIMINGS).
      timeout: Duration.seconds(60),
      logGroup: logs,
      environment,
    });
    acknowledge(
      fn,
      'L1',
      'Pinned to Node.js 22, the runtime the bundle is built and tested for (infra/aws/bundle.ts, target node22).',
    );
    const bucketId = this.getLogicalId(this.bucket.node.defaultChild as CfnBucket);
    acknowledgeUploadChecks(role, bucketId, checks);
    this.bucket.addEventNotification(
      EventType.OBJECT_CREATED,
      new LambdaDestination(fn),
      ...(checks.prefix ? [{ prefix: checks.prefix }] : []),
    );
    // CDK's own handler that applies the bucket's notification configuration at deploy time.
    const applier = this.node.children.find((c) => c.node.id.startsWith('BucketNotificationsHandler'));
    if (applier) {
      acknowledge(
        applier,
        'IAM4',
        'CDK\u2019s BucketNotificationsHandler (aws-s3 addEventNotification) runs only at deploy time to write this ' +
          'bucket\u2019s notification configuration; its role has the CloudWatch Logs basic execution policy only.',
        'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
      );
    }
    new Rule(this, 'UploadReconcile', {
      description: 'Keyhole: judge uploads no S3 event reported (the last 75 minutes, hourly)',
      schedule: Schedule.rate(Duration.hours(1)),
      targets: [
        new LambdaFunctionTarget(fn, {
          event: RuleTargetInput.fromObject({ keyhole: 'reconcile', sinceMinutes: 75 }),
          retryAttempts: 2,
        }),
      ],
    });
    return fn;
  }

  /**
   * The VPC wiring: the function's own security group (outbound only), the permissions Lambda needs
   * to attach it to the subnets, and with `elasticache` a Valkey cache whose security group admits
   * the function's group alone, on the cache port alone.
   */
  #network(s: StackSettings, ids: NonNullable<StackSettings['vpc']>, brokerRole: Role) {
    // Imported by ID (no lookup), so synthesis needs no AWS access. The zones are the region's, left to
    // deploy time: the function and the cache are given their subnets by ID and never choose by zone.
    const vpc = Vpc.fromVpcAttributes(this, 'Vpc', { vpcId: ids.vpcId, availabilityZones: Fn.getAzs() });
    const subnets = ids.subnetIds.map((id, n) => Subnet.fromSubnetId(this, `Subnet${n}`, id));
    const securityGroup = new SecurityGroup(this, 'BrokerSecurityGroup', {
      vpc,
      description: 'Keyhole broker function: outbound to STS, S3, the IdP and the shared cache; no inbound',
      allowAllOutbound: true,
    });
    // A function given its own role gets no VPC permissions from CDK; these are what
    // AWSLambdaVPCAccessExecutionRole grants, inline.
    brokerRole.addToPolicy(
      new PolicyStatement({
        actions: [
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSubnets',
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
        resources: ['*'],
      }),
    );
    acknowledge(
      brokerRole,
      'IAM5',
      'The network-interface actions Lambda needs to place the function in its VPC subnets; ' +
        'EC2 does not scope the Describe actions to resources (the same set as AWSLambdaVPCAccessExecutionRole).',
      'Resource::*',
    );
    if (s.sharedState !== 'elasticache') return { vpc, subnets, securityGroup, cache: undefined };

    const cacheGroup = new SecurityGroup(this, 'SharedCacheSecurityGroup', {
      vpc,
      description: 'Keyhole shared cache: the broker function only',
      allowAllOutbound: false,
    });
    cacheGroup.addIngressRule(securityGroup, Port.tcp(6379), 'Keyhole broker function to Valkey (TLS)');
    const cache = new CfnServerlessCache(this, 'SharedCache', {
      // Lower-case letters, digits and hyphens, at most 40: derived from the stack's name.
      serverlessCacheName: `${s.stackName.toLowerCase()}-shared`.slice(0, 40).replace(/-+$/, ''),
      description: 'Keyhole: credential cache and rate limits shared by every broker container',
      engine: 'valkey',
      majorEngineVersion: '8',
      subnetIds: [...ids.subnetIds],
      securityGroupIds: [cacheGroup.securityGroupId],
      // Sealed credentials and counters are a few hundred bytes per user: 1 GB bounds the bill.
      cacheUsageLimits: { dataStorage: { maximum: 1, unit: 'GB' } },
    });
    return { vpc, subnets, securityGroup, cache };
  }
}

/**
 * Acknowledges cdk-nag AwsSolutions findings on a construct, each with the reason it is accepted.
 * `finding` narrows a granular rule (IAM5) to one finding, e.g. `Resource::arn:aws:s3:::<Bucket>/*`.
 */
/** The upload checks' object wildcards (grant prefix, quarantine prefix), acknowledged with their reason. */
function acknowledgeUploadChecks(role: Construct, bucketId: string, checks: UploadChecks): void {
  const wildcards = [`${checks.prefix}*`];
  if (checks.quarantinePrefix !== undefined && (checks.maxBytes || checks.contentTypes || checks.quotaBytes)) {
    wildcards.push(`${checks.quarantinePrefix}*`);
  }
  for (const under of wildcards) {
    acknowledge(
      role,
      'IAM5',
      'Upload checks: objects under the grant prefix (and the quarantine prefix) of this one bucket, since any ' +
        'user\u2019s new upload there is judged (HEAD, first bytes, delete or quarantine when a rule breaks).',
      `Resource::arn:aws:s3:::<${bucketId}>/${under}`,
    );
  }
}

function acknowledge(scope: Construct, rule: string, reason: string, finding?: string): void {
  Validations.of(scope).acknowledge({
    id: `AwsSolutions::AwsSolutions-${rule}${finding === undefined ? '' : `[${finding}]`}`,
    reason,
  });
}
