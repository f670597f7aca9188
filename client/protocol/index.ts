// The wire protocol between the broker and its clients, defined once. Browser-safe: it imports
// nothing but zod/mini, so the server, the client module and the web app all use it.
export { ACCESS, AccessSchema, canonicalAccess, isAccess, type Access } from './access.js';
export {
  CREDENTIALS_PATH,
  CredentialsResponseSchema,
  ScopeSchema,
  type CredentialsRequest,
  type CredentialsResponse,
} from './credentials.js';
export {
  BROKER_ERRORS,
  ErrorBodySchema,
  isBrokerErrorCode,
  type BrokerErrorCode,
  type BrokerErrorStatus,
  type ErrorBody,
} from './errors.js';
export { WEB_CONFIG_PATH, WebAppConfigSchema, type WebAppConfig } from './web-config.js';
export {
  REJECT_REASONS,
  RejectReasonSchema,
  UPLOAD_EVENT_TYPES,
  UPLOADS_COMPLETE_PATH,
  UploadEventSchema,
  UploadVerdictSchema,
  type RejectReason,
  type UploadCompleteRequest,
  type UploadEvent,
  type UploadVerdict,
} from './uploads.js';
