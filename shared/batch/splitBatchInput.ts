/** Splits Batch input lines over as many files as Azure's per-file limits need. */

/** Azure's limits for one batch input file (batch-limits): 100,000 requests and 200 MB. */
export const BATCH_FILE_LIMITS = { maxLines: 100_000, maxBytes: 200 * 1024 * 1024 } as const;

export interface BatchFileLimits {
  maxLines: number;
  maxBytes: number;
}

/**
 * Greedy, in order: a file is closed when the next line would pass either limit. A single line larger than the byte
 * limit cannot be sent at all and is refused here rather than by the service hours later.
 */
export function splitBatchInput(lines: readonly string[], limits: BatchFileLimits = BATCH_FILE_LIMITS): string[][] {
  const files: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const line of lines) {
    const size = Buffer.byteLength(line, 'utf8') + 1;
    if (size > limits.maxBytes) throw new Error(`One batch request is ${size} bytes, over the ${limits.maxBytes}-byte file limit.`);
    if (current.length > 0 && (current.length >= limits.maxLines || bytes + size > limits.maxBytes)) {
      files.push(current);
      current = [];
      bytes = 0;
    }
    current.push(line);
    bytes += size;
  }
  if (current.length > 0) files.push(current);
  return files;
}
