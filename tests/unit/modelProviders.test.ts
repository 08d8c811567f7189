import { describe, expect, it } from 'vitest';

import { DEFAULTS, loadConfig } from '../../shared/config';
import { isConfigError, isPermanentError } from '../../shared/errors';
import { buildChatRequest } from '../../shared/model';
import { adaptChatRequest } from '../../shared/model/providers/adaptChatRequest';
import { needsCredential, providerCapabilities } from '../../shared/model/providers/capabilities';
import type { PreprocessedImage } from '../../shared/preprocess/preprocessedImage';
import type { LabelProfile } from '../../shared/profiles/profileSchema';

const base = { AzureWebJobsStorage__blobServiceUri: 'https://acct.blob.core.windows.net', COSMOS_ENDPOINT: 'https://acct.documents.azure.com:443/' };
const foundryEnv = { ...base, MODEL_PROVIDER: 'azure-ai-foundry', FOUNDRY_ENDPOINT: 'https://res.services.ai.azure.com/models/', FOUNDRY_MODEL: 'Phi-4-multimodal-instruct' };

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (e) {
    if (isConfigError(e)) return e.message;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

const profile: LabelProfile = { name: 'colours', version: '1', kind: 'single-label', prompt: 'Which colour?', detail: 'low', confidenceThreshold: 0.5, labels: [{ name: 'red' }, { name: 'blue' }] };
const textOf = (content: unknown): string => (typeof content === 'string' ? content : '');
const image = { jpeg: Buffer.from([0xff, 0xd8, 0xff, 0xd9]), detail: 'low', original: { width: 10, height: 10 } } as unknown as PreprocessedImage;

describe('MODEL_PROVIDER=azure-ai-foundry settings', () => {
  it('reads the endpoint (with or without /models), the deployment and the GA api-version by default, keyless', () => {
    const c = loadConfig(foundryEnv);
    expect(c.model).toEqual({ provider: 'azure-ai-foundry', endpoint: 'https://res.services.ai.azure.com', deployment: 'Phi-4-multimodal-instruct', apiVersion: '2025-04-01', apiKey: undefined });
    expect(DEFAULTS.FOUNDRY_API_VERSION).toBe('2025-04-01');
    expect(needsCredential(c.model)).toBe(true);
    expect(needsCredential(loadConfig({ ...foundryEnv, FOUNDRY_API_KEY: 'k' }).model)).toBe(false);
    expect(c.prices['phi-4-multimodal']).toEqual({ inputPerMTok: 0.08, outputPerMTok: 0.32 });
  });

  it('a Foundry setting alone means Foundry, so a partial set is an error naming what is missing, never the local detector', () => {
    expect(configError({ ...base, FOUNDRY_ENDPOINT: 'https://res.services.ai.azure.com' })).toContain('FOUNDRY_MODEL is not set (FOUNDRY_ENDPOINT is)');
    expect(configError({ ...base, FOUNDRY_API_KEY: 'k' })).toContain('FOUNDRY_ENDPOINT is not set');
    expect(configError({ ...foundryEnv, FOUNDRY_ENDPOINT: 'res.services.ai.azure.com' })).toContain('FOUNDRY_ENDPOINT="res.services.ai.azure.com" is not a URL');
    expect(configError({ ...foundryEnv, FOUNDRY_API_VERSION: 'latest' })).toContain('FOUNDRY_API_VERSION="latest" is not an API version');
  });

  it('a misspelt or borrowed name is reported with the setting it stands for', () => {
    const { FOUNDRY_MODEL: _m, ...noModel } = foundryEnv;
    expect(configError({ ...noModel, FOUNDRY_DEPLOYMENT: 'phi' })).toContain('FOUNDRY_DEPLOYMENT is not a blobsight setting; did you mean FOUNDRY_MODEL?');
    expect(configError({ ...noModel, FOUNDRY_MODLE: 'phi' })).toContain('did you mean FOUNDRY_MODEL?');
  });

  it('settings of two providers without MODEL_PROVIDER are an error; MODEL_PROVIDER lists the new value', () => {
    const { MODEL_PROVIDER: _p, ...inferred } = foundryEnv;
    expect(loadConfig(inferred).model.provider).toBe('azure-ai-foundry');
    expect(configError({ ...inferred, AZURE_OPENAI_ENDPOINT: 'https://x.openai.azure.com', AZURE_OPENAI_DEPLOYMENT: 'gpt-4o' })).toContain('Settings of two model providers are present');
    expect(configError({ ...base, MODEL_PROVIDER: 'foundry' })).toContain('is not one of azure-openai, openai-compatible, azure-ai-foundry, local-detector');
  });
});

describe('provider capabilities drive the request', () => {
  it('Azure OpenAI gets the strict request unchanged', () => {
    const request = buildChatRequest(profile, image, { model: 'gpt-4o', logprobs: true });
    expect(adaptChatRequest(request, providerCapabilities('azure-openai'))).toEqual(request);
  });

  it('Foundry gets JSON mode with the schema in the system message, and neither n nor logprobs', () => {
    const request = buildChatRequest(profile, image, { model: 'Phi-4-multimodal-instruct', logprobs: true });
    const adapted = adaptChatRequest(request, providerCapabilities('azure-ai-foundry'));
    expect(adapted.response_format).toEqual({ type: 'json_object' });
    expect(adapted).not.toHaveProperty('n');
    expect(adapted).not.toHaveProperty('logprobs');
    const system = adapted.messages[0];
    expect(system?.role).toBe('system');
    const schema = request.response_format?.type === 'json_schema' ? request.response_format.json_schema.schema : undefined;
    expect(textOf(system?.content)).toContain(JSON.stringify(schema));
    expect(adapted.messages.slice(1)).toEqual(request.messages.slice(1));
  });

  it('without JSON mode the response format is dropped and the prompt alone describes the schema', () => {
    const request = buildChatRequest(profile, image, { model: 'm', logprobs: false });
    const adapted = adaptChatRequest(request, { ...providerCapabilities('azure-ai-foundry'), jsonMode: false });
    expect(adapted).not.toHaveProperty('response_format');
    expect(textOf(adapted.messages[0]?.content)).toContain('"enum":["red","blue"]');
  });

  it('two images in one turn are refused before any call for a one-image-per-turn provider', () => {
    const request = buildChatRequest(profile, image, { model: 'm', logprobs: false });
    const user = request.messages[1];
    if (user?.role !== 'user' || !Array.isArray(user.content)) throw new Error('expected a user message with parts');
    const twoImages = { ...request, messages: [request.messages[0]!, { ...user, content: [...user.content, ...user.content.filter((p) => p.type === 'image_url')] }] };
    expect(() => adaptChatRequest(twoImages, providerCapabilities('azure-ai-foundry'))).toThrow(/2 images in one turn; this model provider takes 1/);
    try {
      adaptChatRequest(twoImages, providerCapabilities('azure-ai-foundry'));
    } catch (e) {
      expect(isPermanentError(e) && e.code).toBe('profile_not_supported');
    }
    expect(adaptChatRequest(twoImages, providerCapabilities('azure-openai')).messages).toHaveLength(2);
  });

  it('the table states what each provider lacks; an unknown stand-in counts as a paid OpenAI-like model', () => {
    expect(providerCapabilities('azure-ai-foundry')).toMatchObject({ strictJsonSchema: false, jsonMode: true, logprobs: false, imagesPerTurn: 1, boxes: false, paid: true, keyless: true });
    expect(providerCapabilities('local-detector')).toMatchObject({ paid: false, boxes: true });
    expect(providerCapabilities('some-test-double')).toEqual(providerCapabilities('openai-compatible'));
  });
});
