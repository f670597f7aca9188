// The grant rules: `KEYHOLE_GRANTS` (JSON), or one rule from `KEYHOLE_BUCKET`,
// `KEYHOLE_PREFIX_TEMPLATE`, `KEYHOLE_ACCESS` and the session variables.
import { z } from 'zod';
import { compileGrants, type GrantRule } from '../grants.js';
import type { UploadRules } from '../uploads/rules.js';
import { ALL_ACCESS, type Access } from '../policy/access.js';
import { parsePrefixTemplate } from '../policy/prefix-template.js';
import { unconfinedPrefix, unconfinedPrefixReason } from '../vendors/cognito-grants.js';
import type { Problems } from './problems.js';
import type { Variables } from './schema.js';

const prefixLength = (max: number) => z.number().int().min(0).max(max);
const bytes = z.number().int('expected a whole number of bytes').positive('expected a positive number of bytes');
// Shapes only: compileGrants (server/uploads/rules.ts) judges the values and the MIME patterns.
const uploadRulesSchema = z.strictObject({
  maxBytes: bytes.optional(),
  contentTypes: z.array(z.string()).min(1, 'expected at least one MIME pattern').optional(),
  quotaBytes: bytes.optional(),
});
const grantsSchema = z
  .array(
    z.strictObject({
      when: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
      bucket: z.string(),
      scopes: z
        .array(
          z.strictObject({
            prefix: z.string(),
            access: z.array(z.enum(ALL_ACCESS as [Access, ...Access[]])).min(1, 'expected at least one access'),
            uploads: uploadRulesSchema.optional(),
          }),
        )
        .min(1, 'expected at least one scope'),
      session: z
        .strictObject({
          bindSourceIp: z
            .union([
              z.boolean(),
              z.strictObject({
                ipv4PrefixLength: prefixLength(32).optional(),
                ipv6PrefixLength: prefixLength(128).optional(),
              }),
            ])
            .optional(),
          allowPresignedUrls: z.boolean().optional(),
          allowTagging: z.boolean().optional(),
          expireWithToken: z.boolean().optional(),
        })
        .optional(),
    }),
  )
  .min(1, 'expected at least one rule');

/** True when the broker accepts `bucket` as a bucket name (the grant compiler is the one judge). */
function isBucketName(bucket: string): boolean {
  try {
    compileGrants([{ bucket, scopes: [{ prefix: 'p/', access: ['read'] }] }]);
    return true;
  } catch (err) {
    if (err instanceof TypeError) return false;
    throw err;
  }
}

/** The reason a prefix template is refused, or undefined when it is fine. */
function templateProblem(template: string): string | undefined {
  try {
    parsePrefixTemplate(template);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** The single rule's upload rules (`uploads` of a KEYHOLE_GRANTS scope). */
const UPLOAD_RULE_VARIABLES = [
  'KEYHOLE_UPLOAD_MAX_BYTES',
  'KEYHOLE_UPLOAD_CONTENT_TYPES',
  'KEYHOLE_UPLOAD_QUOTA_BYTES',
];

/** `{ maxBytes?, contentTypes?, quotaBytes? }` from the KEYHOLE_UPLOAD_* variables, or undefined when none is set. */
function uploadRulesFrom(c: Variables): UploadRules | undefined {
  const rules: UploadRules = {
    ...(c.KEYHOLE_UPLOAD_MAX_BYTES !== undefined ? { maxBytes: c.KEYHOLE_UPLOAD_MAX_BYTES } : {}),
    ...(c.KEYHOLE_UPLOAD_CONTENT_TYPES !== undefined ? { contentTypes: c.KEYHOLE_UPLOAD_CONTENT_TYPES } : {}),
    ...(c.KEYHOLE_UPLOAD_QUOTA_BYTES !== undefined ? { quotaBytes: c.KEYHOLE_UPLOAD_QUOTA_BYTES } : {}),
  };
  return Object.keys(rules).length > 0 ? rules : undefined;
}

const SINGLE_RULE_VARIABLES = [
  'KEYHOLE_BUCKET',
  'KEYHOLE_PREFIX_TEMPLATE',
  'KEYHOLE_ACCESS',
  'KEYHOLE_BIND_SOURCE_IP',
  'KEYHOLE_ALLOW_PRESIGNED_URLS',
  'KEYHOLE_ALLOW_TAGGING',
  'KEYHOLE_EXPIRE_WITH_TOKEN',
  ...UPLOAD_RULE_VARIABLES,
];

function singleRule(c: Variables, problems: Problems): GrantRule[] | undefined {
  if (problems.anyUnreadable(SINGLE_RULE_VARIABLES)) return undefined;
  const bucket = problems.need(c.KEYHOLE_BUCKET, 'KEYHOLE_BUCKET', '(or KEYHOLE_GRANTS)');
  const badBucket = bucket !== undefined && !isBucketName(bucket);
  if (badBucket) problems.add('KEYHOLE_BUCKET', 'bucket must be a valid S3 bucket name');
  const template = templateProblem(c.KEYHOLE_PREFIX_TEMPLATE);
  if (template !== undefined) problems.add('KEYHOLE_PREFIX_TEMPLATE', template);
  if (bucket === undefined || badBucket || template !== undefined) return undefined;
  const uploads = uploadRulesFrom(c);
  if (uploads) {
    try {
      compileGrants([{ bucket, scopes: [{ prefix: c.KEYHOLE_PREFIX_TEMPLATE, access: c.KEYHOLE_ACCESS, uploads }] }]);
    } catch (err) {
      if (!(err instanceof TypeError || err instanceof RangeError)) throw err;
      // "options.grants[0].scopes[0].uploads.maxBytes must …" names the variable it came from.
      const at = /\.uploads\.(maxBytes|contentTypes|quotaBytes)/.exec(err.message)?.[1];
      const variable =
        at === 'maxBytes'
          ? 'KEYHOLE_UPLOAD_MAX_BYTES'
          : at === 'quotaBytes'
            ? 'KEYHOLE_UPLOAD_QUOTA_BYTES'
            : 'KEYHOLE_UPLOAD_CONTENT_TYPES';
      problems.add(variable, err.message.replace(/^.*?\.uploads\.\w+(\[\d+\])? /, ''));
      return undefined;
    }
  }
  return [
    {
      bucket,
      scopes: [{ prefix: c.KEYHOLE_PREFIX_TEMPLATE, access: c.KEYHOLE_ACCESS, ...(uploads ? { uploads } : {}) }],
      session: {
        bindSourceIp: c.KEYHOLE_BIND_SOURCE_IP ?? false,
        allowPresignedUrls: c.KEYHOLE_ALLOW_PRESIGNED_URLS,
        allowTagging: c.KEYHOLE_ALLOW_TAGGING,
        expireWithToken: c.KEYHOLE_EXPIRE_WITH_TOKEN,
      },
    },
  ];
}

function jsonRules(text: string, problems: Problems): GrantRule[] | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    problems.add('KEYHOLE_GRANTS', 'expected a JSON array of {when?, bucket, scopes:[{prefix, access}]}');
    return undefined;
  }
  const parsed = grantsSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    problems.add('KEYHOLE_GRANTS', `[${issue.path.join('.')}] ${issue.message}`);
    return undefined;
  }
  const rules = parsed.data as GrantRule[];
  const before = problems.list.length;
  rules.forEach((rule, i) => {
    if (!isBucketName(rule.bucket)) problems.add('KEYHOLE_GRANTS', `[${i}.bucket] must be a valid S3 bucket name`);
    rule.scopes.forEach((scope, j) => {
      const template = templateProblem(scope.prefix);
      if (template !== undefined) problems.add('KEYHOLE_GRANTS', `[${i}.scopes.${j}.prefix] ${template}`);
    });
  });
  if (problems.list.length > before) return undefined;
  try {
    // The schema and the checks above cover what the compiler checks; this is the last word.
    compileGrants(rules, '');
  } catch (err) {
    if (!(err instanceof TypeError || err instanceof RangeError)) throw err;
    problems.add('KEYHOLE_GRANTS', err.message);
    return undefined;
  }
  return rules;
}

/** The grant rules, or undefined (with problems recorded). */
export function grantsFrom(c: Variables, problems: Problems): GrantRule[] | undefined {
  if (problems.anyUnreadable(['KEYHOLE_GRANTS'])) return undefined;
  if (c.KEYHOLE_GRANTS !== undefined) {
    const set = UPLOAD_RULE_VARIABLES.find((name) => c[name as keyof Variables] !== undefined);
    if (set) {
      problems.add(set, 'is for the single rule; with KEYHOLE_GRANTS, give each scope its "uploads" rules');
      return undefined;
    }
  }
  return c.KEYHOLE_GRANTS !== undefined ? jsonRules(c.KEYHOLE_GRANTS, problems) : singleRule(c, problems);
}

/**
 * In Cognito's enhanced flow the pool role's policy is the grant, and it tells callers apart only
 * by identity id: a per-caller prefix without `{identityId}` cannot be confined.
 */
export function checkCognitoConfinement(c: Variables, grants: readonly GrantRule[], problems: Problems): void {
  if (problems.anyUnreadable(['KEYHOLE_VENDOR', 'KEYHOLE_COGNITO_MODE'])) return;
  if (c.KEYHOLE_VENDOR !== 'cognito' || c.KEYHOLE_COGNITO_MODE !== 'enhanced') return;
  const unconfined = unconfinedPrefix(grants);
  if (!unconfined) return;
  const fromGrants = c.KEYHOLE_GRANTS !== undefined;
  problems.add(
    fromGrants ? 'KEYHOLE_GRANTS' : 'KEYHOLE_PREFIX_TEMPLATE',
    (fromGrants ? `[${unconfined.rule}.scopes.${unconfined.scope}.prefix] ` : '') +
      `"${unconfined.prefix}" ${unconfinedPrefixReason('KEYHOLE_COGNITO_MODE=basic')}`,
  );
}
