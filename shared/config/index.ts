export type { BlobsightConfig, Env, ModelConfig, ModelPrice, StorageConfig } from './loadConfig';
export { DEFAULT_PRICES, DEFAULTS, loadConfig } from './loadConfig';
