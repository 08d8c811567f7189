/**
 * Azure OpenAI prompt caching, as the fake reports it: a request whose prompt starts with the same tokens as a recent
 * one (same deployment) gets `usage.prompt_tokens_details.cached_tokens` for the shared prefix, counted only from
 * 1,024 identical tokens on and then in 128-token steps (Azure: "prompts of 1,024 tokens or more ... cache hits in
 * 128-token increments"); entries live 5 minutes here (Azure: 5 to 10 minutes of inactivity). Images count as their
 * image tokens, identical only when the same image is sent with the same detail.
 */
import { createHash } from 'node:crypto';

import { o200kTokens } from './o200k';
import { imageTokens } from './promptTokens';
import type { ValidatedChatRequest } from './validateChatRequest';

export const CACHE_MIN_TOKENS = 1024;
export const CACHE_INCREMENT = 128;
const DEFAULT_TTL_MS = 5 * 60_000;
/** Recent prompts kept per deployment: enough for a handful of profiles in one test. */
const MAX_ENTRIES = 32;

export interface PromptCache {
  /** The cached tokens this request gets, and remembers its prompt for the next ones. */
  lookup(deployment: string, request: ValidatedChatRequest): number;
  clear(): void;
}

/**
 * The prompt as a sequence of units, one per token, in the order the service reads it: per message its framing and
 * role, then its text parts' o200k tokens and its images' tokens. Same units as the fake's prompt_tokens, so the
 * cached count never exceeds it.
 */
export function promptUnits(request: ValidatedChatRequest): string[] {
  const units: string[] = [];
  let image = 0;
  for (const message of request.messages) {
    const { role, content } = message as { role?: unknown; content?: unknown };
    const roleText = typeof role === 'string' ? role : '';
    units.push('<msg>', '<msg>', '<msg>', ...o200kTokens(roleText).map((t) => `r${t.id}`));
    const parts = typeof content === 'string' ? [{ type: 'text', text: content }] : Array.isArray(content) ? (content as { type?: unknown; text?: unknown; image_url?: { url?: unknown } }[]) : [];
    for (const part of parts) {
      if (part.type === 'text' && typeof part.text === 'string') units.push(...o200kTokens(part.text).map((t) => String(t.id)));
      if (part.type === 'image_url') {
        const info = request.images[image++];
        if (info === undefined) continue;
        const url = typeof part.image_url?.url === 'string' ? part.image_url.url : '';
        const id = createHash('sha256').update(`${info.detail}:${url}`).digest('hex').slice(0, 16);
        const n = imageTokens(info.width, info.height, info.detail);
        for (let k = 0; k < n; k++) units.push(`i${id}:${k}`);
      }
    }
  }
  return units;
}

export function cachedTokensFor(sharedPrefix: number): number {
  if (sharedPrefix < CACHE_MIN_TOKENS) return 0;
  return CACHE_MIN_TOKENS + CACHE_INCREMENT * Math.floor((sharedPrefix - CACHE_MIN_TOKENS) / CACHE_INCREMENT);
}

export function createPromptCache(ttlMs = DEFAULT_TTL_MS): PromptCache {
  const recent = new Map<string, { units: string[]; at: number }[]>();
  return {
    lookup(deployment, request) {
      const units = promptUnits(request);
      const now = Date.now();
      const entries = (recent.get(deployment) ?? []).filter((e) => now - e.at < ttlMs);
      let best = 0;
      for (const e of entries) {
        const n = Math.min(e.units.length, units.length);
        let i = 0;
        while (i < n && e.units[i] === units[i]) i++;
        if (i > best) best = i;
      }
      // A prompt of fewer than 1,024 tokens is never cached, so it is not remembered either.
      if (units.length >= CACHE_MIN_TOKENS) entries.push({ units, at: now });
      recent.set(deployment, entries.slice(-MAX_ENTRIES));
      // The last token is never served from the cache: the model has to read something new to answer.
      return cachedTokensFor(Math.min(best, units.length - 1));
    },
    clear() {
      recent.clear();
    },
  };
}
