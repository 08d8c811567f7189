/** `--dry-run`: per image, what the run would send and cost, from the same preprocessing and request builders; no model call. */
import { isPermanentError } from '../errors';
import { preprocessImage } from '../preprocess';
import type { Profile } from '../profiles';
import type { Pricing, RequestEstimate } from './estimate/estimateRequest';
import { estimateRequest, sentOf } from './estimate/estimateRequest';
import type { SourceItem } from './sources/sourceItem';

export interface DryRunLine {
  name: string;
  sha256: string | null;
  /** `ok`: it would be sent; otherwise it would be rejected with this code, as the service would, at no cost. */
  outcome: 'ok' | 'rejected';
  error: { code: string; message: string } | null;
  estimate: RequestEstimate | null;
  /** Same bytes as an earlier image: the run would reuse that answer and pay nothing. */
  duplicateOf: string | null;
}

export interface DryRunReport {
  images: number;
  wouldSend: number;
  wouldReject: number;
  duplicates: number;
  promptTokens: number;
  maxTokensReserve: number;
  /** Prompt tokens at the input price plus every max_tokens reserve at the output price: an upper bound. */
  costUsd: number | null;
  lines: DryRunLine[];
}

export async function dryRun(items: readonly SourceItem[], profile: Profile, limits: { maxBytes: number; maxPixels: number }, pricing: Pricing | null, concurrency: number, signal: AbortSignal, onLine?: (l: DryRunLine) => void): Promise<DryRunReport> {
  const lines: (DryRunLine | undefined)[] = new Array<DryRunLine | undefined>(items.length);
  const firstBySha = new Map<string, string>();
  let next = 0;
  const one = async (item: SourceItem): Promise<DryRunLine> => {
    if (item.kind === 'record') return { name: item.name, sha256: item.record.sha256, outcome: 'ok', error: null, estimate: null, duplicateOf: null };
    const read = await item.read(signal);
    if (read.kind === 'unreadable') return { name: item.name, sha256: null, outcome: 'rejected', error: { code: read.code, message: read.message }, estimate: null, duplicateOf: null };
    if (read.kind === 'too-large') return { name: item.name, sha256: read.sha256, outcome: 'rejected', error: { code: 'too_large', message: `The file is ${read.size} bytes, more than the ${limits.maxBytes}-byte limit.` }, estimate: null, duplicateOf: null };
    const dup = firstBySha.get(read.sha256);
    if (dup !== undefined) return { name: item.name, sha256: read.sha256, outcome: 'ok', error: null, estimate: null, duplicateOf: dup };
    firstBySha.set(read.sha256, item.name);
    try {
      const image = await preprocessImage(read.bytes, { detail: profile.detail, maxBytes: limits.maxBytes, maxPixels: limits.maxPixels });
      return { name: item.name, sha256: read.sha256, outcome: 'ok', error: null, estimate: estimateRequest(profile, sentOf(image), pricing), duplicateOf: null };
    } catch (e) {
      if (isPermanentError(e)) return { name: item.name, sha256: read.sha256, outcome: 'rejected', error: { code: e.code, message: e.message }, estimate: null, duplicateOf: null };
      throw e;
    }
  };
  const worker = async (): Promise<void> => {
    while (!signal.aborted) {
      const i = next++;
      const item = items[i];
      if (item === undefined) return;
      const line = await one(item);
      lines[i] = line;
      onLine?.(line);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  const done = lines.filter((l): l is DryRunLine => l !== undefined);
  let cost: number | null = 0;
  for (const l of done) if (l.estimate !== null) cost = cost === null || l.estimate.costUsd === null ? null : cost + l.estimate.costUsd;
  return {
    images: done.length,
    wouldSend: done.filter((l) => l.estimate !== null).length,
    wouldReject: done.filter((l) => l.outcome === 'rejected').length,
    duplicates: done.filter((l) => l.duplicateOf !== null).length,
    promptTokens: done.reduce((s, l) => s + (l.estimate?.promptTokens ?? 0), 0),
    maxTokensReserve: done.reduce((s, l) => s + (l.estimate?.maxTokens ?? 0), 0),
    costUsd: cost,
    lines: done,
  };
}
