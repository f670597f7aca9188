// Types for uploader-role.mjs, so TypeScript tests can evaluate the very documents bootstrap applies.
export declare const BROKER_USER_ARN: string;
export declare const PUBLIC_ACCESS_BLOCK: {
  BlockPublicAcls: boolean;
  IgnorePublicAcls: boolean;
  BlockPublicPolicy: boolean;
  RestrictPublicBuckets: boolean;
};
export declare function trustPolicy(): { Version: string; Statement: Record<string, unknown>[] };
export declare function rolePermissions(bucket: string): { Version: string; Statement: Record<string, unknown>[] };
export declare function bucketPolicy(bucket: string): { Version: string; Statement: Record<string, unknown>[] };
