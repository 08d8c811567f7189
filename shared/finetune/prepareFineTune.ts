/**
 * `blobsight finetune prepare`: reviewed labels (a run's, or the service's) → train.jsonl + validation.jsonl in Azure
 * OpenAI's vision fine-tuning chat format, checked against Azure's rules and priced before anything is uploaded.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';

import { estimatePromptTokens } from '../cli/estimate/estimatePromptTokens';
import { answerForTraining } from '../export/answerForTraining';
import { labelsOf } from '../export/exportItem';
import { buildChatRequest } from '../model/buildChatRequest';
import { preprocessImage } from '../preprocess/preprocessImage';
import type { Profile } from '../profiles/profileSchema';
import type { PredictionRecord } from '../runs/predictionRecord';
import { exampleProblems } from './exampleProblems';
import type { FineTuneManifest } from './fineTuneManifest';
import { MANIFEST_FILE, readStartState, TRAIN_FILE, VALIDATION_FILE } from './fineTuneManifest';
import { stratifiedSplit } from './stratifiedSplit';
import { trainingImageProblem } from './trainingImageProblem';
import { FINE_TUNE_BASE_MODEL, MAX_EXAMPLES_WITH_IMAGES, MAX_FILE_BYTES, MIN_EXAMPLES } from './visionFineTuningRules';

/** The data breaks Azure's rules: every problem is listed, nothing is written; the CLI exits 1. */
export class FineTuneDataError extends Error {
  override readonly name = 'FineTuneDataError';
  constructor(readonly problems: readonly string[]) {
    super(`The fine-tuning data breaks Azure OpenAI's rules (${problems.length} problem${problems.length === 1 ? '' : 's'}); nothing was written:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export interface PrepareOptions {
  records: readonly PredictionRecord[];
  profile: Profile;
  /** Where the records came from, for the manifest (a run folder path, or `service`). */
  source: string;
  out: string;
  force: boolean;
  includeUnreviewed: boolean;
  validationShare: number;
  seed: number;
  epochs: number;
  prices: { trainingPerMTok: number; hostingPerHour: number; source: string };
  limits: { maxBytes: number; maxPixels: number };
  loadImage: (record: PredictionRecord) => Promise<Buffer>;
  onProgress?: (done: number, total: number) => void;
}

interface Example {
  name: string;
  stratum: string;
  line: string;
  tokens: number;
  reviewed: boolean;
}

export async function prepareFineTune(o: PrepareOptions): Promise<FineTuneManifest> {
  if (existsSync(path.join(o.out, MANIFEST_FILE)) && !o.force) throw new FineTuneUsageError(`${o.out} already holds a prepared fine-tuning set; pass --force to replace it.`);
  if (readStartState(o.out)?.trainingFile !== undefined) throw new FineTuneUsageError(`${o.out} was already uploaded for a fine-tuning job (see ${path.join(o.out, 'start.json')}); prepare into a new folder so the job's files stay as they were.`);

  const ofProfile = o.records.filter((r) => r.profile.name === o.profile.name);
  const reviewed = ofProfile.filter((r) => r.review !== null && r.review !== undefined);
  const modelOnly = ofProfile.filter((r) => (r.review === null || r.review === undefined) && r.result !== null && (r.status === 'classified' || r.status === 'needs_review'));
  const chosen = o.includeUnreviewed ? [...reviewed, ...modelOnly] : reviewed;
  const needed = Math.ceil(MIN_EXAMPLES / (1 - o.validationShare));
  if (chosen.length < needed) {
    const hint = o.includeUnreviewed ? '' : modelOnly.length > 0 ? ` ${modelOnly.length} more image(s) have only the model's answer: review them, or add --include-unreviewed to train on model answers too.` : '';
    throw new FineTuneDataError([
      `${chosen.length} ${o.includeUnreviewed ? 'labelled' : 'reviewed'} example(s) of profile ${o.profile.name}; Azure OpenAI needs at least ${MIN_EXAMPLES} in the training file, so with --validation-share ${o.validationShare} at least ${needed} are needed.${hint}`,
    ]);
  }
  if (chosen.length > MAX_EXAMPLES_WITH_IMAGES) throw new FineTuneDataError([`${chosen.length} examples; Azure OpenAI accepts at most ${MAX_EXAMPLES_WITH_IMAGES} examples with images per training file.`]);

  const problems: string[] = [];
  const examples: Example[] = [];
  let done = 0;
  for (const record of [...chosen].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    o.onProgress?.(done++, chosen.length);
    const isReviewed = record.review !== null && record.review !== undefined;
    const result = record.review?.result ?? record.result;
    if (result === null) continue;
    let bytes: Buffer;
    try {
      bytes = await o.loadImage(record);
    } catch (e) {
      problems.push(`${record.name}: the image cannot be read (${e instanceof Error ? e.message : String(e)}).`);
      continue;
    }
    const imageProblem = await trainingImageProblem(record.name, bytes);
    if (imageProblem !== undefined) {
      problems.push(imageProblem);
      continue;
    }
    const size = record.image === null ? null : { width: record.image.width, height: record.image.height };
    // A person's answer is certain; a model answer keeps its own confidence, as the export format does.
    const answer = answerForTraining(o.profile, result, isReviewed ? 1 : (record.confidence ?? 1), size);
    if (answer === null) {
      problems.push(`${record.name}: its ${isReviewed ? 'review' : 'answer'} does not fit profile ${o.profile.name} (${result.kind}).`);
      continue;
    }
    let messages: ChatCompletionMessageParam[];
    let imageTokens: number;
    try {
      // The same system prompt, user text and preprocessed image the classifier sends, so the tuned model is trained
      // on what it will be asked.
      const image = await preprocessImage(bytes, { detail: o.profile.detail, ...o.limits });
      messages = [...buildChatRequest(o.profile, image, { model: FINE_TUNE_BASE_MODEL, logprobs: false }).messages, { role: 'assistant', content: answer }];
      imageTokens = image.estimatedImageTokens;
    } catch (e) {
      problems.push(`${record.name}: ${e instanceof Error ? e.message : String(e)}`);
      continue;
    }
    const lineProblems = exampleProblems(record.name, messages);
    if (lineProblems.length > 0) {
      problems.push(...lineProblems);
      continue;
    }
    examples.push({ name: record.name, stratum: labelsOf(result).slice().sort().join('+') || '(none)', line: JSON.stringify({ messages }), tokens: estimatePromptTokens(messages, undefined, imageTokens).total, reviewed: isReviewed });
  }
  o.onProgress?.(done, chosen.length);
  if (problems.length > 0) throw new FineTuneDataError(problems);

  const split = stratifiedSplit(examples, (e) => e.stratum, (e) => e.name, o.validationShare, o.seed);
  if (split.train.length < MIN_EXAMPLES) throw new FineTuneDataError([`The split leaves ${split.train.length} training example(s); Azure OpenAI needs at least ${MIN_EXAMPLES}. Lower --validation-share or add examples.`]);
  const trainText = split.train.map((e) => `${e.line}\n`).join('');
  const validationText = split.validation.map((e) => `${e.line}\n`).join('');
  for (const [file, text] of [[TRAIN_FILE, trainText], [VALIDATION_FILE, validationText]] as const) {
    if (Buffer.byteLength(text) > MAX_FILE_BYTES) throw new FineTuneDataError([`${file} would be ${(Buffer.byteLength(text) / 1024 / 1024).toFixed(0)} MB; Azure OpenAI accepts fine-tuning files up to 512 MB. Use fewer examples or a lower-detail profile.`]);
  }

  const trainingTokens = split.train.reduce((s, e) => s + e.tokens, 0);
  const byLabel: Record<string, { train: number; validation: number }> = {};
  for (const [side, list] of [['train', split.train], ['validation', split.validation]] as const) {
    for (const e of list) (byLabel[e.stratum] ??= { train: 0, validation: 0 })[side]++;
  }
  const manifest: FineTuneManifest = {
    createdAt: new Date().toISOString(),
    profile: { name: o.profile.name, version: o.profile.version, kind: o.profile.kind },
    source: o.source,
    baseModel: FINE_TUNE_BASE_MODEL,
    seed: o.seed,
    epochs: o.epochs,
    suffix: suffixFor(o.profile.name),
    validationShare: o.validationShare,
    includeUnreviewed: o.includeUnreviewed,
    train: { file: TRAIN_FILE, examples: split.train.length, reviewed: split.train.filter((e) => e.reviewed).length, tokens: trainingTokens, sha256: sha256(trainText) },
    validation: split.validation.length === 0 ? null : { file: VALIDATION_FILE, examples: split.validation.length, reviewed: split.validation.filter((e) => e.reviewed).length, tokens: split.validation.reduce((s, e) => s + e.tokens, 0), sha256: sha256(validationText) },
    byLabel,
    estimate: {
      trainingTokens,
      epochs: o.epochs,
      billedTokens: trainingTokens * o.epochs,
      trainingUsd: (trainingTokens * o.epochs * o.prices.trainingPerMTok) / 1_000_000,
      trainingPerMTok: o.prices.trainingPerMTok,
      hostingPerHourUsd: o.prices.hostingPerHour,
      priceSource: o.prices.source,
    },
  };
  mkdirSync(o.out, { recursive: true });
  writeAtomic(path.join(o.out, TRAIN_FILE), trainText);
  if (split.validation.length > 0) writeAtomic(path.join(o.out, VALIDATION_FILE), validationText);
  writeAtomic(path.join(o.out, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** Bad arguments or a folder that cannot be used; the CLI exits 2. */
export class FineTuneUsageError extends Error {
  override readonly name = 'FineTuneUsageError';
}

/** Azure: up to 40 characters of a-z, A-Z, 0-9, - and _, added to the fine-tuned model's name. */
function suffixFor(profileName: string): string {
  return profileName.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 40) || 'blobsight';
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}
