/** Reads Batch output and error files: per custom_id, the chat completion or why there is none. */
import type { ChatCompletion } from 'openai/resources/chat/completions';

export type BatchLineResult =
  | { kind: 'answer'; completion: ChatCompletion }
  | { kind: 'error'; code: string; message: string; status: number | null };

/**
 * Output order is not input order, so lines are matched on custom_id. A line of the output file with a non-200
 * status, and every line of the error file, is an error; a line that is not JSON is reported and skipped (that image
 * is then treated as unanswered: retried online or listed, never silently dropped).
 */
export function parseBatchOutput(text: string, into: Map<string, BatchLineResult>, problems: string[], file: string): void {
  text.split('\n').forEach((row, i) => {
    if (row.trim() === '') return;
    let line: { custom_id?: unknown; response?: { status_code?: unknown; body?: unknown } | null; error?: { code?: unknown; message?: unknown } | null };
    try {
      line = JSON.parse(row) as typeof line;
    } catch {
      problems.push(`${file}:${i + 1}: not JSON`);
      return;
    }
    if (typeof line.custom_id !== 'string') {
      problems.push(`${file}:${i + 1}: no custom_id`);
      return;
    }
    const status = typeof line.response?.status_code === 'number' ? line.response.status_code : null;
    if (status === 200 && typeof line.response?.body === 'object' && line.response.body !== null) {
      into.set(line.custom_id, { kind: 'answer', completion: line.response.body as ChatCompletion });
      return;
    }
    const bodyError = (line.response?.body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    const err = line.error ?? bodyError;
    // An answer for the same id (another file) wins over an error line.
    if (into.get(line.custom_id)?.kind === 'answer') return;
    into.set(line.custom_id, {
      kind: 'error',
      code: typeof err?.code === 'string' ? err.code : status === null ? 'batch_error' : `http_${status}`,
      message: typeof err?.message === 'string' ? err.message : 'no answer in the batch output',
      status,
    });
  });
}
