/** The strict structured-output schema for a detection profile answered by a vision model: boxes on the grid, plus attributes. */
import type { ResponseFormatJSONSchema } from 'openai/resources/shared';

import type { ObjectsProfile } from '../profiles/profileSchema';
import { answerConfidenceKey } from './answerConfidenceKey';
import { BOX_GRID } from './boxGrid';

type JsonSchema = Record<string, unknown>;

/**
 * `{ <attribute>: <enum>, ..., objects: [{ category: <enum>, box: { x1, y1, x2, y2 }, score }], confidence }`.
 * Attributes come first (short, whole-image decisions), the boxes next, the overall self-estimate last. Strict mode
 * allows no minimum/maximum, so the grid range is stated in descriptions and clamped when parsing; integers because
 * the grid is integer by design (fewer tokens than decimals, no spurious precision). Depth is 3 (root, object, box),
 * within strict mode's 5. Only for profiles with `categories`: an open vocabulary cannot be an enum.
 */
export function buildDetectionResponseFormat(profile: ObjectsProfile & { categories: readonly string[] }): ResponseFormatJSONSchema {
  const coordinate = (what: string): JsonSchema => ({ type: 'integer', description: `${what}, 0 to ${BOX_GRID} on the grid.` });
  const box = strictObject({
    x1: coordinate('Left edge'),
    y1: coordinate('Top edge'),
    x2: coordinate('Right edge'),
    y2: coordinate('Bottom edge'),
  });
  const object = strictObject({
    category: { type: 'string', enum: [...profile.categories] },
    box,
    score: { type: 'number', description: 'Your probability, from 0 to 1, that this box holds an object of this category.' },
  });
  const attributes = Object.fromEntries((profile.attributes ?? []).map((a) => [a.name, { type: 'string', enum: a.labels.map((l) => l.name) }]));
  return {
    type: 'json_schema',
    json_schema: {
      name: profile.name,
      strict: true,
      schema: strictObject({
        ...attributes,
        objects: { type: 'array', items: object },
        [answerConfidenceKey(profile)]: { type: 'number', description: 'Your probability, from 0 to 1, that this whole answer is correct.' },
      }),
    },
  };
}

function strictObject(properties: Record<string, JsonSchema>): JsonSchema {
  return { type: 'object', properties, required: Object.keys(properties), additionalProperties: false };
}
