/** A problem with what the user asked for (arguments, settings, a run folder): the CLI prints it and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
