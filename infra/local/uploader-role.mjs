// The local uploader role's and bucket's policy documents, in one place: infra/local/bootstrap.mjs
// applies them to RGW, and the tests evaluate exactly these documents (test/property/oracle.ts).

/** The broker's RGW user: the only principal the role trusts. */
export const BROKER_USER_ARN = 'arn:aws:iam:::user/keyhole-broker';

/** Trust policy of keyhole-uploader. */
export function trustPolicy() {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: [BROKER_USER_ARN] },
        // The STS vendor sends SourceIdentity on every AssumeRole. AWS then also requires
        // sts:SetSourceIdentity here; RGW 16 does not check it, and denies every AssumeRole of a
        // role whose trust policy names it (test/security/trust-policy.test.ts pins both facts).
        Action: ['sts:AssumeRole'],
        // RGW 16 checks AssumeRole against the user behind a session, not the session's policy, so
        // a vended credential could assume this role again and drop its session policy. Only the
        // broker's long-term keys carry no aws:TokenIssueTime (test/security/rgw-isolation.test.ts).
        Condition: { Null: { 'aws:TokenIssueTime': 'true' } },
      },
    ],
  };
}
// The role reaches this bucket's objects only, with the actions the broker ever grants; each
// session policy narrows it to one user's prefix. The ACL denies repeat the session policy's: RGW
// evaluates role-policy denies in places it skips session-policy ones (a CopyObject destination).
const ACL_KEYS = [
  's3:x-amz-grant-read',
  's3:x-amz-grant-read-acp',
  's3:x-amz-grant-write-acp',
  's3:x-amz-grant-full-control',
];
/** Permissions of keyhole-uploader: the broker's object actions on `bucket`, minus ACL-bearing writes. */
export function rolePermissions(bucket) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'Objects',
        Effect: 'Allow',
        Action: [
          's3:GetObject',
          's3:PutObject',
          's3:AbortMultipartUpload',
          's3:ListMultipartUploadParts',
          's3:DeleteObject',
        ],
        Resource: [`arn:aws:s3:::${bucket}/*`],
      },
      { Sid: 'List', Effect: 'Allow', Action: ['s3:ListBucket'], Resource: [`arn:aws:s3:::${bucket}`] },
      {
        Sid: 'NoAcl',
        Effect: 'Deny',
        Action: 's3:PutObject',
        Resource: '*',
        Condition: { StringLike: { 's3:x-amz-acl': '?*' } },
      },
      ...ACL_KEYS.map((key, i) => ({
        Sid: `NoGrant${i}`,
        Effect: 'Deny',
        Action: 's3:PutObject',
        Resource: '*',
        Condition: { StringLike: { [key]: '*' } },
      })),
    ],
  };
}

// IgnorePublicAcls makes every public ACL (canned or AllUsers/AuthenticatedUsers grants, also
// from multipart and copy, where RGW exposes no ACL condition key) ineffective, also on objects
// written before. BlockPublicAcls is left off: RGW 16 then refuses every upload.
export const PUBLIC_ACCESS_BLOCK = {
  BlockPublicAcls: false,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
};

// IgnorePublicAcls does not cover a grant to one named RGW user (x-amz-grant-read: id="other" on
// CreateMultipartUpload, where no condition key shows it). Only the broker's user, whose sessions
// carry the per-user policies, may read or re-grant objects. RGW only: AWS disables ACLs instead.
/** Bucket policy: only the broker's user (and so its sessions) may read objects or change their ACLs. */
export function bucketPolicy(bucket) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'OnlyKeyholeSessions',
        Effect: 'Deny',
        NotPrincipal: { AWS: [BROKER_USER_ARN] },
        Action: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectAcl', 's3:PutObjectAcl'],
        Resource: [`arn:aws:s3:::${bucket}/*`],
      },
    ],
  };
}
