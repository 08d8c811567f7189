/** One export: check the request, make room at --out, and write the format. */
import type { ProfileRegistry } from '../profiles/ProfileRegistry';
import type { PredictionRecord } from '../runs/predictionRecord';
import type { ExportContext, ExportSummary } from './exportFormat';
import { EXPORT_FORMATS,exportFormat } from './exportFormats';
import { toExportItems } from './exportItem';
import { ExportUsageError } from './ExportUsageError';
import { prepareOut } from './prepareOut';

export interface ExportRequest {
  records: readonly PredictionRecord[];
  format: string;
  out: string;
  force: boolean;
  profiles: ProfileRegistry;
  context: Omit<ExportContext, 'profile'>;
}

export interface ExportReport extends ExportSummary {
  format: string;
  out: string;
  profile: string;
  /** Records with no answer (rejected, failed) and no review: nothing to export for them. */
  withoutAnswer: number;
}

/**
 * Everything that can be refused is refused before --out is touched: an unknown format, records of more than one
 * profile (one dataset has one label set), a format that cannot hold the profile's kind, an existing --out without
 * --force.
 */
export async function runExport(req: ExportRequest): Promise<ExportReport> {
  const format = exportFormat(req.format);
  if (format === undefined) throw new ExportUsageError(`Unknown format "${req.format}". Formats: ${EXPORT_FORMATS.map((f) => f.name).join(', ')}.`);
  const names = [...new Set(req.records.map((r) => r.profile.name))];
  if (names.length === 0) throw new ExportUsageError('Nothing to export: no predictions.');
  if (names.length > 1) throw new ExportUsageError(`The records use ${names.length} profiles (${names.join(', ')}); export one at a time (--profile NAME).`);
  const profileName = names[0] as string;
  const profile = req.profiles.get(profileName);
  const kind = profile?.kind ?? req.records.find((r) => r.result !== null)?.result?.kind;
  if (format.kinds !== 'all' && (kind === undefined || !format.kinds.includes(kind))) {
    throw new ExportUsageError(`Format ${format.name} holds ${format.kinds.join(' or ')} answers; profile ${profileName} is ${kind ?? 'of unknown kind'}. Use json, csv, jsonl or label-studio.`);
  }
  const { items, skipped } = toExportItems(req.records);
  prepareOut(req.out, format.layout, req.force);
  const summary = await format.write(items, req.out, { ...req.context, profile });
  return { ...summary, format: format.name, out: req.out, profile: profileName, withoutAnswer: skipped };
}
