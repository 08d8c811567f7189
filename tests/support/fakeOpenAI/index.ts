/** Public face of the fake Azure OpenAI server used by integration tests. */
export { answerFromSchema } from './answerFromSchema';
export type { BatchOutcome, FakeBatch } from './batchesApi';
export type {
  AnswerContext,
  AnswerRule,
  FakeOpenAI,
  FakeOpenAIOptions,
  RecordedRequest,
} from './fakeOpenAIServer';
export { startFakeOpenAI } from './fakeOpenAIServer';
export type { Fault, FilterCategory } from './fault';
export type { FakeBatchControl } from './filesAndBatchesRoute';
export type { ImageInfo } from './inspectImage';
export type { JsonSchemaObject } from './jsonSchemaObject';
export { CACHE_INCREMENT, CACHE_MIN_TOKENS } from './promptCache';
export { imageTokens } from './promptTokens';
export { DEFAULT_CONFIDENCE, FORCED_TOKEN_LOGPROB } from './tokenize';
