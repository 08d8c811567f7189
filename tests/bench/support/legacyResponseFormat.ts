/** The response format before the token cuts (commit 79ebde5), for the bench's baseline. */
import type { ResponseFormatJSONSchema } from 'openai/resources/shared';

import { answerConfidenceKey } from '../../../shared/model/answerConfidenceKey';
import type { LabelProfile } from '../../../shared/profiles/profileSchema';

type JsonSchema = Record<string, unknown>;

const CONFIDENCE_DESCRIPTION = 'Your probability, from 0 to 1, that this whole answer is correct.';

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
 * The top-level confidence is the model's own estimate, used only when the endpoint returns no logprobs.
 * Label and field descriptions go in the prompt (buildMessages), not here, so they are not sent twice.
 */
export function legacyResponseFormat(profile: LabelProfile): ResponseFormatJSONSchema {
  const confidenceKey = answerConfidenceKey(profile);
  const confidence: JsonSchema = { type: 'number', description: CONFIDENCE_DESCRIPTION };

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

  return {
    type: 'json_schema',
    json_schema: {
      // Profile names are slugs of at most 63 characters, within the API's [a-zA-Z0-9_-]{1,64}.
      name: profile.name,
      strict: true,
      schema: strictObject({ ...answer, [confidenceKey]: confidence }),
    },
  };
}

function strictObject(properties: Record<string, JsonSchema>): JsonSchema {
  return { type: 'object', properties, required: Object.keys(properties), additionalProperties: false };
}

function enumOf(values: readonly string[]): JsonSchema {
  return { type: 'string', enum: [...values] };
}
