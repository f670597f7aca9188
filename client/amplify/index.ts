export {
  createAmplifyCredentialsProvider,
  retryOnExpiredToken,
  isExpiredTokenError,
  type AmplifyCredentialsOptions,
  type KeyholeAmplifyProvider,
} from './provider.js';
export { withGrantErrors, explainAccessDenied } from './grant-errors.js';
export { BrokerError, InvalidResponseError, KeyholeClientError, SignedOutError } from '../errors.js';
export type { Grant } from '../credentials.js';
export type { Access } from '../protocol/access.js';
