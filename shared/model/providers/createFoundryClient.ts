/** The openai SDK client pointed at the Azure AI Foundry model inference API (`<endpoint>/models/chat/completions`). */
import type { TokenCredential } from '@azure/identity';
import { getBearerTokenProvider } from '@azure/identity';
import type { ClientOptions } from 'openai';
import OpenAI from 'openai';

import type { ModelConfig } from '../../config';

type FoundryModelConfig = Extract<ModelConfig, { provider: 'azure-ai-foundry' }>;

/**
 * Entra ID scope for keyless calls. The docs for this endpoint (Foundry "How to use image and audio chat models",
 * mm-rest) give the Cognitive Services scope, which the AI Services resource behind `services.ai.azure.com` accepts with
 * the "Cognitive Services User" role; the 2025-04-01 spec file names `https://ml.azure.com/.default`, the scope of the
 * Azure Machine Learning serverless endpoints that share the same API, not of this host.
 */
export const FOUNDRY_SCOPE = 'https://cognitiveservices.azure.com/.default';

/**
 * `extra-parameters: error` (the service default, sent explicitly so it cannot change under us): the request carries only
 * parameters the API defines (adaptChatRequest drops `n` and `logprobs`), so an unknown one is a bug to hear about, not
 * something to drop silently or pass to the model.
 */
export const FOUNDRY_EXTRA_PARAMETERS = 'error';

type Common = Omit<ClientOptions, 'baseURL' | 'apiKey' | 'defaultHeaders' | 'defaultQuery'> & { fetch: typeof fetch };

/**
 * The API is OpenAI-shaped (same body and response, `error` envelopes), so the openai SDK's retries, timeouts and error
 * classes apply unchanged and mapModelError maps its 401/403/404/429/5xx like Azure OpenAI's. Only auth differs: the key
 * goes in `api-key` (FOUNDRY_API_KEY), otherwise a bearer token from the app's one credential.
 */
export function createFoundryClient(model: FoundryModelConfig, common: Common, credential: TokenCredential | undefined): OpenAI {
  const token = model.apiKey === undefined && credential !== undefined ? getBearerTokenProvider(credential, FOUNDRY_SCOPE) : undefined;
  const inner = common.fetch;
  const authed: typeof fetch = async (input, init) => {
    const headers = new Headers(init?.headers);
    // The SDK always sets `Authorization: Bearer <apiKey>`; replace it with what this endpoint expects.
    headers.delete('authorization');
    if (model.apiKey !== undefined) headers.set('api-key', model.apiKey);
    else if (token !== undefined) headers.set('authorization', `Bearer ${await token()}`);
    return inner(input, { ...init, headers });
  };
  return new OpenAI({
    ...common,
    baseURL: `${model.endpoint}/models`,
    // Never sent: `authed` removes the header the SDK builds from it (the SDK refuses to start without some key).
    apiKey: 'unused-see-authed-fetch',
    defaultQuery: { 'api-version': model.apiVersion },
    defaultHeaders: { 'extra-parameters': FOUNDRY_EXTRA_PARAMETERS },
    fetch: jsonModeFallback(authed),
  });
}

/**
 * Some Foundry models refuse JSON mode: 422 `parameter_not_supported` with `detail.loc: ["body","response_format"]`
 * (mi-ref). The schema is already in the prompt (adaptChatRequest), so the same request without `response_format` is
 * sent once more, and every later request of this client goes without it: no image is rejected for the model's limits.
 */
function jsonModeFallback(inner: typeof fetch): typeof fetch {
  let jsonModeRefused = false;
  return async (input, init) => {
    const body = typeof init?.body === 'string' ? init.body : undefined;
    if (jsonModeRefused && body !== undefined) return inner(input, { ...init, body: withoutResponseFormat(body) });
    const response = await inner(input, init);
    if (response.status !== 422 || body === undefined || !body.includes('"response_format"')) return response;
    const refusal = (await response.clone().json().catch(() => null)) as { code?: unknown; detail?: { loc?: unknown } } | null;
    const loc = Array.isArray(refusal?.detail?.loc) ? refusal.detail.loc : [];
    if (refusal?.code !== 'parameter_not_supported' || !loc.includes('response_format')) return response;
    jsonModeRefused = true;
    return inner(input, { ...init, body: withoutResponseFormat(body) });
  };
}

function withoutResponseFormat(body: string): string {
  const parsed = JSON.parse(body) as Record<string, unknown>;
  delete parsed['response_format'];
  return JSON.stringify(parsed);
}
