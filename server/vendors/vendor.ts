import type { GrantRule } from '../grants.js';
import type { Scope, SessionRestrictions } from '../policy/session-policy.js';

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
  /**
   * The verified token's issuer (`iss` claim). A subject is only unique within its issuer: vendors
   * that keep per-caller state (Cognito identities) must key it by (issuer, subject).
   */
  readonly issuer: string;
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
  /**
   * The id the caller is known by to the vendor; for STS it is the encoded subject. `issuer` is the
   * verified token's `iss`: a vendor whose ids are per caller across issuers (Cognito) must derive
   * the id from both, so that "alice" at one issuer and "alice" at another never share an id.
   */
  identityIdFor(subject: string, issuer: string): Promise<string>;
  issue(request: IssueRequest & { readonly identityId: string }): Promise<IssuedCredentials>;
  /**
   * Resolves when the vendor would serve a request: it makes the same upstream call as `issue`
   * (same parameters, with a deny-all policy), so a role that refuses e.g. `sts:SetSourceIdentity`
   * or a `durationSeconds` above its maximum fails here too. Rejects with an UpstreamError. For /readyz.
   */
  ping(durationSeconds?: number): Promise<void>;
  /** Number of calls made to the upstream service, for metrics and tests. */
  readonly upstreamCalls: () => number;
  /**
   * False when `issue` ignores the session policy (Cognito's enhanced flow: the pool's role policy
   * is the grant). The broker then does not claim the policy's token-expiry bound in `expiration`.
   * Default true.
   */
  readonly appliesSessionPolicy?: boolean;
  /**
   * Optional. Called once by `createBroker` with the validated grant rules; throws a TypeError naming
   * the option when this vendor cannot enforce them (the Cognito enhanced flow, whose credentials are
   * the pool role's, cannot confine a per-caller prefix other than `{identityId}`).
   */
  readonly checkGrants?: (grants: readonly GrantRule[]) => void;
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
    restrictions?: SessionRestrictions,
  ) => { readonly scopes: readonly Scope[]; readonly policy: string };
}
