// The AWS-faithful oracle: @cloud-copilot/iam-simulate evaluating the role's identity policy
// intersected with the session policy, for an assumed-role principal (as STS issues it).
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { rolePermissions } from '../../infra/local/uploader-role.mjs';

export const ACCOUNT = '123456789012';
export const SESSION_PRINCIPAL = `arn:aws:sts::${ACCOUNT}:assumed-role/keyhole-uploader/kh-test`;

/** The role's own permissions: the very document infra/local/bootstrap.mjs applies on RGW. */
export function rolePolicy(bucket: string): object {
  return rolePermissions(bucket);
}

export type Decision = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';

let evaluations = 0;
/** How many simulator evaluations this worker ran. */
export const evaluationCount = (): number => evaluations;

/**
 * Evaluates one request. Throws when the simulator rejects the input or answers for a wildcard
 * pattern instead of one concrete request, so a broken oracle can never pass as "denied".
 */
export async function decide(input: {
  bucket: string;
  sessionPolicy: string | object;
  action: string;
  resource: string;
  context?: Record<string, string | string[]>;
  rolePolicy?: object;
}): Promise<Decision> {
  evaluations++;
  const result = await runSimulation(
    {
      request: {
        principal: SESSION_PRINCIPAL,
        action: input.action,
        resource: { resource: input.resource, accountId: ACCOUNT },
        contextVariables: input.context ?? {},
      },
      sessionPolicy: typeof input.sessionPolicy === 'string' ? JSON.parse(input.sessionPolicy) : input.sessionPolicy,
      identityPolicies: [{ name: 'keyhole-bucket', policy: input.rolePolicy ?? rolePolicy(input.bucket) }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (result.resultType === 'error') {
    throw new Error(`simulator rejected ${input.action} on ${input.resource}: ${JSON.stringify(result.errors)}`);
  }
  if (result.resultType !== 'single') {
    throw new Error(`simulator evaluated ${input.resource} as a wildcard pattern, not one request`);
  }
  return result.overallResult as Decision;
}

export const objectArn = (bucket: string, key: string): string => `arn:aws:s3:::${bucket}/${key}`;
export const bucketArn = (bucket: string): string => `arn:aws:s3:::${bucket}`;
