/** Every export format by its --format name. */
import { batchFormat } from './batchFormat';
import { bdd100kFormat } from './bdd100kFormat';
import { cocoFormat } from './cocoFormat';
import type { ExportFormat } from './exportFormat';
import { fineTuneFormat } from './fineTuneFormat';
import { labelStudioFormat } from './labelStudioFormat';
import { csvFormat, jsonFormat, jsonlFormat } from './tabularFormats';
import { vocFormat } from './vocFormat';
import { yoloFormat } from './yoloFormat';

export const EXPORT_FORMATS: readonly ExportFormat[] = [jsonFormat, csvFormat, jsonlFormat, bdd100kFormat, cocoFormat, vocFormat, yoloFormat, labelStudioFormat, fineTuneFormat, batchFormat];

export function exportFormat(name: string): ExportFormat | undefined {
  return EXPORT_FORMATS.find((f) => f.name === name);
}
