/**
 * The whole flow on one machine: Azurite, the Cosmos emulator server (persisted), the dev host serving the shared
 * function table, and the Event Grid stand-in that turns uploads into BlobCreated deliveries. `npm start` and the
 * end-to-end tests both start it through startLocalStack.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';

import type { Env } from '../../shared/config';
import { loadConfig } from '../../shared/config';
import type { EventGridFunctionDefinition, FunctionDefinition, Services, TimerFunctionDefinition } from '../../shared/runtime';
import { createServices, FUNCTIONS } from '../../shared/runtime';
import { checkPortsFree } from './checkPortsFree';
import { EVENT_GRID_WEBHOOK_PATH, startDevHost } from './devHost';
import { DEV_LOGIN_PATH } from './DevSignIn';
import { EventGridStandIn } from './EventGridStandIn';
import { readLocalSettings } from './localSettings';
import { packageRoot } from './packageRoot';
import { resolveFunctionKey } from './resolveFunctionKey';
import { startAzurite } from './startAzurite';
import { startCosmosServer } from './startCosmosServer';
import { startParkedDrainer } from './startParkedDrainer';
import { TimerScheduler } from './TimerScheduler';

export interface LocalStackOptions {
  /** Persistent state; npm start uses <repo>/.data (git-ignored). */
  dataDir: string;
  /** 0 = any free port; defaults 10000 / 8081 / 7071. */
  ports?: { blob?: number; cosmos?: number; host?: number; queue?: number };
  /** Settings on top of the local defaults (and of local.settings.json/.env when readLocalSettings). */
  env?: Record<string, string | undefined>;
  /** npm start: true; tests: false. */
  readLocalSettings?: boolean;
  /** Overrides FUNCTIONS_DEV_KEY and the stored key. */
  functionKey?: string;
  /** pollMs default 500; retryScale default 0.01 (Event Grid's schedule compressed 100×); maxAttempts default 30. */
  eventGrid?: { pollMs?: number; retryScale?: number; maxAttempts?: number };
  /**
   * The dev sign-in (App Service authentication's stand-in, see DevSignIn): sets WEBSITE_AUTH_ENABLED=True for the
   * app as App Service would. npm start: on unless DEV_SIGN_IN=false; tests: off unless asked.
   */
  signIn?: boolean;
  /** Progress; tests pass a no-op. */
  log?: (line: string) => void;
}

export interface LocalStack {
  /** `page`: with ?code= when sign-in is off; `signIn`: the dev sign-in page, null when off. */
  urls: { app: string; api: string; page: string; signIn: string | null; health: string; blob: string; cosmos: string };
  functionKey: string;
  blobConnectionString: string;
  cosmosKey: string;
  services: Services;
  model: { provider: string; deployment: string };
  /** Idempotent; stops everything, flushes the snapshot. */
  stop(): Promise<void>;
}

export const DEFAULT_PORTS = { blob: 10000, cosmos: 8081, host: 7071, queue: 10001 } as const;

/** The container Event Grid's dead-letter blobs go to, beside the images container. */
export const DEAD_LETTER_CONTAINER = 'deadletter';

/** Starts everything, or nothing: a failure stops what had started and rejects (PortInUseError for a taken port). */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const log = options.log ?? (() => undefined);
  const t0 = performance.now();
  const progress = (line: string): void => log(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${line}`);
  const ports = { ...DEFAULT_PORTS, ...definedOnly(options.ports ?? {}) };
  // Callers that pick free ports (tests: blob 0) get a free queue port too, never npm start's 10001.
  if (options.ports?.queue === undefined && options.ports?.blob === 0) ports.queue = 0;
  await checkPortsFree([
    { port: ports.blob, service: 'Azurite blob', usualHolder: 'another Azurite (the VS Code extension, a Docker container, or a `func start` session that started it)' },
    { port: ports.cosmos, service: 'Cosmos DB emulator', usualHolder: 'the Azure Cosmos DB Emulator (Windows app or Docker image)' },
    { port: ports.host, service: 'dev host', usualHolder: '`func start` (Azure Functions Core Tools) or another `npm start`' },
    { port: ports.queue, service: 'Azurite queue', usualHolder: 'another Azurite (the VS Code extension, a Docker container, or a `func start` session that started it)' },
  ]);

  const root = packageRoot();
  const dataDir = path.resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const local = options.readLocalSettings === true ? readLocalSettings(root) : { values: {}, files: [] };
  if (local.files.length > 0) progress(`settings from ${local.files.map((f) => path.relative(root, f)).join(' + ')}`);
  const given = { ...local.values, ...definedOnly(options.env ?? {}) } as Record<string, string>;

  // Started pieces, stopped in reverse order: the stand-in before the host it calls, the host before the stores.
  const stops: Array<{ name: string; stop: () => Promise<void> }> = [];
  const stopAll = async (): Promise<void> => {
    const errors: string[] = [];
    for (const s of stops.splice(0).reverse()) {
      await s.stop().catch((e: unknown) => errors.push(`${s.name}: ${e instanceof Error ? e.message : String(e)}`));
    }
    if (errors.length > 0) log(`problems while stopping: ${errors.join('; ')}`);
  };

  try {
    progress(`starting Azurite (blob) on 127.0.0.1:${ports.blob}…`);
    const azurite = await startAzurite({ location: path.join(dataDir, 'azurite'), port: ports.blob, root });
    stops.push({ name: 'Azurite', stop: () => azurite.stop() });
    progress(`Azurite blob ready at ${azurite.blobEndpoint}`);

    // The parking queue (PARKING_QUEUE) lives in Azurite's queue service, a second process beside the blob one.
    const azuriteQueue = await startAzurite({ location: path.join(dataDir, 'azurite'), port: ports.queue, root, service: 'queue' });
    stops.push({ name: 'Azurite queue', stop: () => azuriteQueue.stop() });
    progress(`Azurite queue ready at ${azuriteQueue.blobEndpoint}`);

    progress(`starting the Cosmos DB emulator server on 127.0.0.1:${ports.cosmos}…`);
    const cosmos = await startCosmosServer({ dir: path.join(dataDir, 'cosmos'), port: ports.cosmos, log: progress });
    stops.push({ name: 'Cosmos server', stop: () => cosmos.stop() });
    progress(`Cosmos DB emulator server ready at ${cosmos.endpoint}`);

    const env: Env = {
      ...withLocalDefaults(given, { AzureWebJobsStorage: `${azurite.connectionString}QueueEndpoint=${azuriteQueue.blobEndpoint};`, COSMOS_ENDPOINT: cosmos.endpoint, COSMOS_KEY: cosmos.key, COSMOS_CREATE_IF_MISSING: 'true' }),
      // As App Service injects it when its authentication is on; the dev host refuses a mismatch either way.
      ...(options.signIn === true ? { WEBSITE_AUTH_ENABLED: 'True' } : {}),
    };
    const services = await createServices(loadConfig(env));
    await services.images.createIfNotExists();
    const deadLetter = services.blobService.getContainerClient(DEAD_LETTER_CONTAINER);
    await deadLetter.createIfNotExists();
    const info = services.classifier.info;
    progress(`services ready: containers ${services.images.containerName} + ${DEAD_LETTER_CONTAINER}, Cosmos ${services.config.cosmos.database}/${services.config.cosmos.container}, model ${info.provider} ${info.deployment}`);

    const key = resolveFunctionKey(dataDir, options.functionKey, env['FUNCTIONS_DEV_KEY']);
    const table: readonly FunctionDefinition[] = FUNCTIONS;
    const timers = new TimerScheduler({ timers: table.filter((f): f is TimerFunctionDefinition => f.trigger === 'timer'), services, log });
    const host = await startDevHost({ services, functionKey: key.key, port: ports.host, functions: FUNCTIONS, log, runFunction: (name) => timers.runNow(name), signIn: options.signIn === true });
    stops.push({ name: 'dev host', stop: () => host.close() });
    progress(`dev host listening on ${host.url}`);

    const receiver = eventGridReceiver(FUNCTIONS);
    const standIn = new EventGridStandIn({
      images: services.images,
      deadLetter,
      endpoint: `${host.url}${EVENT_GRID_WEBHOOK_PATH}?functionName=${encodeURIComponent(receiver.name)}`,
      key: key.key,
      ...definedOnly(options.eventGrid ?? {}),
      log,
    });
    stops.push({ name: 'Event Grid stand-in', stop: () => standIn.stop() });
    const existing = await standIn.start();
    progress(`Event Grid stand-in watching ${services.images.containerName} → ${receiver.name}${existing > 0 ? ` (announcing ${existing} existing blob(s) once)` : ''}`);

    // Throttled events parked in PARKING_QUEUE are drained like the queue trigger does in Azure.
    const drainer = startParkedDrainer(services, env, table, log);
    if (drainer !== undefined) {
      await services.parking?.queue?.createIfNotExists();
      stops.push({ name: 'parking queue drainer', stop: () => drainer.stop() });
      progress(`draining parked events from queue ${services.config.throughput.parkingQueue ?? ''}`);
    }

    // After the stand-in: a timer stops before the stores it uses, and its first run sees the announced blobs handled.
    stops.push({ name: 'timers', stop: () => timers.stop() });
    timers.start();
    for (const t of timers.upcoming) progress(`timer ${t.name} (${t.schedule}, UTC) next at ${t.nextAt?.toISOString() ?? '-'}; run now: POST /admin/functions/${t.name}`);

    let stopping: Promise<void> | undefined;
    return {
      urls: {
        app: `${host.url}/`,
        api: host.url,
        page: options.signIn === true ? `${host.url}/` : `${host.url}/?code=${encodeURIComponent(key.key)}`,
        signIn: options.signIn === true ? `${host.url}${DEV_LOGIN_PATH}` : null,
        health: `${host.url}/api/health`,
        blob: azurite.blobEndpoint,
        cosmos: cosmos.endpoint,
      },
      functionKey: key.key,
      blobConnectionString: azurite.connectionString,
      cosmosKey: cosmos.key,
      services,
      model: { provider: info.provider, deployment: info.deployment },
      stop: () => (stopping ??= stopAll()),
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

function eventGridReceiver(functions: readonly FunctionDefinition[]): EventGridFunctionDefinition {
  const f = functions.find((d): d is EventGridFunctionDefinition => d.trigger === 'eventGrid');
  if (f === undefined) throw new Error('The function table has no Event Grid function to deliver blob events to.');
  return f;
}

/** Settings as given, plus each local default whose setting is unset or empty (loadConfig treats empty as unset). */
export function withLocalDefaults(given: Readonly<Record<string, string>>, defaults: Readonly<Record<string, string>>): Env {
  const env: Record<string, string> = { ...given };
  for (const [name, value] of Object.entries(defaults)) {
    if ((env[name]?.trim() ?? '') === '') env[name] = value;
  }
  return env;
}

/** The entries whose value is not undefined: an undefined option or setting means "use the default". */
function definedOnly<T extends object>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
