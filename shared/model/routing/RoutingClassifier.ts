/**
 * One Classifier in front of every model the profiles use: each profile's answer comes from its route's classifier
 * (resolveRoutes), built on first use and kept, each behind its own circuit breaker so a broken Foundry deployment
 * does not stop GPT-4o. Callers that need the serving model's identity (the content cache key, the stored `model`)
 * ask `classifierFor(classifier, profile)`.
 */
import type { Profile } from '../../profiles/profileSchema';
import type { BreakerStatus } from '../CircuitBreakingClassifier';
import type { CircuitBreakingClassifier } from '../CircuitBreakingClassifier';
import type { ModelClassification, ModelInfo } from '../classification';
import type { Classifier, ClassifyInput } from '../classifier';
import type { ProviderCapabilities } from '../providers/capabilities';
import { providerCapabilities, servedKinds } from '../providers/capabilities';
import type { ModelRoute, ModelRoutes } from './resolveRoutes';

export interface RoutingClassifierOptions {
  routes: ModelRoutes;
  /** The default route's classifier, already behind its breaker (built at start-up, as before routing existed). */
  defaultClassifier: CircuitBreakingClassifier;
  /** Builds a route's bare classifier; called once per route, on its first image (again only if that build failed). */
  build: (route: ModelRoute) => Promise<Classifier>;
  /** Wraps a built classifier in its own breaker. */
  breaker: (route: ModelRoute, inner: Classifier) => CircuitBreakingClassifier;
}

export interface RouteStatus {
  key: string;
  provider: string;
  deployment: string;
  isDefault: boolean;
  /** Profiles served by this route (the default route also serves every profile added later without `model`). */
  profiles: string[];
  /** False until the route's first image: nothing was built or called yet. */
  built: boolean;
  breaker: BreakerStatus | null;
}

/** A classifier that can say which model serves a given profile. */
export interface ProfileRoutedClassifier extends Classifier {
  forProfile(profile: Pick<Profile, 'name'>): Classifier;
}

/** The classifier that serves `profile`: its route's when `classifier` routes, otherwise `classifier` itself. */
export function classifierFor<C extends Pick<Classifier, 'info' | 'supportedKinds'>>(classifier: C, profile: Pick<Profile, 'name'>): C | Classifier {
  return 'forProfile' in classifier && typeof classifier.forProfile === 'function' ? (classifier as unknown as ProfileRoutedClassifier).forProfile(profile) : classifier;
}

/** A route's classifier before its first image: identity and kinds from configuration, the real one built on first use. */
class LazyRouteClassifier implements Classifier {
  readonly info: ModelInfo;
  readonly supportedKinds: Classifier['supportedKinds'];
  readonly capabilities: ProviderCapabilities;
  private built: CircuitBreakingClassifier | undefined;
  private building: Promise<CircuitBreakingClassifier> | undefined;

  constructor(
    readonly route: ModelRoute,
    private readonly make: () => Promise<CircuitBreakingClassifier>,
  ) {
    const m = route.model;
    this.info = { provider: route.provider, deployment: route.deployment, apiVersion: 'apiVersion' in m ? m.apiVersion : null };
    this.supportedKinds = servedKinds(route.provider);
    this.capabilities = providerCapabilities(route.provider);
  }

  get lastReportedModel(): string | null {
    return this.built?.lastReportedModel ?? null;
  }

  status(): BreakerStatus | null {
    return this.built?.status() ?? null;
  }

  isBuilt(): boolean {
    return this.built !== undefined;
  }

  async classify(input: ClassifyInput): Promise<ModelClassification> {
    return (await this.get()).classify(input);
  }

  private get(): Promise<CircuitBreakingClassifier> {
    if (this.built !== undefined) return Promise.resolve(this.built);
    this.building ??= this.make().then(
      (c) => (this.built = c),
      (e: unknown) => {
        // A failed build (weights missing, a bad URL) is tried again on the next image rather than remembered.
        this.building = undefined;
        throw e;
      },
    );
    return this.building;
  }
}

export class RoutingClassifier implements ProfileRoutedClassifier {
  private readonly routes: ModelRoutes;
  private readonly defaultClassifier: CircuitBreakingClassifier;
  private readonly lazy = new Map<string, LazyRouteClassifier>();

  constructor(o: RoutingClassifierOptions) {
    this.routes = o.routes;
    this.defaultClassifier = o.defaultClassifier;
    for (const route of o.routes.all) {
      if (route.isDefault) continue;
      this.lazy.set(route.key, new LazyRouteClassifier(route, async () => o.breaker(route, await o.build(route))));
    }
  }

  /** The default route's identity: what a caller without a profile (GET /api/profiles' `model`) reports. */
  get info(): ModelInfo {
    return this.defaultClassifier.info;
  }

  get supportedKinds(): Classifier['supportedKinds'] {
    return this.defaultClassifier.supportedKinds;
  }

  get lastReportedModel(): string | null {
    return this.defaultClassifier.lastReportedModel;
  }

  get capabilities(): Classifier['capabilities'] {
    return this.defaultClassifier.capabilities;
  }

  forProfile(profile: Pick<Profile, 'name'>): Classifier {
    const route = this.routes.byProfile.get(profile.name);
    if (route === undefined || route.isDefault) return this.defaultClassifier;
    return this.lazy.get(route.key) ?? this.defaultClassifier;
  }

  classify(input: ClassifyInput): Promise<ModelClassification> {
    return this.forProfile(input.profile).classify(input);
  }

  /** Every route in use, for the health details. */
  status(): RouteStatus[] {
    return this.routes.all.map((route) => {
      const profiles = [...this.routes.byProfile].filter(([, r]) => r.key === route.key).map(([name]) => name);
      if (route.isDefault) return { key: route.key, provider: route.provider, deployment: route.deployment, isDefault: true, profiles, built: true, breaker: this.defaultClassifier.status() };
      const c = this.lazy.get(route.key);
      return { key: route.key, provider: route.provider, deployment: route.deployment, isDefault: false, profiles, built: c?.isBuilt() ?? false, breaker: c?.status() ?? null };
    });
  }
}
