/** The Classifier on Azure AI Vision Image Analysis 4.0: one `features=objects` request per image, for box profiles. */
import type { TokenCredential } from '@azure/identity';

import type { BlobsightError } from '../../../errors';
import { isPermanentError, isTransientError, PermanentError, TransientError } from '../../../errors';
import type { ProfileKind } from '../../../profiles/profileSchema';
import type { ModelClassification, ModelInfo } from '../../classification';
import type { Classifier, ClassifyInput } from '../../classifier';
import { COGNITIVE_SERVICES_SCOPE } from '../../createOpenAIClient';
import { gatedFetch, runGated } from '../../modelAttempts';
import type { ProviderCapabilities } from '../capabilities';
import { providerCapabilities } from '../capabilities';
import type { AnalyzeResult } from './analyzeResult';
import { parseAnalyzeResult } from './analyzeResult';
import { fitVisionLimits } from './fitVisionLimits';
import { toProfileObjects } from './toProfileObjects';
import { ANALYZE_PATH, OBJECTS_FEATURE, VISION_DEPLOYMENT } from './visionContract';
import { mapVisionError, visionHttpError } from './visionError';

export interface VisionClassifierOptions {
  /** `https://<resource>.cognitiveservices.azure.com`, without /computervision. */
  endpoint: string;
  apiVersion: string;
  /** Only when the user set VISION_API_KEY; otherwise `credential` signs each request. */
  apiKey?: string | undefined;
  credential?: TokenCredential | undefined;
  /** Per-attempt timeout, ms (MODEL_TIMEOUT_MS). */
  timeoutMs: number;
  /** Retries of a throttled (429) or failed (5xx, connection) request inside one classify (MODEL_MAX_RETRIES). */
  maxRetries: number;
  /** Price override, USD per 1,000 transactions (VISION_PRICE_PER_1000); default the capabilities table's list price. */
  usdPer1000?: number | undefined;
  fetch?: typeof fetch;
  /** Waits between retries; tests pass one that does not sleep. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** One malformed 200 is asked about again (it is billed, as every answered transaction is); a second fails the image. */
const MAX_ANSWERED_CALLS = 2;
/** Server waits longer than this are not slept inside one event: the error goes back to the pipeline (parked or redelivered). */
const MAX_RETRY_WAIT_MS = 60_000;

export class VisionClassifier implements Classifier {
  readonly info: ModelInfo;
  /** Boxes only: Image Analysis has no prompt, so labelling profiles are refused with a reason by the pipeline. */
  readonly supportedKinds: readonly ProfileKind[] = ['objects'];
  readonly capabilities: ProviderCapabilities = providerCapabilities('azure-ai-vision');
  lastReportedModel: string | null = null;
  private readonly options: VisionClassifierOptions;
  private readonly fetch: typeof fetch;
  private readonly usdPerTransaction: number;

  constructor(options: VisionClassifierOptions) {
    this.options = options;
    this.info = { provider: 'azure-ai-vision', deployment: VISION_DEPLOYMENT, apiVersion: options.apiVersion };
    this.fetch = gatedFetch(options.fetch ?? globalThis.fetch);
    this.usdPerTransaction = (options.usdPer1000 ?? this.capabilities.usdPer1000Transactions ?? 0) / 1000;
    if (options.apiKey === undefined && options.credential === undefined) throw new Error('VisionClassifier needs an apiKey or a credential.');
  }

  /**
   * The image is fitted to Vision's limits first (too small: `rejected`, nothing sent). The result's boxes are in the
   * original's pixels and named with the profile's classes; `confidence` is the lowest kept box score (null with no
   * boxes) with `confidenceSource: 'none'`, as for the local detector: each box carries the service's own confidence,
   * which is neither a token probability nor the model's estimate of the whole answer. No boxes is an answer too.
   */
  async classify({ image, profile, signal, attempts }: ClassifyInput): Promise<ModelClassification> {
    if (profile.kind !== 'objects') {
      throw new PermanentError('profile_not_supported', `Azure AI Vision only detects objects; profile "${profile.name}" is a ${profile.kind} profile. Serve it with a vision language model (azure-openai, azure-ai-foundry).`, {
        details: { provider: this.info.provider, profile: profile.name, kind: profile.kind, supportedKinds: [...this.supportedKinds] },
      });
    }
    const upload = await fitVisionLimits(image);
    let answered = 0;
    for (;;) {
      const text = await runGated(attempts, this.options.timeoutMs, signal, (gated) => this.analyze(upload.bytes, gated));
      answered++;
      const usage = { promptTokens: 0, completionTokens: 0, costUsd: answered * this.usdPerTransaction };
      const parsed = parseAnalyzeResult(text);
      if (parsed.ok) return this.toClassification(parsed.value, profile, image.original, usage, answered);
      if (answered >= MAX_ANSWERED_CALLS) {
        throw new PermanentError('model_invalid_output', `Azure AI Vision's answer stayed unusable after ${answered} calls: ${parsed.reason}`, {
          details: { reason: 'invalid_answer', message: parsed.reason, content: text.slice(0, 500), usage, calls: answered },
        });
      }
    }
  }

  private toClassification(result: AnalyzeResult, profile: Extract<ClassifyInput['profile'], { kind: 'objects' }>, original: { width: number; height: number }, usage: ModelClassification['usage'], calls: number): ModelClassification {
    this.lastReportedModel = result.modelVersion;
    const { objects, outsideProfile } = toProfileObjects(result, profile, original);
    const lowest = objects.reduce<number | null>((min, o) => (min === null || o.score < min ? o.score : min), null);
    return {
      result: { kind: 'objects', objects, ...(Object.keys(outsideProfile).length === 0 ? {} : { outsideProfile }) },
      confidence: lowest,
      confidenceSource: 'none',
      usage,
      model: { ...this.info, reportedModel: result.modelVersion },
      calls,
    };
  }

  /** One analyze request, retried on 429/5xx/connection faults up to maxRetries; returns the 200 body. */
  private async analyze(bytes: Buffer, signal: AbortSignal | undefined): Promise<string> {
    const url = `${this.options.endpoint}${ANALYZE_PATH}?api-version=${encodeURIComponent(this.options.apiVersion)}&features=${OBJECTS_FEATURE}`;
    for (let retry = 0; ; retry++) {
      let failure: BlobsightError;
      try {
        const headers: Record<string, string> = { 'content-type': 'application/octet-stream', accept: 'application/json' };
        if (this.options.apiKey !== undefined) headers['ocp-apim-subscription-key'] = this.options.apiKey;
        else headers['authorization'] = `Bearer ${await this.token()}`;
        const timeout = AbortSignal.timeout(this.options.timeoutMs);
        const response = await this.fetch(url, { method: 'POST', headers, body: new Uint8Array(bytes), signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]) });
        if (response.ok) return await response.text();
        failure = mapVisionError(await visionHttpError(response));
      } catch (e) {
        failure = this.mapThrown(e, signal);
      }
      const retryable = failure.code === 'model_throttled' || failure.code === 'model_unavailable';
      const wait = failure.retryAfterMs ?? Math.min(8_000, 500 * 2 ** retry);
      if (!retryable || retry >= this.options.maxRetries || wait > MAX_RETRY_WAIT_MS || signal?.aborted === true) throw failure;
      await (this.options.sleep ?? sleep)(wait, signal);
    }
  }

  private async token(): Promise<string> {
    const credential = this.options.credential as TokenCredential;
    try {
      const t = await credential.getToken(COGNITIVE_SERVICES_SCOPE);
      if (t === null) throw new Error('the credential returned no token');
      return t.token;
    } catch (e) {
      throw new TransientError('model_unavailable', `Could not get a token for Azure AI Vision: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }

  private mapThrown(e: unknown, signal: AbortSignal | undefined): BlobsightError {
    if (isTransientError(e) || isPermanentError(e)) return e;
    if (signal?.aborted === true) {
      const reason: unknown = signal.reason;
      if (isTransientError(reason) || isPermanentError(reason)) return reason;
      return new TransientError('model_timeout', 'The model call was aborted by the caller.', { cause: e, details: { aborted: true } });
    }
    if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) return new TransientError('model_timeout', `Azure AI Vision did not answer within ${this.options.timeoutMs} ms (MODEL_TIMEOUT_MS).`, { cause: e });
    return mapVisionError(e);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}
