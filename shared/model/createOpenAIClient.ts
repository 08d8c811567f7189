/** Builds the openai SDK client for the configured endpoint: keyless Azure OpenAI, or any OpenAI-compatible server. */
import type { TokenCredential } from '@azure/identity';
import { getBearerTokenProvider } from '@azure/identity';
import OpenAI, { AzureOpenAI } from 'openai';

import type { BlobsightConfig, OpenAIModelConfig } from '../config';
import { pacedFetch } from '../throughput/pacedFetch';
import type { QuotaPacer } from '../throughput/QuotaPacer';
import { getCredential } from './getCredential';
import { gatedFetch } from './modelAttempts';
import { createFoundryClient } from './providers/createFoundryClient';

/** Entra ID scope of Azure OpenAI / Azure AI services data-plane calls. */
export const COGNITIVE_SERVICES_SCOPE = 'https://cognitiveservices.azure.com/.default';

/**
 * Sent as the bearer key to an OpenAI-compatible endpoint configured without OPENAI_API_KEY. Local servers
 * (Ollama, vLLM without --api-key, LM Studio) ignore it, but the SDK refuses to run without some key.
 */
export const KEYLESS_API_KEY_PLACEHOLDER = 'blobsight-keyless';

export interface OpenAIClientDeps {
  /** Defaults to the worker's DefaultAzureCredential (getCredential()); only used for keyless Azure OpenAI. */
  credential?: TokenCredential;
  /** Defaults to the global fetch; tests pass a fake. */
  fetch?: typeof fetch;
  /** Paces every attempt against the deployment's quota (MODEL_TPM); outside the gate, so a wait is never counted as paid. */
  pacer?: { pacer: QuotaPacer; maxWaitMs: number };
}

/**
 * One client per worker. The SDK's own retries (408/409/429/5xx and connection faults, honouring
 * `retry-after-ms` / `retry-after`) and per-request timeout are set explicitly from MODEL_MAX_RETRIES and
 * MODEL_TIMEOUT_MS, so no home-made retry loop is needed around calls.
 */
export function createOpenAIClient(model: OpenAIModelConfig, request: BlobsightConfig['modelRequest'], deps: OpenAIClientDeps = {}): OpenAI {
  // Everything comes from the validated config: null/explicit values stop the SDK from reading stray
  // OPENAI_ORG_ID / OPENAI_PROJECT_ID / OPENAI_ADMIN_KEY variables behind our back (style #3).
  const common = {
    maxRetries: request.maxRetries,
    timeout: request.timeoutMs,
    organization: null,
    project: null,
    adminAPIKey: null,
    // Every attempt, the SDK's retries included, passes the gate that counts and time-boxes paid requests.
    fetch: deps.pacer === undefined ? gatedFetch(deps.fetch ?? globalThis.fetch) : pacedFetch(gatedFetch(deps.fetch ?? globalThis.fetch), deps.pacer.pacer, { maxWaitMs: deps.pacer.maxWaitMs }),
  };

  if (model.provider === 'azure-ai-foundry') return createFoundryClient(model, common, model.apiKey === undefined ? (deps.credential ?? getCredential()) : undefined);
  if (model.provider === 'azure-openai') {
    const auth =
      model.apiKey !== undefined
        ? { apiKey: model.apiKey }
        : {
            azureADTokenProvider: getBearerTokenProvider(deps.credential ?? getCredential(), COGNITIVE_SERVICES_SCOPE),
            // An empty key (not undefined) stops AzureOpenAI falling back to AZURE_OPENAI_API_KEY from the
            // environment, which would clash with the token provider.
            apiKey: '',
          };
    return new AzureOpenAI({
      // baseURL rather than `endpoint`: the SDK would otherwise also read OPENAI_BASE_URL and refuse both.
      baseURL: `${model.endpoint.replace(/\/+$/, '')}/openai`,
      deployment: model.deployment,
      apiVersion: model.apiVersion,
      ...auth,
      ...common,
    });
  }

  return new OpenAI({ baseURL: model.baseURL, apiKey: model.apiKey ?? KEYLESS_API_KEY_PLACEHOLDER, ...common });
}
