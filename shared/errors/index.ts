export type { BlobsightErrorOptions, ErrorCode, ErrorKind } from './errors';
export {
  BlobsightError,
  ConfigError,
  isConfigError,
  isModelMisconfiguration,
  isPermanentError,
  isTransientError,
  MODEL_MISCONFIGURATION_CODES,
  PermanentError,
  TransientError,
} from './errors';
