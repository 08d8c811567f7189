/** Where the export and import commands write and how they end; tests pass their own. */
import { DefaultAzureCredential } from '@azure/identity';
import type { ContainerClient } from '@azure/storage-blob';

import { createBlobServiceClient } from '../../blob/createBlobServiceClient';
import type { BlobsightConfig, Env } from '../../config/loadConfig';
import { loadConfig } from '../../config/loadConfig';
import { createCosmosContainer } from '../../store/createCosmosContainer';
import { ImageStore } from '../../store/ImageStore';
import { readCliSettings } from '../readCliSettings';

export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** 0 done, 1 some images could not be exported or imported, 2 usage or configuration error. */
  setExitCode: (code: number) => void;
  env: Env;
  /** The service's store and images container, from the same settings as the service. */
  openStore?: (config: BlobsightConfig) => Promise<Pick<ImageStore, 'list' | 'get' | 'replace' | 'upsert'>>;
  openImages?: (config: BlobsightConfig) => ContainerClient;
}

export function processIo(): CommandIo {
  return {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    setExitCode: (c) => void (process.exitCode = c),
    // The same settings as `label`: local.settings.json Values, then .env, then the environment; read when used.
    get env() {
      return readCliSettings(process.cwd()).env;
    },
  };
}

export async function openServiceStore(io: CommandIo, config: BlobsightConfig): Promise<Pick<ImageStore, 'list' | 'get' | 'replace' | 'upsert'>> {
  if (io.openStore !== undefined) return io.openStore(config);
  const container = await createCosmosContainer(config.cosmos, config.cosmos.key === undefined ? new DefaultAzureCredential() : undefined);
  return new ImageStore(container);
}

export function openServiceImages(io: CommandIo, config: BlobsightConfig): ContainerClient {
  if (io.openImages !== undefined) return io.openImages(config);
  const credential = config.storage.kind === 'identity' && config.storage.clientId === undefined ? new DefaultAzureCredential() : undefined;
  return createBlobServiceClient(config.storage, credential).getContainerClient(config.imagesContainer);
}

export function configFrom(io: CommandIo): BlobsightConfig {
  return loadConfig(io.env);
}
