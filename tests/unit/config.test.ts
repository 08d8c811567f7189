import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { DEFAULTS, loadConfig } from '../../shared/config';
import { isConfigError } from '../../shared/errors';

const azureEnv = {
  AzureWebJobsStorage__blobServiceUri: 'https://acct.blob.core.windows.net',
  COSMOS_ENDPOINT: 'https://acct.documents.azure.com:443/',
  AZURE_OPENAI_ENDPOINT: 'https://res.openai.azure.com/',
  AZURE_OPENAI_DEPLOYMENT: 'gpt-4o',
};

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (e) {
    if (isConfigError(e)) return e.message;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('reads a keyless Azure configuration with documented defaults', () => {
    const c = loadConfig(azureEnv);
    expect(c.storage).toEqual({ kind: 'identity', blobServiceUri: 'https://acct.blob.core.windows.net', clientId: undefined, setting: 'AzureWebJobsStorage__blobServiceUri' });
    expect(c.model).toEqual({ provider: 'azure-openai', endpoint: 'https://res.openai.azure.com/', deployment: 'gpt-4o', apiVersion: '2024-10-21', apiKey: undefined });
    expect(c.cosmos).toMatchObject({ database: DEFAULTS.COSMOS_DATABASE, container: DEFAULTS.COSMOS_CONTAINER, key: undefined, createIfMissing: false });
    expect(c.imagesContainer).toBe('images');
    expect(c.limits).toEqual({ maxBytes: DEFAULTS.MAX_IMAGE_BYTES, maxPixels: DEFAULTS.MAX_IMAGE_PIXELS });
    expect(c.prices['gpt-4o']).toEqual({ inputPerMTok: 2.5, outputPerMTok: 10, cachedInputPerMTok: 1.25 });
  });

  it('uses a connection string for Azurite and a key only for the emulator, creating the container there', () => {
    const c = loadConfig({ ...azureEnv, AzureWebJobsStorage: 'UseDevelopmentStorage=true', COSMOS_KEY: 'k', AzureWebJobsStorage__blobServiceUri: '' });
    expect(c.storage.kind).toBe('connection-string');
    expect(c.cosmos).toMatchObject({ key: 'k', createIfMissing: true });
  });

  it('reads an identity connection under another name with a user-assigned client id', () => {
    const c = loadConfig({
      ...azureEnv,
      AzureWebJobsStorage__blobServiceUri: '',
      IMAGES_STORAGE_CONNECTION: 'ImagesStorage',
      ImagesStorage__blobServiceUri: 'https://other.blob.core.windows.net',
      ImagesStorage__clientId: '00000000-0000-0000-0000-000000000001',
    });
    expect(c.storage).toMatchObject({ kind: 'identity', blobServiceUri: 'https://other.blob.core.windows.net', clientId: '00000000-0000-0000-0000-000000000001' });
  });

  it('selects an OpenAI-compatible endpoint with an optional key', () => {
    const c = loadConfig({ ...azureEnv, AZURE_OPENAI_ENDPOINT: '', AZURE_OPENAI_DEPLOYMENT: '', OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1', OPENAI_MODEL: 'llava' });
    expect(c.model).toEqual({ provider: 'openai-compatible', baseURL: 'http://127.0.0.1:11434/v1', model: 'llava', apiKey: undefined });
  });

  it('treats empty and blank values as missing and names every missing variable at once', () => {
    const msg = configError({ COSMOS_ENDPOINT: '   ', AZURE_OPENAI_ENDPOINT: 'https://r.openai.azure.com/' });
    expect(msg).toMatch(/AzureWebJobsStorage__blobServiceUri/);
    expect(msg).toMatch(/COSMOS_ENDPOINT is not set/);
    expect(msg).toMatch(/AZURE_OPENAI_DEPLOYMENT is not set/);
  });

  it('falls back to the embedded local detector, with the objects profile as default, when no model is configured', () => {
    const c = loadConfig({ ...azureEnv, AZURE_OPENAI_ENDPOINT: '', AZURE_OPENAI_DEPLOYMENT: '' });
    expect(c.model).toEqual({ provider: 'local-detector', modelDir: undefined });
    expect(c.defaultProfile).toBe('objects');
    expect(loadConfig({ ...azureEnv, AZURE_OPENAI_ENDPOINT: '', AZURE_OPENAI_DEPLOYMENT: '', DEFAULT_PROFILE: 'pets' }).defaultProfile).toBe('pets');
    // An API version alone (the example settings carry one) is no model configuration.
    expect(loadConfig({ ...azureEnv, AZURE_OPENAI_ENDPOINT: '', AZURE_OPENAI_DEPLOYMENT: '', OPENAI_API_VERSION: '2024-10-21' }).model.provider).toBe('local-detector');
  });

  describe('with MODEL_PROVIDER unset, a partial or misspelt model setting is an error, never a silent local detector', () => {
    const noModel = { ...azureEnv, AZURE_OPENAI_ENDPOINT: '', AZURE_OPENAI_DEPLOYMENT: '' };

    it.each([
      ['AZURE_OPENAI_DEPLOYMENT without AZURE_OPENAI_ENDPOINT', { AZURE_OPENAI_DEPLOYMENT: 'gpt-4o' }, /AZURE_OPENAI_ENDPOINT is not set \(AZURE_OPENAI_DEPLOYMENT is\)/],
      ['AZURE_OPENAI_ENDPOINT without AZURE_OPENAI_DEPLOYMENT', { AZURE_OPENAI_ENDPOINT: 'https://r.openai.azure.com/' }, /AZURE_OPENAI_DEPLOYMENT is not set \(AZURE_OPENAI_ENDPOINT is\)/],
      ['OPENAI_BASE_URL without OPENAI_MODEL', { OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' }, /OPENAI_MODEL is not set \(OPENAI_BASE_URL is\)/],
      ['OPENAI_MODEL without OPENAI_BASE_URL', { OPENAI_MODEL: 'gpt-4o' }, /OPENAI_BASE_URL is not set \(OPENAI_MODEL is\)/],
      ['only AZURE_OPENAI_API_KEY', { AZURE_OPENAI_API_KEY: 'secret-value' }, /AZURE_OPENAI_API_KEY is set but AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_DEPLOYMENT are not.*MODEL_PROVIDER=local-detector/],
      ['only OPENAI_API_KEY', { OPENAI_API_KEY: 'sk-secret-value' }, /OPENAI_API_KEY is set but OPENAI_BASE_URL and OPENAI_MODEL are not/],
      ['settings of both providers', { AZURE_OPENAI_ENDPOINT: 'https://r.openai.azure.com/', OPENAI_MODEL: 'gpt-4o' }, /two model providers.*AZURE_OPENAI_ENDPOINT, OPENAI_MODEL.*MODEL_PROVIDER=azure-openai/],
      ['AZURE_OPENAI_ENDPIONT (swapped letters)', { AZURE_OPENAI_ENDPIONT: 'https://r.openai.azure.com/', AZURE_OPENAI_DEPLOYMENT: 'gpt-4o' }, /AZURE_OPENAI_ENDPIONT is not a blobsight setting; did you mean AZURE_OPENAI_ENDPOINT\?/],
      ['AZURE_OPENAI_DEPLOYMENT_NAME (another sample\'s name)', { AZURE_OPENAI_ENDPOINT: 'https://r.openai.azure.com/', AZURE_OPENAI_DEPLOYMENT_NAME: 'gpt-4o' }, /AZURE_OPENAI_DEPLOYMENT_NAME is not a blobsight setting; did you mean AZURE_OPENAI_DEPLOYMENT\?/],
      ['AZURE_OPENAI_DEPLOYMENT_NAME alone', { AZURE_OPENAI_DEPLOYMENT_NAME: 'gpt-4o' }, /did you mean AZURE_OPENAI_DEPLOYMENT\?/],
      ['AZURE_OPENAI_KEY', { AZURE_OPENAI_ENDPOINT: 'https://r.openai.azure.com/', AZURE_OPENAI_DEPLOYMENT: 'gpt-4o', AZURE_OPENAI_KEY: 'secret-value' }, /did you mean AZURE_OPENAI_API_KEY\?/],
      ['OPENAI_BASE_ULR', { OPENAI_BASE_ULR: 'http://127.0.0.1:11434/v1', OPENAI_MODEL: 'llava' }, /OPENAI_BASE_ULR is not a blobsight setting; did you mean OPENAI_BASE_URL\?/],
      ['MODEL_PROVDER', { MODEL_PROVDER: 'azure-openai' }, /did you mean MODEL_PROVIDER\?/],
      ['a lower-case azure_openai_endpoint', { azure_openai_endpoint: 'https://r.openai.azure.com/' }, /azure_openai_endpoint is not a blobsight setting; did you mean AZURE_OPENAI_ENDPOINT\?/],
    ])('%s', (_name, env, message) => {
      const msg = configError({ ...noModel, ...env });
      expect(msg).toMatch(message);
      expect(msg).not.toContain('secret-value');
    });

    it('a look-alike next to the real setting, or of the provider not chosen, changes nothing', () => {
      expect(loadConfig({ ...azureEnv, AZURE_OPENAI_DEPLOYMENT_NAME: 'other' }).model).toMatchObject({ provider: 'azure-openai', deployment: 'gpt-4o' });
      expect(loadConfig({ ...azureEnv, MODEL_PROVIDER: 'azure-openai', OPENAI_MODEL_NAME: 'x' }).model.provider).toBe('azure-openai');
      expect(loadConfig({ ...noModel, MODEL_PROVIDER: 'local-detector', AZURE_OPENAI_ENDPIONT: 'https://r.openai.azure.com/', OPENAI_API_KEY: 'k' }).model.provider).toBe('local-detector');
      // Unrelated variables are not taken for misspellings.
      expect(loadConfig({ ...azureEnv, NODE_OPTIONS: '--max-old-space-size=2048', WEBSITE_SITE_NAME: 'app', APPSETTING_AZURE_OPENAI_ENDPOINT: 'x', OPENAI_API_TYPE: 'azure' }).model.provider).toBe('azure-openai');
    });
  });

  it('names the missing deployment when only the Azure OpenAI endpoint is set', () => {
    expect(configError({ ...azureEnv, AZURE_OPENAI_DEPLOYMENT: '' })).toMatch(/AZURE_OPENAI_DEPLOYMENT is not set/);
  });

  it('refuses malformed values with the variable name and keeps secrets out of the message', () => {
    const msg = configError({ ...azureEnv, MAX_IMAGE_BYTES: 'lots', MODEL_MAX_RETRIES: '-1', IMAGES_CONTAINER: 'Bad_Name', AzureWebJobsStorage: 'not-a-conn-string-secret', MODEL_PRICES: '{"gpt-4o":{"inputPerMTok":-1}}' });
    expect(msg).toMatch(/MAX_IMAGE_BYTES="lots" is invalid/);
    expect(msg).toMatch(/MODEL_MAX_RETRIES/);
    expect(msg).toMatch(/IMAGES_CONTAINER/);
    expect(msg).toMatch(/AzureWebJobsStorage does not look like a storage connection string/);
    expect(msg).toMatch(/MODEL_PRICES is invalid/);
    expect(msg).not.toContain('not-a-conn-string-secret');
  });

  it('merges MODEL_PRICES over the defaults', () => {
    const c = loadConfig({ ...azureEnv, MODEL_PRICES: '{"my-model":{"inputPerMTok":1,"outputPerMTok":2}}' });
    expect(c.prices['my-model']).toEqual({ inputPerMTok: 1, outputPerMTok: 2 });
    expect(c.prices['gpt-4o']).toBeDefined();
  });

  it('local.settings.example.json lists every setting the app reads', () => {
    const example = JSON.parse(readFileSync(join(__dirname, '..', '..', 'local.settings.example.json'), 'utf8')) as { Values: Record<string, string> };
    const source = readFileSync(join(__dirname, '..', '..', 'shared', 'config', 'loadConfig.ts'), 'utf8');
    const read = new Set([...source.matchAll(/(?:parse|read)\(env, '([A-Za-z_]+)'/g)].map((m) => m[1]));
    // Set by the platform, never by hand: App Service injects WEBSITE_AUTH_ENABLED, npm start's dev sign-in sets it.
    const platform = new Set<string | undefined>(['WEBSITE_AUTH_ENABLED']);
    for (const name of read) if (!platform.has(name)) expect(Object.keys(example.Values), `${name} missing from local.settings.example.json`).toContain(name);
    expect(Object.keys(example.Values)).not.toContain('WEBSITE_AUTH_ENABLED');
  });

  it('caps paid model attempts per image version at MAX_MODEL_ATTEMPTS (default 3) and refuses a nonsense value', () => {
    expect(loadConfig(azureEnv).maxModelAttempts).toBe(3);
    expect(loadConfig({ ...azureEnv, MAX_MODEL_ATTEMPTS: '5' }).maxModelAttempts).toBe(5);
    expect(configError({ ...azureEnv, MAX_MODEL_ATTEMPTS: '0' })).toMatch(/MAX_MODEL_ATTEMPTS/);
  });
});
