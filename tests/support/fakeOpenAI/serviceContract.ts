/**
 * The facts about the real service that the fake enforces, hand-coded so the fake works without the
 * reference specs; tests/integration/fakeOpenAISpec.test.ts checks them against the published OpenAPI file.
 */

export const AZURE_API_VERSIONS_DEFAULT = ['2024-10-21'] as const;

/** Top-level properties of `createChatCompletionRequest` in the Azure inference spec 2024-10-21 (all allOf parts). */
export const SPEC_REQUEST_PROPERTIES = [
  'data_sources',
  'frequency_penalty',
  'function_call',
  'functions',
  'logit_bias',
  'logprobs',
  'max_completion_tokens',
  'max_tokens',
  'messages',
  'n',
  'parallel_tool_calls',
  'presence_penalty',
  'response_format',
  'seed',
  'stop',
  'stream',
  'temperature',
  'tool_choice',
  'tools',
  'top_logprobs',
  'top_p',
  'user',
] as const;

/**
 * Accepted on the Azure route beyond the spec: the `openai` package leaves `model` in the body after moving it
 * into the URL, and the service ignores it.
 */
export const AZURE_EXTRA_REQUEST_PROPERTIES = ['model'] as const;

/** What api.openai.com accepts on top of the shared set; `data_sources` is Azure-only. */
export const OPENAI_EXTRA_REQUEST_PROPERTIES = [
  'model',
  'stream_options',
  'store',
  'metadata',
  'service_tier',
  'modalities',
  'prediction',
  'audio',
  'reasoning_effort',
] as const;

export const AZURE_REQUEST_PROPERTIES: ReadonlySet<string> = new Set([...SPEC_REQUEST_PROPERTIES, ...AZURE_EXTRA_REQUEST_PROPERTIES]);
export const OPENAI_REQUEST_PROPERTIES: ReadonlySet<string> = new Set([
  ...SPEC_REQUEST_PROPERTIES.filter((p) => p !== 'data_sources'),
  ...OPENAI_EXTRA_REQUEST_PROPERTIES,
]);

export const FINISH_REASONS = ['stop', 'length', 'tool_calls', 'content_filter', 'function_call'] as const;
export type FinishReason = (typeof FINISH_REASONS)[number];

/** Roles of `chatCompletionRequestMessage` (2024-10-21); OpenAI also takes `developer`. */
export const AZURE_MESSAGE_ROLES = ['system', 'user', 'assistant', 'tool', 'function'] as const;
export const OPENAI_MESSAGE_ROLES = [...AZURE_MESSAGE_ROLES, 'developer'] as const;

/** Allowed keys of each message kind (spec schemas chatCompletionRequest*Message). */
export const MESSAGE_PROPERTIES: Readonly<Record<string, readonly string[]>> = {
  system: ['role', 'content', 'name'],
  developer: ['role', 'content', 'name'],
  user: ['role', 'content', 'name'],
  assistant: ['role', 'content', 'refusal', 'name', 'tool_calls', 'function_call'],
  tool: ['role', 'content', 'tool_call_id'],
  function: ['role', 'content', 'name'],
};

export const IMAGE_DETAILS = ['auto', 'low', 'high'] as const;

/** Content filter categories that carry a severity (contentFilterResultsBase). */
export const SEVERITY_FILTER_CATEGORIES = ['hate', 'self_harm', 'sexual', 'violence'] as const;
export type FilterCategory = (typeof SEVERITY_FILTER_CATEGORIES)[number];
/** Detected-only categories the service reports for prompts (contentFilterPromptResults) and choices (contentFilterChoiceResults). */
export const PROMPT_DETECTED_FILTER_CATEGORIES = ['jailbreak'] as const;
export const CHOICE_DETECTED_FILTER_CATEGORIES = ['protected_material_code', 'protected_material_text'] as const;
export const FILTER_SEVERITIES = ['safe', 'low', 'medium', 'high'] as const;

/** Vision limits (Azure OpenAI quotas): per-image size, images per request, accepted data-URL types. */
export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;
export const MAX_IMAGES_PER_REQUEST = 10;
export const IMAGE_MIME_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'] as const;

/** json_schema.name rule from the spec description: a-z, A-Z, 0-9, underscores and dashes, at most 64. */
export const RESPONSE_FORMAT_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** Strict structured outputs: the JSON-schema subset and limits (Azure "structured outputs" how-to). */
export const STRICT_SUPPORTED_KEYWORDS: ReadonlySet<string> = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'enum',
  'const',
  'anyOf',
  '$ref',
  '$defs',
  'definitions',
  'description',
  'title',
]);
/** Allowed only on the root schema: metadata that generators such as zod's toJSONSchema emit. */
export const STRICT_ROOT_ONLY_KEYWORDS: ReadonlySet<string> = new Set(['$schema', '$id']);
/** Documented as unsupported in strict mode; any keyword outside the supported set is refused too. */
export const STRICT_UNSUPPORTED_KEYWORDS = [
  'minLength',
  'maxLength',
  'pattern',
  'format',
  'minimum',
  'maximum',
  'multipleOf',
  'patternProperties',
  'unevaluatedProperties',
  'propertyNames',
  'minProperties',
  'maxProperties',
  'unevaluatedItems',
  'contains',
  'minContains',
  'maxContains',
  'minItems',
  'maxItems',
  'uniqueItems',
] as const;
export const STRICT_TYPES: ReadonlySet<string> = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);
export const STRICT_LIMITS = {
  /** Object schemas nested along any path, the root object counting as level 1. */
  maxDepth: 5,
  maxTotalProperties: 100,
  maxTotalEnumValues: 500,
  /** A single string enum with more than this many values… */
  largeEnumValues: 250,
  /** …may total at most this many characters. */
  largeEnumMaxChars: 7_500,
  /** Property names, definition names, enum and const values together. */
  maxTotalStringChars: 15_000,
} as const;
