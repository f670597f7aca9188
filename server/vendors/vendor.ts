import type { Scope } from '../policy/session-policy.js';

/** Short-lived AWS credentials, as returned to the client. */
export interface IssuedCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}

/** What the broker asks a vendor for: one subject, one session policy. */
export interface IssueRequest {
  /** The verified subject (`sub` claim). */
  readonly subject: string;
  /** Safe RoleSessionName / SourceIdentity derived from the subject. */
  readonly sessionName: string;
  /** Inline session policy JSON, already checked for size and characters. */
  readonly policy: string;
  /** Lifetime to ask for, in seconds. */
  readonly durationSeconds: number;
}

/**
 * A source of short-lived credentials (STS AssumeRole, Cognito identity pools).
 * `identityId` comes before `issue` because prefixes may embed it (Amplify's `private/{identityId}/`).
 */
export interface CredentialVendor {
  readonly kind: string;
  /** The id the caller is known by to the vendor; for STS it is the encoded subject. */
  identityIdFor(subject: string): Promise<string>;
  issue(request: IssueRequest & { readonly identityId: string }): Promise<IssuedCredentials>;
  /** Resolves when the vendor answers; rejects with an UpstreamError otherwise. For /readyz. */
  ping(): Promise<void>;
  /** Number of calls made to the upstream service, for metrics and tests. */
  readonly upstreamCalls: () => number;
  /**
   * Optional. Turns the grant's rendered scopes into the ones this vendor's backend uses, and builds
   * their session policy. Without it the broker uses the scopes as rendered and `buildSessionPolicy`.
   * The Cognito vendor uses it to keep the ':' of its identity ids (`us-east-1:uuid`) literal, as
   * Amplify's `private/{identityId}/` layout and Cognito's policy variables do on AWS.
   */
  readonly scopeGrant?: (
    bucket: string,
    scopes: readonly Scope[],
    identityId: string,
  ) => { readonly scopes: readonly Scope[]; readonly policy: string };
}
