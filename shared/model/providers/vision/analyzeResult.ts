/** The part of `ImageAnalysisResult` (image-analysis-2023-10-01.json) the client reads, checked before it is believed. */
import { z } from 'zod';

const nonNegativeInt = z.number().int().min(0);

/** `DetectedObject`: a box in the analysed image's pixels and a "single-item list" of tags. */
const detectedObject = z.object({
  boundingBox: z.object({ x: nonNegativeInt, y: nonNegativeInt, w: nonNegativeInt, h: nonNegativeInt }),
  tags: z.array(z.object({ name: z.string().min(1), confidence: z.number().min(0).max(1) })),
});

export const analyzeResultSchema = z.object({
  metadata: z.object({ width: z.number().int().min(1), height: z.number().int().min(1) }),
  modelVersion: z.string(),
  // Optional in the spec (present for the features asked), required here: objects were asked for.
  objectsResult: z.object({ values: z.array(detectedObject) }),
});

export type AnalyzeResult = z.infer<typeof analyzeResultSchema>;
export type VisionObject = z.infer<typeof detectedObject>;

/** The parsed result, or why it cannot be used. */
export function parseAnalyzeResult(text: string): { ok: true; value: AnalyzeResult } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: `the response is not JSON: ${JSON.stringify(text.slice(0, 80))}` };
  }
  const r = analyzeResultSchema.safeParse(json);
  if (!r.success) return { ok: false, reason: `the response does not match ImageAnalysisResult: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
  return { ok: true, value: r.data };
}
