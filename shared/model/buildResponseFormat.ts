/** The structured-output contract sent to the model: a strict JSON schema whose enums are the profile's labels. */
import type { ResponseFormatJSONSchema } from 'openai/resources/shared';

import type { LabelProfile } from '../profiles/profileSchema';
import { answerConfidenceKey } from './answerConfidenceKey';

export type JsonSchema = Record<string, unknown>;

/**
 * Strict mode (the model can only emit what the schema allows) requires: an object at the root,
 * `additionalProperties: false` on every object, every property listed in `required`, and none of the
 * unsupported keywords (minimum/maximum/pattern/minItems...). So the confidence range 0..1 is stated in a
 * description and checked when parsing instead.
 *
 * Shapes (the self-estimate comes last so it is written after, and conditioned on, the answer):
 * - single-label: `{ label: <enum>, confidence: number }`
 * - multi-label:  `{ labels: { <label>: boolean, ... }, confidence: number }`. A boolean per label rather
 *   than an array of enums: an array only emits tokens for the labels it includes, so a label left out has
 *   no logprob at all, its odds depend on what was listed before it, and strict mode cannot forbid
 *   duplicates. A boolean per label forces an explicit, fixed-position decision for every label, so each
 *   one gets its own P(true) from the logprob of `true`/`false`.
 * - attributes:   `{ <field>: <enum of its labels>, ..., confidence: number }`
 *
 * The top-level confidence is the model's own estimate, used only when the endpoint returns no logprobs; what it
 * means is said once, in the system message, not again as a description here. Label and field descriptions go in
 * the prompt (buildMessages) and label names only here, so nothing is sent twice (a strict schema is prompt tokens).
 */
export function buildResponseFormat(profile: LabelProfile): ResponseFormatJSONSchema {
  return { type: 'json_schema', json_schema: { name: profile.name, strict: true, schema: answerSchema(profile) } };
}

/** The strict schema of one image's answer (also each image's `$defs` entry in a multi-image request). */
export function answerSchema(profile: LabelProfile): JsonSchema {
  const confidenceKey = answerConfidenceKey(profile);
  const confidence: JsonSchema = { type: 'number' };

  let answer: Record<string, JsonSchema>;
  switch (profile.kind) {
    case 'single-label':
      answer = { label: enumOf(profile.labels.map((l) => l.name)) };
      break;
    case 'multi-label':
      answer = {
        labels: strictObject(Object.fromEntries(profile.labels.map((l) => [l.name, { type: 'boolean' }]))),
      };
      break;
    case 'attributes':
      answer = Object.fromEntries(profile.attributes.map((a) => [a.name, enumOf(a.labels.map((l) => l.name))]));
      break;
  }

  // (The schema's name is the profile name: slugs of at most 63 characters, within the API's [a-zA-Z0-9_-]{1,64}.)
  return strictObject({ ...answer, [confidenceKey]: confidence });
}

export function strictObject(properties: Record<string, JsonSchema>): JsonSchema {
  return { type: 'object', properties, required: Object.keys(properties), additionalProperties: false };
}

function enumOf(values: readonly string[]): JsonSchema {
  return { type: 'string', enum: [...values] };
}
