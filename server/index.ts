export { createBroker, type BrokerOptions } from './broker.js';
export {
  brokerAppFrom,
  configProblems,
  loadConfig,
  parseConfig,
  withEnvFile,
  type ConfigProblem,
  type ConfigResult,
  type KeyholeConfig,
} from './config.js';
export {
  KeyholeError,
  AuthenticationError,
  ForbiddenError,
  BadRequestError,
  RateLimitError,
  UpstreamError,
  ConfigError,
  BROKER_ERRORS,
  type BrokerErrorCode,
  type KeyholeErrorCode,
  type StartupErrorCode,
} from './errors.js';
export type { CredentialsResponse } from '../client/protocol/credentials.js';
export {
  createTokenVerifier,
  DEFAULT_ALGORITHMS,
  type TrustedIssuer,
  type IssuerKeys,
  type TokenVerifierOptions,
  type TokenVerifier,
  type VerifiedClaims,
} from './auth/verify-token.js';
export { createStsVendor, type StsVendorOptions } from './vendors/sts.js';
export {
  createCognitoVendor,
  cognitoScopes,
  developerUserIdentifier,
  toCognitoError,
  COGNITO_ID,
  type CognitoVendorOptions,
  type CognitoMode,
} from './vendors/cognito.js';
export type { CredentialVendor, IssuedCredentials, IssueRequest } from './vendors/vendor.js';
export type { GrantRule, ScopeRule, SessionOptions } from './grants.js';
export type { Access } from './policy/access.js';
export type { RateLimit } from './http/rate-limit.js';
export {
  buildSessionPolicy,
  MAX_SESSION_POLICY_LENGTH,
  type Scope,
  type SessionRestrictions,
} from './policy/session-policy.js';
export {
  createBucketInspector,
  type BucketInspector,
  type BucketInspectorOptions,
  type BucketSafety,
} from './bucket-safety.js';
export { requiredTrustActions } from './vendors/sts.js';
export type { TrustProxy } from './http/trust-proxy.js';
export { createLogger } from './logger.js';
export {
  createSharedState,
  type SharedState,
  type SharedStateOptions,
  type SharedStateStatus,
} from './shared/state.js';
export type { UploadsOptions } from './uploads/options.js';
export type { UploadRules, RejectReason } from './uploads/rules.js';
export type { UploadHook } from './events/dispatch.js';
export type { WebhookOptions } from './events/webhook.js';
export type { UploadEvent, UploadVerdict } from '../client/protocol/uploads.js';
export { reconcileBrokerUploads, type ReconcileSummary, type ReconcileWindow } from './uploads/reconcile.js';
