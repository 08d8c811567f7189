/** Validates a model inference chat request like the service: MI's schema, the `extra-parameters` rule and the model's own limits. */
import type { ImageInfo } from '../fakeOpenAI/inspectImage';
import { inspectImage } from '../fakeOpenAI/inspectImage';
import { isPlainObject } from '../fakeOpenAI/jsonSchemaObject';
import { ServiceError } from '../fakeOpenAI/serviceError';
import type { ExtraParameters } from './foundryContract';
import { FOUNDRY_CONTENT_TYPES, FOUNDRY_REQUEST_PROPERTIES, FOUNDRY_RESPONSE_FORMATS, FOUNDRY_ROLES } from './foundryContract';
import { FoundryError, invalidInput, parameterNotSupported } from './foundryError';

export interface FoundryModelLimits {
  /** Images one user turn may carry (Phi-4-multimodal: 1, "If you add multiple images, it results in an error"). */
  imagesPerTurn: number;
  /** Whether the model takes `response_format: json_object` / `json_schema`; refused with 422 parameter_not_supported otherwise. */
  jsonMode: boolean;
  jsonSchema: boolean;
}

export interface ValidatedFoundryRequest {
  /** The body as the model sees it: unknown parameters removed under `drop`, kept under `pass-through`. */
  body: Record<string, unknown>;
  messages: Record<string, unknown>[];
  images: ImageInfo[];
  responseFormat: (typeof FOUNDRY_RESPONSE_FORMATS)[number];
  /** Top-level parameters MI does not define that reached the model (`pass-through`) or were dropped (`drop`). */
  extra: { passedThrough: string[]; dropped: string[] };
  maxTokens: number | undefined;
}

const PROPERTIES: ReadonlySet<string> = new Set(FOUNDRY_REQUEST_PROPERTIES);

export async function validateFoundryRequest(raw: unknown, extraParameters: ExtraParameters, limits: FoundryModelLimits): Promise<ValidatedFoundryRequest> {
  if (!isPlainObject(raw)) throw invalidInput('The request body must be a JSON object.');
  const unknown = Object.keys(raw).filter((k) => !PROPERTIES.has(k));
  if (unknown.length > 0 && extraParameters === 'error') {
    // GUESS (status and wording): the docs say only that the service errors on extra parameters under `error`.
    throw new FoundryError(422, {
      error: {
        code: 'extra_parameters_not_allowed',
        message: `Extra parameters [${unknown.map((k) => `'${k}'`).join(', ')}] are not allowed when extra-parameters is not set or set to be 'error'. Set extra-parameters to 'drop' or 'pass-through', or remove them.`,
      },
    });
  }
  const body = extraParameters === 'drop' ? Object.fromEntries(Object.entries(raw).filter(([k]) => PROPERTIES.has(k))) : { ...raw };

  const messages = body['messages'];
  if (!Array.isArray(messages) || messages.length === 0) throw invalidInput("'messages' is required and must hold at least one message.", 'messages');
  const images: ImageInfo[] = [];
  for (const [i, message] of messages.entries()) {
    if (!isPlainObject(message)) throw invalidInput(`'messages[${i}]' must be an object.`, `messages[${i}]`);
    const role = message['role'];
    if (typeof role !== 'string' || !(FOUNDRY_ROLES as readonly string[]).includes(role)) throw invalidInput(`'messages[${i}].role' must be one of ${FOUNDRY_ROLES.join(', ')}.`, `messages[${i}].role`);
    const content = message['content'];
    if (role === 'system' || role === 'developer' || (role === 'assistant' && content !== undefined && content !== null)) {
      if (typeof content !== 'string') throw invalidInput(`'messages[${i}].content' must be a string for role ${role}.`, `messages[${i}].content`);
      continue;
    }
    if (role !== 'user') continue;
    if (typeof content === 'string') continue;
    if (!Array.isArray(content)) throw invalidInput(`'messages[${i}].content' must be a string or an array of content items.`, `messages[${i}].content`);
    let turnImages = 0;
    for (const [j, part] of content.entries()) {
      const param = `messages[${i}].content[${j}]`;
      if (!isPlainObject(part) || typeof part['type'] !== 'string' || !(FOUNDRY_CONTENT_TYPES as readonly string[]).includes(part['type'])) {
        throw invalidInput(`'${param}.type' must be one of ${FOUNDRY_CONTENT_TYPES.join(', ')}.`, param);
      }
      if (part['type'] === 'text' && typeof part['text'] !== 'string') throw invalidInput(`'${param}.text' must be a string.`, param);
      if (part['type'] === 'image_url') {
        turnImages++;
        images.push(await asFoundryError(() => inspectImage(part['image_url'], param)));
      }
    }
    if (turnImages > limits.imagesPerTurn) {
      throw invalidInput(`This model supports at most ${limits.imagesPerTurn} image${limits.imagesPerTurn === 1 ? '' : 's'} per turn; messages[${i}] has ${turnImages}.`, `messages[${i}].content`);
    }
  }

  range(body, 'temperature', 0, 1);
  range(body, 'top_p', 0, 1);
  range(body, 'frequency_penalty', -2, 2);
  range(body, 'presence_penalty', -2, 2);
  const maxTokens = body['max_tokens'];
  if (maxTokens !== undefined && (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 0)) throw invalidInput("'max_tokens' must be a non-negative integer.", 'max_tokens');
  if (body['model'] !== undefined && typeof body['model'] !== 'string') throw invalidInput("'model' must be a string.", 'model');
  if (body['stream'] === true) throw invalidInput('The fake Foundry endpoint does not implement streaming (stream: true).', 'stream');

  const format = body['response_format'];
  let responseFormat: ValidatedFoundryRequest['responseFormat'] = 'text';
  if (format !== undefined) {
    const type = isPlainObject(format) ? format['type'] : undefined;
    if (typeof type !== 'string' || !(FOUNDRY_RESPONSE_FORMATS as readonly string[]).includes(type)) {
      throw invalidInput(`'response_format.type' must be one of ${FOUNDRY_RESPONSE_FORMATS.join(', ')}.`, 'response_format');
    }
    responseFormat = type as ValidatedFoundryRequest['responseFormat'];
    if (responseFormat === 'json_schema') {
      const def = (format as Record<string, unknown>)['json_schema'];
      if (!isPlainObject(def) || typeof def['name'] !== 'string' || !isPlainObject(def['schema'])) {
        throw invalidInput("'response_format.json_schema' needs 'name' and 'schema'.", 'response_format');
      }
      if (!limits.jsonSchema) throw parameterNotSupported('response_format', 'json_schema');
    }
    if (responseFormat === 'json_object' && !limits.jsonMode) throw parameterNotSupported('response_format', 'json_object');
  }

  const extra = unknown.length === 0 ? { passedThrough: [], dropped: [] } : extraParameters === 'drop' ? { passedThrough: [], dropped: unknown } : { passedThrough: unknown, dropped: [] };
  return { body, messages: messages as Record<string, unknown>[], images, responseFormat, extra, maxTokens };
}

function range(body: Record<string, unknown>, name: string, min: number, max: number): void {
  const v = body[name];
  if (v === undefined) return;
  if (typeof v !== 'number' || v < min || v > max) throw invalidInput(`'${name}' must be a number in [${min}, ${max}].`, name);
}

/** inspectImage speaks the OpenAI envelope; the same refusal in MI's. */
async function asFoundryError<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof ServiceError) throw invalidInput(e.message, typeof e.body.error['param'] === 'string' ? e.body.error['param'] : undefined);
    throw e;
  }
}
