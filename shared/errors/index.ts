export type { BlobsightErrorOptions, ErrorCode, ErrorKind } from './errors';
export { BlobsightError, ConfigError, isConfigError, isPermanentError, isTransientError, PermanentError, TransientError } from './errors';
