/** Public names of the model client. */
export { buildMessages } from './buildMessages';
export { buildResponseFormat } from './buildResponseFormat';
export type { ClassificationResult, ConfidenceSource, Decision, ModelClassification, ModelInfo, ModelUsage } from './classification';
export type { Classifier, ClassifyInput } from './classifier';
export type { LogprobConfidence, TokenLogprob } from './confidenceFromLogprobs';
export { confidenceFromLogprobs } from './confidenceFromLogprobs';
export type { TokenUsage } from './costUsd';
export { costUsd } from './costUsd';
export type { OpenAIClientDeps } from './createOpenAIClient';
export { COGNITIVE_SERVICES_SCOPE, createOpenAIClient, KEYLESS_API_KEY_PLACEHOLDER } from './createOpenAIClient';
export { getCredential } from './getCredential';
export { mapModelError } from './mapModelError';
export { MAX_ANSWER_TOKENS, maxTokensFor } from './maxTokensFor';
export type { OpenAIClassifierOptions } from './openAIClassifier';
export { OpenAIClassifier } from './openAIClassifier';
export type { AnswerFailure, AnswerFailureReason, ParsedAnswer } from './parseAnswer';
export { parseAnswer } from './parseAnswer';
