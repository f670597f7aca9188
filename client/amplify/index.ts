export {
  createAmplifyCredentialsProvider,
  retryOnExpiredToken,
  isExpiredTokenError,
  type AmplifyCredentialsOptions,
  type KeyholeAmplifyProvider,
} from './provider.js';
export { BrokerError, KeyholeClientError } from '../errors.js';
export type { Grant, Access } from '../credentials.js';
