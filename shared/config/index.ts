export type { BlobsightConfig, Env, ModelConfig, ModelPrice, OpenAIModelConfig, StorageConfig } from './loadConfig';
export { DEFAULT_PRICES, DEFAULTS, loadConfig } from './loadConfig';
export type { ProviderEndpoints } from './loadProviderEndpoints';
