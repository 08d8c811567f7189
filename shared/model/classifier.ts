/** The classifier seam: the pipeline asks a Classifier, and tests or other providers can stand in for the OpenAI one. */
import type { PreprocessedImage } from '../preprocess/preprocessedImage';
import type { Profile, ProfileKind } from '../profiles/profileSchema';
import type { ModelClassification, ModelInfo } from './classification';

export interface ClassifyInput {
  image: PreprocessedImage;
  profile: Profile;
  /** Aborts the model call (e.g. the caller's deadline); the SDK stops waiting and retrying. */
  signal?: AbortSignal;
}

export interface Classifier {
  readonly info: ModelInfo;
  /** Profile kinds this provider can answer; the pipeline rejects others with a reason saying how to configure a model. */
  readonly supportedKinds: readonly ProfileKind[];
  /**
   * Classifies one image for one profile. Throws TransientError when retrying later can help (throttling, 5xx,
   * timeouts) and PermanentError when it cannot (content filter, invalid image, an answer that stays invalid).
   */
  classify(input: ClassifyInput): Promise<ModelClassification>;
}
