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
import type { Classifier, ClassifyInput, ModelClassification, ModelInfo } from '../model';
import { costUsd } from '../model';
import { OpenAIClassifier } from '../model/openAIClassifier';
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
  readonly #serving = new AsyncLocalStorage<Serving>();
  /** Images answered from the batch, sent online, and left unanswered. */
  readonly counts = { fromBatch: 0, online: 0, unanswered: 0 };
  lastReportedModel: string | null = null;

  constructor(o: BatchAnswerClassifierOptions) {
    this.info = o.info;
    this.#results = o.results;
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
    this.#reader = new OpenAIClassifier({ client, info: o.info, model: o.info.deployment, prices: o.prices, logprobs: o.logprobs });
  }

  async classify(input: ClassifyInput): Promise<ModelClassification> {
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

  async #goOnline(input: ClassifyInput, why: string, paid: ChatCompletion | undefined): Promise<ModelClassification> {
    if (this.#online === undefined) {
      this.counts.unanswered++;
      throw new TransientError('model_unavailable', `No batch answer (${why}); listed for the next backfill, or label it online with --online-retry.`);
    }
    const online = await this.#online.classify(input);
    this.counts.online++;
    if (paid === undefined) return online;
    // The unusable batch answer was billed too, at batch prices.
    const usage = { promptTokens: paid.usage?.prompt_tokens ?? 0, completionTokens: paid.usage?.completion_tokens ?? 0 };
    const batchCost = costUsd(usage, paid.model, this.#prices, this.info.deployment);
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
