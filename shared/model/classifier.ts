/** The classifier seam: the pipeline asks a Classifier, and tests or other providers can stand in for the OpenAI one. */
import type { PreprocessedImage } from '../preprocess/preprocessedImage';
import type { Profile, ProfileKind } from '../profiles/profileSchema';
import type { ModelClassification, ModelInfo } from './classification';
import type { ModelAttemptHooks } from './modelAttempts';
import type { ProviderCapabilities } from './providers/capabilities';

export interface ClassifyInput {
  image: PreprocessedImage;
  profile: Profile;
  /** Aborts the model call (e.g. the caller's deadline); the SDK stops waiting and retrying. */
  signal?: AbortSignal;
  /** Gates and counts each paid request (SDK retries included) against the caller's deadline; providers that bill nothing ignore it. */
  attempts?: ModelAttemptHooks;
}

export interface Classifier {
  readonly info: ModelInfo;
  /** Profile kinds this provider can answer; the pipeline rejects others with a reason saying how to configure a model. */
  readonly supportedKinds: readonly ProfileKind[];
  /** The model version the service last reported (a response's `model`); null or absent until one answered. */
  readonly lastReportedModel?: string | null;
  /** What the provider can do (strict schemas, logprobs, images per turn, ...); absent for stand-ins, which count as OpenAI-like. */
  readonly capabilities?: ProviderCapabilities | undefined;
  /**
   * Classifies one image for one profile. Throws TransientError when retrying later can help (throttling, 5xx,
   * timeouts) and PermanentError when it cannot (content filter, invalid image, an answer that stays invalid).
   */
  classify(input: ClassifyInput): Promise<ModelClassification>;
}
