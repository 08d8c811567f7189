/** The shape every export format has: write the items at `out`; the CLI and the tests go through this. */
import type { Profile } from '../profiles/profileSchema';
import type { PredictionRecord } from '../runs/predictionRecord';
import type { ExportItem } from './exportItem';

export interface ExportContext {
  /** The profile the records were labelled with (from the registry), when known. */
  profile: Profile | undefined;
  /** Original bytes of an image (fine-tuning and batch send the image itself); throws when they cannot be read. */
  loadImage: (record: PredictionRecord) => Promise<Buffer>;
  /** Preprocessing limits, as the service's. */
  limits: { maxBytes: number; maxPixels: number };
  /** Fine-tuning: seed and share of the validation split. */
  seed: string;
  validationFraction: number;
  /** Batch: the Global-Batch deployment name on every line, and whether to ask for logprobs (as the service). */
  deployment: string;
  logprobs: boolean;
  /** Label Studio: prefix for `data.image` of local files (e.g. `/data/local-files/?d=`); blob URLs are used as they are. */
  imageUrlPrefix: string | undefined;
  /** Progress per image written (long exports that read images). */
  onProgress?: (done: number, total: number) => void;
}

export interface ExportSummary {
  /** Files written, relative to `out` for folders, `out` itself for single files. */
  files: string[];
  images: number;
  /** Images left out and why (e.g. no size for a box format, unreadable image for fine-tuning). */
  skipped: { name: string; reason: string }[];
  notes: string[];
}

export interface ExportFormat {
  name: string;
  description: string;
  layout: 'file' | 'folder';
  /** Profile kinds the format can hold; others are refused before anything is written. */
  kinds: readonly Profile['kind'][] | 'all';
  write(items: readonly ExportItem[], out: string, ctx: ExportContext): Promise<ExportSummary>;
}
