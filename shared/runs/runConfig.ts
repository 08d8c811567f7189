/** `config.json` of a run: everything needed to say what produced its predictions, written once when the run starts. */
import type { ImageDetail } from '../profiles';

export interface RunConfig {
  /** The run folder's name: `<UTC time>-<name>`. */
  id: string;
  name: string;
  createdAt: string;
  cliVersion: string;
  profile: { name: string; version: string; kind: string; detail: ImageDetail; confidenceThreshold: number; maxObjects?: number };
  model: {
    provider: string;
    /** Azure deployment name, or the model name of an OpenAI-compatible endpoint; `centernet` style name for the local detector. */
    deployment: string;
    apiVersion: string | null;
    /** Request settings that change answers or spend. */
    maxTokens: number | null;
    logprobs: boolean | null;
  };
  /** SHA-256 of the exact system prompt, user text and response_format sent (null for the local detector, which is sent no prompt). */
  promptHash: string | null;
  /** SHA-256 of the profile definition as loaded (labels, prompt, thresholds). */
  profileHash: string;
  source: { kind: 'folder' | 'glob' | 'container' | 'service'; location: string };
  concurrency: number;
  maxCostUsd: number | null;
  limits: { maxBytes: number; maxPixels: number };
}
