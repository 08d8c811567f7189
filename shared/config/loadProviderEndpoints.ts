/**
 * The endpoint of every model provider the settings configure, not only MODEL_PROVIDER's: a profile may name its own
 * provider (profile `model`), and its endpoint, key and API version come from here. MODEL_PROVIDER still picks the model
 * of every profile that names none.
 */
import { z } from 'zod';

import type { Env, ModelConfig } from './loadConfig';
import { DEFAULTS, parseVisionModel } from './loadConfig';

/** A provider's connection; `deployment` is its default deployment (AZURE_OPENAI_DEPLOYMENT, ...), used when a profile names none. */
export interface ProviderEndpoints {
  'azure-openai'?: { endpoint: string; apiVersion: string; apiKey: string | undefined; deployment: string | undefined };
  'azure-ai-foundry'?: { endpoint: string; apiVersion: string; apiKey: string | undefined; deployment: string | undefined };
  'openai-compatible'?: { baseURL: string; apiKey: string | undefined; model: string | undefined };
  /** Image Analysis 4.0; keyless unless VISION_API_KEY is set. */
  'azure-ai-vision'?: { endpoint: string; apiKey: string | undefined; apiVersion: string; usdPer1000: number | undefined };
  /** Always available: the embedded detector needs no endpoint. */
  'local-detector': { modelDir: string | undefined };
}

const httpUrl = z.url({ protocol: /^https?$/ });
const apiVersion = /^\d{4}-\d{2}-\d{2}(-preview)?$/;

function read(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

/**
 * Reads each provider's endpoint settings; a malformed one is an issue (named), a missing one just leaves the provider
 * unconfigured (only a profile that names it makes that an error, at start-up). MODEL_PROVIDER's own entry is the
 * already-validated `model`, so both readings can never disagree.
 */
export function loadProviderEndpoints(env: Env, issues: string[], model: ModelConfig | undefined): ProviderEndpoints {
  const out: ProviderEndpoints = { 'local-detector': { modelDir: read(env, 'LOCAL_DETECTOR_MODEL_DIR') } };
  const url = (name: string, example: string): string | undefined => {
    const v = read(env, name);
    if (v !== undefined && !httpUrl.safeParse(v).success) {
      issues.push(`${name}=${JSON.stringify(v)} is not a URL. ${example}`);
      return undefined;
    }
    return v;
  };
  const version = (name: string, fallback: string): string => {
    const v = read(env, name) ?? fallback;
    if (!apiVersion.test(v)) issues.push(`${name}=${JSON.stringify(v)} is not an API version like ${fallback}.`);
    return v;
  };

  if (model?.provider === 'azure-openai') out['azure-openai'] = { endpoint: model.endpoint, apiVersion: model.apiVersion, apiKey: model.apiKey, deployment: model.deployment };
  else {
    const endpoint = model === undefined ? undefined : url('AZURE_OPENAI_ENDPOINT', 'Use https://<resource>.openai.azure.com/.');
    if (endpoint !== undefined) out['azure-openai'] = { endpoint, apiVersion: version('OPENAI_API_VERSION', DEFAULTS.OPENAI_API_VERSION), apiKey: read(env, 'AZURE_OPENAI_API_KEY'), deployment: read(env, 'AZURE_OPENAI_DEPLOYMENT') };
  }
  if (model?.provider === 'azure-ai-foundry') out['azure-ai-foundry'] = { endpoint: model.endpoint, apiVersion: model.apiVersion, apiKey: model.apiKey, deployment: model.deployment };
  else {
    const endpoint = model === undefined ? undefined : url('FOUNDRY_ENDPOINT', 'Use https://<resource>.services.ai.azure.com.');
    // The API's routes hang off /models; accept the endpoint with or without it, as parseFoundryModel does.
    if (endpoint !== undefined) out['azure-ai-foundry'] = { endpoint: endpoint.replace(/\/+$/, '').replace(/\/models$/, ''), apiVersion: version('FOUNDRY_API_VERSION', DEFAULTS.FOUNDRY_API_VERSION), apiKey: read(env, 'FOUNDRY_API_KEY'), deployment: read(env, 'FOUNDRY_MODEL') };
  }
  if (model?.provider === 'openai-compatible') out['openai-compatible'] = { baseURL: model.baseURL, apiKey: model.apiKey, model: model.model };
  else {
    const baseURL = model === undefined ? undefined : url('OPENAI_BASE_URL', 'Use e.g. http://127.0.0.1:11434/v1.');
    if (baseURL !== undefined) out['openai-compatible'] = { baseURL, apiKey: read(env, 'OPENAI_API_KEY'), model: read(env, 'OPENAI_MODEL') };
  }
  // The same reading as MODEL_PROVIDER=azure-ai-vision's (parseVisionModel), so both can never disagree.
  if (model?.provider === 'azure-ai-vision') out['azure-ai-vision'] = { endpoint: model.endpoint, apiKey: model.apiKey, apiVersion: model.apiVersion, usdPer1000: model.usdPer1000 };
  else if (read(env, 'VISION_ENDPOINT') !== undefined) {
    const vision = parseVisionModel(env, issues);
    if (vision?.provider === 'azure-ai-vision') out['azure-ai-vision'] = { endpoint: vision.endpoint, apiKey: vision.apiKey, apiVersion: vision.apiVersion, usdPer1000: vision.usdPer1000 };
  }
  return out;
}
