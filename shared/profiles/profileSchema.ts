/** What a profile is: a named classification task, stored as a data file and validated here. */
import { z } from 'zod';

import { ROUTABLE_PROVIDERS, servedKinds } from '../model/providers/capabilities';

export const labelSchema = z.object({
  /** The exact string the model must answer with. */
  name: z.string().trim().min(1).max(100),
  /** Helps the model tell close labels apart; sent in the prompt. */
  description: z.string().trim().min(1).max(500).optional(),
});
export type Label = z.infer<typeof labelSchema>;

const labelList = z
  .array(labelSchema)
  .min(2, 'a profile needs at least two labels')
  .max(200)
  .refine((ls) => new Set(ls.map((l) => l.name)).size === ls.length, 'label names must be unique');

/** `"model": {"provider": "azure-ai-foundry", "deployment": "Phi-4-multimodal-instruct"}`; either field may be left out, not both. */
export const profileModelSchema = z
  .object({
    provider: z.enum(ROUTABLE_PROVIDERS, { error: (i) => `unknown model provider ${JSON.stringify(i.input)}; use one of ${ROUTABLE_PROVIDERS.join(', ')}` }).optional(),
    /** Azure deployment name (a fine-tuned deployment too), Foundry deployment, or the model name of an OpenAI-compatible endpoint. */
    deployment: z.string().trim().min(1).max(200).regex(/^[^/?#\s]+$/, 'a deployment name has no slashes, spaces, ? or #').optional(),
  })
  .strict()
  .refine((m) => m.provider !== undefined || m.deployment !== undefined, 'name a provider, a deployment, or both');
export type ProfileModel = z.infer<typeof profileModelSchema>;

const baseProfile = {
  /** Lower-case slug; also the blob path prefix that selects it (`images/<name>/...`). */
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'profile names are lower-case slugs: a-z, 0-9 and -'),
  /** Bump when labels or prompt change: cached answers are keyed by it. */
  version: z.string().trim().min(1).max(40),
  description: z.string().trim().max(500).optional(),
  /** Task-specific instruction; the label list and answer format are appended by the model client. */
  prompt: z.string().trim().min(1).max(4000),
  /** low: one 512-px view (85 tokens); high: 512-px tiles (85 + 170 per tile); auto: low for small images, else high. */
  detail: z.enum(['low', 'high', 'auto']),
  /** Results with a confidence below this end `needs_review` instead of `classified`. */
  confidenceThreshold: z.number().min(0).max(1),
  /**
   * Optional per-label review thresholds that replace `confidenceThreshold` for answers of that label, as
   * `blobsight evaluate --write-thresholds` sets them from measured precision. Keys: the label (single- and
   * multi-label), `<attribute>.<label>` (attributes). Detection profiles carry category keys: boxes are still kept by
   * `confidenceThreshold`, and a kept box below its category's threshold sends the image to review (decideStatus).
   */
  labelThresholds: z.record(z.string().min(1).max(200), z.number().min(0).max(1)).optional(),
  /**
   * Images classified in one model request by `blobsight label` (1-10; absent = 1). The shared prompt and schema are
   * paid once per request instead of once per image, at some risk to accuracy (see the README); not for `objects`.
   */
  imagesPerRequest: z.number().int().min(1).max(10).optional(),
  /**
   * Which model serves this profile; absent = MODEL_PROVIDER and its deployment. `provider` absent = MODEL_PROVIDER;
   * `deployment` absent = that provider's configured deployment (AZURE_OPENAI_DEPLOYMENT, FOUNDRY_MODEL, OPENAI_MODEL).
   * The provider's endpoint comes from its settings (AZURE_OPENAI_ENDPOINT, FOUNDRY_ENDPOINT, ...): a profile naming a
   * provider whose endpoint is not configured stops the app at start-up (shared/model/routing/resolveRoutes.ts).
   */
  model: profileModelSchema.optional(),
};

export const singleLabelProfileSchema = z.object({
  ...baseProfile,
  kind: z.literal('single-label'),
  labels: labelList,
});

export const multiLabelProfileSchema = z.object({
  ...baseProfile,
  kind: z.literal('multi-label'),
  labels: labelList,
});

export const attributeFieldSchema = z.object({
  /** JSON property name in the answer and in the stored result, e.g. `weather`. */
  name: z.string().regex(/^[a-z][a-zA-Z0-9_]{0,39}$/, 'attribute names are identifiers: a-z first, then letters, digits, _'),
  description: z.string().trim().min(1).max(500).optional(),
  labels: labelList,
});
export type AttributeField = z.infer<typeof attributeFieldSchema>;

const attributeFieldList = z
  .array(attributeFieldSchema)
  .min(1)
  .max(20)
  .refine((fs) => new Set(fs.map((f) => f.name)).size === fs.length, 'attribute names must be unique');

export const attributesProfileSchema = z.object({
  ...baseProfile,
  kind: z.literal('attributes'),
  attributes: attributeFieldList,
});

/** Object detection: boxes with categories; `confidenceThreshold` is the minimum score of a kept box. */
export const objectsProfileSchema = z.object({
  ...baseProfile,
  kind: z.literal('objects'),
  /** Categories to keep (after mapping COCO names to BDD100K ones where one exists); absent = every category. */
  categories: z.array(z.string().trim().min(1).max(100)).min(1).max(200).optional(),
  /** At most this many boxes are kept, highest scores first. */
  maxObjects: z.number().int().min(1).max(100),
  /**
   * Whole-image attributes asked in the same call as the boxes (e.g. weather, timeofday, scene for driving frames).
   * Only a vision model answers them; the local detector returns boxes alone.
   */
  attributes: attributeFieldList.optional(),
});

export const profileSchema = z
  .discriminatedUnion('kind', [singleLabelProfileSchema, multiLabelProfileSchema, attributesProfileSchema, objectsProfileSchema])
  .superRefine((p, ctx) => {
    // A threshold for a label the profile does not have would silently never apply: refuse it with the name.
    const known = thresholdKeys(p);
    for (const key of Object.keys(p.labelThresholds ?? {})) {
      if (known !== null && !known.has(key)) ctx.addIssue({ code: 'custom', path: ['labelThresholds', key], message: `"${key}" is not a label of this profile` });
    }
    // A provider that cannot answer this kind would fail every image: refuse it when the profile is loaded.
    const provider = p.model?.provider;
    if (provider !== undefined) {
      const kinds = servedKinds(provider);
      if (!kinds.includes(p.kind)) {
        ctx.addIssue({ code: 'custom', path: ['model', 'provider'], message: `${provider} cannot serve ${p.kind} profiles (it serves ${kinds.join(', ')})` });
      } else if (p.kind === 'objects' && p.categories === undefined && kinds.length > 1) {
        // A vision language model answers boxes only on a closed category list (servesBoxes); detectors need none.
        ctx.addIssue({ code: 'custom', path: ['model', 'provider'], message: `${provider} answers boxes only for a closed list: add "categories", or use local-detector or azure-ai-vision` });
      }
    }
  });

/** The keys `labelThresholds` may use for a profile; null for a detection profile without a category list (any). */
export function thresholdKeys(p: { kind: string; labels?: readonly { name: string }[] | undefined; attributes?: readonly { name: string; labels: readonly { name: string }[] }[] | undefined; categories?: readonly string[] | undefined }): Set<string> | null {
  if (p.kind === 'single-label' || p.kind === 'multi-label') return new Set((p.labels ?? []).map((l) => l.name));
  const attributeKeys = (p.attributes ?? []).flatMap((a) => a.labels.map((l) => `${a.name}.${l.name}`));
  if (p.kind === 'attributes') return new Set(attributeKeys);
  return p.categories === undefined ? null : new Set([...attributeKeys, ...p.categories]);
}

export type SingleLabelProfile = z.infer<typeof singleLabelProfileSchema>;
export type MultiLabelProfile = z.infer<typeof multiLabelProfileSchema>;
export type AttributesProfile = z.infer<typeof attributesProfileSchema>;
export type ObjectsProfile = z.infer<typeof objectsProfileSchema>;
/** Profiles answered with labels (everything but detection). */
export type LabelProfile = SingleLabelProfile | MultiLabelProfile | AttributesProfile;
export type Profile = z.infer<typeof profileSchema>;
export type ProfileKind = Profile['kind'];
export type ImageDetail = Profile['detail'];
