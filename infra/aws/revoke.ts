// Revocation: STS credentials cannot be revoked one by one, so this adds Deny statements to an
// inline policy of the role every vended credential is a session of (the uploader role, or the
// Cognito authenticated role). A Deny in the role's own policy binds every session of the role,
// whatever its session policy. Two kinds:
//   --before TIME     every credential issued before TIME   (aws:TokenIssueTime)
//   --subject SUB     every live session of one subject      (aws:userid ends with its session name,
//                     and aws:TokenIssueTime before now, so the subject's next credentials work)
// Statements whose sessions have all expired (older than the role's MaxSessionDuration) are pruned.
//
//   node --import tsx infra/aws/revoke.ts --role-name NAME --before now
//   node --import tsx infra/aws/revoke.ts --role-name NAME --subject alice --issuer https://id.example.com/
//   node --import tsx infra/aws/revoke.ts --role-name NAME --list | --clear [--dry-run]
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  DeleteRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { DEV_ISSUER, DEV_NAMESPACE } from '../../server/auth/dev-login.js';
import { sessionNameFor } from '../../server/policy/session-name.js';

/** The role's inline policy that holds the revocations; the stack never declares it. */
export const REVOCATION_POLICY_NAME = 'keyhole-revocations';

export interface RevocationStatement {
  readonly Sid: string;
  readonly Effect: 'Deny';
  readonly Action: '*';
  readonly Resource: '*';
  readonly Condition: {
    readonly DateLessThan: { readonly 'aws:TokenIssueTime': string };
    readonly StringLike?: { readonly 'aws:userid': string };
  };
}

export interface RevocationPolicy {
  readonly Version: '2012-10-17';
  readonly Statement: readonly RevocationStatement[];
}

/** Seconds precision, as IAM compares dates; rounded up so a session issued in the cutoff's second is revoked too. */
function isoSeconds(time: Date): string {
  return new Date(Math.ceil(time.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Denies everything to every session of the role issued before `cutoff`. */
export function revokeIssuedBefore(cutoff: Date): RevocationStatement {
  return {
    Sid: 'RevokeIssuedBefore',
    Effect: 'Deny',
    Action: '*',
    Resource: '*',
    Condition: { DateLessThan: { 'aws:TokenIssueTime': isoSeconds(cutoff) } },
  };
}

/** The RoleSessionName the broker gives `subject` of `issuer` (dev-login subjects live under `dev-`). */
export function sessionNameOf(subject: string, issuer: string): string {
  return sessionNameFor((issuer === DEV_ISSUER ? DEV_NAMESPACE : '') + subject, issuer);
}

/**
 * Denies everything to the sessions named `sessionName` issued before `cutoff`. An assumed role's
 * `aws:userid` is `<role id>:<session name>`; session names are `[\w+=,.@-]` only, so the pattern
 * has no wildcard but the leading one, and no other subject's name can end the same way after a ':'.
 */
export function revokeSession(sessionName: string, cutoff: Date): RevocationStatement {
  if (!/^[\w+=,.@-]{2,64}$/.test(sessionName))
    throw new TypeError(`not a session name: ${JSON.stringify(sessionName)}`);
  const id = createHash('sha256').update(sessionName).digest('hex').slice(0, 16);
  return {
    Sid: `RevokeSession${id}`,
    Effect: 'Deny',
    Action: '*',
    Resource: '*',
    Condition: {
      StringLike: { 'aws:userid': `*:${sessionName}` },
      DateLessThan: { 'aws:TokenIssueTime': isoSeconds(cutoff) },
    },
  };
}

/**
 * The revocation policy with `added` merged in: a statement with the same Sid is replaced, only the
 * latest issued-before cutoff is kept (it covers the earlier ones), and statements whose cutoff is
 * older than `maxSessionSeconds` are dropped (every session they matched has expired).
 */
export function mergeRevocations(
  existing: RevocationPolicy | undefined,
  added: readonly RevocationStatement[],
  now: Date,
  maxSessionSeconds: number,
): RevocationPolicy {
  const bySid = new Map<string, RevocationStatement>();
  for (const s of [...(existing?.Statement ?? []), ...added]) {
    const previous = bySid.get(s.Sid);
    const cutoff = (x: RevocationStatement) => Date.parse(x.Condition.DateLessThan['aws:TokenIssueTime']);
    if (!previous || cutoff(s) >= cutoff(previous)) bySid.set(s.Sid, s);
  }
  const oldest = now.getTime() - maxSessionSeconds * 1000;
  const live = [...bySid.values()].filter((s) => Date.parse(s.Condition.DateLessThan['aws:TokenIssueTime']) > oldest);
  return { Version: '2012-10-17', Statement: live };
}

export interface RoleTarget {
  readonly client: IAMClient;
  readonly roleName: string;
}

/** The role's current revocation policy, or undefined when it has none. */
export async function readRevocations({ client, roleName }: RoleTarget): Promise<RevocationPolicy | undefined> {
  try {
    const out = await client.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: REVOCATION_POLICY_NAME }));
    return JSON.parse(decodeURIComponent(out.PolicyDocument ?? '')) as RevocationPolicy;
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'NoSuchEntityException' || e.name === 'NoSuchEntity' || e.$metadata?.httpStatusCode === 404) {
      return undefined;
    }
    throw err;
  }
}

/** Adds `statements` to the role's revocation policy (merged and pruned) and returns the policy written. */
export async function applyRevocations(
  target: RoleTarget,
  statements: readonly RevocationStatement[],
  now = new Date(),
): Promise<RevocationPolicy> {
  const role = await target.client.send(new GetRoleCommand({ RoleName: target.roleName }));
  const maxSession = role.Role?.MaxSessionDuration ?? 43200;
  const policy = mergeRevocations(await readRevocations(target), statements, now, maxSession);
  if (policy.Statement.length === 0) {
    await clearRevocations(target);
    return policy;
  }
  await target.client.send(
    new PutRolePolicyCommand({
      RoleName: target.roleName,
      PolicyName: REVOCATION_POLICY_NAME,
      PolicyDocument: JSON.stringify(policy),
    }),
  );
  return policy;
}

/** Removes every revocation (the role's sessions are then bounded by their expiry only). */
export async function clearRevocations({ client, roleName }: RoleTarget): Promise<void> {
  try {
    await client.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: REVOCATION_POLICY_NAME }));
  } catch (err) {
    if (
      (err as { name?: string }).name !== 'NoSuchEntityException' &&
      (err as { name?: string }).name !== 'NoSuchEntity'
    ) {
      throw err;
    }
  }
}

const USAGE = `Usage:
  node --import tsx infra/aws/revoke.ts --role-name NAME --before TIME        revoke credentials issued before TIME (ISO 8601, or "now")
  node --import tsx infra/aws/revoke.ts --role-name NAME --subject SUB --issuer ISS
                                                                              revoke the live sessions of one subject
  node --import tsx infra/aws/revoke.ts --role-name NAME --list | --clear     show or remove the revocations

Options:
  --role-name NAME   the stack output UploaderRoleName
  --dry-run          print the policy that would be written, change nothing
  --region REGION    default: AWS_REGION
  --endpoint URL     IAM endpoint (Ceph RGW: http://127.0.0.1:7480)
`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'role-name': { type: 'string' },
      before: { type: 'string' },
      subject: { type: 'string' },
      issuer: { type: 'string' },
      list: { type: 'boolean' },
      clear: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      region: { type: 'string' },
      endpoint: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const roleName = values['role-name'];
  const actions = [values.before !== undefined, values.subject !== undefined, values.list, values.clear].filter(
    Boolean,
  );
  if (values.help || !roleName || actions.length !== 1) {
    process.stderr.write(USAGE);
    return values.help ? 0 : 2;
  }
  const client = new IAMClient({
    region: values.region ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(values.endpoint ? { endpoint: values.endpoint } : {}),
  });
  const target = { client, roleName };
  if (values.list) {
    process.stdout.write(JSON.stringify((await readRevocations(target)) ?? null, null, 2) + '\n');
    return 0;
  }
  if (values.clear) {
    if (!values['dry-run']) await clearRevocations(target);
    process.stdout.write(
      `${values['dry-run'] ? 'would remove' : 'removed'} ${REVOCATION_POLICY_NAME} from ${roleName}\n`,
    );
    return 0;
  }
  const now = new Date();
  let statement: RevocationStatement;
  if (values.subject !== undefined) {
    if (!values.issuer) {
      process.stderr.write('--subject needs --issuer: the session name depends on the token issuer\n');
      return 2;
    }
    statement = revokeSession(sessionNameOf(values.subject, values.issuer), now);
  } else {
    const cutoff = values.before === 'now' ? now : new Date(values.before!);
    if (Number.isNaN(cutoff.getTime())) {
      process.stderr.write(`--before: expected an ISO 8601 time or "now" (got ${JSON.stringify(values.before)})\n`);
      return 2;
    }
    statement = revokeIssuedBefore(cutoff);
  }
  const policy = values['dry-run']
    ? mergeRevocations(await readRevocations(target), [statement], now, 43200)
    : await applyRevocations(target, [statement], now);
  process.stdout.write(JSON.stringify(policy, null, 2) + '\n');
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`keyhole revoke: ${err.name}: ${err.message}\n`);
      process.exit(1);
    },
  );
}
