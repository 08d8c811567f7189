/** The JSON answer a profile's response format asks for, built from a result: the assistant turn of a fine-tuning example. */
import { answerConfidenceKey } from '../model/answerConfidenceKey';
import { pixelBoxToGrid } from '../model/boxGrid';
import type { ClassificationResult } from '../model/classification';
import type { Profile } from '../profiles/profileSchema';

/**
 * Property order follows the response format (buildResponseFormat / buildDetectionResponseFormat), so the tuned model
 * learns the exact shape it is later constrained to. Boxes go back to the 0–1000 grid the model answers on.
 * Returns null when the result does not fit the profile (another kind, or boxes without the image size).
 */
export function answerForTraining(profile: Profile, result: ClassificationResult, confidence: number, size: { width: number; height: number } | null): string | null {
  const key = answerConfidenceKey(profile);
  const conf = Math.round(confidence * 100) / 100;
  switch (profile.kind) {
    case 'single-label':
      return result.kind === 'single-label' ? JSON.stringify({ label: result.label, [key]: conf }) : null;
    case 'multi-label': {
      if (result.kind !== 'multi-label') return null;
      const present = new Set(result.labels.map((d) => d.label));
      return JSON.stringify({ labels: Object.fromEntries(profile.labels.map((l) => [l.name, present.has(l.name)])), [key]: conf });
    }
    case 'attributes':
      if (result.kind !== 'attributes' || profile.attributes.some((a) => result.attributes[a.name] === undefined)) return null;
      return JSON.stringify({ ...Object.fromEntries(profile.attributes.map((a) => [a.name, result.attributes[a.name]?.label])), [key]: conf });
    case 'objects': {
      if (result.kind !== 'objects' || size === null) return null;
      const attrs = Object.fromEntries((profile.attributes ?? []).map((a) => [a.name, result.attributes?.[a.name]?.label ?? null]));
      if (Object.values(attrs).some((v) => v === null)) return null;
      const objects = result.objects.map((o) => ({ category: o.label, box: pixelBoxToGrid(o.box, size), score: Math.round(o.score * 100) / 100 }));
      return JSON.stringify({ ...attrs, objects, [key]: conf });
    }
  }
}
