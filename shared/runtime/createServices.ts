/** Builds the clients every entry point shares (functions, dev host, CLI) from configuration, once per process. */
import type { TokenCredential } from '@azure/identity';
import { DefaultAzureCredential } from '@azure/identity';
import type { BlobServiceClient, ContainerClient } from '@azure/storage-blob';

import { createBlobServiceClient } from '../blob';
import { DailyBudget } from '../budget';
import type { BlobsightConfig } from '../config';
import { loadConfig } from '../config';
import type { HealthCheck, HealthDeps } from '../http';
import type { Logger } from '../logging';
import { consoleLogger } from '../logging';
import type { Classifier } from '../model';
import { CircuitBreakingClassifier, createOpenAIClient, OpenAIClassifier } from '../model';
import type { ModelInfo } from '../model/classification';
import { coalesceMultiImage } from '../model/multiImageCoalescer';
import { needsCredential } from '../model/providers/capabilities';
import type { ModelRoute, RoutedModelConfig } from '../model/routing/resolveRoutes';
import { resolveRoutes } from '../model/routing/resolveRoutes';
import { RoutingClassifier } from '../model/routing/RoutingClassifier';
import type { OutboundPublisher } from '../outbound';
import { eventGridPublisher, Outbox, webhookPublisher } from '../outbound';
import type { PipelineDeps } from '../pipeline';
import type { ProfileRegistry } from '../profiles';
import { loadProfiles, requireProfile } from '../profiles';
import { StatsStore } from '../stats';
import { createCosmosContainer, ImageStore, ResultCache } from '../store';
import { createPacer, createParking, createSlotLedger } from '../throughput/createParking';
import type { QuotaPacer } from '../throughput/QuotaPacer';
import type { Parking } from '../throughput/runOrPark';

export interface Services {
  config: BlobsightConfig;
  profiles: ProfileRegistry;
  blobService: BlobServiceClient;
  images: ContainerClient;
  store: ImageStore;
  cache: ResultCache;
  classifier: Classifier;
  health: HealthDeps;
  /** Per-day counters in the images container (GET /api/stats) and the DAILY_BUDGET_USD gate reading them. */
  stats: StatsStore;
  budget: DailyBudget;
  /** Outbound events; absent when neither OUTBOUND_TOPIC_ENDPOINT nor OUTBOUND_WEBHOOKS is set. */
  outbox?: Outbox;
  /** Throttled events wait here (PARKING_QUEUE) instead of going back to Event Grid; undefined when turned off. */
  parking?: Parking;
}

export interface ServiceOverrides {
  /** Replaces DefaultAzureCredential (tests, or a caller with its own identity). */
  credential?: TokenCredential;
  /** Replaces the model client's fetch (unit tests). */
  fetch?: typeof fetch;
  /** Replaces the classifier entirely (still behind the circuit breaker). */
  classifier?: Classifier;
  /** Where process-wide events (the model circuit breaker) are logged; default JSON lines on the console. */
  log?: Logger;
}

export async function createServices(config: BlobsightConfig, overrides: ServiceOverrides = {}): Promise<Services> {
  const profiles = loadProfiles(config.profilesDir);
  // Fail at start-up, not on the first upload, if the default names nothing.
  requireProfile(profiles, config.defaultProfile, 'DEFAULT_PROFILE');
  // Every profile's model, resolved before anything is opened: a profile naming a provider whose endpoint is not configured stops the start.
  const routes = resolveRoutes(config, profiles.list());
  // One credential for every Azure client (storage, Cosmos DB, the model), built only if one of them is keyless:
  // its token cache is shared, and the user-assigned identity named by the storage connection (or AZURE_CLIENT_ID,
  // which DefaultAzureCredential reads itself) is the one every client signs in as.
  let credential = overrides.credential;
  const getCredential = (): TokenCredential => (credential ??= buildCredential(config));
  const storageKeyless = config.storage.kind === 'identity';
  const cosmosKeyless = config.cosmos.key === undefined;
  const modelKeyless = needsCredential(config.model);

  const blobService = createBlobServiceClient(config.storage, storageKeyless ? getCredential() : undefined);
  const images = blobService.getContainerClient(config.imagesContainer);
  const container = await createCosmosContainer(config.cosmos, cosmosKeyless ? getCredential() : undefined);
  const store = new ImageStore(container);
  const cache = new ResultCache(container, { ttlSeconds: config.cacheTtlDays * 86_400 });
  const stats = new StatsStore(container);
  const budget = new DailyBudget(stats, config.budget.dailyUsd, { log: overrides.log ?? consoleLogger });
  const publishers: OutboundPublisher[] = [];
  if (config.outbound.topicEndpoint !== undefined) publishers.push(eventGridPublisher(config.outbound.topicEndpoint, getCredential()));
  if (config.outbound.webhooks.length > 0 && config.outbound.webhookSecret !== undefined) publishers.push(webhookPublisher({ urls: config.outbound.webhooks, secret: config.outbound.webhookSecret, backoffMs: config.outbound.webhookRetryMs }));
  const outbox = publishers.length === 0 ? undefined : new Outbox(store, publishers, overrides.log ?? consoleLogger);
  const endpoint = endpointOf(config.model);
  // One pacer per process: every model request of this instance shares its share of the deployment's quota.
  const pacer = createPacer(config.throughput, createSlotLedger(config.throughput, blobService, overrides.log ?? consoleLogger));
  const parking = createParking(config.throughput, config.storage, pacer, process.env, storageKeyless ? getCredential() : undefined);
  const breaker = new CircuitBreakingClassifier(overrides.classifier ?? (await createClassifier(config, modelKeyless ? getCredential : undefined, overrides.fetch, pacer)), {
    ...config.modelBreaker,
    log: overrides.log ?? consoleLogger,
    endpoint,
  });
  // The other routes are built on their first image and each gets its own breaker. They are not paced by MODEL_TPM,
  // which is the default deployment's quota, not theirs.
  const buildRoute = async (route: ModelRoute): Promise<Classifier> => {
    const model = route.model;
    return createClassifier({ ...config, model }, needsCredential(model) ? getCredential : undefined, overrides.fetch);
  };
  const router = new RoutingClassifier({
    routes,
    defaultClassifier: breaker,
    build: buildRoute,
    breaker: (route, inner) => new CircuitBreakingClassifier(inner, { ...config.modelBreaker, log: overrides.log ?? consoleLogger, endpoint: endpointOf(route.model) }),
  });
  const classifier: Classifier = router;

  const checks: HealthCheck[] = [
    {
      name: 'storage',
      run: async () => {
        const exists = await images.exists();
        if (!exists) throw new Error(`container ${config.imagesContainer} does not exist`);
        return { container: config.imagesContainer };
      },
    },
    {
      name: 'cosmos',
      run: async () => {
        await container.read();
        return { database: config.cosmos.database, container: config.cosmos.container };
      },
    },
    {
      // From the outcomes of real calls only: a probe call would spend tokens.
      name: 'model',
      run: () => {
        const status = breaker.status();
        if (status.state !== 'closed') {
          const last = status.last;
          return Promise.reject(new Error(
            `model calls suspended (breaker ${status.state}) after ${last?.code ?? 'misconfiguration'} at ${last?.at ?? 'unknown time'}${status.retryAt === null ? '' : `; next trial call at ${status.retryAt}`}. ${last?.fix ?? ''}`.trim(),
          ));
        }
        // `routes`: every provider and deployment in use, with the profiles each serves (profile `model`).
        const inUse = router.status().map((r) => ({ provider: r.provider, deployment: r.deployment, profiles: r.profiles, default: r.isDefault, built: r.built, breaker: r.breaker?.state ?? null }));
        return Promise.resolve({ provider: classifier.info.provider, deployment: classifier.info.deployment, breaker: status.state, consecutiveMisconfigurations: status.consecutiveMisconfigurations, last: status.last, routes: inUse });
      },
    },
    // One check per routed deployment: its breaker opening (a broken Foundry deployment) shows without hiding the others.
    ...routes.all.filter((r) => !r.isDefault).map((route): HealthCheck => ({
      name: `model ${route.key}`,
      run: () => {
        const r = router.status().find((s) => s.key === route.key);
        const b = r?.breaker ?? null;
        if (b !== null && b.state !== 'closed') return Promise.reject(new Error(`${route.key}: model calls suspended (breaker ${b.state}) after ${b.last?.code ?? 'misconfiguration'}${b.retryAt === null ? '' : `; next trial call at ${b.retryAt}`}. ${b.last?.fix ?? ''}`.trim()));
        return Promise.resolve({ provider: route.provider, deployment: route.deployment, endpoint: endpointOf(route.model), profiles: r?.profiles ?? [], built: r?.built ?? false, breaker: b?.state ?? 'closed', last: b?.last ?? null });
      },
    })),
  ];
  return { config, profiles, blobService, images, store, cache, classifier, health: { checks, model: { ...classifier.info, endpoint } }, stats, budget, ...(outbox === undefined ? {} : { outbox }), ...(parking === undefined ? {} : { parking }) };
}

export async function createClassifier(config: BlobsightConfig, getCredential: (() => TokenCredential) | undefined, fetchImpl: typeof fetch | undefined, pacer?: QuotaPacer): Promise<Classifier> {
  const m = config.model;
  if (m.provider === 'local-detector') {
    // Loaded only when used: tfjs and the model weights stay out of processes that talk to Azure OpenAI.
    const { createLocalDetector } = await import('../model/localDetector/index.js');
    return createLocalDetector(m.modelDir === undefined ? {} : { modelDir: m.modelDir });
  }
  if (m.provider === 'azure-ai-vision') {
    const { createVisionClassifier } = await import('../model/providers/vision/index.js');
    return createVisionClassifier({ model: m, request: config.modelRequest, getCredential: needsCredential(m) ? getCredential : undefined, fetch: fetchImpl });
  }
  const info: ModelInfo =
    m.provider === 'azure-openai' || m.provider === 'azure-ai-foundry'
      ? { provider: m.provider, deployment: m.deployment, apiVersion: m.apiVersion }
      : { provider: m.provider, deployment: m.model, apiVersion: null };
  const deps: { credential?: TokenCredential; fetch?: typeof fetch; pacer?: { pacer: QuotaPacer; maxWaitMs: number } } = {};
  if (pacer !== undefined) deps.pacer = { pacer, maxWaitMs: config.throughput.maxWaitMs };
  if (needsCredential(m) && getCredential !== undefined) deps.credential = getCredential();
  if (fetchImpl !== undefined) deps.fetch = fetchImpl;
  const client = createOpenAIClient(m, config.modelRequest, deps);
  const single = new OpenAIClassifier({ client, info, model: info.deployment, prices: config.prices, logprobs: config.modelRequest.logprobs, timeoutMs: config.modelRequest.timeoutMs });
  // Off unless MULTI_IMAGE_WINDOW_MS > 0: then concurrent images of an imagesPerRequest > 1 profile share a request.
  return coalesceMultiImage(single, { client, info, model: info.deployment, prices: config.prices, timeoutMs: config.modelRequest.timeoutMs, windowMs: config.modelRequest.multiImageWindowMs });
}

/** The URL a model configuration calls; null for the embedded detector. */
function endpointOf(m: RoutedModelConfig): string | null {
  if (m.provider === 'openai-compatible') return m.baseURL;
  return m.provider === 'local-detector' ? null : m.endpoint;
}

/** DefaultAzureCredential (managed identity in Azure, a developer sign-in locally), pinned to the configured user-assigned identity. */
function buildCredential(config: BlobsightConfig): TokenCredential {
  const clientId = config.storage.kind === 'identity' ? config.storage.clientId : undefined;
  return clientId === undefined ? new DefaultAzureCredential() : new DefaultAzureCredential({ managedIdentityClientId: clientId });
}

/** The pipeline's dependencies from the services. */
export function pipelineDeps(s: Services, log?: Logger): PipelineDeps {
  return {
    images: s.images,
    store: s.store,
    cache: s.cache,
    classifier: s.classifier,
    budgetMs: s.config.timeBudget.eventMs,
    leaseMs: s.config.timeBudget.leaseMs,
    maxModelAttempts: s.config.maxModelAttempts,
    profiles: s.profiles,
    defaultProfile: s.config.defaultProfile,
    limits: s.config.limits,
    stats: s.stats,
    budget: s.budget,
    ...(log === undefined ? {} : { log }),
    ...(s.outbox === undefined ? {} : { outbound: s.outbox }),
  };
}

let memo: Promise<Services> | undefined;

/** The process-wide services, built on first use from the environment; a failed build is retried on the next call. */
export function getServices(): Promise<Services> {
  memo ??= createServices(loadConfig()).catch((e: unknown) => {
    memo = undefined;
    throw e;
  });
  return memo;
}
