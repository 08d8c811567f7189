/** What each model provider can do, stated once: the request builder, the classifier and the CLI ask this instead of checking provider names. */
import type { ModelConfig } from '../../config';

export type ProviderName = ModelConfig['provider'];

/**
 * Every provider a profile may name in its `model` (profileSchema). `azure-ai-vision` (Image Analysis 4.0 objects) is
 * listed here so profiles can be routed to it before its MODEL_PROVIDER setting exists in every build.
 */
export const ROUTABLE_PROVIDERS = ['azure-openai', 'azure-ai-foundry', 'openai-compatible', 'local-detector', 'azure-ai-vision'] as const;
export type RoutableProvider = (typeof ROUTABLE_PROVIDERS)[number];

export interface ProviderCapabilities {
  /** Honours `response_format: {type: 'json_schema', strict: true}`: the answer can only be what the schema allows. */
  strictJsonSchema: boolean;
  /** Honours `response_format: {type: 'json_object'}` (valid JSON, shape described in the prompt). */
  jsonMode: boolean;
  /** Returns token logprobs when asked (`logprobs: true`); without them confidence is self-reported. */
  logprobs: boolean;
  /** Images one user turn may carry; a request with more is not sent (multi-image requests are off at 1). */
  imagesPerTurn: number;
  /** Can answer box (`objects`) profiles. */
  boxes: boolean;
  /** Accepts the OpenAI-only chat parameters the builder sends (`n`, `logprobs`); an endpoint without them gets neither. */
  openAIParameters: boolean;
  /** Bills per token, so runs are priced from the price table (MODEL_PRICES). */
  paid: boolean;
  /** Signs in with the app's one credential (DefaultAzureCredential) unless the user configured a key. */
  keyless: boolean;
  /** Can answer labelling profiles (single-label, multi-label, attributes); absent means yes. */
  labels?: boolean;
  /** Bills per request instead of per token: list price in USD per 1,000 transactions (absent: per-token pricing). */
  usdPer1000Transactions?: number;
}

/**
 * Azure AI Vision's S1 list price of Image Analysis with `objects`, USD per 1,000 transactions in the first 1M a month,
 * as remembered from azure.microsoft.com/pricing/details/cognitive-services/computer-vision/ ("Image Analysis", S1,
 * 0-1M transactions). NOT verified here (no access to the pricing page while writing it): check it and override with
 * VISION_PRICE_PER_1000 if it differs. Volume tiers above 1M transactions a month are cheaper and not modelled.
 */
export const VISION_S1_USD_PER_1000 = 1;

/** GPT-4o on Azure OpenAI accepts up to 10 images per request in the fake's contract; the service documents no lower per-turn limit. */
const GPT_4O_IMAGES_PER_TURN = 10;

const CAPABILITIES: Readonly<Record<ProviderName, ProviderCapabilities>> = {
  'azure-openai': { strictJsonSchema: true, jsonMode: true, logprobs: true, imagesPerTurn: GPT_4O_IMAGES_PER_TURN, boxes: true, openAIParameters: true, paid: true, keyless: true },
  // Whatever serves /v1/chat/completions: assumed to be OpenAI itself or a faithful twin (vLLM, Ollama); MODEL_LOGPROBS=false for one without logprobs.
  'openai-compatible': { strictJsonSchema: true, jsonMode: true, logprobs: true, imagesPerTurn: GPT_4O_IMAGES_PER_TURN, boxes: true, openAIParameters: true, paid: true, keyless: false },
  /**
   * Foundry models such as Phi-4-multimodal-instruct: the model inference API defines `json_schema`, but "AI models usually
   * only support a subset" of it and strict is not guaranteed, so JSON mode plus a schema in the prompt, validated by
   * parseAnswer (zod) and asked again once. No `logprobs` in the API at all; "some models support only one image for each
   * turn" (mm-rest). Boxes need the closed 0–1000 grid schema, which only strict models follow reliably.
   */
  'azure-ai-foundry': { strictJsonSchema: false, jsonMode: true, logprobs: false, imagesPerTurn: 1, boxes: false, openAIParameters: false, paid: true, keyless: true },
  'local-detector': { strictJsonSchema: false, jsonMode: false, logprobs: false, imagesPerTurn: 1, boxes: true, openAIParameters: false, paid: false, keyless: false },
  /**
   * Image Analysis 4.0 `features=objects`: boxes with the service's own per-box confidence, no prompt, no labels, no
   * tokens; one image per request, billed per transaction.
   */
  'azure-ai-vision': { strictJsonSchema: false, jsonMode: false, logprobs: false, imagesPerTurn: 1, boxes: true, openAIParameters: false, paid: true, keyless: true, labels: false, usdPer1000Transactions: VISION_S1_USD_PER_1000 },
};

/**
 * The capabilities of a provider by name. A name outside the table (a test's stand-in classifier) is treated as a
 * paid OpenAI-like model, which is what every caller assumed before this table existed.
 */
export function providerCapabilities(provider: string): ProviderCapabilities {
  return (CAPABILITIES as Readonly<Record<string, ProviderCapabilities>>)[provider] ?? CAPABILITIES['openai-compatible'];
}

/** The profile kinds a provider can answer: labels need an answer format (strict schema or JSON mode), boxes need `boxes`. */
export function servedKinds(provider: string): ('single-label' | 'multi-label' | 'attributes' | 'objects')[] {
  const c = providerCapabilities(provider);
  const labels = c.strictJsonSchema || c.jsonMode ? (['single-label', 'multi-label', 'attributes'] as const) : [];
  return [...labels, ...(c.boxes ? (['objects'] as const) : [])];
}

/** Whether the configured model signs in with the app's credential: a keyless-capable provider with no key configured. */
export function needsCredential(model: ModelConfig | { provider: string; apiKey?: string | undefined }): boolean {
  return providerCapabilities(model.provider).keyless && 'apiKey' in model && model.apiKey === undefined;
}
