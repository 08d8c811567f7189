/** The service's configuration for the CLI, where storage and Cosmos DB are optional (only some sources need them). */
import type { BlobsightConfig, Env } from '../config';
import { DEFAULTS, loadConfig } from '../config';

export interface CliConfig {
  config: BlobsightConfig;
  /** The service's Cosmos DB is configured: its cached answers are reused and `--from-service` works. */
  cosmosConfigured: boolean;
  storageConfigured: boolean;
}

/** Stands in for settings the CLI does not need so loadConfig validates the rest; never connected to. */
const UNSET_COSMOS = 'https://cosmos-not-configured.invalid';
const UNSET_STORAGE = 'https://storage-not-configured.invalid';

/**
 * loadConfig requires the service's storage and Cosmos DB settings; labelling a local folder needs neither. When a
 * setting is absent it is filled with an `.invalid` host (RFC 2606: never resolves) and the CLI is told it is unset,
 * so every other setting (model, limits, prices, profiles) is validated exactly as the service does.
 */
export function loadCliConfig(env: Env): CliConfig {
  const filled: Record<string, string | undefined> = { ...env };
  const has = (name: string): boolean => (env[name]?.trim() ?? '') !== '';
  const cosmosConfigured = has('COSMOS_ENDPOINT');
  if (!cosmosConfigured) filled['COSMOS_ENDPOINT'] = UNSET_COSMOS;
  const connection = env['IMAGES_STORAGE_CONNECTION']?.trim() || DEFAULTS.IMAGES_STORAGE_CONNECTION;
  const storageConfigured = has(connection) || has(`${connection}__blobServiceUri`) || has(`${connection}__accountName`);
  if (!storageConfigured) filled[`${connection}__blobServiceUri`] = UNSET_STORAGE;
  return { config: loadConfig(filled), cosmosConfigured, storageConfigured };
}
