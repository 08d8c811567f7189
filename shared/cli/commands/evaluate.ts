/**
 * `blobsight evaluate --pred P --truth T`: how good the labels are. Prints the tables; `--json FILE` writes the
 * machine form (EvaluationResult); `--write-thresholds OUT` a copy of the profile with per-label review thresholds.
 * Exit 0 evaluated, 1 nothing could be evaluated (no image matched), 2 usage or input error.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

import { Command, InvalidArgumentError, Option } from 'commander';

import { evaluateSets } from '../../eval/evaluate';
import { formatEvaluation } from '../../eval/formatEvaluation';
import { loadPredictions } from '../../eval/loadPredictions';
import { detectTruthFormat, loadTruth } from '../../eval/loadTruth';
import { parseSliceBy } from '../../eval/sliceImages';
import { Synonyms } from '../../eval/synonyms';
import type { EvaluationResult } from '../../eval/types';
import { profileWithThresholds, writeThresholdsFile } from '../../eval/writeThresholds';
import { loadProfiles, parseProfile } from '../../profiles/ProfileRegistry';
import type { Profile } from '../../profiles/profileSchema';
import { readCliSettings } from '../readCliSettings';
import { UsageError } from '../UsageError';
import type { CommandIo } from './commandIo';
import { processIo } from './commandIo';

export interface EvaluateCliOptions {
  pred: string;
  truth: string;
  format: 'auto' | 'bdd100k' | 'coco' | 'folders' | 'jsonl';
  json?: string;
  profile?: string;
  profilesDir?: string;
  targetPrecision: number;
  writeThresholds?: string;
  sliceBy?: string;
  synonyms?: string;
  ignoreReviews?: boolean;
}

export function fraction(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 1) throw new InvalidArgumentError(`expected a fraction above 0 and at most 1, e.g. 0.95, got ${JSON.stringify(value)}.`);
  return n;
}

export function evaluateCommand(io: CommandIo = processIo()): Command {
  return new Command('evaluate')
    .description('Score predictions (a run folder or a predictions file) against ground truth: accuracy, P/R/F1, confusion, attributes, COCO detection AP, calibration and review thresholds, latency and cost.')
    .requiredOption('--pred <path>', 'run folder, its predictions.jsonl, a JSONL of {name, label|labels|attributes|boxes}, BDD100K frames or COCO results')
    .requiredOption('--truth <path>', 'BDD100K frames list or folder of per-image label files, COCO JSON, folder-per-class, or JSONL')
    .addOption(new Option('--format <format>', 'ground-truth format').choices(['auto', 'bdd100k', 'coco', 'folders', 'jsonl']).default('auto'))
    .option('--json <file>', 'write the full result as JSON to this file')
    .option('--profile <name|file>', 'the profile the predictions answer (default: the run\'s), a name or a profile .json')
    .option('--profiles-dir <dir>', 'your own profiles (default PROFILES_DIR)')
    .option('--target-precision <p>', 'precision each label\'s review threshold must reach', fraction, 0.95)
    .option('--write-thresholds <file>', 'write a copy of the profile with the per-label review thresholds found')
    .option('--slice-by <spec>', 'also compute every metric per slice: size, weather, timeofday, scene, class:<a,b>, prefix:<p>')
    .option('--synonyms <file>', 'JSON map of answers to labels, e.g. {"sunny": "clear"} or {"weather": {"sunny": "clear"}}')
    .option('--ignore-reviews', 'score the model\'s own answers, even where a person reviewed them (default: reviews win)')
    .addHelpText('after', '\nImages are matched by name (the path relative to the source root), then by file name without extension.\nExit codes: 0 evaluated, 1 no image could be evaluated, 2 usage or input error.')
    .action((o: EvaluateCliOptions) => {
      io.setExitCode(evaluateAction(o, io));
    });
}

export function evaluateAction(o: EvaluateCliOptions, io: Pick<CommandIo, 'stdout' | 'stderr'>): number {
  if (o.sliceBy !== undefined) parseSliceBy(o.sliceBy);
  const synonyms = o.synonyms === undefined ? undefined : Synonyms.load(o.synonyms);
  const profilesDir = o.profilesDir ?? readCliSettings(process.cwd()).env['PROFILES_DIR'];
  const registry = loadProfiles(profilesDir === '' ? undefined : profilesDir);
  let profile: Profile | null = o.profile === undefined ? null : resolveProfileArg(o.profile, registry);
  const format = o.format === 'auto' ? detectTruthFormat(o.truth) : o.format;
  const truth = loadTruth(o.truth, format);
  const pred = loadPredictions(o.pred, truth, { ignoreReviews: o.ignoreReviews === true });
  // Without --profile, the run's own profile (by name); a predictions file without one is scored on its data's labels.
  const notes: string[] = [];
  if (profile === null && pred.profile !== undefined) {
    const known = registry.get(pred.profile.name);
    if (known === undefined) notes.push(`the run's profile ${pred.profile.name} is not known here (give --profile or --profiles-dir): labels come from the data`);
    else {
      profile = known;
      if (known.version !== pred.profile.version) notes.push(`the run used profile ${pred.profile.name}@${pred.profile.version}; its labels are taken from ${known.name}@${known.version}, the version known now`);
    }
  }
  const result: EvaluationResult = evaluateSets(pred, truth, {
    profile,
    targetPrecision: o.targetPrecision,
    inputs: { pred: o.pred, truth: o.truth },
    ...(o.sliceBy === undefined ? {} : { sliceBy: o.sliceBy }),
    ...(synonyms === undefined ? {} : { synonyms }),
  });
  result.warnings.push(...notes);
  io.stdout(formatEvaluation(result));
  if (o.json !== undefined) {
    try {
      writeFileSync(o.json, `${JSON.stringify(result, null, 2)}\n`);
    } catch (e) {
      throw new UsageError(`--json ${o.json} cannot be written: ${e instanceof Error ? e.message : String(e)}`);
    }
    io.stdout(`Wrote ${o.json}\n`);
  }
  if (o.writeThresholds !== undefined) {
    if (profile === null) throw new UsageError('--write-thresholds needs the profile: give --profile (the predictions do not name a known one).');
    if (result.calibration === undefined) throw new UsageError('--write-thresholds: the predictions carry no confidences or scores, so no threshold can be measured.');
    const written = profileWithThresholds(profile, result.calibration);
    writeThresholdsFile(o.writeThresholds, written);
    io.stdout(`Wrote ${o.writeThresholds}: profile ${profile.name}@${profile.version} with ${Object.keys(written.profile.labelThresholds ?? {}).length} per-label review thresholds (precision ≥ ${o.targetPrecision})\n`);
    if (written.unreachable.length > 0) io.stdout(`  no threshold reaches the target for ${written.unreachable.join(', ')}: set to 1 (their answers go to review)\n`);
    if (written.unknown.length > 0) io.stderr(`blobsight evaluate: not labels of ${profile.name}, left out of the thresholds: ${written.unknown.join(', ')}\n`);
  }
  return result.images.evaluated === 0 ? 1 : 0;
}

function resolveProfileArg(arg: string, registry: ReturnType<typeof loadProfiles>): Profile {
  if (arg.endsWith('.json') || existsSync(arg)) {
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(arg, 'utf8')) as unknown;
    } catch (e) {
      throw new UsageError(`--profile ${arg} is not a readable profile JSON file: ${e instanceof Error ? e.message : String(e)}`);
    }
    return parseProfile(data, arg);
  }
  const p = registry.get(arg);
  if (p === undefined) throw new UsageError(`--profile ${arg}: no such profile. Known: ${registry.names().join(', ')}.`);
  return p;
}
