/** GPT-4o's real tokenizer (o200k_base), loaded once: its ranks ship inside js-tiktoken, no download. */
import { createRequire } from 'node:module';

import type { Tiktoken, TiktokenBPE } from 'js-tiktoken/lite' with { 'resolution-mode': 'import' };

// js-tiktoken's type declarations are ESM-only, but it ships CommonJS builds ("require" exports); load those so the
// compiled CLI stays plain CommonJS like the rest of the project.
const requireHere = createRequire(__filename);

let encoder: Tiktoken | undefined;

function load(): Tiktoken {
  const lite = requireHere('js-tiktoken/lite') as { Tiktoken: new (ranks: TiktokenBPE) => Tiktoken };
  const ranks = requireHere('js-tiktoken/ranks/o200k_base') as TiktokenBPE | { default: TiktokenBPE };
  return new lite.Tiktoken('default' in ranks ? ranks.default : ranks);
}

export function countTextTokens(text: string): number {
  encoder ??= load();
  return encoder.encode(text).length;
}
