/**
 * custom_id of a Batch line that carries several images: `g:` and the first 16 hex digits (64 bits) of each image's
 * SHA-256, in answer order, joined by dots. The line says by itself which images it holds, so a backfill resumed from
 * the batch's own input file (batch.json lost) still splits the answers per image; 10 images stay at 171 characters.
 */
const PREFIX = 'g:';
const HASH_CHARS = 16;

export function groupCustomId(sha256s: readonly string[]): string {
  return `${PREFIX}${sha256s.map((s) => s.slice(0, HASH_CHARS)).join('.')}`;
}

/** The hash prefixes of a group line's images in order, or undefined for a single-image line (its id is the full hash). */
export function groupMembers(customId: string): string[] | undefined {
  if (!customId.startsWith(PREFIX)) return undefined;
  const members = customId.slice(PREFIX.length).split('.');
  return members.every((m) => /^[0-9a-f]{16}$/.test(m)) ? members : undefined;
}

/** The key an image is found under among group members. */
export const groupKeyOf = (sha256: string): string => sha256.slice(0, HASH_CHARS);
