/**
 * A Classifier that answers from a finished batch: the completion Azure returned for the image's request is read by
 * the same OpenAIClassifier code as an online answer (strict parse, logprob confidence, content filter), so a batch
 * answer and an online answer of the same image become the same record. Unanswered images, and answers that turn out
 * unusable, go to the online classifier when one is given, or fail transiently (listed in failures.jsonl and sent
 * again by the next backfill) when not.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

import OpenAI from 'openai';
import type { ChatCompletion } from 'openai/resources/chat/completions';

import type { ModelPrice } from '../config';
import { TransientError } from '../errors';
import type { Classifier, ClassifyInput, ModelClassification, ModelInfo, ParsedAnswer } from '../model';
import { costUsd } from '../model';
import { parseMultiImageAnswer } from '../model/multiImageRequest';
import { OpenAIClassifier } from '../model/openAIClassifier';
import type { LabelProfile } from '../profiles/profileSchema';
import { groupKeyOf, groupMembers } from './groupCustomId';
import type { BatchLineResult } from './parseBatchOutput';

export interface BatchAnswerClassifierOptions {
  /** Per custom_id (the image's SHA-256): what the batch returned. */
  results: ReadonlyMap<string, BatchLineResult>;
  /** Prices of the Global-Batch deployment (batchPrices of the online table). */
  prices: Readonly<Record<string, ModelPrice>>;
  info: ModelInfo;
  logprobs: boolean;
  /** Asked for images the batch did not answer usably; none: such images fail and are listed. */
  online?: Classifier;
  /**
   * The model identity this classifier presents (`info`), when it is not the batch deployment's: storing into the
   * service, the online deployment's, so the content cache entry is the one the service's later events look up (the
   * Global-Batch deployment serves the same model). Documents still name the batch deployment that answered.
   */
  keyInfo?: ModelInfo;
  /** The profile the batch lines were built for; an image asked under another profile is not answered from them. */
  profile?: { name: string; version: string };
}

/** One image's place in a multi-image line. */
interface GroupSeat {
  customId: string;
  index: number;
  size: number;
}

interface Serving {
  completion: ChatCompletion;
  served: boolean;
  /** Set when the answer was unusable and OpenAIClassifier asked again: that second call is the online one's job. */
  wantsAnotherCall: boolean;
}

/** The marker error the serving fetch throws instead of a second request. */
class AnotherCallNeeded extends Error {
  override readonly name = 'AnotherCallNeeded';
}

export class BatchAnswerClassifier implements Classifier {
  readonly info: ModelInfo;
  readonly supportedKinds = ['single-label', 'multi-label', 'attributes', 'objects'] as const;
  readonly #results: ReadonlyMap<string, BatchLineResult>;
  readonly #prices: Readonly<Record<string, ModelPrice>>;
  readonly #online: Classifier | undefined;
  readonly #reader: OpenAIClassifier;
  readonly #batchInfo: ModelInfo;
  readonly #serving = new AsyncLocalStorage<Serving>();
  readonly #profile: { name: string; version: string } | undefined;
  /** Per image-hash prefix: its seat in a multi-image line. */
  readonly #seats = new Map<string, GroupSeat>();
  readonly #groupAnswers = new Map<string, (ParsedAnswer | { ok: false; message: string })[]>();
  /** Images answered from the batch, sent online, and left unanswered. */
  readonly counts = { fromBatch: 0, online: 0, unanswered: 0 };
  lastReportedModel: string | null = null;

  constructor(o: BatchAnswerClassifierOptions) {
    this.info = o.keyInfo ?? o.info;
    this.#profile = o.profile;
    this.#results = o.results;
    for (const customId of o.results.keys()) {
      const members = groupMembers(customId);
      members?.forEach((prefix, index) => this.#seats.set(prefix, { customId, index, size: members.length }));
    }
    this.#prices = o.prices;
    this.#online = o.online;
    const serve: typeof fetch = () => {
      const s = this.#serving.getStore();
      if (s === undefined || s.served) {
        if (s !== undefined) s.wantsAnotherCall = true;
        return Promise.reject(new AnotherCallNeeded('the batch answer was unusable'));
      }
      s.served = true;
      return Promise.resolve(new Response(JSON.stringify(s.completion), { status: 200, headers: { 'content-type': 'application/json' } }));
    };
    // No network: this client only replays completions the batch already returned.
    const client = new OpenAI({ baseURL: 'http://batch-output.invalid/v1', apiKey: 'unused', maxRetries: 0, fetch: serve, organization: null, project: null });
    this.#batchInfo = o.info;
    this.#reader = new OpenAIClassifier({ client, info: o.info, model: o.info.deployment, prices: o.prices, logprobs: o.logprobs });
  }

  async classify(input: ClassifyInput): Promise<ModelClassification> {
    if (this.#profile !== undefined && (input.profile.name !== this.#profile.name || input.profile.version !== this.#profile.version)) {
      return this.#goOnline(input, `the batch was built for profile ${this.#profile.name} ${this.#profile.version}, not ${input.profile.name} ${input.profile.version}`, undefined);
    }
    const seat = this.#seats.get(groupKeyOf(input.image.original.sha256));
    if (seat !== undefined && !this.#results.has(input.image.original.sha256)) return this.#fromGroup(input, seat);
    const line = this.#results.get(input.image.original.sha256);
    if (line?.kind !== 'answer') return this.#goOnline(input, line === undefined ? 'the batch output has no line for this image' : `${line.code}: ${line.message}`, undefined);
    const serving: Serving = { completion: line.completion, served: false, wantsAnotherCall: false };
    try {
      const answer = await this.#serving.run(serving, () => this.#reader.classify(input));
      this.counts.fromBatch++;
      this.lastReportedModel = answer.model.reportedModel;
      return answer;
    } catch (e) {
      if (!serving.wantsAnotherCall) throw e;
      return this.#goOnline(input, 'the batch answer was unusable', line.completion);
    }
  }

  /**
   * An image of a multi-image line: its own answer under its number, self-estimated confidence, and an equal share of
   * the line's bill. Missing, unusable or ambiguous (no estimate, or one below the threshold): asked again alone.
   */
  async #fromGroup(input: ClassifyInput, seat: GroupSeat): Promise<ModelClassification> {
    const line = this.#results.get(seat.customId);
    if (line?.kind !== 'answer') return this.#goOnline(input, line === undefined ? 'the batch output has no line for this image group' : `${line.code}: ${line.message}`, undefined);
    const completion = line.completion;
    const share = shareOf(completion, seat.size, this.#prices, this.#batchInfo.deployment);
    const profile = input.profile;
    if (profile.kind === 'objects') return this.#goOnline(input, 'a detection profile is not grouped', completion, share);
    let answers = this.#groupAnswers.get(seat.customId);
    if (answers === undefined) {
      const choice = completion.choices[0];
      const usable = choice !== undefined && choice.finish_reason === 'stop' && typeof choice.message.content === 'string';
      answers = usable ? parseMultiImageAnswer(profile, choice.message.content ?? '', seat.size) : Array.from({ length: seat.size }, () => ({ ok: false as const, message: `finish_reason ${choice?.finish_reason ?? 'none'}` }));
      this.#groupAnswers.set(seat.customId, answers);
    }
    const a = answers[seat.index];
    if (a?.ok !== true) return this.#goOnline(input, `no usable answer in its group: ${a?.message ?? 'missing'}`, completion, share);
    if (ambiguous(a, profile)) return this.#goOnline(input, 'its answer in the group was ambiguous', completion, share);
    this.counts.fromBatch++;
    const reported = typeof completion.model === 'string' && completion.model !== '' ? completion.model : null;
    if (reported !== null) this.lastReportedModel = reported;
    return { result: a.result, confidence: a.selfReportedConfidence, confidenceSource: 'self-reported', usage: { ...share }, model: { ...this.#batchInfo, reportedModel: reported }, calls: 1 };
  }

  async #goOnline(input: ClassifyInput, why: string, paid: ChatCompletion | undefined, paidShare?: Share): Promise<ModelClassification> {
    if (this.#online === undefined) {
      this.counts.unanswered++;
      throw new TransientError('model_unavailable', `No batch answer (${why}); listed for the next backfill, or label it online with --online-retry.`);
    }
    const online = await this.#online.classify(input);
    this.counts.online++;
    if (paid === undefined) return online;
    // The unusable batch answer was billed too, at batch prices (for a group line, this image's share of it).
    const share = paidShare ?? shareOf(paid, 1, this.#prices, this.#batchInfo.deployment);
    const usage = { promptTokens: share.promptTokens, completionTokens: share.completionTokens };
    const batchCost = share.costUsd;
    return {
      ...online,
      usage: {
        ...online.usage,
        promptTokens: online.usage.promptTokens + usage.promptTokens,
        completionTokens: online.usage.completionTokens + usage.completionTokens,
        costUsd: online.usage.costUsd === null || batchCost === null ? null : online.usage.costUsd + batchCost,
      },
      calls: online.calls + 1,
    };
  }
}

interface Share {
  promptTokens: number;
  completionTokens: number;
  costUsd: number | null;
}

/** An equal share of one line's tokens and batch-priced cost among the `n` images it carried. */
function shareOf(c: ChatCompletion, n: number, prices: Readonly<Record<string, ModelPrice>>, deployment: string): Share {
  const promptTokens = c.usage?.prompt_tokens ?? 0;
  const completionTokens = c.usage?.completion_tokens ?? 0;
  const total = costUsd({ promptTokens, completionTokens }, c.model, prices, deployment);
  return { promptTokens: Math.round(promptTokens / n), completionTokens: Math.round(completionTokens / n), costUsd: total === null ? null : total / n };
}

/** No self-estimate, or one below the threshold: the single online call (with logprob confidence) decides instead. */
function ambiguous(a: ParsedAnswer, profile: LabelProfile): boolean {
  return a.selfReportedConfidence === null || a.selfReportedConfidence < profile.confidenceThreshold;
}
