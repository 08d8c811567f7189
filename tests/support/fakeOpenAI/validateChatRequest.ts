/** Validates a chat-completions body like the service does, refusing with the service's 400 messages and codes. */
import type { ImageInfo } from './inspectImage';
import { inspectImage } from './inspectImage';
import type { JsonSchemaObject } from './jsonSchemaObject';
import { isPlainObject } from './jsonSchemaObject';
import {
  AZURE_MESSAGE_ROLES,
  AZURE_REQUEST_PROPERTIES,
  MAX_IMAGES_PER_REQUEST,
  MESSAGE_PROPERTIES,
  OPENAI_MESSAGE_ROLES,
  OPENAI_REQUEST_PROPERTIES,
  RESPONSE_FORMAT_NAME,
} from './serviceContract';
import { fakeUnsupported, invalidRequest, type Route, type ServiceError } from './serviceError';
import { validateStrictSchema } from './strictSchema';

export interface ValidatedChatRequest {
  body: Record<string, unknown>;
  messages: unknown[];
  images: ImageInfo[];
  responseFormat: 'text' | 'json_object' | 'json_schema';
  /** `response_format.json_schema.schema`; undefined unless the request sent one. */
  schema: JsonSchemaObject | undefined;
  strict: boolean;
  logprobs: boolean;
  /** Alternatives per token; 0 when `top_logprobs` was not sent. */
  topLogprobs: number;
  /** `max_completion_tokens` ?? `max_tokens`, when sent. */
  maxTokens: number | undefined;
  n: number;
  model: string | undefined;
}

type Body = Record<string, unknown>;

/** GPT-4o's output limit (2024-08-06 and 2024-11-20): a larger `max_tokens` is refused, not clamped. */
export const GPT_4O_MAX_OUTPUT_TOKENS = 16_384;

export interface ModelLimits {
  maxOutputTokens: number;
}

export async function validateChatRequest(body: unknown, route: Route, limits: ModelLimits = { maxOutputTokens: GPT_4O_MAX_OUTPUT_TOKENS }): Promise<ValidatedChatRequest> {
  if (!isPlainObject(body)) {
    throw invalidRequest(`Invalid type for request body: expected an object, but got ${typeName(body)} instead.`, null, 'invalid_type');
  }
  const accepted = route === 'azure' ? AZURE_REQUEST_PROPERTIES : OPENAI_REQUEST_PROPERTIES;
  const unknown = Object.keys(body).find((key) => !accepted.has(key));
  if (unknown !== undefined) throw invalidRequest(`Unrecognized request argument supplied: ${unknown}`);

  const model = optionalString(body, 'model');
  if (route === 'openai' && model === undefined) throw invalidRequest('you must provide a model parameter');

  const { messages, imageParts } = checkMessages(body, route);

  optionalNumber(body, 'temperature', 0, 2);
  optionalNumber(body, 'top_p', 0, 1);
  optionalNumber(body, 'presence_penalty', -2, 2);
  optionalNumber(body, 'frequency_penalty', -2, 2);
  const n = optionalInteger(body, 'n', 1, 128) ?? 1;
  const maxTokens = optionalInteger(body, 'max_tokens', 1, Number.MAX_SAFE_INTEGER);
  const maxCompletionTokens = optionalInteger(body, 'max_completion_tokens', 1, Number.MAX_SAFE_INTEGER);
  checkOutputLimit('max_tokens', maxTokens, limits.maxOutputTokens);
  checkOutputLimit('max_completion_tokens', maxCompletionTokens, limits.maxOutputTokens);
  optionalInteger(body, 'seed', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  optionalString(body, 'user');
  checkStop(body);
  checkLogitBias(body);
  const logprobs = optionalBoolean(body, 'logprobs') ?? false;
  const topLogprobs = optionalInteger(body, 'top_logprobs', 0, 20);
  if (topLogprobs !== undefined && !logprobs) {
    throw invalidRequest("Invalid value for 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is used.", 'top_logprobs', 'invalid_value');
  }
  const stream = optionalBoolean(body, 'stream') ?? false;
  if (body['stream_options'] !== undefined && body['stream_options'] !== null && !stream) {
    throw invalidRequest("The 'stream_options' parameter is only allowed when 'stream' is enabled.", 'stream_options', 'invalid_value');
  }
  if (stream) throw fakeUnsupported('streaming (stream: true)', 'stream');
  if (body['data_sources'] !== undefined) throw fakeUnsupported('Azure "On your data" (data_sources)', 'data_sources');
  optionalBoolean(body, 'parallel_tool_calls');
  checkTools(body);

  const format = checkResponseFormat(body);
  if (format.type === 'json_object' && !mentionsJson(messages)) {
    throw invalidRequest("'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.", 'messages');
  }

  if (imageParts.length > MAX_IMAGES_PER_REQUEST) {
    throw invalidRequest(
      `Too many images in request: ${imageParts.length}. At most ${MAX_IMAGES_PER_REQUEST} images are allowed per request.`,
      'messages',
      'too_many_images',
    );
  }
  const images: ImageInfo[] = [];
  for (const part of imageParts) images.push(await inspectImage(part.imageUrl, part.param));

  return {
    body,
    messages,
    images,
    responseFormat: format.type,
    schema: format.schema,
    strict: format.strict,
    logprobs,
    topLogprobs: topLogprobs ?? 0,
    maxTokens: maxCompletionTokens ?? maxTokens,
    n,
    model,
  };
}

/**
 * The service's answer to an output budget above the model's limit, as reported from Azure OpenAI for gpt-4o
 * (charmbracelet/catwalk#41): 400 invalid_request_error, `param` the field, `code` invalid_value.
 */
function checkOutputLimit(param: 'max_tokens' | 'max_completion_tokens', value: number | undefined, limit: number): void {
  if (value === undefined || value <= limit) return;
  throw invalidRequest(`${param} is too large: ${value}. This model supports at most ${limit} completion tokens, whereas you provided ${value}.`, param, 'invalid_value');
}

interface ImagePart {
  imageUrl: unknown;
  param: string;
}

function checkMessages(body: Body, route: Route): { messages: unknown[]; imageParts: ImagePart[] } {
  const messages = body['messages'];
  if (messages === undefined) throw invalidRequest("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter');
  if (!Array.isArray(messages)) throw typeError('messages', 'an array', messages);
  if (messages.length === 0) {
    throw invalidRequest("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", 'messages', 'empty_array');
  }
  const roles: readonly string[] = route === 'azure' ? AZURE_MESSAGE_ROLES : OPENAI_MESSAGE_ROLES;
  const imageParts: ImagePart[] = [];

  messages.forEach((message, i) => {
    const at = `messages[${i}]`;
    if (!isPlainObject(message)) throw typeError(at, 'an object', message);
    const role = message['role'];
    if (role === undefined) throw invalidRequest(`Missing required parameter: '${at}.role'.`, `${at}.role`, 'missing_required_parameter');
    if (typeof role !== 'string' || !roles.includes(role)) {
      throw invalidRequest(`Invalid value: ${JSON.stringify(role)}. Supported values are: ${quoteList(roles)}.`, `${at}.role`, 'invalid_value');
    }
    const allowed = MESSAGE_PROPERTIES[role] ?? [];
    const extra = Object.keys(message).find((k) => !allowed.includes(k));
    if (extra !== undefined) {
      throw invalidRequest(`Additional properties are not allowed ('${extra}' was unexpected) - 'messages.${i}'`, `${at}.${extra}`);
    }
    if (message['name'] !== undefined && typeof message['name'] !== 'string') throw typeError(`${at}.name`, 'a string', message['name']);

    const content = message['content'];
    const hasCall = message['tool_calls'] !== undefined || message['function_call'] !== undefined;
    if (content === undefined && !(role === 'assistant' && hasCall)) {
      throw invalidRequest(`Missing required parameter: '${at}.content'.`, `${at}.content`, 'missing_required_parameter');
    }
    if (content === null && role !== 'assistant' && role !== 'function') throw typeError(`${at}.content`, 'a string or array of objects', content);
    if (Array.isArray(content)) {
      if (role === 'function') throw typeError(`${at}.content`, 'a string', content);
      if (content.length === 0) {
        throw invalidRequest(
          `Invalid '${at}.content': empty array. Expected an array with minimum length 1, but got an empty array instead.`,
          `${at}.content`,
          'empty_array',
        );
      }
      const partTypes = role === 'user' ? ['text', 'image_url'] : role === 'assistant' ? ['text', 'refusal'] : ['text'];
      content.forEach((part, j) => checkPart(part, `${at}.content[${j}]`, partTypes, imageParts));
    } else if (content !== undefined && content !== null && typeof content !== 'string') {
      throw typeError(`${at}.content`, 'one of a string or array of objects', content);
    }

    if (role === 'tool' && typeof message['tool_call_id'] !== 'string') {
      throw invalidRequest(`Missing required parameter: '${at}.tool_call_id'.`, `${at}.tool_call_id`, 'missing_required_parameter');
    }
    if (role === 'function' && typeof message['name'] !== 'string') {
      throw invalidRequest(`Missing required parameter: '${at}.name'.`, `${at}.name`, 'missing_required_parameter');
    }
  });
  return { messages, imageParts };
}

function checkPart(part: unknown, at: string, partTypes: readonly string[], imageParts: ImagePart[]): void {
  if (!isPlainObject(part)) throw typeError(at, 'an object', part);
  const type = part['type'];
  if (type === undefined) throw invalidRequest(`Missing required parameter: '${at}.type'.`, `${at}.type`, 'missing_required_parameter');
  if (typeof type !== 'string' || !partTypes.includes(type)) {
    throw invalidRequest(`Invalid value: ${JSON.stringify(type)}. Supported values are: ${quoteList(partTypes)}.`, `${at}.type`, 'invalid_value');
  }
  const field = type;
  const extra = Object.keys(part).find((k) => k !== 'type' && k !== field);
  if (extra !== undefined) throw invalidRequest(`Unrecognized request argument supplied: ${at}.${extra}`, `${at}.${extra}`, 'unknown_parameter');
  const value = part[field];
  if (value === undefined) throw invalidRequest(`Missing required parameter: '${at}.${field}'.`, `${at}.${field}`, 'missing_required_parameter');
  if (type === 'image_url') {
    imageParts.push({ imageUrl: value, param: at });
    return;
  }
  if (typeof value !== 'string') throw typeError(`${at}.${field}`, 'a string', value);
}

interface ResponseFormat {
  type: ValidatedChatRequest['responseFormat'];
  schema: JsonSchemaObject | undefined;
  strict: boolean;
}

function checkResponseFormat(body: Body): ResponseFormat {
  const format = body['response_format'];
  if (format === undefined || format === null) return { type: 'text', schema: undefined, strict: false };
  if (!isPlainObject(format)) throw typeError('response_format', 'an object', format);
  const type = format['type'];
  if (type === undefined) {
    throw invalidRequest("Missing required parameter: 'response_format.type'.", 'response_format.type', 'missing_required_parameter');
  }
  if (type !== 'text' && type !== 'json_object' && type !== 'json_schema') {
    throw invalidRequest(
      `Invalid value: ${JSON.stringify(type)}. Supported values are: 'json_object', 'json_schema', and 'text'.`,
      'response_format.type',
      'invalid_value',
    );
  }
  const allowedKeys = type === 'json_schema' ? ['type', 'json_schema'] : ['type'];
  const extra = Object.keys(format).find((k) => !allowedKeys.includes(k));
  if (extra !== undefined) throw invalidRequest(`Unrecognized request argument supplied: response_format.${extra}`, `response_format.${extra}`, 'unknown_parameter');
  if (type !== 'json_schema') return { type, schema: undefined, strict: false };

  const spec = format['json_schema'];
  if (spec === undefined) {
    throw invalidRequest("Missing required parameter: 'response_format.json_schema'.", 'response_format.json_schema', 'missing_required_parameter');
  }
  if (!isPlainObject(spec)) throw typeError('response_format.json_schema', 'an object', spec);
  // The published spec also lists `type` as required here; the service does not require it (and the openai package
  // never sends it), so neither does the fake.
  const specExtra = Object.keys(spec).find((k) => !['name', 'description', 'schema', 'strict'].includes(k));
  if (specExtra !== undefined) {
    throw invalidRequest(
      `Unrecognized request argument supplied: response_format.json_schema.${specExtra}`,
      `response_format.json_schema.${specExtra}`,
      'unknown_parameter',
    );
  }
  const name = spec['name'];
  if (name === undefined) {
    throw invalidRequest("Missing required parameter: 'response_format.json_schema.name'.", 'response_format.json_schema.name', 'missing_required_parameter');
  }
  if (typeof name !== 'string') throw typeError('response_format.json_schema.name', 'a string', name);
  if (!RESPONSE_FORMAT_NAME.test(name)) {
    throw invalidRequest(
      `Invalid 'response_format.json_schema.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$' and is at most 64 characters long.`,
      'response_format.json_schema.name',
      'invalid_value',
    );
  }
  optionalString(spec, 'description', 'response_format.json_schema.description');
  const strict = optionalBoolean(spec, 'strict', 'response_format.json_schema.strict') ?? false;
  const schema = spec['schema'];
  if (schema !== undefined && !isPlainObject(schema)) throw typeError('response_format.json_schema.schema', 'an object', schema);
  if (strict) validateStrictSchema(schema, { param: 'response_format', name, kind: 'response_format' });
  return { type, schema: schema, strict };
}

function checkTools(body: Body): void {
  const tools = body['tools'];
  if (tools !== undefined) {
    if (!Array.isArray(tools)) throw typeError('tools', 'an array', tools);
    tools.forEach((tool, i) => {
      const at = `tools[${i}]`;
      if (!isPlainObject(tool)) throw typeError(at, 'an object', tool);
      if (tool['type'] !== 'function') {
        throw invalidRequest(`Invalid value: ${JSON.stringify(tool['type'])}. Supported values are: 'function'.`, `${at}.type`, 'invalid_value');
      }
      const fn = tool['function'];
      if (!isPlainObject(fn)) throw invalidRequest(`Missing required parameter: '${at}.function'.`, `${at}.function`, 'missing_required_parameter');
      checkFunction(fn, `${at}.function`);
    });
  }
  const functions = body['functions'];
  if (functions !== undefined) {
    if (!Array.isArray(functions)) throw typeError('functions', 'an array', functions);
    if (functions.length === 0 || functions.length > 128) {
      throw invalidRequest(`Invalid 'functions': expected an array with 1 to 128 items, but got ${functions.length}.`, 'functions', 'invalid_value');
    }
    functions.forEach((fn, i) => {
      if (!isPlainObject(fn)) throw typeError(`functions[${i}]`, 'an object', fn);
      checkFunction(fn, `functions[${i}]`);
    });
  }
  const choice = body['tool_choice'];
  if (choice !== undefined && choice !== 'none' && choice !== 'auto' && choice !== 'required') {
    const named = isPlainObject(choice) && choice['type'] === 'function' && isPlainObject(choice['function']) && typeof choice['function']['name'] === 'string';
    if (!named) throw invalidRequest("Invalid value for 'tool_choice': expected 'none', 'auto', 'required' or a named function.", 'tool_choice', 'invalid_value');
  }
  const call = body['function_call'];
  if (call !== undefined && call !== 'none' && call !== 'auto' && !(isPlainObject(call) && typeof call['name'] === 'string')) {
    throw invalidRequest("Invalid value for 'function_call': expected 'none', 'auto' or {\"name\": ...}.", 'function_call', 'invalid_value');
  }
}

function checkFunction(fn: Body, at: string): void {
  const name = fn['name'];
  if (typeof name !== 'string') throw invalidRequest(`Missing required parameter: '${at}.name'.`, `${at}.name`, 'missing_required_parameter');
  if (!RESPONSE_FORMAT_NAME.test(name)) {
    throw invalidRequest(`Invalid '${at}.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.`, `${at}.name`, 'invalid_value');
  }
  const extra = Object.keys(fn).find((k) => !['name', 'description', 'parameters', 'strict'].includes(k));
  if (extra !== undefined) throw invalidRequest(`Unrecognized request argument supplied: ${at}.${extra}`, `${at}.${extra}`, 'unknown_parameter');
  const parameters = fn['parameters'];
  if (parameters !== undefined && !isPlainObject(parameters)) throw typeError(`${at}.parameters`, 'an object', parameters);
  if (optionalBoolean(fn, 'strict', `${at}.strict`) === true) {
    validateStrictSchema(parameters, { param: `${at}.parameters`, name, kind: 'function' });
  }
}

function checkStop(body: Body): void {
  const stop = body['stop'];
  if (stop === undefined || stop === null || typeof stop === 'string') return;
  if (!Array.isArray(stop) || !stop.every((s) => typeof s === 'string')) throw typeError('stop', 'a string or array of strings', stop);
  if (stop.length < 1 || stop.length > 4) {
    throw invalidRequest(`Invalid 'stop': expected an array with 1 to 4 items, but got ${stop.length}.`, 'stop', stop.length < 1 ? 'empty_array' : 'array_above_max_length');
  }
}

function checkLogitBias(body: Body): void {
  const bias = body['logit_bias'];
  if (bias === undefined || bias === null) return;
  if (!isPlainObject(bias)) throw typeError('logit_bias', 'an object', bias);
  for (const [token, value] of Object.entries(bias)) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < -100 || value > 100) {
      throw invalidRequest(`Invalid 'logit_bias': the bias for token ${token} must be an integer from -100 to 100.`, 'logit_bias', 'invalid_value');
    }
  }
}

function optionalNumber(body: Body, key: string, min: number, max: number): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw typeError(key, 'a decimal', value);
  if (value > max) throw rangeError(key, 'decimal', 'above maximum', `<= ${max}`, value);
  if (value < min) throw rangeError(key, 'decimal', 'below minimum', `>= ${min}`, value);
  return value;
}

function optionalInteger(body: Body, key: string, min: number, max: number): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw typeError(key, 'an integer', value);
  if (value > max) throw rangeError(key, 'integer', 'above maximum', `<= ${max}`, value);
  if (value < min) throw rangeError(key, 'integer', 'below minimum', `>= ${min}`, value);
  return value;
}

function optionalBoolean(body: Body, key: string, param = key): boolean | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw typeError(param, 'a boolean', value);
  return value;
}

function optionalString(body: Body, key: string, param = key): string | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw typeError(param, 'a string', value);
  return value;
}

function rangeError(param: string, kind: 'decimal' | 'integer', side: string, expected: string, value: number): ServiceError {
  const code = `${kind}_${side.replace(' maximum', '_max').replace(' minimum', '_min')}_value`;
  return invalidRequest(`Invalid '${param}': ${kind} ${side} value. Expected a value ${expected}, but got ${value} instead.`, param, code);
}

function typeError(param: string, expected: string, value: unknown): ServiceError {
  return invalidRequest(`Invalid type for '${param}': expected ${expected}, but got ${typeName(value)} instead.`, param, 'invalid_type');
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a decimal';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function quoteList(values: readonly string[]): string {
  const quoted = values.map((v) => `'${v}'`);
  if (quoted.length <= 1) return quoted.join('');
  return `${quoted.slice(0, -1).join(', ')}, and ${quoted[quoted.length - 1] ?? ''}`;
}

/** Only the texts count: base64 image data could spell "json" by chance. */
function mentionsJson(messages: unknown[]): boolean {
  return messages.some((m) => {
    const content = (m as { content?: unknown }).content;
    if (typeof content === 'string') return /json/i.test(content);
    if (!Array.isArray(content)) return false;
    return content.some((part) => isPlainObject(part) && typeof part['text'] === 'string' && /json/i.test(part['text']));
  });
}
