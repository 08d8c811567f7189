/** Puts a value outside its enum into the first enum field of an answer, as a model ignoring the schema would. */
import type { JsonSchemaObject } from './jsonSchemaObject';
import { deref, isPlainObject } from './jsonSchemaObject';

/** A copy of `answer` with the first enum slot (in schema order) holding `value`; undefined when the schema has none. */
export function placeOutsideEnum(answer: unknown, schema: JsonSchemaObject, value: string): unknown {
  const copy: unknown = structuredClone(answer);
  const result = place(copy, schema, schema, value, 0);
  return result.placed ? result.answer : undefined;
}

function hasEnum(root: JsonSchemaObject, schema: JsonSchemaObject): boolean {
  const node = deref(root, schema);
  return node.enum !== undefined || (node.anyOf ?? []).some((b) => deref(root, b).enum !== undefined);
}

function place(answer: unknown, schema: JsonSchemaObject, root: JsonSchemaObject, value: string, depth: number): { placed: boolean; answer: unknown } {
  if (depth > 32) return { placed: false, answer };
  const node = deref(root, schema);
  if (hasEnum(root, node)) return { placed: true, answer: value };

  const branches = [node, ...(node.anyOf ?? []).map((b) => deref(root, b))];
  for (const branch of branches) {
    if (isPlainObject(answer) && branch.properties !== undefined) {
      for (const [key, child] of Object.entries(branch.properties)) {
        if (!(key in answer)) continue;
        const result = place(answer[key], child, root, value, depth + 1);
        if (result.placed) {
          answer[key] = result.answer;
          return { placed: true, answer };
        }
      }
    }
    if (Array.isArray(answer) && branch.items !== undefined) {
      if (hasEnum(root, branch.items) && answer.length === 0) return { placed: true, answer: [value] };
      for (let i = 0; i < answer.length; i++) {
        const result = place(answer[i], branch.items, root, value, depth + 1);
        if (result.placed) {
          answer[i] = result.answer;
          return { placed: true, answer };
        }
      }
    }
  }
  return { placed: false, answer };
}
