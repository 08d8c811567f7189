/** One line of a run's `predictions.jsonl`: what the CLI (or the service) answered for one image. */
import type { ClassificationResult, ConfidenceSource, ModelInfo } from '../model/classification';
import type { ImageReview } from '../store/imageDocument';

export type PredictionStatus = 'classified' | 'needs_review' | 'rejected' | 'failed';

export interface PredictionSource {
  /** `file`: a local file; `blob`: a blob in a container; `service`: a document the service stored. */
  kind: 'file' | 'blob' | 'service';
  /** Local path as given on the command line (file), or the blob URL (blob / service). */
  location: string;
  /** The service's document id, when the record came from (or was matched with) a stored document. */
  documentId?: string;
}

export interface PredictionRecord {
  /** Stable key the exports and the evaluator match on: the path relative to the source root, or the blob name. */
  name: string;
  source: PredictionSource;
  /** SHA-256 of the original bytes (hex); null only when the file could not be read at all. */
  sha256: string | null;
  size: number | null;
  profile: { name: string; version: string };
  status: PredictionStatus;
  /** The model's answer; null unless classified or needs_review. Boxes are in the original (upright) image's pixels. */
  result: ClassificationResult | null;
  /** A person's correction (imported from Label Studio, or the service's stored review); wins over `result` in exports. */
  review: ImageReview | null;
  confidence: number | null;
  confidenceSource: ConfidenceSource | null;
  /** Original (upright) image size and format, when the image could be decoded. */
  image: { width: number; height: number; format: string } | null;
  model: (ModelInfo & { reportedModel: string | null }) | null;
  usage: { promptTokens: number; completionTokens: number; cachedTokens?: number; costUsd: number | null; modelCalls: number };
  timings: { readMs: number | null; preprocessMs: number | null; modelMs: number | null; totalMs: number };
  /** Set when the answer was reused (same bytes earlier in this run, or the service's content cache): nothing was paid. */
  reused: { from: 'run' | 'service-cache' | 'service-document'; name?: string } | null;
  /** Why an image was rejected or failed, with the same codes the service stores. */
  error: { code: string; message: string } | null;
  /**
   * Optional (added by the CLI's labelling): the cost predicted before the model call, for summary.json's
   * estimate-vs-actual; prompt tokens by GPT-4o's tokenizer and the image-token rule, max_tokens as the output reserve.
   */
  estimate?: { promptTokens: number; maxTokens: number; costUsd: number | null };
  at: string;
}
