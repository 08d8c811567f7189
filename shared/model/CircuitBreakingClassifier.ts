/**
 * Stops calling the model while it keeps refusing us for a configuration reason (401/403: identity or role, 404:
 * deployment), so a misconfigured app does not spend a call, a log line and a retry per image for 24 h. The
 * images are still handed back for redelivery: role assignments and new deployments take minutes to apply.
 */
import type { ErrorCode } from '../errors';
import { isModelMisconfiguration, isPermanentError, isTransientError, TransientError } from '../errors';
import type { Logger } from '../logging';
import type { ModelClassification, ModelInfo } from './classification';
import type { Classifier, ClassifyInput } from './classifier';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Consecutive misconfiguration failures that open the breaker (MODEL_BREAKER_THRESHOLD). */
  threshold: number;
  /** How long an open breaker refuses calls before it lets one trial call through (MODEL_BREAKER_COOLDOWN_MS). */
  cooldownMs: number;
  /** Where state changes and misconfiguration failures are logged, each naming the fix. */
  log: Logger;
  /** The configured endpoint, named in the log lines. */
  endpoint?: string | null;
  /** Injected clock (tests). */
  now?: () => number;
}

/** The last answer (or failure) seen from the model, for the health check. */
export interface ModelOutcome {
  outcome: 'ok' | 'error';
  /** ISO time of the outcome. */
  at: string;
  code?: ErrorCode;
  message?: string;
  /** What to change, for a misconfiguration. */
  fix?: string;
}

export interface BreakerStatus {
  state: BreakerState;
  consecutiveMisconfigurations: number;
  threshold: number;
  cooldownMs: number;
  /** ISO time the open breaker lets the next trial call through; null unless open. */
  retryAt: string | null;
  /** null until the model has been called. */
  last: ModelOutcome | null;
}

export class CircuitBreakingClassifier implements Classifier {
  readonly info: ModelInfo;
  readonly supportedKinds: Classifier['supportedKinds'];
  private readonly inner: Classifier;
  private readonly options: CircuitBreakerOptions;
  private readonly now: () => number;
  private state: BreakerState = 'closed';
  private consecutive = 0;
  private openedAt = 0;
  private trialInFlight = false;
  private lastOutcome: ModelOutcome | null = null;
  private lastMisconfiguration: TransientError | undefined;

  constructor(inner: Classifier, options: CircuitBreakerOptions) {
    this.inner = inner;
    this.info = inner.info;
    this.supportedKinds = inner.supportedKinds;
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  /** The wrapped provider's last reported model version: the content cache compares answers against it. */
  get lastReportedModel(): string | null {
    return this.inner.lastReportedModel ?? null;
  }

  /** The wrapped provider's capabilities, so callers behind the breaker can ask them too. */
  get capabilities(): Classifier['capabilities'] {
    return this.inner.capabilities;
  }

  async classify(input: ClassifyInput): Promise<ModelClassification> {
    const trial = this.admit();
    try {
      const result = await this.inner.classify(input);
      this.record({ outcome: 'ok', at: this.iso() });
      this.close();
      return result;
    } catch (e) {
      this.onFailure(e, trial);
      throw e;
    } finally {
      if (trial) this.trialInFlight = false;
    }
  }

  /** State for the health check; reading it moves an expired open breaker to half-open. */
  status(): BreakerStatus {
    this.refresh();
    return {
      state: this.state,
      consecutiveMisconfigurations: this.consecutive,
      threshold: this.options.threshold,
      cooldownMs: this.options.cooldownMs,
      retryAt: this.state === 'open' ? new Date(this.openedAt + this.options.cooldownMs).toISOString() : null,
      last: this.lastOutcome,
    };
  }

  /** Lets the call through (true when it is the half-open trial) or throws without touching the network. */
  private admit(): boolean {
    this.refresh();
    if (this.state === 'closed') return false;
    if (this.state === 'half-open' && !this.trialInFlight) {
      this.trialInFlight = true;
      return true;
    }
    const waitMs = this.state === 'open' ? Math.max(0, this.openedAt + this.options.cooldownMs - this.now()) : this.options.cooldownMs;
    const cause = this.lastMisconfiguration;
    const fix = fixOf(cause);
    throw new TransientError(
      'model_unavailable',
      `Model calls are suspended after ${this.options.threshold} consecutive ${cause?.code ?? 'misconfiguration'} failures; the next trial call is in ${Math.ceil(waitMs / 1000)} s.${fix === undefined ? '' : ` ${fix}`}`,
      { retryAfterMs: waitMs, details: { breaker: this.state, cause: cause?.code ?? null, ...(fix === undefined ? {} : { fix }) } },
    );
  }

  private onFailure(e: unknown, trial: boolean): void {
    if (isModelMisconfiguration(e)) {
      this.lastMisconfiguration = e;
      this.consecutive++;
      const fix = fixOf(e);
      this.record({ outcome: 'error', at: this.iso(), code: e.code, message: firstLine(e.message), ...(fix === undefined ? {} : { fix }) });
      this.options.log.error('model call refused: misconfiguration', {
        code: e.code,
        status: e.details?.['status'],
        provider: this.info.provider,
        deployment: this.info.deployment,
        endpoint: this.options.endpoint ?? null,
        consecutive: this.consecutive,
        threshold: this.options.threshold,
        fix,
      });
      if (trial || this.consecutive >= this.options.threshold) this.open();
      return;
    }
    const code = isTransientError(e) || isPermanentError(e) ? e.code : undefined;
    this.record({ outcome: 'error', at: this.iso(), ...(code === undefined ? {} : { code }), message: firstLine(e instanceof Error ? e.message : String(e)) });
    // Any other HTTP answer (429, 5xx, a content filter, an unusable answer) shows the endpoint knows us and the
    // deployment exists. A timeout or a connection fault shows nothing: the count stays, a failed trial re-opens.
    if (answeredByEndpoint(e)) this.close();
    else if (trial) this.open();
  }

  private open(): void {
    const wasOpen = this.state === 'open';
    this.state = 'open';
    this.openedAt = this.now();
    if (!wasOpen) {
      this.options.log.error('model circuit breaker open: calls suspended', {
        cause: this.lastMisconfiguration?.code,
        cooldownMs: this.options.cooldownMs,
        deployment: this.info.deployment,
        endpoint: this.options.endpoint ?? null,
        fix: fixOf(this.lastMisconfiguration),
      });
    }
  }

  private close(): void {
    if (this.state !== 'closed') this.options.log.info('model circuit breaker closed: the model answers again', { deployment: this.info.deployment });
    this.state = 'closed';
    this.consecutive = 0;
  }

  private refresh(): void {
    if (this.state === 'open' && this.now() - this.openedAt >= this.options.cooldownMs) this.state = 'half-open';
  }

  private record(outcome: ModelOutcome): void {
    this.lastOutcome = outcome;
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }
}

/** Permanent codes that only an answer from the model can produce (not e.g. `profile_not_supported`, decided before any call). */
const ANSWER_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['content_filtered', 'model_invalid_output', 'model_bad_request', 'invalid_image']);

function answeredByEndpoint(e: unknown): boolean {
  if (isPermanentError(e)) return ANSWER_CODES.has(e.code);
  return isTransientError(e) && typeof e.details?.['status'] === 'number';
}

function fixOf(e: TransientError | undefined): string | undefined {
  const fix = e?.details?.['fix'];
  return typeof fix === 'string' ? fix : undefined;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
