/**
 * Every function of the app, declared once: name, trigger, options, handler. The Azure Functions registrations
 * (`functions/*.ts`) and the local dev host both read this table, so they cannot drift apart.
 */
import type { AppRole } from '../auth';
import { authorizeUser, hasRole, readPrincipal } from '../auth';
import type { HttpContext } from '../http';
import {
  classifyHttp,
  deleteImageHttp,
  errorToResponse,
  getImageHttp,
  healthHttp,
  imageContentHttp,
  listImagesHttp,
  meHttp,
  profilesHttp,
  reprocessImageHttp,
  reprocessImagesHttp,
  reviewHttp,
  reviewNextHttp,
  statsHttp,
  uploadHttp,
  webHttp,
} from '../http';
import type { Logger } from '../logging';
import type { BlobOutcome } from '../pipeline';
import { processBlobCreated } from '../pipeline';
import { ReviewQueue } from '../review';
import { drainParkedEvent } from '../throughput/drainParkedEvent';
import type { ParkedOutcome } from '../throughput/runOrPark';
import { runOrPark } from '../throughput/runOrPark';
import type { Services } from './createServices';
import { pipelineDeps } from './createServices';
import { reconcileTimer } from './reconcileTimer';

export type AuthLevel = 'anonymous' | 'function' | 'admin';
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';

export interface HttpFunctionDefinition {
  name: string;
  trigger: 'http';
  methods: readonly HttpMethod[];
  /** Azure Functions route template, without a prefix (host.json sets `routePrefix` to ""), e.g. `api/images/{id}`. */
  route: string;
  authLevel: AuthLevel;
  handler(req: Request, ctx: HttpContext, services: Services): Promise<Response>;
}

export interface EventGridFunctionDefinition {
  name: string;
  trigger: 'eventGrid';
  /** Resolves when the event is done with (or parked for the quota); throws when it must be delivered again. */
  handler(event: unknown, log: Logger, services: Services): Promise<BlobOutcome | ParkedOutcome>;
}

export interface QueueFunctionDefinition {
  name: string;
  trigger: 'queue';
  /** Binding expression of the queue's name: the app setting that holds it. */
  queueName: string;
  /** Resolves when the message may be deleted; throws to have it retried (then moved to `<queue>-poison`). */
  handler(message: unknown, log: Logger, services: Services): Promise<BlobOutcome | ParkedOutcome>;
}

export interface TimerFunctionDefinition {
  name: string;
  trigger: 'timer';
  /** NCRONTAB with seconds, as Azure Functions takes it. */
  schedule: string;
  handler(log: Logger, services: Services): Promise<unknown>;
}

export type FunctionDefinition = HttpFunctionDefinition | EventGridFunctionDefinition | TimerFunctionDefinition | QueueFunctionDefinition;

export const FUNCTIONS = [
  {
    // The Event Grid subscription points at this name: renaming it is a breaking change for deployments.
    name: 'classifyBlob',
    trigger: 'eventGrid',
    // A throttled event is parked in PARKING_QUEUE (runOrPark) rather than handed back to Event Grid's coarse retries.
    handler: (event, log, s) => runOrPark(event, 0, s.parking, log, () => processBlobCreated(event, pipelineDeps(s, log))),
  },
  {
    // Drains PARKING_QUEUE at the host's bounded queue concurrency (host.json extensions.queues).
    name: 'drainParked',
    trigger: 'queue',
    queueName: '%PARKING_QUEUE%',
    handler: (message, log, s) => drainParkedEvent(message, s.parking, log, (event) => processBlobCreated(event, pipelineDeps(s, log))),
  },
  {
    // Safety net for what Event Grid dropped or dead-lettered, and for claims whose worker died.
    name: 'reconcile',
    trigger: 'timer',
    schedule: '0 */5 * * * *',
    // Then the outbound events still owed and the content-cache retention sweep (reconcileTimer).
    handler: (log, s) => reconcileTimer(s, log),
  },
  {
    name: 'classify',
    trigger: 'http',
    methods: ['POST'],
    route: 'api/classify',
    authLevel: 'function',
    handler: (req, ctx, s) => classifyHttp(req, ctx, { classifier: s.classifier, profiles: s.profiles, defaultProfile: s.config.defaultProfile, limits: s.config.limits }),
  },
  {
    name: 'uploadImage',
    trigger: 'http',
    methods: ['POST'],
    route: 'api/uploads',
    authLevel: 'function',
    handler: (req, ctx, s) => uploadHttp(req, ctx, { images: s.images, profiles: s.profiles, limits: s.config.limits }),
  },
  {
    name: 'listImages',
    trigger: 'http',
    methods: ['GET'],
    route: 'api/images',
    authLevel: 'function',
    handler: (req, ctx, s) => listImagesHttp(req, ctx, { store: s.store }),
  },
  {
    name: 'getImage',
    trigger: 'http',
    methods: ['GET'],
    route: 'api/images/{id}',
    authLevel: 'function',
    handler: (req, ctx, s) => getImageHttp(req, ctx, { store: s.store }),
  },
  {
    name: 'getImageContent',
    trigger: 'http',
    methods: ['GET'],
    route: 'api/images/{id}/content',
    authLevel: 'function',
    handler: (req, ctx, s) =>
      imageContentHttp(req, ctx, { store: s.store, images: s.images, renditions: s.blobService.getContainerClient(`${s.images.containerName}-renditions`), limits: s.config.limits }),
  },
  {
    name: 'reviewImage',
    trigger: 'http',
    methods: ['PATCH'],
    route: 'api/images/{id}/review',
    authLevel: 'function',
    handler: (req, ctx, s) => reviewHttp(req, ctx, { store: s.store, profiles: s.profiles, stats: s.stats }),
  },
  {
    name: 'reviewNext',
    trigger: 'http',
    methods: ['GET'],
    route: 'api/review/next',
    authLevel: 'function',
    handler: (req, ctx, s) => reviewNextHttp(req, ctx, { queue: new ReviewQueue(s.store, { leaseMs: s.config.reviewLeaseMs }) }),
  },
  {
    name: 'reprocessImage',
    trigger: 'http',
    methods: ['POST'],
    route: 'api/images/{id}/reprocess',
    authLevel: 'function',
    handler: (req, ctx, s) => reprocessImageHttp(req, ctx, pipelineDeps(s, ctx.log)),
  },
  {
    name: 'reprocessImages',
    trigger: 'http',
    methods: ['POST'],
    route: 'api/images/reprocess',
    authLevel: 'function',
    handler: (req, ctx, s) => reprocessImagesHttp(req, ctx, pipelineDeps(s, ctx.log)),
  },
  {
    name: 'deleteImage',
    trigger: 'http',
    methods: ['DELETE'],
    route: 'api/images/{id}',
    authLevel: 'function',
    handler: (req, ctx, s) => deleteImageHttp(req, ctx, { store: s.store, images: s.images, renditions: s.blobService.getContainerClient(`${s.images.containerName}-renditions`) }),
  },
  {
    name: 'listProfiles',
    trigger: 'http',
    methods: ['GET'],
    route: 'api/profiles',
    authLevel: 'function',
    handler: (req, ctx, s) => profilesHttp(req, ctx, { profiles: s.profiles, classifier: s.classifier, defaultProfile: s.config.defaultProfile }),
  },
  {
    name: 'stats',
    trigger: 'http',
    methods: ['GET'],
    route: 'api/stats',
    authLevel: 'function',
    handler: (req, ctx, s) => statsHttp(req, ctx, { stats: s.stats, budget: s.budget }),
  },
  {
    name: 'health',
    trigger: 'http',
    methods: ['GET'],
    route: 'api/health',
    authLevel: 'anonymous',
    // Anonymous: the status only; a signed-in reader also gets the details (machines use healthDetails with a key).
    handler: (req, ctx, s) => healthHttp(req, ctx, s.health, signedInAs(req, s, 'Reader') ? 'details' : 'status'),
  },
  {
    name: 'healthDetails',
    trigger: 'http',
    methods: ['GET'],
    route: 'api/health/details',
    authLevel: 'function',
    handler: (req, ctx, s) => healthHttp(req, ctx, s.health, 'details'),
  },
  // People: the same API under app/, for a browser signed in with Microsoft Entra ID through App Service
  // authentication. Anonymous to the Functions host, which would otherwise demand a function key before the handler
  // runs; each handler requires the platform's principal with an app role instead. Machines keep the key routes above.
  { name: 'me', trigger: 'http', methods: ['GET'], route: 'app/api/me', authLevel: 'anonymous', handler: (req, ctx, s) => meHttp(req, ctx, s.config.auth) },
  { name: 'listProfilesSignedIn', trigger: 'http', methods: ['GET'], route: 'app/api/profiles', authLevel: 'anonymous', handler: signedIn('Reader', 'listProfiles') },
  { name: 'listImagesSignedIn', trigger: 'http', methods: ['GET'], route: 'app/api/images', authLevel: 'anonymous', handler: signedIn('Reader', 'listImages') },
  { name: 'getImageSignedIn', trigger: 'http', methods: ['GET'], route: 'app/api/images/{id}', authLevel: 'anonymous', handler: signedIn('Reader', 'getImage') },
  { name: 'getImageContentSignedIn', trigger: 'http', methods: ['GET'], route: 'app/api/images/{id}/content', authLevel: 'anonymous', handler: signedIn('Reader', 'getImageContent') },
  { name: 'reviewImageSignedIn', trigger: 'http', methods: ['PATCH'], route: 'app/api/images/{id}/review', authLevel: 'anonymous', handler: signedIn('Reviewer', 'reviewImage') },
  { name: 'statsSignedIn', trigger: 'http', methods: ['GET'], route: 'app/api/stats', authLevel: 'anonymous', handler: signedIn('Reader', 'stats') },
  { name: 'reviewNextSignedIn', trigger: 'http', methods: ['GET'], route: 'app/api/review/next', authLevel: 'anonymous', handler: signedIn('Reviewer', 'reviewNext') },
  // Reprocessing spends model tokens, deleting removes data: reviewers only.
  { name: 'reprocessImageSignedIn', trigger: 'http', methods: ['POST'], route: 'app/api/images/{id}/reprocess', authLevel: 'anonymous', handler: signedIn('Reviewer', 'reprocessImage') },
  { name: 'reprocessImagesSignedIn', trigger: 'http', methods: ['POST'], route: 'app/api/images/reprocess', authLevel: 'anonymous', handler: signedIn('Reviewer', 'reprocessImages') },
  { name: 'deleteImageSignedIn', trigger: 'http', methods: ['DELETE'], route: 'app/api/images/{id}', authLevel: 'anonymous', handler: signedIn('Reviewer', 'deleteImage') },
  // Uploads write blobs and spend model tokens: reviewers only.
  { name: 'uploadImageSignedIn', trigger: 'http', methods: ['POST'], route: 'app/api/uploads', authLevel: 'anonymous', handler: signedIn('Reviewer', 'uploadImage') },
  { name: 'classifySignedIn', trigger: 'http', methods: ['POST'], route: 'app/api/classify', authLevel: 'anonymous', handler: signedIn('Reviewer', 'classify') },
  {
    // The page holds no data; signed out it redirects to sign-in when App Service authentication is on, otherwise it
    // asks for the function key and calls the key routes with it.
    name: 'web',
    trigger: 'http',
    // Every method: a wrong one on an API path gets its 405 here (webHttp), in Azure as on the dev host.
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    route: '{*path}',
    authLevel: 'anonymous',
    handler: (req, ctx, s): Promise<Response> => webHttp(req, ctx, s.config.auth.platformAuthEnabled ? { apiRoutes: apiRoutes(), auth: s.config.auth } : { apiRoutes: apiRoutes() }),
  },
] as const satisfies readonly FunctionDefinition[];

export type FunctionName = (typeof FUNCTIONS)[number]['name'];

/** The HTTP routes other than the page's catch-all, for the page's 405 answers. */
function apiRoutes(): HttpFunctionDefinition[] {
  const all: readonly FunctionDefinition[] = FUNCTIONS;
  return all.filter((f): f is HttpFunctionDefinition => f.trigger === 'http' && f.name !== 'web');
}

export function httpFunction(name: FunctionName): HttpFunctionDefinition {
  const f: FunctionDefinition | undefined = FUNCTIONS.find((d) => d.name === name);
  if (f?.trigger !== 'http') throw new Error(`${name} is not an HTTP function`);
  return f;
}

export function timerFunction(name: FunctionName): TimerFunctionDefinition {
  const f: FunctionDefinition | undefined = FUNCTIONS.find((d) => d.name === name);
  if (f?.trigger !== 'timer') throw new Error(`${name} is not a timer function`);
  return f;
}

export function queueFunction(name: FunctionName): QueueFunctionDefinition {
  const f: FunctionDefinition | undefined = FUNCTIONS.find((d) => d.name === name);
  if (f?.trigger !== 'queue') throw new Error(`${name} is not a queue function`);
  return f;
}

export function eventGridFunction(name: FunctionName): EventGridFunctionDefinition {
  const f: FunctionDefinition | undefined = FUNCTIONS.find((d) => d.name === name);
  if (f?.trigger !== 'eventGrid') throw new Error(`${name} is not an Event Grid function`);
  return f;
}

/** The key route's handler behind the signed-in gate: the user must hold `role`; the handler sees them as the caller. */
function signedIn(role: AppRole, keyRoute: string): HttpFunctionDefinition['handler'] {
  return async (req, ctx, s) => {
    let caller;
    try {
      caller = authorizeUser(req, s.config.auth, role);
    } catch (e) {
      return errorToResponse(e, ctx.log);
    }
    // Looked up when called: the table is still being built when this closure is made.
    const def: FunctionDefinition | undefined = (FUNCTIONS as readonly FunctionDefinition[]).find((d) => d.name === keyRoute);
    if (def?.trigger !== 'http') throw new Error(`${keyRoute} is not an HTTP function`);
    return def.handler(req, { ...ctx, caller }, s);
  };
}

/** True when the platform's principal holds `role` (never when App Service authentication is off). */
function signedInAs(req: Request, s: Services, role: AppRole): boolean {
  const state = readPrincipal(req.headers, s.config.auth);
  return state.kind === 'signed-in' && hasRole(state.principal.roles, role);
}
