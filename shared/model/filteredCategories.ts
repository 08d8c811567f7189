/** Reads which categories an Azure OpenAI content-filter result blocked. */

/**
 * Names of the categories marked `filtered: true` in a content-filter result object
 * (`{ sexual: { filtered: true, severity: 'medium' }, violence: { filtered: false, ... }, jailbreak: {...} }`),
 * as found in `error.innererror.content_filter_result` and in `choices[].content_filter_results`.
 * Undefined when there is no such object.
 */
export function filteredCategories(results: unknown): string[] | undefined {
  if (typeof results !== 'object' || results === null) return undefined;
  return Object.entries(results)
    .filter(([, r]) => typeof r === 'object' && r !== null && (r as Record<string, unknown>)['filtered'] === true)
    .map(([category]) => category);
}
