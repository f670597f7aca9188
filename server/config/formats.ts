// Formats and limits that more than one part of Keyhole checks (the configuration loader, the
// vendors, the broker's options, the CLI). Each is written once, here; this module imports nothing,
// so any of them (and the browser-free CLI) can use it.

const PARTITION = String.raw`arn:aws[\w-]*`;

/**
 * An IAM role ARN. The account id may be empty or shorter than 12 digits, because Ceph RGW's roles
 * (`arn:aws:iam:::role/NAME`) have none.
 */
export const ROLE_ARN = new RegExp(String.raw`^${PARTITION}:iam::\d{0,12}:role\/\S+$`);

/** A role ARN in a real AWS account (12-digit id), with IAM's role path and name characters. */
export const ACCOUNT_ROLE_ARN = new RegExp(String.raw`^${PARTITION}:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$`);

/** How role ARNs are shown in messages. */
export const ROLE_ARN_EXAMPLE = 'arn:aws:iam::123456789012:role/NAME';

/** Lifetime of vended credentials, in seconds: STS's own bounds, and Keyhole's default. */
export const DURATION_SECONDS = Object.freeze({ min: 900, max: 43_200, default: 900 });

/** An AWS region name such as `eu-west-1`. */
export const REGION = /^[a-z0-9-]{2,32}$/;

/** A Cognito identity pool id: `<region>:<uuid>`. */
export const IDENTITY_POOL_ID = /^[a-z]{2}(-[a-z]+)+-\d:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Where the broker listens unless told otherwise, and so where the CLI looks for it. */
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8787;
export const DEFAULT_BROKER_URL = `http://${DEFAULT_HOST}:${DEFAULT_PORT}`;

/** True for an absolute http: or https: URL. */
export function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const { protocol } = new URL(value);
  return protocol === 'http:' || protocol === 'https:';
}
