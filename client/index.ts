export {
  brokerCredentials,
  SignedOutError,
  type BrokerCredentialsOptions,
  type BrokerCredentialsProvider,
  type BrokerCredentials,
  type Grant,
  type Access,
} from './credentials.js';
export {
  createStorage,
  type Storage,
  type StorageOptions,
  type UploadOptions,
  type UploadProgress,
  type UploadBody,
  type UploadResult,
  type DownloadResult,
  type ListedObject,
  type ListPage,
} from './storage.js';
export { KeyholeClientError, BrokerError, InvalidKeyError, StorageError } from './errors.js';
