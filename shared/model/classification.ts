/** What a classifier answers, independent of the provider that produced it. */

/** Where a confidence came from: token logprobs (calibrated-ish), the model's own estimate, or nowhere. */
export type ConfidenceSource = 'logprobs' | 'self-reported' | 'none';

export interface Decision {
  label: string;
  /** Probability in [0, 1] that this decision is right; null when the endpoint gave nothing to compute it from. */
  confidence: number | null;
}

/** A detected object; the box is in the original (upright) image's pixels. */
export interface DetectedObject {
  /** The category stored and queried: the BDD100K name where one exists (person → pedestrian), else the detector's own. */
  label: string;
  /** The detector's own class name (COCO-80 for the local detector). */
  detectorClass: string;
  score: number;
  box: { x1: number; y1: number; x2: number; y2: number };
}

export type ClassificationResult =
  | { kind: 'single-label'; label: string; confidence: number | null }
  /** `labels` holds the labels judged present, each with P(present). */
  | { kind: 'multi-label'; labels: Decision[] }
  | { kind: 'attributes'; attributes: Record<string, Decision> }
  /** `attributes` only for a profile that asks for them too (driving-objects), answered by a vision model. */
  | {
      kind: 'objects';
      objects: DetectedObject[];
      attributes?: Record<string, Decision>;
      /** Boxes the detector found whose class the profile does not have, by the detector's class name (Azure AI Vision); absent when none. */
      outsideProfile?: Record<string, number>;
    };

export interface ModelInfo {
  /** `azure-openai`, `openai-compatible` or `local-detector`. */
  provider: string;
  /** Azure deployment name, or the model name for OpenAI-compatible endpoints. */
  deployment: string;
  apiVersion: string | null;
}

export interface ModelUsage {
  promptTokens: number;
  completionTokens: number;
  /** Prompt tokens served from Azure's prompt cache (`usage.prompt_tokens_details.cached_tokens`), priced at the cached rate; absent when none. */
  cachedTokens?: number;
  /** From the configured price table; null when the model is not in it. */
  costUsd: number | null;
}

export interface ModelClassification {
  result: ClassificationResult;
  /** Overall confidence: the least confident decision. */
  confidence: number | null;
  confidenceSource: ConfidenceSource;
  /** Summed over every call made for this image (an invalid answer is asked again once). */
  usage: ModelUsage;
  model: ModelInfo & { /** The model name the endpoint reported, e.g. gpt-4o-2024-11-20. */ reportedModel: string | null };
  /** Model calls made (1, or 2 after one invalid answer). SDK-level retries of throttled calls are not counted here. */
  calls: number;
}
