// The stack's IAM documents that are not plain CDK: derived from the same sources as the local
// stack (infra/local/uploader-role.mjs) and the broker (its STS vendor's real request, OBJECT_ACTIONS).
// No CDK here, so the tests can use them cheaply.
import type { STSClient } from '@aws-sdk/client-sts';
import { rolePermissions } from '../local/uploader-role.mjs';
import { createStsVendor, requiredTrustActions } from '../../server/index.js';
import { OBJECT_ACTIONS } from '../../server/policy/access.js';

/**
 * The trust-policy actions the STS vendor's real AssumeRole request needs: the vendor builds its
 * readiness probe (the same request as serving) against a client that only records it.
 */
export function brokerTrustActions(): string[] {
  let input: { SourceIdentity?: string } | undefined;
  const client = {
    middlewareStack: { use() {} },
    send(command: { input: { SourceIdentity?: string } }) {
      input = command.input;
      return new Promise(() => {});
    },
  } as unknown as STSClient;
  void createStsVendor({ roleArn: 'arn:aws:iam::123456789012:role/probe', region: 'us-east-1', client }).ping(900);
  if (!input) throw new Error('the STS vendor sent no AssumeRole request');
  return requiredTrustActions(input);
}

/** The prefix template with `{identityId}` as Cognito's policy variable; it stops before any other placeholder. */
export function cognitoPrefix(template: string): string {
  const other = template.search(/\{(?!identityId\})/);
  const kept = other === -1 ? template : template.slice(0, template.lastIndexOf('/', other) + 1);
  return kept.replaceAll('{identityId}', '${cognito-identity.amazonaws.com:sub}');
}

/**
 * The Cognito authenticated role's permissions: the uploader role's (rolePermissions), narrowed to
 * the grant's prefix per identity and to its access. In the enhanced flow this policy is the grant.
 */
export function cognitoRolePermissions(bucket: string, template: string, access: readonly string[]) {
  const prefix = cognitoPrefix(template);
  const actions = new Set(
    access.flatMap((a) => (a === 'list' ? [] : (OBJECT_ACTIONS[a as keyof typeof OBJECT_ACTIONS] ?? []))),
  );
  const base = rolePermissions(bucket);
  const statements = base.Statement.flatMap((s) => {
    if (s.Sid === 'Objects') {
      const kept = (s.Action as string[]).filter((a) => actions.has(a));
      return kept.length === 0 ? [] : [{ ...s, Action: kept, Resource: [`arn:aws:s3:::${bucket}/${prefix}*`] }];
    }
    if (s.Sid === 'List') {
      return access.includes('list') ? [{ ...s, Condition: { StringLike: { 's3:prefix': [`${prefix}*`] } } }] : [];
    }
    return [s];
  });
  return { ...base, Statement: statements };
}

/** What the upload checks do on AWS (from the deploy settings): which rules, and where rejected objects go. */
export interface UploadChecks {
  /** The grant prefix up to its first placeholder (`users/`): every checked object lies under it. */
  readonly prefix: string;
  readonly maxBytes: boolean;
  readonly contentTypes: boolean;
  readonly quotaBytes: boolean;
  readonly quarantinePrefix: string | undefined;
  /** The bucket keeps versions: HEAD, the ranged GET and the delete name the version checked. */
  readonly versioned: boolean;
}

/**
 * The statements an identity that judges uploads needs, and nothing more, on one bucket:
 * - HEAD (s3:GetObject; AWS has no separate HEAD permission) and the ranged GET of the first bytes,
 *   under the grant prefix only;
 * - s3:DeleteObject there when a rule can reject (the version too on a versioned bucket);
 * - s3:ListBucket, limited to the grant prefix by `s3:prefix`, to count a quota or to reconcile;
 * - s3:PutObject under the quarantine prefix (CopyObject writes there) when one is set.
 * `role`: `broker` (POST /v1/uploads/complete) or `events` (S3 notifications and the scheduled
 * reconciliation, which lists).
 */
export function uploadCheckStatements(bucket: string, checks: UploadChecks, role: 'broker' | 'events') {
  const objects = `arn:aws:s3:::${bucket}/${checks.prefix}*`;
  const rejects = checks.maxBytes || checks.contentTypes || checks.quotaBytes;
  const read = ['s3:GetObject', ...(checks.versioned ? ['s3:GetObjectVersion'] : [])];
  const remove = ['s3:DeleteObject', ...(checks.versioned ? ['s3:DeleteObjectVersion'] : [])];
  const statements: { Sid: string; Effect: 'Allow'; Action: string[]; Resource: string[]; Condition?: object }[] = [
    { Sid: 'UploadChecksRead', Effect: 'Allow', Action: read, Resource: [objects] },
  ];
  if (rejects) statements.push({ Sid: 'UploadChecksRemove', Effect: 'Allow', Action: remove, Resource: [objects] });
  if (checks.quotaBytes || role === 'events') {
    statements.push({
      Sid: 'UploadChecksList',
      Effect: 'Allow',
      Action: ['s3:ListBucket'],
      Resource: [`arn:aws:s3:::${bucket}`],
      ...(checks.prefix ? { Condition: { StringLike: { 's3:prefix': [`${checks.prefix}*`] } } } : {}),
    });
  }
  if (rejects && checks.quarantinePrefix !== undefined) {
    statements.push({
      Sid: 'UploadChecksQuarantine',
      Effect: 'Allow',
      Action: ['s3:PutObject'],
      Resource: [`arn:aws:s3:::${bucket}/${checks.quarantinePrefix}*`],
    });
  }
  return statements;
}
