/** The offline model provider: a COCO-80 object detector embedded in the process, for `objects` profiles. */
import sharp from 'sharp';

import { PermanentError, TransientError } from '../../errors';
import type { ProfileKind } from '../../profiles/profileSchema';
import type { ModelClassification, ModelInfo } from '../classification';
import type { Classifier, ClassifyInput } from '../classifier';
import { decodeDetections } from './decodeDetections';
import type { CenternetModel } from './loadCenternetModel';
import { CENTERNET_INPUT_SIZE, loadCenternetModel } from './loadCenternetModel';

export interface LocalDetectorOptions {
  /** Folder holding `centernet.json` and its weights. Default: the `models/` folder of @vladmandic/human. */
  modelDir?: string;
  /** Loads the model; tests pass a stand-in. Default: `loadCenternetModel`, memoised per folder for the process. */
  loadModel?: (modelDir: string | undefined) => Promise<CenternetModel>;
}

export class LocalDetectorClassifier implements Classifier {
  readonly info: ModelInfo = { provider: 'local-detector', deployment: 'centernet-coco80', apiVersion: null };
  readonly supportedKinds: readonly ProfileKind[] = ['objects'];
  private readonly modelDir: string | undefined;
  private readonly loadModel: (modelDir: string | undefined) => Promise<CenternetModel>;

  constructor(options: LocalDetectorOptions = {}) {
    this.modelDir = options.modelDir;
    this.loadModel = options.loadModel ?? loadCenternetModel;
  }

  /**
   * Detects objects in `image.jpeg` and returns the boxes scoring at least `profile.confidenceThreshold`, in the
   * original's pixels. The model is loaded on the first call, not at construction, so a worker that never sees an
   * `objects` profile never pays for it.
   *
   * The overall `confidence` is the lowest kept score (null with no boxes) with `confidenceSource: 'none'`: a
   * detector score is neither a token probability nor the model's own estimate of its answer, and each object keeps
   * its own score. The pipeline does not gate detections on it (the threshold already dropped the weaker boxes).
   */
  async classify({ image, profile, signal }: ClassifyInput): Promise<ModelClassification> {
    if (profile.kind !== 'objects') {
      throw new PermanentError(
        'profile_not_supported',
        `The local detector only detects objects; profile "${profile.name}" is a ${profile.kind} profile. To classify ` +
          'it, configure a vision model: AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_DEPLOYMENT (Azure OpenAI), or ' +
          'OPENAI_BASE_URL and OPENAI_MODEL (any OpenAI-compatible endpoint).',
        { details: { provider: this.info.provider, profile: profile.name, kind: profile.kind, supportedKinds: [...this.supportedKinds] } },
      );
    }
    throwIfAborted(signal);
    const [model, rgb] = await Promise.all([this.loadModel(this.modelDir), toModelInput(image.jpeg)]);
    throwIfAborted(signal);
    const objects = decodeDetections(model.detect(rgb), {
      inputSize: CENTERNET_INPUT_SIZE,
      original: image.original,
      minScore: profile.confidenceThreshold,
      categories: profile.categories,
      maxObjects: profile.maxObjects,
    });
    const lowest = objects.reduce<number | null>((min, o) => (min === null || o.score < min ? o.score : min), null);
    return {
      result: { kind: 'objects', objects },
      confidence: lowest,
      confidenceSource: 'none',
      usage: { promptTokens: 0, completionTokens: 0, costUsd: 0 },
      model: { ...this.info, reportedModel: 'centernet' },
      calls: 1,
    };
  }
}

/** A local detector reading its model from `options.modelDir` (default: the one shipped in @vladmandic/human). */
export function createLocalDetector(options: { modelDir?: string } = {}): LocalDetectorClassifier {
  return new LocalDetectorClassifier(options);
}

/**
 * Stretches the whole image to the model's square input, as @vladmandic/human does (no letterbox), so `scaleBox`
 * maps each axis back on its own. sRGB without alpha gives exactly three channels, greyscale included.
 */
async function toModelInput(jpeg: Buffer): Promise<Uint8Array> {
  const size = CENTERNET_INPUT_SIZE;
  try {
    const { data, info } = await sharp(jpeg, { failOn: 'error' })
      .removeAlpha()
      .toColourspace('srgb')
      .resize(size, size, { fit: 'fill' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.width !== size || info.height !== size || info.channels !== 3) {
      throw new Error(`decoded to ${info.width}x${info.height}x${info.channels}`);
    }
    return data;
  } catch (e) {
    throw new PermanentError('invalid_image', `The preprocessed image could not be decoded for the local detector: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    });
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) {
    throw new TransientError('model_timeout', 'The model call was aborted by the caller.', { details: { aborted: true } });
  }
}
