/** Exit codes scripts can rely on. */
export const EXIT = {
  /** Every image labelled (needs_review counts as labelled). */
  ok: 0,
  /** Some images were rejected or failed, or the run stopped at --max-cost before the end. */
  someFailed: 1,
  /** Bad arguments or configuration, an unusable source or run folder: nothing was labelled. */
  usage: 2,
  /** Stopped by Ctrl-C (128 + SIGINT), as shells report it; resume with --run. */
  interrupted: 130,
} as const;
