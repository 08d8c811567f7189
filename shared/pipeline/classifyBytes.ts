/** Preprocess then classify one image's bytes: the core shared by the Event Grid flow and on-demand HTTP classify. */
import { PermanentError } from '../errors';
import type { ModelClassification } from '../model/classification';
import type { Classifier, ClassifyInput } from '../model/classifier';
import type { ModelAttemptHooks } from '../model/modelAttempts';
import { classifierFor } from '../model/routing/RoutingClassifier';
import { preprocessImage } from '../preprocess';
import type { PreprocessedImage } from '../preprocess/preprocessedImage';
import type { Profile } from '../profiles/profileSchema';
import { inSpan } from '../telemetry/inSpan';
import { decideStatus } from './decideStatus';
import type { Preprocess } from './preprocessAhead';
import type { StageRecorder } from './stageRecorder';
import { timed } from './stageRecorder';

export interface ClassifyBytesDeps {
  classifier: Classifier;
  limits: { maxBytes: number; maxPixels: number };
  /** Default `preprocessImage`; the Event Grid flow passes one already under way (`preprocessAhead`). */
  preprocess?: Preprocess;
  /** Times the model call (the perf bench); absent in production. */
  stages?: StageRecorder;
}

export interface ClassifyBytesResult {
  status: 'classified' | 'needs_review';
  image: PreprocessedImage;
  classification: ModelClassification;
  /** preprocessMs: how long classification waited for preprocessing (less than its run when it was started ahead). */
  timings: { preprocessMs: number; modelMs: number };
}

/** Throws PermanentError for bad input or a refused answer, TransientError when trying again later can help. */
/** `attempts` gates and counts each paid model request (the Event Grid flow passes it; on-demand classify does not). */
export async function classifyBytes(bytes: Buffer, profile: Profile, deps: ClassifyBytesDeps, signal?: AbortSignal, attempts?: ModelAttemptHooks): Promise<ClassifyBytesResult> {
  // The profile's own model when it names one (profile `model`), else the configured one.
  const classifier = classifierFor(deps.classifier, profile);
  if (!classifier.supportedKinds.includes(profile.kind)) throw notSupported(profile, classifier);
  const t0 = performance.now();
  const image = await inSpan('preprocess', { 'blobsight.profile': profile.name }, () => (deps.preprocess ?? preprocessImage)(bytes, { detail: profile.detail, maxBytes: deps.limits.maxBytes, maxPixels: deps.limits.maxPixels }));
  const t1 = performance.now();
  const input: ClassifyInput = { image, profile, ...(signal === undefined ? {} : { signal }), ...(attempts === undefined ? {} : { attempts }) };
  const classification = await timed(deps.stages, 'model.classify', () => inSpan('model.classify', { 'blobsight.profile': profile.name, 'gen_ai.request.model': classifier.info.deployment }, async (span) => {
    const c = await classifier.classify(input);
    span.setAttributes({ 'gen_ai.usage.input_tokens': c.usage.promptTokens, 'gen_ai.usage.output_tokens': c.usage.completionTokens, 'blobsight.cost_usd': c.usage.costUsd ?? 0 });
    return c;
  }));
  const t2 = performance.now();
  return {
    status: decideStatus(classification, profile),
    image,
    classification,
    timings: { preprocessMs: round(t1 - t0), modelMs: round(t2 - t1) },
  };
}

/** Says which model to configure for a profile the current provider cannot answer. */
function notSupported(profile: Profile, classifier: Classifier): PermanentError {
  const how =
    profile.kind === 'objects'
      ? 'Object detection is served by the embedded local detector: unset MODEL_PROVIDER, AZURE_OPENAI_ENDPOINT and OPENAI_BASE_URL, or use a labelling profile.'
      : 'Configure a vision language model: AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_DEPLOYMENT (Azure OpenAI, keyless), or OPENAI_BASE_URL and OPENAI_MODEL (any OpenAI-compatible endpoint).';
  return new PermanentError(
    'profile_not_supported',
    `Profile "${profile.name}" (${profile.kind}) cannot be served by the configured model provider ${classifier.info.provider}, which handles ${classifier.supportedKinds.join(', ')}. ${how}`,
    { details: { profile: profile.name, kind: profile.kind, provider: classifier.info.provider } },
  );
}

export function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
