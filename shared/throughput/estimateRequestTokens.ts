/**
 * The tokens Azure OpenAI counts against TPM when a chat request arrives: prompt text by GPT-4o's tokenizer, images
 * by the published rule, and the whole `max_tokens` reserve. Read from the request body the SDK is about to send,
 * so the pacer prices exactly what goes out (retries and second asks included).
 */
import { countTextTokens } from '../cli/estimate/gpt4oTokenizer';

/** OpenAI's chat accounting for GPT-4o: 3 tokens of framing per message, 3 priming the reply. */
const TOKENS_PER_MESSAGE = 3;
const REPLY_PRIMING_TOKENS = 3;
/** GPT-4o image tokens: low detail is a flat 85. */
const LOW_DETAIL_TOKENS = 85;
/**
 * High detail costs 85 + 170 per 512-px tile of the image scaled into 2048 and to a 768-px short side: at most 2 × 4
 * tiles. The body carries the image as base64, not its size, so a high-detail part is priced at that ceiling (an
 * over-estimate only costs pacing headroom, an under-estimate would cost 429s).
 */
const HIGH_DETAIL_MAX_TOKENS = 85 + 170 * 8;
/** Counted when a request sets no `max_tokens` (GUESS: Azure's default reserve is not published). */
export const DEFAULT_RESERVED_OUTPUT_TOKENS = 4_096;

/** Repeated texts (the system prompt, the label list) are counted once. */
const memo = new Map<string, number>();
const MEMO_LIMIT = 512;

function textTokens(text: string): number {
  const hit = memo.get(text);
  if (hit !== undefined) return hit;
  const n = countTextTokens(text);
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(text, n);
  return n;
}

/** Returns undefined when the body is not a chat completion request (nothing to pace). */
export function estimateRequestTokens(body: string): number | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { messages, max_tokens: maxTokens, max_completion_tokens: maxCompletionTokens, n } = parsed as Record<string, unknown>;
  if (!Array.isArray(messages)) return undefined;
  let tokens = REPLY_PRIMING_TOKENS;
  for (const m of messages as { role?: unknown; content?: unknown }[]) {
    tokens += TOKENS_PER_MESSAGE + (typeof m.role === 'string' ? textTokens(m.role) : 0);
    if (typeof m.content === 'string') tokens += textTokens(m.content);
    else if (Array.isArray(m.content)) {
      for (const part of m.content as { type?: unknown; text?: unknown; image_url?: { detail?: unknown } }[]) {
        if (part.type === 'text' && typeof part.text === 'string') tokens += textTokens(part.text);
        if (part.type === 'image_url') tokens += part.image_url?.detail === 'low' ? LOW_DETAIL_TOKENS : HIGH_DETAIL_MAX_TOKENS;
      }
    }
  }
  const reserve = typeof maxCompletionTokens === 'number' ? maxCompletionTokens : typeof maxTokens === 'number' ? maxTokens : DEFAULT_RESERVED_OUTPUT_TOKENS;
  return tokens + reserve * (typeof n === 'number' && n > 0 ? n : 1);
}
