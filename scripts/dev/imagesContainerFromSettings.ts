/**
 * The images container for the small command-line scripts (upload, sendBlobCreated), from the same settings npm start
 * reads: local.settings.json, then .env, then the environment; Azurite (UseDevelopmentStorage=true) when unset.
 */
import type { ContainerClient } from '@azure/storage-blob';
import { BlobServiceClient } from '@azure/storage-blob';

import { readLocalSettings } from './localSettings';
import { packageRoot } from './packageRoot';

export interface ScriptStorage {
  container: ContainerClient;
  /** Where the connection came from, for messages (never the secret itself). */
  source: string;
  settings: Readonly<Record<string, string | undefined>>;
}

export function imagesContainerFromSettings(overrides: { connectionString?: string; container?: string } = {}): ScriptStorage {
  const settings: Record<string, string | undefined> = { ...readLocalSettings(packageRoot()).values, ...process.env };
  const value = (name: string): string | undefined => {
    const v = settings[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const connectionName = value('IMAGES_STORAGE_CONNECTION') ?? 'AzureWebJobsStorage';
  const connectionString = overrides.connectionString ?? value(connectionName) ?? 'UseDevelopmentStorage=true';
  const source = overrides.connectionString !== undefined ? '--connection-string' : value(connectionName) !== undefined ? connectionName : 'UseDevelopmentStorage=true (Azurite on 127.0.0.1:10000)';
  const containerName = overrides.container ?? value('IMAGES_CONTAINER') ?? 'images';
  const container = BlobServiceClient.fromConnectionString(connectionString, { retryOptions: { maxTries: 2, tryTimeoutInMs: 60_000 } }).getContainerClient(containerName);
  return { container, source, settings };
}
