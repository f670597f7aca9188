// Where credentials come from (STS or Cognito), with which keys, and how the buckets are checked.
import type { KeyholeConfig } from './types.js';
import { ACCOUNT_ROLE_ARN } from './formats.js';
import type { Problems } from './problems.js';
import type { Variables } from './schema.js';

type Credentials = { credentials?: { accessKeyId: string; secretAccessKey: string } };

/** The broker's own keys: both variables or neither (then the AWS default credential chain). */
export function brokerKeysFrom(c: Variables, problems: Problems): Credentials | undefined {
  const id = c.KEYHOLE_BROKER_ACCESS_KEY_ID;
  const secret = c.KEYHOLE_BROKER_SECRET_ACCESS_KEY;
  if (problems.anyUnreadable(['KEYHOLE_BROKER_ACCESS_KEY_ID', 'KEYHOLE_BROKER_SECRET_ACCESS_KEY'])) return undefined;
  if ((id === undefined) !== (secret === undefined)) {
    problems.add(
      'KEYHOLE_BROKER_SECRET_ACCESS_KEY',
      'set both KEYHOLE_BROKER_ACCESS_KEY_ID and KEYHOLE_BROKER_SECRET_ACCESS_KEY, or neither (to use the AWS default credential chain)',
    );
    return undefined;
  }
  return id === undefined ? {} : { credentials: { accessKeyId: id, secretAccessKey: secret! } };
}

const COGNITO_VARIABLES = [
  'KEYHOLE_COGNITO_MODE',
  'KEYHOLE_COGNITO_IDENTITY_POOL_ID',
  'KEYHOLE_COGNITO_DEVELOPER_PROVIDER',
  'KEYHOLE_ROLE_ARN',
];

function cognitoVendor(c: Variables, problems: Problems, region: string | undefined, keys: Credentials | undefined) {
  if (problems.anyUnreadable(['KEYHOLE_COGNITO_MODE'])) return undefined;
  const mode = problems.need(
    c.KEYHOLE_COGNITO_MODE,
    'KEYHOLE_COGNITO_MODE',
    'for KEYHOLE_VENDOR=cognito ("enhanced" or "basic")',
  );
  const role = c.KEYHOLE_ROLE_ARN;
  if (role !== undefined && !ACCOUNT_ROLE_ARN.test(role)) {
    problems.add('KEYHOLE_ROLE_ARN', 'must name a role in an AWS account (12-digit id) for KEYHOLE_VENDOR=cognito');
  }
  const pool = problems.need(
    c.KEYHOLE_COGNITO_IDENTITY_POOL_ID,
    'KEYHOLE_COGNITO_IDENTITY_POOL_ID',
    'for KEYHOLE_VENDOR=cognito',
  );
  const provider = problems.need(
    c.KEYHOLE_COGNITO_DEVELOPER_PROVIDER,
    'KEYHOLE_COGNITO_DEVELOPER_PROVIDER',
    'for KEYHOLE_VENDOR=cognito',
  );
  const roleArn = mode === 'basic' ? problems.need(role, 'KEYHOLE_ROLE_ARN', 'for KEYHOLE_COGNITO_MODE=basic') : role;
  if (mode === undefined || pool === undefined || provider === undefined || region === undefined || !keys)
    return undefined;
  if (problems.anyUnreadable(COGNITO_VARIABLES) || (mode === 'basic' && roleArn === undefined)) return undefined;
  return {
    kind: 'cognito' as const,
    identityPoolId: pool,
    developerProviderName: provider,
    mode,
    region,
    ...(roleArn !== undefined ? { roleArn } : {}),
    ...keys,
  };
}

/** The credential vendor's options, or undefined (with problems recorded). */
export function vendorFrom(
  c: Variables,
  problems: Problems,
  region: string | undefined,
  keys: Credentials | undefined,
): KeyholeConfig['vendor'] | undefined {
  if (problems.anyUnreadable(['KEYHOLE_VENDOR'])) return undefined;
  if (c.KEYHOLE_VENDOR === 'cognito') return cognitoVendor(c, problems, region, keys);
  const roleArn = problems.need(c.KEYHOLE_ROLE_ARN, 'KEYHOLE_ROLE_ARN', 'for KEYHOLE_VENDOR=sts');
  if (roleArn === undefined || region === undefined || !keys || problems.anyUnreadable(['KEYHOLE_STS_ENDPOINT'])) {
    return undefined;
  }
  return {
    kind: 'sts',
    roleArn,
    region,
    ...(c.KEYHOLE_STS_ENDPOINT ? { endpoint: c.KEYHOLE_STS_ENDPOINT } : {}),
    ...keys,
  };
}

/** How `/readyz` checks the buckets: with the broker's own S3 access, or not at all. */
export function bucketCheckFrom(c: Variables, region: string, keys: Credentials): KeyholeConfig['bucketCheck'] {
  if (c.KEYHOLE_ACCEPT_PUBLIC_ACL_RISK) return 'accept-risk';
  const forcePathStyle = c.KEYHOLE_S3_FORCE_PATH_STYLE ?? (c.KEYHOLE_S3_ENDPOINT ? true : undefined);
  return {
    region,
    ...(c.KEYHOLE_S3_ENDPOINT ? { endpoint: c.KEYHOLE_S3_ENDPOINT } : {}),
    ...(forcePathStyle !== undefined ? { forcePathStyle } : {}),
    ...keys,
  };
}
