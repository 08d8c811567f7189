/**
 * Which model serves each profile: its own `model` (provider and/or deployment) or, without one, MODEL_PROVIDER and its
 * deployment. Resolved once at start-up so a profile naming a provider whose endpoint is not configured stops the app
 * with the setting to add, instead of failing its first image.
 */
import type { BlobsightConfig, ModelConfig, ProviderEndpoints } from '../../config';
import { ConfigError } from '../../errors';
import type { Profile } from '../../profiles/profileSchema';
import type { RoutableProvider } from '../providers/capabilities';
import { servedKinds } from '../providers/capabilities';

/** The embedded detector has one model; its name is what its documents record as the deployment. */
export const LOCAL_DETECTOR_DEPLOYMENT = 'centernet-coco80';
/** Image Analysis has no deployments; documents record the API it answered through. */
export const VISION_DEPLOYMENT = 'image-analysis-4.0';

/** Image Analysis 4.0 is one of the ModelConfig variants (parseVisionModel); kept as a name for the routes. */
export type VisionModelConfig = Extract<ModelConfig, { provider: 'azure-ai-vision' }>;

export type RoutedModelConfig = ModelConfig;

export interface ModelRoute {
  /** `<provider>/<deployment>`: one classifier (and one circuit breaker) per key, shared by the profiles on it. */
  key: string;
  provider: RoutableProvider;
  deployment: string;
  model: RoutedModelConfig;
  /** The route MODEL_PROVIDER configures (profiles without `model` and the on-demand default). */
  isDefault: boolean;
}

export interface ModelRoutes {
  default: ModelRoute;
  /** Every distinct route, the default first. */
  all: ModelRoute[];
  /** Route of each profile by name. */
  byProfile: ReadonlyMap<string, ModelRoute>;
}

export function routeKey(provider: string, deployment: string): string {
  return `${provider}/${deployment}`;
}

/** The deployment a model configuration answers with (the same value the classifier reports as `info.deployment`). */
export function deploymentOf(model: RoutedModelConfig): string {
  switch (model.provider) {
    case 'azure-openai':
    case 'azure-ai-foundry':
      return model.deployment;
    case 'openai-compatible':
      return model.model;
    case 'local-detector':
      return LOCAL_DETECTOR_DEPLOYMENT;
    case 'azure-ai-vision':
      return VISION_DEPLOYMENT;
  }
}

function endpointsOf(config: BlobsightConfig): ProviderEndpoints {
  if (config.providerEndpoints !== undefined) return config.providerEndpoints;
  // A hand-built configuration (tests, older callers): only MODEL_PROVIDER's own provider is known.
  const m = config.model;
  const out: ProviderEndpoints = { 'local-detector': { modelDir: m.provider === 'local-detector' ? m.modelDir : undefined } };
  if (m.provider === 'azure-openai') out['azure-openai'] = { endpoint: m.endpoint, apiVersion: m.apiVersion, apiKey: m.apiKey, deployment: m.deployment };
  if (m.provider === 'azure-ai-foundry') out['azure-ai-foundry'] = { endpoint: m.endpoint, apiVersion: m.apiVersion, apiKey: m.apiKey, deployment: m.deployment };
  if (m.provider === 'openai-compatible') out['openai-compatible'] = { baseURL: m.baseURL, apiKey: m.apiKey, model: m.model };
  return out;
}

/** What to set for a provider that a profile names but the settings do not configure. */
const ENDPOINT_SETTINGS: Readonly<Record<RoutableProvider, string>> = {
  'azure-openai': 'AZURE_OPENAI_ENDPOINT (https://<resource>.openai.azure.com/)',
  'azure-ai-foundry': 'FOUNDRY_ENDPOINT (https://<resource>.services.ai.azure.com)',
  'openai-compatible': 'OPENAI_BASE_URL (e.g. http://127.0.0.1:11434/v1)',
  'azure-ai-vision': 'VISION_ENDPOINT (https://<resource>.cognitiveservices.azure.com)',
  'local-detector': '',
};
const DEPLOYMENT_SETTINGS: Readonly<Record<RoutableProvider, string>> = {
  'azure-openai': 'AZURE_OPENAI_DEPLOYMENT',
  'azure-ai-foundry': 'FOUNDRY_MODEL',
  'openai-compatible': 'OPENAI_MODEL',
  'azure-ai-vision': '',
  'local-detector': '',
};

/** The model configuration of one profile's `model`; throws ConfigError naming the setting to add. */
export function modelForProfile(config: BlobsightConfig, profile: Pick<Profile, 'name' | 'model'>): RoutedModelConfig {
  const spec = profile.model;
  if (spec === undefined) return config.model;
  const provider: RoutableProvider = spec.provider ?? config.model.provider;
  const endpoints = endpointsOf(config);
  const where = `profile ${profile.name}: model ${JSON.stringify(spec)}`;
  const missingEndpoint = (): ConfigError => new ConfigError([`${where} names ${provider}, whose endpoint is not configured. Set ${ENDPOINT_SETTINGS[provider]}, or remove the profile's "model" to use MODEL_PROVIDER (${config.model.provider}).`]);
  const missingDeployment = (): ConfigError => new ConfigError([`${where} names no deployment and ${DEPLOYMENT_SETTINGS[provider]} is not set. Add "deployment" to the profile's model, or set ${DEPLOYMENT_SETTINGS[provider]}.`]);
  switch (provider) {
    case 'azure-openai': {
      const e = endpoints['azure-openai'];
      if (e === undefined) throw missingEndpoint();
      const deployment = spec.deployment ?? e.deployment;
      if (deployment === undefined) throw missingDeployment();
      return { provider, endpoint: e.endpoint, deployment, apiVersion: e.apiVersion, apiKey: e.apiKey };
    }
    case 'azure-ai-foundry': {
      const e = endpoints['azure-ai-foundry'];
      if (e === undefined) throw missingEndpoint();
      const deployment = spec.deployment ?? e.deployment;
      if (deployment === undefined) throw missingDeployment();
      return { provider, endpoint: e.endpoint, deployment, apiVersion: e.apiVersion, apiKey: e.apiKey };
    }
    case 'openai-compatible': {
      const e = endpoints['openai-compatible'];
      if (e === undefined) throw missingEndpoint();
      const model = spec.deployment ?? e.model;
      if (model === undefined) throw missingDeployment();
      return { provider, baseURL: e.baseURL, model, apiKey: e.apiKey };
    }
    case 'azure-ai-vision': {
      const e = endpoints['azure-ai-vision'];
      if (e === undefined) throw missingEndpoint();
      if (spec.deployment !== undefined && spec.deployment !== VISION_DEPLOYMENT) throw new ConfigError([`${where}: azure-ai-vision has no deployments; leave "deployment" out.`]);
      return { provider, endpoint: e.endpoint, apiKey: e.apiKey, apiVersion: e.apiVersion, usdPer1000: e.usdPer1000 };
    }
    case 'local-detector':
      if (spec.deployment !== undefined && spec.deployment !== LOCAL_DETECTOR_DEPLOYMENT) throw new ConfigError([`${where}: local-detector has one model (${LOCAL_DETECTOR_DEPLOYMENT}); leave "deployment" out.`]);
      return { provider, modelDir: endpoints['local-detector'].modelDir };
  }
}

/**
 * Routes every profile of the registry; collects every problem before throwing one ConfigError, so one start shows all
 * the settings to add. Profiles naming the same provider and deployment share one route (and so one classifier).
 */
export function resolveRoutes(config: BlobsightConfig, profiles: readonly Profile[]): ModelRoutes {
  const defaultModel = config.model;
  const defaultRoute: ModelRoute = { key: routeKey(defaultModel.provider, deploymentOf(defaultModel)), provider: defaultModel.provider, deployment: deploymentOf(defaultModel), model: defaultModel, isDefault: true };
  const all = new Map<string, ModelRoute>([[defaultRoute.key, defaultRoute]]);
  const byProfile = new Map<string, ModelRoute>();
  const problems: string[] = [];
  for (const p of profiles) {
    let model: RoutedModelConfig;
    try {
      model = modelForProfile(config, p);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(...e.issues);
      continue;
    }
    // The schema checked a provider the profile names; one it inherits from MODEL_PROVIDER is checked here.
    if (p.model !== undefined && !servedKinds(model.provider).includes(p.kind)) {
      problems.push(`profile ${p.name}: model ${JSON.stringify(p.model)} is served by ${model.provider} (MODEL_PROVIDER), which cannot serve ${p.kind} profiles. Name a provider that can in the profile's "model".`);
      continue;
    }
    const key = routeKey(model.provider, deploymentOf(model));
    let route = all.get(key);
    if (route === undefined) {
      route = { key, provider: model.provider, deployment: deploymentOf(model), model, isDefault: false };
      all.set(key, route);
    }
    byProfile.set(p.name, route);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { default: defaultRoute, all: [...all.values()], byProfile };
}
