/** The Classifier on the openai SDK: one structured-output chat completion per image, asked once more if the answer is unusable. */
import type OpenAI from 'openai';
import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming, ChatCompletionMessageParam } from 'openai/resources/chat/completions';

import type { ModelPrice } from '../config';
import { DEFAULTS } from '../config';
import { PermanentError } from '../errors';
import type { LabelProfile, Profile, ProfileKind } from '../profiles/profileSchema';
import type { UprightSize } from './boxGrid';
import { buildChatRequest } from './buildChatRequest';
import type { ClassificationResult, ConfidenceSource, ModelClassification, ModelInfo } from './classification';
import type { Classifier, ClassifyInput } from './classifier';
import { confidenceFromLogprobs } from './confidenceFromLogprobs';
import { costUsd } from './costUsd';
import { filteredCategories } from './filteredCategories';
import { mapModelError } from './mapModelError';
import { MAX_ANSWER_TOKENS } from './maxTokensFor';
import type { ModelAttemptHooks } from './modelAttempts';
import { runGated } from './modelAttempts';
import { parseAnswer } from './parseAnswer';
import { parseDetectionAnswer } from './parseDetectionAnswer';
import { adaptChatRequest } from './providers/adaptChatRequest';
import type { ProviderCapabilities } from './providers/capabilities';
import { providerCapabilities } from './providers/capabilities';
import { servesBoxes } from './servesBoxes';

export interface OpenAIClassifierOptions {
  /** From createOpenAIClient: carries endpoint, auth, SDK retries and timeout. */
  client: OpenAI;
  info: ModelInfo;
  /** Sent as `model`: the Azure deployment name, or the model name of an OpenAI-compatible endpoint. */
  model: string;
  /** Price table by model-name prefix (config `prices`). */
  prices: Readonly<Record<string, ModelPrice>>;
  /** Ask for token logprobs (MODEL_LOGPROBS); without them confidence is self-reported. */
  logprobs: boolean;
  /** The client's per-attempt timeout (MODEL_TIMEOUT_MS, default 20 s): an attempt is only started with this much time left. */
  timeoutMs?: number;
  /** What the endpoint can do; default: the table entry of `info.provider`. */
  capabilities?: ProviderCapabilities;
}

/** One unusable answer is asked about again; a second one fails the image. */
const MAX_CALLS = 2;
/** How much of an unusable answer is kept in the error details. */
const RAW_DETAIL_CHARS = 500;

type InvalidReason = 'no_choices' | 'length' | 'refusal' | 'empty' | 'invalid_json' | 'label_outside_set' | 'missing_field' | 'invalid_answer';

type Outcome =
  | { kind: 'ok'; result: ClassificationResult; confidence: number | null; confidenceSource: ConfidenceSource }
  | { kind: 'filtered'; categories: string[] }
  | { kind: 'invalid'; reason: InvalidReason; message: string; content: string | null };

export class OpenAIClassifier implements Classifier {
  readonly info: ModelInfo;
  /**
   * Detection only for profiles with a closed category list (driving-objects): the categories become an enum and the
   * boxes come on a 0–1000 grid (see boxGrid); an open-vocabulary `objects` profile is refused in classify.
   */
  readonly supportedKinds: readonly ProfileKind[];
  readonly capabilities: ProviderCapabilities;
  private readonly client: OpenAI;
  private readonly model: string;
  private readonly prices: Readonly<Record<string, ModelPrice>>;
  private readonly logprobs: boolean;
  private readonly timeoutMs: number;
  /** Remembered so the content cache can tell an answer of another model version from a reusable one. */
  lastReportedModel: string | null = null;

  constructor(options: OpenAIClassifierOptions) {
    this.client = options.client;
    this.info = options.info;
    this.model = options.model;
    this.prices = options.prices;
    this.logprobs = options.logprobs;
    this.timeoutMs = options.timeoutMs ?? DEFAULTS.MODEL_TIMEOUT_MS;
    this.capabilities = options.capabilities ?? providerCapabilities(options.info.provider);
    this.supportedKinds = this.capabilities.boxes ? ['single-label', 'multi-label', 'attributes', 'objects'] : ['single-label', 'multi-label', 'attributes'];
  }

  async classify({ image, profile, signal, attempts }: ClassifyInput): Promise<ModelClassification> {
    if (profile.kind === 'objects' && !servesBoxes(profile)) {
      throw new PermanentError('profile_not_supported', `Profile "${profile.name}" detects objects without a category list, which ${this.info.provider} does not serve here; give the profile "categories", or set no model provider (the local detector).`);
    }
    // The one request builder: the CLI's dry run and the Batch export send exactly this too.
    // adaptChatRequest fits it to the provider (JSON mode and a prompt-described schema where strict schemas are not honoured).
    const request = adaptChatRequest(buildChatRequest(profile, image, { model: this.model, logprobs: this.logprobs }), this.capabilities);
    const messages = request.messages;

    let promptTokens = 0;
    let completionTokens = 0;
    let cachedTokens = 0;
    let reportedModel: string | null = null;
    const invalid: Extract<Outcome, { kind: 'invalid' }>[] = [];

    for (let calls = 1; ; calls++) {
      const previous = invalid.at(-1);
      const completion = await this.create(previous === undefined ? request : askAgain(request, messages, previous), signal, attempts);
      promptTokens += completion.usage?.prompt_tokens ?? 0;
      completionTokens += completion.usage?.completion_tokens ?? 0;
      cachedTokens += completion.usage?.prompt_tokens_details?.cached_tokens ?? 0;
      if (typeof completion.model === 'string' && completion.model !== '') {
        reportedModel = completion.model;
        this.lastReportedModel = completion.model;
      }

      const usage = {
        promptTokens,
        completionTokens,
        // Recorded only when the cache served something, so documents without it look as before.
        ...(cachedTokens > 0 ? { cachedTokens } : {}),
        costUsd: costUsd({ promptTokens, completionTokens, cachedTokens }, reportedModel, this.prices, this.model),
      };
      const outcome = this.interpret(profile, completion, image.original);

      if (outcome.kind === 'ok') {
        const { result, confidence, confidenceSource } = outcome;
        return { result, confidence, confidenceSource, usage, model: { ...this.info, reportedModel }, calls };
      }
      if (outcome.kind === 'filtered') {
        throw new PermanentError('content_filtered', 'The content filter withheld the model answer.', {
          details: { source: 'completion', categories: outcome.categories, usage, calls },
        });
      }
      invalid.push(outcome);
      if (calls >= MAX_CALLS) {
        throw new PermanentError('model_invalid_output', `The model answer stayed unusable after ${calls} calls: ${outcome.reason}: ${outcome.message}`, {
          details: {
            reason: outcome.reason,
            message: outcome.message,
            content: outcome.content?.slice(0, RAW_DETAIL_CHARS) ?? null,
            attempts: invalid.map((o) => ({ reason: o.reason, message: o.message })),
            usage,
            calls,
          },
        });
      }
    }
  }

  private async create(body: ChatCompletionCreateParamsNonStreaming, signal: AbortSignal | undefined, attempts: ModelAttemptHooks | undefined): Promise<ChatCompletion> {
    try {
      return await runGated(attempts, this.timeoutMs, signal, (s) => this.client.chat.completions.create(body, s === undefined ? undefined : { signal: s }));
    } catch (e) {
      throw mapModelError(e);
    }
  }

  private interpret(profile: Profile, completion: ChatCompletion, original: UprightSize): Outcome {
    const choice = completion.choices?.[0];
    if (choice === undefined) return { kind: 'invalid', reason: 'no_choices', message: 'the response has no choices', content: null };

    if (choice.finish_reason === 'content_filter') {
      // Azure adds `content_filter_results` to each choice; the openai types do not know it.
      const results = (choice as unknown as Record<string, unknown>)['content_filter_results'];
      return { kind: 'filtered', categories: filteredCategories(results) ?? [] };
    }

    const { content, refusal } = choice.message;
    if (typeof refusal === 'string' && refusal !== '') return { kind: 'invalid', reason: 'refusal', message: refusal, content: null };
    if (choice.finish_reason === 'length') {
      return { kind: 'invalid', reason: 'length', message: 'the answer was cut off at max_tokens', content };
    }
    if (content === null || content.trim() === '') return { kind: 'invalid', reason: 'empty', message: 'the answer is empty', content };

    const parsed = servesBoxes(profile) ? parseDetectionAnswer(profile, content, original) : parseAnswer(profile as LabelProfile, content);
    if (!parsed.ok) return { kind: 'invalid', reason: parsed.reason, message: parsed.message, content };

    // Box answers keep their self-reported scores: a logprob of digits says nothing about where an object is.
    const tokens = this.logprobs && this.capabilities.logprobs && profile.kind !== 'objects' ? choice.logprobs?.content : null;
    const fromLogprobs = tokens === null || tokens === undefined ? null : confidenceFromLogprobs(profile as LabelProfile, content, tokens);
    if (fromLogprobs !== null) return { kind: 'ok', ...fromLogprobs, confidenceSource: 'logprobs' };

    const self = parsed.selfReportedConfidence;
    return { kind: 'ok', result: parsed.result, confidence: self, confidenceSource: self === null ? 'none' : 'self-reported' };
  }
}

/**
 * The second call: the same request plus the unusable answer and what was wrong with it, which steers the
 * model better than repeating an identical temperature-0 request. An answer cut off at max_tokens gets room
 * to finish (twice the budget).
 */
function askAgain(
  request: ChatCompletionCreateParamsNonStreaming,
  messages: readonly ChatCompletionMessageParam[],
  previous: Extract<Outcome, { kind: 'invalid' }>,
): ChatCompletionCreateParamsNonStreaming {
  const echo: ChatCompletionMessageParam[] = previous.content === null || previous.content === '' ? [] : [{ role: 'assistant', content: previous.content }];
  const budget = request.max_tokens ?? MAX_ANSWER_TOKENS;
  return {
    ...request,
    messages: [
      ...messages,
      ...echo,
      {
        role: 'user',
        content: `That reply could not be used (${previous.reason}: ${previous.message}). Reply again with only the JSON object the response format describes, using only the listed labels.`,
      },
    ],
    max_tokens: previous.reason === 'length' ? Math.min(budget * 2, MAX_ANSWER_TOKENS) : budget,
  };
}
