/** A whole blobsight app on the emulators and the fake Azure OpenAI, built through the same createServices as production. */
import type { AccessToken, TokenCredential } from '@azure/identity';

import type { Env } from '../../shared/config';
import type { BlobOutcome } from '../../shared/pipeline';
import { processBlobCreated } from '../../shared/pipeline';
import type { ServiceOverrides, Services } from '../../shared/runtime';
import { createServices, pipelineDeps } from '../../shared/runtime';
import { createCosmosContainer } from '../../shared/store';
import { blobCreatedEvent } from './blobEvents';
import { createTestContainer, testConfig, uniqueName } from './emulators';
import type { FakeOpenAI } from './fakeOpenAI';

export interface TestApp {
  services: Services;
  /** Uploads bytes to the images container; returns what Event Grid would report. */
  upload(name: string, bytes: Buffer, options?: { metadata?: Record<string, string>; contentType?: string }): Promise<{ eTag: string; contentLength: number }>;
  /** Delivers the BlobCreated event for an upload to the pipeline, as Event Grid would. */
  deliver(name: string, upload: { eTag: string; contentLength: number }, extra?: Partial<Parameters<typeof blobCreatedEvent>[0]>): Promise<BlobOutcome>;
  /** Uploads and delivers. */
  put(name: string, bytes: Buffer, options?: { metadata?: Record<string, string>; contentType?: string }): Promise<BlobOutcome>;
  cleanup(): Promise<void>;
}

/** A credential that hands out the fake server's bearer token, standing in for managed identity. */
export function fakeCredential(token: string): TokenCredential & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    getToken: (scopes: string | string[]): Promise<AccessToken> => {
      calls.push(Array.isArray(scopes) ? scopes : [scopes]);
      return Promise.resolve({ token, expiresOnTimestamp: Date.now() + 3_600_000 });
    },
  };
}

/** A fresh images container and Cosmos database; the model is the fake, with key auth unless overridden. */
export async function startTestApp(fake: FakeOpenAI, env: Env = {}, overrides: ServiceOverrides = {}): Promise<TestApp> {
  const images = await createTestContainer('images');
  const config = testConfig({
    IMAGES_CONTAINER: images.value.containerName,
    COSMOS_DATABASE: uniqueName('blobsight'),
    AZURE_OPENAI_ENDPOINT: fake.url,
    AZURE_OPENAI_DEPLOYMENT: fake.deployment,
    AZURE_OPENAI_API_KEY: fake.apiKey,
    MODEL_MAX_RETRIES: '0',
    MODEL_TIMEOUT_MS: '5000',
    ...env,
  });
  const services = await createServices(config, overrides);
  const upload: TestApp['upload'] = async (name, bytes, options = {}) => {
    const blob = services.images.getBlockBlobClient(name);
    const r = await blob.uploadData(bytes, {
      blobHTTPHeaders: { blobContentType: options.contentType ?? 'image/jpeg' },
      ...(options.metadata === undefined ? {} : { metadata: options.metadata }),
    });
    return { eTag: r.etag ?? '', contentLength: bytes.length };
  };
  const deliver: TestApp['deliver'] = (name, u, extra = {}) =>
    processBlobCreated(
      blobCreatedEvent({ container: services.images.containerName, name, eTag: u.eTag, contentLength: u.contentLength, accountUrl: services.blobService.url.replace(/\/$/, ''), ...extra }),
      pipelineDeps(services),
    );
  return {
    services,
    upload,
    deliver,
    put: async (name, bytes, options) => deliver(name, await upload(name, bytes, options)),
    cleanup: async () => {
      await images.cleanup();
      const container = await createCosmosContainer({ ...config.cosmos, createIfMissing: false });
      await container.database.delete().catch(() => undefined);
    },
  };
}
