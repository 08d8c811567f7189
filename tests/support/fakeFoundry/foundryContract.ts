/**
 * The facts of the Azure AI Foundry model inference API the fake enforces, from ai-model-inference-2025-04-01.json
 * (MI) and the Foundry docs digested in CONTRACTS.md (e); tests/integration/fakeFoundry.test.ts checks them against the
 * spec file when it is present.
 */

/** MI's GA version, and the preview the Foundry REST how-to (mm-rest) uses. Anything else is refused. */
export const FOUNDRY_API_VERSIONS = ['2025-04-01', '2024-05-01-preview'] as const;

/** `ChatCompletionsOptions.properties` in MI: the only top-level parameters under `extra-parameters: error`. */
export const FOUNDRY_REQUEST_PROPERTIES = [
  'messages',
  'frequency_penalty',
  'stream',
  'presence_penalty',
  'temperature',
  'top_p',
  'max_tokens',
  'response_format',
  'stop',
  'tools',
  'tool_choice',
  'seed',
  'model',
] as const;

/** `ChatRole` in MI. */
export const FOUNDRY_ROLES = ['system', 'user', 'assistant', 'tool', 'developer'] as const;

/** `ChatMessageContentItem` discriminator values in MI. */
export const FOUNDRY_CONTENT_TYPES = ['text', 'image_url', 'input_audio', 'audio_url'] as const;

/** `ChatCompletionsResponseFormat` discriminator values in MI. */
export const FOUNDRY_RESPONSE_FORMATS = ['text', 'json_object', 'json_schema'] as const;

/** `ExtraParameters` in MI; `error` is the service default. */
export const FOUNDRY_EXTRA_PARAMETERS = ['error', 'drop', 'pass-through'] as const;
export type ExtraParameters = (typeof FOUNDRY_EXTRA_PARAMETERS)[number];

/** What the reported model calls itself: Phi-4-multimodal-instruct, the model issue 14 names. */
export const PHI_4_MULTIMODAL = 'Phi-4-multimodal-instruct';
