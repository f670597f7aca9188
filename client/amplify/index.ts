export {
  createAmplifyCredentialsProvider,
  retryOnExpiredToken,
  isExpiredTokenError,
  type AmplifyCredentialsOptions,
  type KeyholeAmplifyProvider,
} from './provider.js';
export { BrokerError, KeyholeClientError } from '../errors.js';
export { SignedOutError } from '../credentials.js';
export type { Grant, Access } from '../credentials.js';
