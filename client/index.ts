export {
  brokerCredentials,
  type BrokerCredentialsOptions,
  type BrokerCredentialsProvider,
  type BrokerCredentials,
  type Grant,
} from './credentials.js';
export type { Access } from './protocol/access.js';
export {
  createStorage,
  type Storage,
  type StorageOptions,
  type UploadOptions,
  type UploadControls,
  type KeptUpload,
  type UploadTask,
  type ResumableOptions,
  type ResumeEvent,
  type RestartCode,
  type UnfinishedUpload,
  type UploadProgress,
  type UploadBody,
  type UploadResult,
  type ConfirmedUpload,
  type ConfirmedUploadOptions,
  type UploadExpectations,
  type UploadVerdict,
  type RejectReason,
  type DownloadResult,
  type ListedObject,
  type ListPage,
} from './storage.js';
export {
  CLIENT_ERROR_CODES,
  KeyholeClientError,
  BrokerError,
  InvalidResponseError,
  InvalidKeyError,
  SignedOutError,
  StorageError,
  type BrokerErrorCodeSeen,
  type ClientErrorCode,
  type KeyholeErrorCode,
  type StorageErrorCode,
} from './errors.js';
export { isNetworkError } from './network-error.js';
export { UploadRejectedError } from './upload-confirm.js';
export { reasonInWords, sizeInWords, verdictInWords, type VerdictFacts } from './verdict-message.js';
export {
  fileIdentity,
  indexedDbUploadStore,
  memoryUploadStore,
  type FileIdentity,
  type StoredPart,
  type UploadRecord,
  type UploadStore,
} from './upload-store.js';
export {
  uppyAwsS3Options,
  type UppyAwsS3Options,
  type UppyCredentials,
  type UppyCredentialsOptions,
  type UppyPresignOptions,
  type UppyPresignRequest,
} from './uppy.js';
