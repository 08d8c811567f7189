/** Azure's content-filter annotations (`contentFilterPromptResults` / `contentFilterChoiceResults`), optionally flagging one category. */
import type { FilterCategory } from './serviceContract';
import { CHOICE_DETECTED_FILTER_CATEGORIES, PROMPT_DETECTED_FILTER_CATEGORIES, SEVERITY_FILTER_CATEGORIES } from './serviceContract';

export function contentFilterResults(kind: 'prompt' | 'choice', flagged?: FilterCategory): Record<string, unknown> {
  const results: Record<string, unknown> = {};
  for (const category of SEVERITY_FILTER_CATEGORIES) {
    results[category] = category === flagged ? { filtered: true, severity: 'high' } : { filtered: false, severity: 'safe' };
  }
  const detected = kind === 'prompt' ? PROMPT_DETECTED_FILTER_CATEGORIES : CHOICE_DETECTED_FILTER_CATEGORIES;
  for (const category of detected) results[category] = { filtered: false, detected: false };
  // The service lists categories alphabetically.
  return Object.fromEntries(Object.entries(results).sort(([a], [b]) => a.localeCompare(b)));
}
