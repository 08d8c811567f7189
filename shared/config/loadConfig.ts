/** Every setting blobsight reads, from the environment, validated once; bad values fail fast naming the variable. */
import { z } from 'zod';

import type { AuthSettings } from '../auth/readPrincipal';
import { platformAuthEnabled } from '../auth/readPrincipal';
import { ConfigError } from '../errors';
import type { ThroughputConfig } from '../throughput/loadThroughputConfig';
import { loadThroughputConfig } from '../throughput/loadThroughputConfig';
import type { ProviderEndpoints } from './loadProviderEndpoints';
import { loadProviderEndpoints } from './loadProviderEndpoints';

export type Env = Readonly<Record<string, string | undefined>>;

export interface ModelPrice {
  /** USD per 1,000,000 prompt (input) tokens. */
  inputPerMTok: number;
  /** USD per 1,000,000 completion (output) tokens. */
  outputPerMTok: number;
  /** USD per 1,000,000 prompt tokens served from the prompt cache; absent: priced as input. */
  cachedInputPerMTok?: number | undefined;
}

/**
 * Prices by model-name prefix (longest prefix wins), USD per 1M tokens, Azure OpenAI Global Standard list
 * prices as of 2026. Override or extend with MODEL_PRICES.
 */
export const DEFAULT_PRICES: Readonly<Record<string, ModelPrice>> = {
  'gpt-4o-mini': { inputPerMTok: 0.15, outputPerMTok: 0.6, cachedInputPerMTok: 0.075 },
  'gpt-4o': { inputPerMTok: 2.5, outputPerMTok: 10, cachedInputPerMTok: 1.25 },
  'gpt-4.1-mini': { inputPerMTok: 0.4, outputPerMTok: 1.6, cachedInputPerMTok: 0.1 },
  'gpt-4.1': { inputPerMTok: 2, outputPerMTok: 8, cachedInputPerMTok: 0.5 },
  /**
   * Azure AI Foundry serverless (Global Standard) price of Phi-4-multimodal-instruct text and image input, from memory:
   * NOT verified (2026-12: no Azure price page in reach; third-party listings disagree). Check it, override with MODEL_PRICES.
   */
  'phi-4-multimodal': { inputPerMTok: 0.08, outputPerMTok: 0.32 },
};

export type StorageConfig =
  | { kind: 'connection-string'; connectionString: string; /** Setting it came from. */ setting: string }
  | { kind: 'identity'; blobServiceUri: string; /** User-assigned identity client id, if any. */ clientId: string | undefined; setting: string };

export type ModelConfig =
  | {
      provider: 'azure-openai';
      endpoint: string;
      deployment: string;
      apiVersion: string;
      /** Only when the user chose key auth (AZURE_OPENAI_API_KEY); otherwise keyless via DefaultAzureCredential. */
      apiKey: string | undefined;
    }
  | { provider: 'openai-compatible'; baseURL: string; model: string; apiKey: string | undefined }
  /**
   * An Azure AI Foundry model deployment (e.g. Phi-4-multimodal-instruct) behind the model inference API,
   * `<endpoint>/models/chat/completions`; the deployment is sent as the body's `model`. Keyless unless FOUNDRY_API_KEY is set.
   */
  | { provider: 'azure-ai-foundry'; endpoint: string; deployment: string; apiVersion: string; apiKey: string | undefined }
  /** The embedded offline COCO detector: what runs when no model is configured. `modelDir` overrides its files. */
  | { provider: 'local-detector'; modelDir: string | undefined }
  /**
   * Azure AI Vision Image Analysis 4.0 (`features=objects`) for box profiles: `<endpoint>/computervision/imageanalysis:analyze`.
   * Keyless unless VISION_API_KEY is set; `usdPer1000` overrides the list price (VISION_PRICE_PER_1000).
   */
  | { provider: 'azure-ai-vision'; endpoint: string; apiVersion: string; apiKey: string | undefined; usdPer1000: number | undefined };

/** A model reached over the OpenAI chat-completions API. */
export type OpenAIModelConfig = Exclude<ModelConfig, { provider: 'local-detector' | 'azure-ai-vision' }>;

export interface BlobsightConfig {
  storage: StorageConfig;
  imagesContainer: string;
  cosmos: {
    endpoint: string;
    database: string;
    container: string;
    /** Only for the Cosmos emulator; in Azure the app authenticates with its identity. */
    key: string | undefined;
    /** Create the database and container when missing (local use); defaults to true only with a key. */
    createIfMissing: boolean;
  };
  model: ModelConfig;
  modelRequest: {
    /** Per-request timeout of the model client, ms. */
    timeoutMs: number;
    /** Retries the openai SDK makes itself on 408/409/429/5xx and connection errors. */
    maxRetries: number;
    /** Ask for token logprobs to compute confidences. */
    logprobs: boolean;
    /**
     * MULTI_IMAGE_WINDOW_MS: how long the service gathers concurrent images of a profile with imagesPerRequest > 1
     * into one request; 0 (the default) is off: the service sends one image per request whatever the profile says.
     */
    multiImageWindowMs?: number;
  };
  /** Paid model requests per image version (SDK retries and redeliveries included) after which it ends `failed`. */
  maxModelAttempts: number;
  /** Circuit breaker for misconfiguration failures of the model (401/403/404). */
  modelBreaker: {
    /** Consecutive 401/403/404 failures that stop model calls. */
    threshold: number;
    /** How long model calls stay stopped before one trial call, ms. */
    cooldownMs: number;
  };
  defaultProfile: string;
  /** Extra folder of profile JSON files, added to (or overriding) the built-in ones. */
  profilesDir: string | undefined;
  limits: { maxBytes: number; maxPixels: number };
  prices: Record<string, ModelPrice>;
  reconcile: {
    /** Container Event Grid dead-letters into (the subscription's deadLetterDestination). */
    deadLetterContainer: string;
    /** A blob or claim untouched this long counts as lost by Event Grid. */
    staleAfterMs: number;
    /** A version still failing transiently this long after its first attempt ends `failed` (Event Grid gives up after 24 h). */
    retryHorizonMs: number;
    /** Images processed per run at most. */
    maxItems: number;
    /** Blobs the orphan scan looks at per run at most; the durable cursor carries on from there next run. */
    maxScan: number;
    /** Runs a dead-letter blob may keep failing before it is moved aside under `poison/`. */
    maxDeadLetterAttempts: number;
  };
  timeBudget: {
    /** How long one event may take before the handler gives up and asks Event Grid to redeliver (it waits 30 s). */
    eventMs: number;
    /** How long a claim keeps other deliveries of the same blob version away; longer than eventMs. */
    leaseMs: number;
  };
  /** Daily spending cap (DAILY_BUDGET_USD): once today's counted model cost reaches it, new work waits. Unset: no cap. */
  budget: { dailyUsd: number | undefined };
  /** App Service authentication: from WEBSITE_AUTH_ENABLED, which App Service injects (the dev host's sign-in sets it too). */
  auth: AuthSettings;
  /** Outbound events: an Event Grid custom topic (keyless) and/or signed webhooks; neither set means none are sent. */
  outbound: { topicEndpoint: string | undefined; webhooks: string[]; webhookSecret: string | undefined; webhookRetryMs: number };
  /** Days a content-cache answer is kept (Cosmos per-item TTL, and the reconcile sweep where TTL is missing). */
  cacheTtlDays: number;
  /** How long GET /api/review/next holds an image for one reviewer. */
  reviewLeaseMs: number;
  /** Quota pacing and load levelling (MODEL_TPM, PARKING_QUEUE, ...): shared/throughput/loadThroughputConfig.ts. */
  throughput: ThroughputConfig;
  /** Every provider whose endpoint is configured, for profiles that name their own model (profile `model`); absent: only `model`. */
  providerEndpoints?: ProviderEndpoints;
}

/** Documented settings with defaults; README's table is generated from the same facts by hand. */
export const DEFAULTS = {
  IMAGES_STORAGE_CONNECTION: 'AzureWebJobsStorage',
  IMAGES_CONTAINER: 'images',
  COSMOS_DATABASE: 'blobsight',
  COSMOS_CONTAINER: 'images',
  OPENAI_API_VERSION: '2024-10-21',
  /** The GA version of the Azure AI model inference API (ai-model-inference-2025-04-01). */
  FOUNDRY_API_VERSION: '2025-04-01',
  /** The only GA version of Image Analysis 4.0 (image-analysis-2023-10-01.json). */
  VISION_API_VERSION: '2023-10-01',
  MODEL_TIMEOUT_MS: 20_000,
  MODEL_MAX_RETRIES: 2,
  MAX_MODEL_ATTEMPTS: 3,
  DEFAULT_PROFILE: 'product-tags',
  /** Default profile when the embedded local detector is the model. */
  DEFAULT_PROFILE_LOCAL: 'objects',
  MAX_IMAGE_BYTES: 20 * 1024 * 1024,
  MAX_IMAGE_PIXELS: 40_000_000,
  EVENT_BUDGET_MS: 25_000,
  DEADLETTER_CONTAINER: 'deadletter',
  RECONCILE_STALE_AFTER_MS: 15 * 60_000,
  RETRY_HORIZON_HOURS: 24,
  RECONCILE_MAX_ITEMS: 100,
  RECONCILE_MAX_SCAN: 5_000,
  RECONCILE_DEADLETTER_MAX_ATTEMPTS: 10,
  CLAIM_LEASE_MS: 60_000,
  MODEL_BREAKER_THRESHOLD: 5,
  MODEL_BREAKER_COOLDOWN_MS: 60_000,
  CACHE_TTL_DAYS: 90,
  OUTBOUND_WEBHOOK_RETRY_MS: 250,
  REVIEW_LEASE_SECONDS: 120,
} as const;

/** Trimmed value, with the empty string treated as missing. */
function read(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

const httpUrl = z.url({ protocol: /^https?$/ });
const containerName = z.string().regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/, 'must be a valid container name: 3-63 chars, a-z 0-9 -');
const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().min(0);
const priceTable = z.record(z.string().min(1), z.object({ inputPerMTok: z.number().min(0), outputPerMTok: z.number().min(0), cachedInputPerMTok: z.number().min(0).optional() }).strict());
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/**
 * Reads and validates all settings. Collects every problem before failing, so one run shows all fixes.
 * Throws ConfigError whose message names each variable and how to fix it.
 */
export function loadConfig(env: Env = process.env): BlobsightConfig {
  const issues: string[] = [];

  function parse<T>(name: string, schema: z.ZodType<T>, fallback: T | undefined, hint: string): T {
    const raw = read(env, name);
    if (raw === undefined) {
      if (fallback !== undefined) return fallback;
      issues.push(`${name} is not set. ${hint}`);
      return undefined as T;
    }
    const r = schema.safeParse(raw);
    if (!r.success) {
      issues.push(`${name}=${JSON.stringify(redact(name, raw))} is invalid: ${r.error.issues.map((i) => i.message).join('; ')}. ${hint}`);
      return undefined as T;
    }
    return r.data;
  }

  // Storage: a named Functions connection, either a connection string or identity-based `<name>__blobServiceUri`.
  const connection = read(env, 'IMAGES_STORAGE_CONNECTION') ?? DEFAULTS.IMAGES_STORAGE_CONNECTION;
  let storage: StorageConfig | undefined;
  const connString = read(env, connection);
  const serviceUri = read(env, `${connection}__blobServiceUri`) ?? accountUriFromName(read(env, `${connection}__accountName`));
  if (connString !== undefined) {
    if (!/(^|;)\s*(UseDevelopmentStorage=true|AccountName=|BlobEndpoint=)/i.test(connString)) {
      issues.push(`${connection} does not look like a storage connection string (expected AccountName=... or BlobEndpoint=... or UseDevelopmentStorage=true). For identity-based access set ${connection}__blobServiceUri instead.`);
    } else {
      storage = { kind: 'connection-string', connectionString: connString, setting: connection };
    }
  } else if (serviceUri !== undefined) {
    if (!httpUrl.safeParse(serviceUri).success) {
      issues.push(`${connection}__blobServiceUri=${JSON.stringify(serviceUri)} is not a URL. Use https://<account>.blob.core.windows.net.`);
    } else {
      storage = { kind: 'identity', blobServiceUri: serviceUri, clientId: read(env, `${connection}__clientId`), setting: `${connection}__blobServiceUri` };
    }
  } else {
    issues.push(
      `No storage connection: set ${connection}__blobServiceUri=https://<account>.blob.core.windows.net (keyless, with managed identity) or, for Azurite, ${connection}=UseDevelopmentStorage=true.`,
    );
  }

  const imagesContainer = parse('IMAGES_CONTAINER', containerName, DEFAULTS.IMAGES_CONTAINER, 'The container that receives uploaded images.');

  const cosmosKey = read(env, 'COSMOS_KEY');
  const cosmos = {
    endpoint: parse('COSMOS_ENDPOINT', httpUrl, undefined, 'Set it to your account, e.g. https://<account>.documents.azure.com:443/, or the emulator https://127.0.0.1:8081.'),
    database: parse('COSMOS_DATABASE', z.string().min(1).max(255), DEFAULTS.COSMOS_DATABASE, ''),
    container: parse('COSMOS_CONTAINER', z.string().min(1).max(255), DEFAULTS.COSMOS_CONTAINER, ''),
    key: cosmosKey,
    createIfMissing: parse('COSMOS_CREATE_IF_MISSING', bool, cosmosKey !== undefined, 'Use true or false.'),
  };

  const model = parseModel(env, issues);

  const modelRequest = {
    timeoutMs: parse('MODEL_TIMEOUT_MS', positiveInt, DEFAULTS.MODEL_TIMEOUT_MS, 'Milliseconds, e.g. 20000.'),
    maxRetries: parse('MODEL_MAX_RETRIES', nonNegativeInt.max(10), DEFAULTS.MODEL_MAX_RETRIES, 'A whole number 0-10.'),
    logprobs: parse('MODEL_LOGPROBS', bool, true, 'Use true or false.'),
    multiImageWindowMs: parse('MULTI_IMAGE_WINDOW_MS', nonNegativeInt.max(1000), 0, 'Milliseconds 0-1000, e.g. 30 (0: one image per request).'),
  };

  const modelBreaker = {
    threshold: parse('MODEL_BREAKER_THRESHOLD', positiveInt.max(1000), DEFAULTS.MODEL_BREAKER_THRESHOLD, 'Consecutive 401/403/404 model failures before model calls stop, e.g. 5.'),
    cooldownMs: parse('MODEL_BREAKER_COOLDOWN_MS', positiveInt, DEFAULTS.MODEL_BREAKER_COOLDOWN_MS, 'Milliseconds model calls stay stopped before a trial call, e.g. 60000.'),
  };

  const limits = {
    maxBytes: parse('MAX_IMAGE_BYTES', positiveInt, DEFAULTS.MAX_IMAGE_BYTES, 'Bytes, e.g. 20971520 for 20 MiB.'),
    maxPixels: parse('MAX_IMAGE_PIXELS', positiveInt, DEFAULTS.MAX_IMAGE_PIXELS, 'Pixels (width x height), e.g. 40000000.'),
  };

  const timeBudget = {
    eventMs: parse('EVENT_BUDGET_MS', positiveInt.max(28_000), DEFAULTS.EVENT_BUDGET_MS, 'Milliseconds below Event Grid’s 30 s timeout, e.g. 25000.'),
    leaseMs: parse('CLAIM_LEASE_MS', positiveInt, DEFAULTS.CLAIM_LEASE_MS, 'Milliseconds, longer than EVENT_BUDGET_MS, e.g. 60000.'),
  };
  if (timeBudget.eventMs !== undefined && timeBudget.leaseMs !== undefined && timeBudget.leaseMs <= timeBudget.eventMs) {
    issues.push(`CLAIM_LEASE_MS (${timeBudget.leaseMs}) must be longer than EVENT_BUDGET_MS (${timeBudget.eventMs}), or a slow worker's claim is taken over while it still works.`);
  }

  const reconcile = {
    deadLetterContainer: parse('DEADLETTER_CONTAINER', containerName, DEFAULTS.DEADLETTER_CONTAINER, 'The container Event Grid dead-letters into.'),
    staleAfterMs: parse('RECONCILE_STALE_AFTER_MS', positiveInt, DEFAULTS.RECONCILE_STALE_AFTER_MS, 'Milliseconds, e.g. 900000 (15 min).'),
    retryHorizonMs: parse('RETRY_HORIZON_HOURS', z.coerce.number().positive().max(24 * 30), DEFAULTS.RETRY_HORIZON_HOURS, 'Hours, e.g. 24.') * 3_600_000,
    maxItems: parse('RECONCILE_MAX_ITEMS', positiveInt.max(10_000), DEFAULTS.RECONCILE_MAX_ITEMS, 'A whole number, e.g. 100.'),
    maxScan: parse('RECONCILE_MAX_SCAN', positiveInt.max(1_000_000), DEFAULTS.RECONCILE_MAX_SCAN, 'A whole number of blobs, e.g. 5000.'),
    maxDeadLetterAttempts: parse('RECONCILE_DEADLETTER_MAX_ATTEMPTS', positiveInt.max(1_000), DEFAULTS.RECONCILE_DEADLETTER_MAX_ATTEMPTS, 'A whole number of runs, e.g. 10.'),
  };

  let prices: Record<string, ModelPrice> = { ...DEFAULT_PRICES };
  const rawPrices = read(env, 'MODEL_PRICES');
  if (rawPrices !== undefined) {
    try {
      const r = priceTable.safeParse(JSON.parse(rawPrices));
      if (r.success) prices = { ...prices, ...r.data };
      else issues.push(`MODEL_PRICES is invalid: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}. Expected {"<model prefix>": {"inputPerMTok": 2.5, "outputPerMTok": 10}}.`);
    } catch {
      issues.push('MODEL_PRICES is not valid JSON. Expected {"<model prefix>": {"inputPerMTok": 2.5, "outputPerMTok": 10}}.');
    }
  }

  // Optional: unset means no cap (parse would report a missing setting).
  const budget = {
    dailyUsd: read(env, 'DAILY_BUDGET_USD') === undefined ? undefined : parse('DAILY_BUDGET_USD', z.coerce.number().positive().max(1_000_000), undefined, 'US dollars per UTC day, e.g. 20; leave it unset for no cap.'),
  };
  // Outbound events, content-cache retention and review leases (README: Operate it).
  const webhooks = (read(env, 'OUTBOUND_WEBHOOKS') ?? '').split(',').map((u) => u.trim()).filter((u) => u !== '');
  for (const u of webhooks) if (!httpUrl.safeParse(u).success) issues.push(`OUTBOUND_WEBHOOKS has ${JSON.stringify(u)}, which is not an http(s) URL. Use comma-separated URLs.`);
  // Read only with webhooks: the Azure deployment (topic only) never needs a secret in its app settings.
  const webhookSecret = webhooks.length === 0 ? undefined : read(env, 'OUTBOUND_WEBHOOK_SECRET');
  if (webhooks.length > 0 && webhookSecret === undefined) issues.push('OUTBOUND_WEBHOOKS is set but OUTBOUND_WEBHOOK_SECRET is not: webhooks are always signed. Set a secret, e.g. whsec_<base64 of 32 random bytes>.');
  const topicEndpoint = read(env, 'OUTBOUND_TOPIC_ENDPOINT');
  if (topicEndpoint !== undefined && !z.url({ protocol: /^https$/ }).safeParse(topicEndpoint).success) issues.push(`OUTBOUND_TOPIC_ENDPOINT=${JSON.stringify(topicEndpoint)} is not an https URL. Use the topic endpoint, e.g. https://<topic>.<region>-1.eventgrid.azure.net/api/events.`);
  const webhookRetryMs = webhooks.length === 0 ? DEFAULTS.OUTBOUND_WEBHOOK_RETRY_MS : parse('OUTBOUND_WEBHOOK_RETRY_MS', positiveInt.max(60_000), DEFAULTS.OUTBOUND_WEBHOOK_RETRY_MS, 'Milliseconds before the first webhook retry (doubling after), e.g. 250.');
  const outbound = { topicEndpoint, webhooks, webhookSecret, webhookRetryMs };
  const cacheTtlDays = parse('CACHE_TTL_DAYS', positiveInt.max(3650), DEFAULTS.CACHE_TTL_DAYS, 'Whole days a cached answer is kept, e.g. 90.');
  const reviewLeaseMs = parse('REVIEW_LEASE_SECONDS', positiveInt.max(3600), DEFAULTS.REVIEW_LEASE_SECONDS, 'Seconds, e.g. 120.') * 1000;

  const config: BlobsightConfig = {
    storage: storage as StorageConfig,
    imagesContainer,
    cosmos,
    model: model as ModelConfig,
    modelRequest,
    maxModelAttempts: parse('MAX_MODEL_ATTEMPTS', positiveInt.max(100), DEFAULTS.MAX_MODEL_ATTEMPTS, 'A whole number 1-100, e.g. 3.'),
    modelBreaker,
    defaultProfile: parse(
      'DEFAULT_PROFILE',
      z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'a profile name'),
      model?.provider === 'local-detector' || model?.provider === 'azure-ai-vision' ? DEFAULTS.DEFAULT_PROFILE_LOCAL : DEFAULTS.DEFAULT_PROFILE,
      '',
    ),
    profilesDir: read(env, 'PROFILES_DIR'),
    limits,
    prices,
    reconcile,
    timeBudget,
    budget,
    auth: { platformAuthEnabled: platformAuthEnabled(read(env, 'WEBSITE_AUTH_ENABLED')) },
    outbound,
    cacheTtlDays,
    reviewLeaseMs,
    throughput: loadThroughputConfig(env, issues),
    providerEndpoints: loadProviderEndpoints(env, issues, model),
  };
  if (issues.length > 0) throw new ConfigError(issues);
  return config;
}

/** The settings of each provider that only make sense together; the first two of each are required. */
const AZURE_SETTINGS = ['AZURE_OPENAI_ENDPOINT', 'AZURE_OPENAI_DEPLOYMENT', 'AZURE_OPENAI_API_KEY', 'OPENAI_API_VERSION'] as const;
const OPENAI_SETTINGS = ['OPENAI_BASE_URL', 'OPENAI_MODEL', 'OPENAI_API_KEY'] as const;
/** Azure AI Foundry models (MODEL_PROVIDER=azure-ai-foundry); the first two are required. */
const FOUNDRY_SETTINGS = ['FOUNDRY_ENDPOINT', 'FOUNDRY_MODEL', 'FOUNDRY_API_KEY', 'FOUNDRY_API_VERSION'] as const;
/** Azure AI Vision (MODEL_PROVIDER=azure-ai-vision); only the endpoint is required. */
const VISION_SETTINGS = ['VISION_ENDPOINT', 'VISION_API_KEY', 'VISION_API_VERSION', 'VISION_PRICE_PER_1000'] as const;
const OTHER_MODEL_SETTINGS = [
  'MODEL_PROVIDER',
  'LOCAL_DETECTOR_MODEL_DIR',
  'MODEL_TIMEOUT_MS',
  'MODEL_MAX_RETRIES',
  'MODEL_LOGPROBS',
  'MODEL_PRICES',
  'MODEL_BREAKER_THRESHOLD',
  'MODEL_BREAKER_COOLDOWN_MS',
] as const;
const MODEL_SETTINGS: readonly string[] = [...AZURE_SETTINGS, ...OPENAI_SETTINGS, ...FOUNDRY_SETTINGS, ...VISION_SETTINGS, ...OTHER_MODEL_SETTINGS];

/** Names other samples and SDKs use for our settings; each is taken as a mistake for the one it maps to. */
const SETTING_ALIASES: Readonly<Record<string, string>> = {
  AZURE_OPENAI_DEPLOYMENT_NAME: 'AZURE_OPENAI_DEPLOYMENT',
  AZURE_OPENAI_CHAT_DEPLOYMENT_NAME: 'AZURE_OPENAI_DEPLOYMENT',
  AZURE_OPENAI_CHAT_DEPLOYMENT: 'AZURE_OPENAI_DEPLOYMENT',
  AZURE_OPENAI_DEPLOYMENT_ID: 'AZURE_OPENAI_DEPLOYMENT',
  AZURE_OPENAI_MODEL: 'AZURE_OPENAI_DEPLOYMENT',
  AZURE_OPENAI_KEY: 'AZURE_OPENAI_API_KEY',
  AZURE_OPENAI_API_VERSION: 'OPENAI_API_VERSION',
  AZURE_OPENAI_BASE_URL: 'AZURE_OPENAI_ENDPOINT',
  AZURE_OPENAI_URL: 'AZURE_OPENAI_ENDPOINT',
  OPENAI_API_BASE: 'OPENAI_BASE_URL',
  OPENAI_ENDPOINT: 'OPENAI_BASE_URL',
  OPENAI_MODEL_NAME: 'OPENAI_MODEL',
  OPENAI_KEY: 'OPENAI_API_KEY',
  FOUNDRY_DEPLOYMENT: 'FOUNDRY_MODEL',
  FOUNDRY_DEPLOYMENT_NAME: 'FOUNDRY_MODEL',
  FOUNDRY_MODEL_NAME: 'FOUNDRY_MODEL',
  FOUNDRY_KEY: 'FOUNDRY_API_KEY',
  AZURE_AI_FOUNDRY_ENDPOINT: 'FOUNDRY_ENDPOINT',
  FOUNDRY_URL: 'FOUNDRY_ENDPOINT',
  VISION_KEY: 'VISION_API_KEY',
  AZURE_AI_VISION_ENDPOINT: 'VISION_ENDPOINT',
  COMPUTER_VISION_ENDPOINT: 'VISION_ENDPOINT',
  VISION_URL: 'VISION_ENDPOINT',
};

/**
 * Likely misspellings of the model settings: a known alias, or a name within two edits (a swap of neighbours is
 * one) of a setting, e.g. AZURE_OPENAI_ENDPIONT. Only reported while the intended setting is unset, so a stray
 * alias next to the real setting (other tools' variables) does no harm.
 */
function misspeltModelSettings(env: Env, provider: string | undefined): string[] {
  const known = new Set(MODEL_SETTINGS);
  // With an explicit provider, a look-alike of the other provider's settings cannot change what runs.
  const relevant = new Set<string>(
    provider === 'azure-openai'
      ? [...AZURE_SETTINGS, ...OTHER_MODEL_SETTINGS]
      : provider === 'openai-compatible'
        ? [...OPENAI_SETTINGS, ...OTHER_MODEL_SETTINGS]
        : provider === 'azure-ai-foundry'
          ? [...FOUNDRY_SETTINGS, ...OTHER_MODEL_SETTINGS]
          : provider === 'azure-ai-vision'
            ? [...VISION_SETTINGS, ...OTHER_MODEL_SETTINGS]
            : MODEL_SETTINGS,
  );
  const issues: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (known.has(name) || read(env, name) === undefined) continue;
    const upper = name.toUpperCase();
    const intended = SETTING_ALIASES[upper] ?? (known.has(upper) ? upper : closestSetting(upper));
    if (intended === undefined || !relevant.has(intended) || read(env, intended) !== undefined) continue;
    issues.push(`${name} is not a blobsight setting; did you mean ${intended}? Rename it (${intended} is not set).`);
  }
  return issues;
}

function closestSetting(name: string): string | undefined {
  // Short names are too easy to confuse with unrelated variables.
  if (name.length < 10) return undefined;
  let best: { name: string; distance: number } | undefined;
  for (const candidate of MODEL_SETTINGS) {
    const distance = editDistance(name, candidate);
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

/**
 * Optimal string alignment distance (Levenshtein plus swaps of neighbouring characters), hand-written because
 * the libraries at hand (leven, fast-levenshtein) count a swap as two edits and would be a new runtime dependency.
 */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number): number => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = v;
    }
  }
  return at(a.length, b.length);
}

/** Which provider the settings present imply when MODEL_PROVIDER is unset; a partial set is an issue, never the local detector. */
function inferProvider(env: Env, issues: string[]): string | undefined {
  const present = (names: readonly string[]): string[] => names.filter((n) => read(env, n) !== undefined);
  // Any Foundry setting but its default-carrying API version means Foundry: parseModel then names what is missing.
  const foundry = present(FOUNDRY_SETTINGS.slice(0, 3));
  if (foundry.length > 0) {
    const others = [...present(AZURE_SETTINGS.slice(0, 2)), ...present(OPENAI_SETTINGS.slice(0, 2))];
    if (others.length === 0) return 'azure-ai-foundry';
    issues.push(`Settings of two model providers are present (${[...foundry, ...others].join(', ')}). Set MODEL_PROVIDER to the one to use (azure-ai-foundry, azure-openai or openai-compatible), or remove the other provider's settings.`);
    return undefined;
  }
  // OPENAI_API_VERSION alone is not counted: it has a default, the example settings carry it, and it means nothing by itself.
  const azure = present(AZURE_SETTINGS.slice(0, 3));
  const openai = present(OPENAI_SETTINGS);
  const azurePrimary = present(AZURE_SETTINGS.slice(0, 2));
  const openaiPrimary = present(OPENAI_SETTINGS.slice(0, 2));
  if (azurePrimary.length > 0 && openaiPrimary.length > 0) {
    issues.push(
      `Settings of two model providers are present (${[...azurePrimary, ...openaiPrimary].join(', ')}). Set MODEL_PROVIDER=azure-openai or MODEL_PROVIDER=openai-compatible, or remove the other provider's settings.`,
    );
    return undefined;
  }
  if (azurePrimary.length > 0) return 'azure-openai';
  if (openaiPrimary.length > 0) return 'openai-compatible';
  // Only a key or an API version: half a configuration, which would otherwise silently mean the local detector.
  const stray = azure.length > 0 ? { set: azure, missing: 'AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_DEPLOYMENT' } : openai.length > 0 ? { set: openai, missing: 'OPENAI_BASE_URL and OPENAI_MODEL' } : undefined;
  if (stray !== undefined) {
    issues.push(
      `${stray.set.join(' and ')} ${stray.set.length === 1 ? 'is' : 'are'} set but ${stray.missing} are not, so no model is configured. Set them, or set MODEL_PROVIDER=local-detector to use the embedded detector and ignore ${stray.set.join(', ')}.`,
    );
  }
  return undefined;
}

function parseModel(env: Env, issues: string[]): ModelConfig | undefined {
  const explicit = read(env, 'MODEL_PROVIDER');
  const issuesBefore = issues.length;
  if (explicit !== 'local-detector') issues.push(...misspeltModelSettings(env, explicit));
  // VISION_ENDPOINT alone means Vision, as a lone Foundry setting means Foundry: never silently the local detector.
  const provider = explicit ?? inferProvider(env, issues) ?? (issues.length === issuesBefore && read(env, 'VISION_ENDPOINT') !== undefined ? 'azure-ai-vision' : undefined);
  if (issues.length > issuesBefore) return undefined;
  // With no model configured the embedded detector serves object detection offline, and the default profile follows
  // (see DEFAULT_PROFILE); labelling profiles are then rejected with a reason that says how to configure a model.
  if (provider === undefined || provider === 'local-detector') return { provider: 'local-detector', modelDir: read(env, 'LOCAL_DETECTOR_MODEL_DIR') };
  if (provider === 'azure-openai') {
    const endpoint = read(env, 'AZURE_OPENAI_ENDPOINT');
    const deployment = read(env, 'AZURE_OPENAI_DEPLOYMENT');
    const apiVersion = read(env, 'OPENAI_API_VERSION') ?? DEFAULTS.OPENAI_API_VERSION;
    const before = issues.length;
    if (endpoint === undefined) issues.push(`AZURE_OPENAI_ENDPOINT is not set${deployment === undefined ? '' : ' (AZURE_OPENAI_DEPLOYMENT is)'}. Use https://<resource>.openai.azure.com/.`);
    else if (!httpUrl.safeParse(endpoint).success) issues.push(`AZURE_OPENAI_ENDPOINT=${JSON.stringify(endpoint)} is not a URL. Use https://<resource>.openai.azure.com/.`);
    if (deployment === undefined) issues.push(`AZURE_OPENAI_DEPLOYMENT is not set${endpoint === undefined ? '' : ' (AZURE_OPENAI_ENDPOINT is)'}. Use the name of your GPT-4o deployment.`);
    if (!/^\d{4}-\d{2}-\d{2}(-preview)?$/.test(apiVersion)) issues.push(`OPENAI_API_VERSION=${JSON.stringify(apiVersion)} is not an API version like 2024-10-21.`);
    if (issues.length > before) return undefined;
    return { provider, endpoint: endpoint as string, deployment: deployment as string, apiVersion, apiKey: read(env, 'AZURE_OPENAI_API_KEY') };
  }
  if (provider === 'openai-compatible') {
    const baseURL = read(env, 'OPENAI_BASE_URL');
    const model = read(env, 'OPENAI_MODEL');
    const before = issues.length;
    if (baseURL === undefined) issues.push(`OPENAI_BASE_URL is not set${model === undefined ? '' : ' (OPENAI_MODEL is)'}. Use e.g. http://127.0.0.1:11434/v1 (Ollama) or https://api.openai.com/v1.`);
    else if (!httpUrl.safeParse(baseURL).success) issues.push(`OPENAI_BASE_URL=${JSON.stringify(baseURL)} is not a URL.`);
    if (model === undefined) issues.push(`OPENAI_MODEL is not set${baseURL === undefined ? '' : ' (OPENAI_BASE_URL is)'}. Use the model name the endpoint serves, e.g. gpt-4o.`);
    if (issues.length > before) return undefined;
    return { provider, baseURL: baseURL as string, model: model as string, apiKey: read(env, 'OPENAI_API_KEY') };
  }
  if (provider === 'azure-ai-foundry') return parseFoundryModel(env, issues);
  if (provider === 'azure-ai-vision') return parseVisionModel(env, issues);
  issues.push(`MODEL_PROVIDER=${JSON.stringify(provider)} is not one of azure-openai, openai-compatible, azure-ai-foundry, local-detector, azure-ai-vision.`);
  return undefined;
}

function parseFoundryModel(env: Env, issues: string[]): ModelConfig | undefined {
  const endpoint = read(env, 'FOUNDRY_ENDPOINT');
  const deployment = read(env, 'FOUNDRY_MODEL');
  const apiVersion = read(env, 'FOUNDRY_API_VERSION') ?? DEFAULTS.FOUNDRY_API_VERSION;
  const example = 'Use https://<resource>.services.ai.azure.com (the AI Services / Foundry resource; /models is added).';
  const before = issues.length;
  if (endpoint === undefined) issues.push(`FOUNDRY_ENDPOINT is not set${deployment === undefined ? '' : ' (FOUNDRY_MODEL is)'}. ${example}`);
  else if (!httpUrl.safeParse(endpoint).success) issues.push(`FOUNDRY_ENDPOINT=${JSON.stringify(endpoint)} is not a URL. ${example}`);
  if (deployment === undefined) issues.push(`FOUNDRY_MODEL is not set${endpoint === undefined ? '' : ' (FOUNDRY_ENDPOINT is)'}. Use the deployment name of the model, e.g. Phi-4-multimodal-instruct.`);
  if (!/^\d{4}-\d{2}-\d{2}(-preview)?$/.test(apiVersion)) issues.push(`FOUNDRY_API_VERSION=${JSON.stringify(apiVersion)} is not an API version like ${DEFAULTS.FOUNDRY_API_VERSION}.`);
  if (issues.length > before) return undefined;
  // The API's routes hang off /models; accept the endpoint with or without it, as the portal shows both.
  const base = (endpoint as string).replace(/\/+$/, '').replace(/\/models$/, '');
  return { provider: 'azure-ai-foundry', endpoint: base, deployment: deployment as string, apiVersion, apiKey: read(env, 'FOUNDRY_API_KEY') };
}

/** Azure AI Vision settings (MODEL_PROVIDER=azure-ai-vision), one block: endpoint, optional key, api-version, price override. */
export function parseVisionModel(env: Env, issues: string[]): ModelConfig | undefined {
  const endpoint = read(env, 'VISION_ENDPOINT');
  const apiVersion = read(env, 'VISION_API_VERSION') ?? DEFAULTS.VISION_API_VERSION;
  const rawPrice = read(env, 'VISION_PRICE_PER_1000');
  const example = 'Use https://<resource>.cognitiveservices.azure.com (the Azure AI Vision or AI Services resource; /computervision is added).';
  const before = issues.length;
  if (endpoint === undefined) issues.push(`VISION_ENDPOINT is not set (MODEL_PROVIDER=azure-ai-vision). ${example}`);
  else if (!httpUrl.safeParse(endpoint).success) issues.push(`VISION_ENDPOINT=${JSON.stringify(endpoint)} is not a URL. ${example}`);
  if (!/^\d{4}-\d{2}-\d{2}(-preview)?$/.test(apiVersion)) issues.push(`VISION_API_VERSION=${JSON.stringify(apiVersion)} is not an API version like ${DEFAULTS.VISION_API_VERSION}.`);
  const usdPer1000 = rawPrice === undefined ? undefined : Number(rawPrice);
  if (usdPer1000 !== undefined && !(Number.isFinite(usdPer1000) && usdPer1000 >= 0)) issues.push(`VISION_PRICE_PER_1000=${JSON.stringify(rawPrice)} is not a price. Use US dollars per 1,000 transactions, e.g. 1.`);
  if (issues.length > before) return undefined;
  // The routes hang off /computervision; accept the endpoint with or without it.
  const base = (endpoint as string).replace(/\/+$/, '').replace(/\/computervision$/, '');
  return { provider: 'azure-ai-vision', endpoint: base, apiVersion, apiKey: read(env, 'VISION_API_KEY'), usdPer1000 };
}

function accountUriFromName(accountName: string | undefined): string | undefined {
  return accountName === undefined ? undefined : `https://${accountName}.blob.core.windows.net`;
}

function redact(name: string, value: string): string {
  return /KEY|SECRET|PASSWORD|CONNECTION|STORAGE/i.test(name) ? '***' : value;
}
