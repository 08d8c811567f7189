/**
 * Groups concurrent classify() calls of a profile with `imagesPerRequest` > 1 into one multi-image request. An image
 * whose answer is missing, unusable or ambiguous (no self-estimate, or one below the profile's threshold) is asked
 * again alone through the single-image classifier; so is every image of a group whose request failed. Each image is
 * still classified exactly once per classify() call, so the caller's rules (labelRun: resume without paying twice,
 * identical bytes once) hold unchanged; the group's tokens and cost are shared equally among its images.
 *
 * `blobsight label` uses it as is: calls that carry attempt hooks (the service's gated, per-image billed path) go to
 * the single-image classifier. The service's coalescer (multiImageCoalescer.ts) sets `gateAttempts`: such calls are
 * grouped too, and the group request is gated and counted against every member's hooks.
 */
import type OpenAI from 'openai';
import type { ChatCompletion } from 'openai/resources/chat/completions';

import type { ModelPrice } from '../config';
import type { LabelProfile } from '../profiles/profileSchema';
import type { ModelClassification, ModelInfo } from './classification';
import type { Classifier, ClassifyInput } from './classifier';
import { costUsd } from './costUsd';
import type { ModelAttemptHooks } from './modelAttempts';
import { runGated } from './modelAttempts';
import { buildMultiImageRequest, MAX_IMAGES_PER_REQUEST, parseMultiImageAnswer } from './multiImageRequest';
import type { ParsedAnswer } from './parseAnswer';

export interface MultiImageClassifierOptions {
  client: OpenAI;
  info: ModelInfo;
  model: string;
  prices: Readonly<Record<string, ModelPrice>>;
  /** Asked for one image alone (the retry path), and for everything that is not grouped. */
  single: Classifier;
  /** How long the first image of a group waits for others before the request goes out with fewer. */
  windowMs?: number;
  /** Group calls that carry attempt hooks as well (the service); `client` must then use gatedFetch (createOpenAIClient). */
  gateAttempts?: boolean;
  /** The client's per-attempt timeout, for the gate's deadline check; default 20 s. */
  timeoutMs?: number;
}

interface Waiting {
  input: ClassifyInput & { profile: LabelProfile };
  resolve: (c: ModelClassification) => void;
  reject: (e: unknown) => void;
}

/** What one image got from the shared request: its share of the bill, and its answer if usable. */
interface Share {
  promptTokens: number;
  completionTokens: number;
  costUsd: number | null;
}

export class MultiImageClassifier implements Classifier {
  readonly info: ModelInfo;
  readonly supportedKinds: Classifier['supportedKinds'];
  readonly #o: MultiImageClassifierOptions;
  readonly #groups = new Map<string, { waiting: Waiting[]; timer: NodeJS.Timeout }>();
  /** Requests sent with several images, and images asked again alone. */
  readonly counts = { groupRequests: 0, groupedImages: 0, retriedAlone: 0 };
  #lastReported: string | null = null;

  constructor(o: MultiImageClassifierOptions) {
    this.#o = o;
    this.info = o.info;
    this.supportedKinds = o.single.supportedKinds;
  }

  get capabilities(): Classifier['capabilities'] {
    return this.#o.single.capabilities;
  }

  /** The version a group answer reported, else the single classifier's (the content cache compares it). */
  get lastReportedModel(): string | null {
    return this.#lastReported ?? this.#o.single.lastReportedModel ?? null;
  }

  classify(input: ClassifyInput): Promise<ModelClassification> {
    const profile = input.profile;
    const per = profile.kind === 'objects' ? 1 : Math.min(profile.imagesPerRequest ?? 1, MAX_IMAGES_PER_REQUEST);
    if (per <= 1 || (input.attempts !== undefined && this.#o.gateAttempts !== true) || profile.kind === 'objects') return this.#o.single.classify(input);
    return new Promise((resolve, reject) => {
      const key = `${profile.name}\u0000${profile.version}\u0000${input.image.detail}`;
      let group = this.#groups.get(key);
      if (group === undefined) {
        group = { waiting: [], timer: setTimeout(() => this.#flush(key), this.#o.windowMs ?? 25) };
        this.#groups.set(key, group);
      }
      group.waiting.push({ input: { ...input, profile }, resolve, reject });
      if (group.waiting.length >= per) this.#flush(key);
    });
  }

  #flush(key: string): void {
    const group = this.#groups.get(key);
    if (group === undefined) return;
    this.#groups.delete(key);
    clearTimeout(group.timer);
    void this.#run(group.waiting);
  }

  async #run(waiting: Waiting[]): Promise<void> {
    const first = waiting[0];
    if (first === undefined) return;
    if (waiting.length === 1) {
      this.#o.single.classify(first.input).then(first.resolve, first.reject);
      return;
    }
    const profile = first.input.profile;
    let completion: ChatCompletion | undefined;
    try {
      const request = buildMultiImageRequest(profile, waiting.map((w) => w.input.image), { model: this.#o.model });
      const signal = first.input.signal;
      const hooks = allOf(waiting.flatMap((w) => (w.input.attempts === undefined ? [] : [w.input.attempts])));
      completion = await runGated(hooks, this.#o.timeoutMs ?? 20_000, signal, (s) => this.#o.client.chat.completions.create(request, s === undefined ? undefined : { signal: s }));
      this.counts.groupRequests++;
      this.counts.groupedImages += waiting.length;
    } catch {
      // The whole request failed (throttled, filtered, refused): every image is asked alone, with its own retries.
      completion = undefined;
    }
    const n = waiting.length;
    const reported = typeof completion?.model === 'string' && completion.model !== '' ? completion.model : null;
    if (reported !== null) this.#lastReported = reported;
    const promptTokens = completion?.usage?.prompt_tokens ?? 0;
    const completionTokens = completion?.usage?.completion_tokens ?? 0;
    const cached = completion?.usage?.prompt_tokens_details?.cached_tokens ?? 0;
    const total = completion === undefined ? 0 : costUsd({ promptTokens, completionTokens, cachedTokens: cached }, reported, this.#o.prices, this.#o.model);
    const share: Share = { promptTokens: Math.round(promptTokens / n), completionTokens: Math.round(completionTokens / n), costUsd: total === null ? null : total / n };
    const choice = completion?.choices?.[0];
    const usable = choice !== undefined && choice.finish_reason === 'stop' && typeof choice.message.content === 'string';
    const answers = usable ? parseMultiImageAnswer(profile, choice.message.content ?? '', n) : [];

    await Promise.all(
      waiting.map(async (w, i) => {
        try {
          const a = answers[i];
          if (a?.ok === true && !ambiguous(a, profile)) {
            w.resolve({
              result: a.result,
              confidence: a.selfReportedConfidence,
              confidenceSource: 'self-reported',
              usage: { ...share },
              model: { ...this.#o.info, reportedModel: reported },
              calls: 1,
            });
            return;
          }
          this.counts.retriedAlone++;
          const alone = await this.#o.single.classify(w.input);
          w.resolve(completion === undefined ? alone : withShare(alone, share));
        } catch (e) {
          w.reject(e);
        }
      }),
    );
  }
}

/**
 * One request paid for several images: it counts as an attempt of each (each image's MAX_MODEL_ATTEMPTS and persisted
 * count), must fit the earliest deadline, and is uncounted for all when not billed. A member refusing (its cap, a
 * lost claim) stops the request: those already counted are uncounted, since nothing was sent.
 */
function allOf(hooks: readonly ModelAttemptHooks[]): ModelAttemptHooks | undefined {
  if (hooks.length === 0) return undefined;
  return {
    deadlineAt: Math.min(...hooks.map((h) => h.deadlineAt)),
    beforeAttempt: async () => {
      const counted: ModelAttemptHooks[] = [];
      try {
        for (const h of hooks) {
          await h.beforeAttempt();
          counted.push(h);
        }
      } catch (e) {
        for (const h of counted) h.notBilled();
        throw e;
      }
    },
    notBilled: () => {
      for (const h of hooks) h.notBilled();
    },
  };
}

/** No self-estimate, or one below the threshold: the single call (with logprob confidence) decides instead. */
function ambiguous(a: ParsedAnswer, profile: LabelProfile): boolean {
  return a.selfReportedConfidence === null || a.selfReportedConfidence < profile.confidenceThreshold;
}

function withShare(c: ModelClassification, share: Share): ModelClassification {
  return {
    ...c,
    usage: {
      ...c.usage,
      promptTokens: c.usage.promptTokens + share.promptTokens,
      completionTokens: c.usage.completionTokens + share.completionTokens,
      costUsd: c.usage.costUsd === null || share.costUsd === null ? null : c.usage.costUsd + share.costUsd,
    },
    calls: c.calls + 1,
  };
}
