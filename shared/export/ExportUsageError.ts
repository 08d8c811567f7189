/** What the user asked of an export or import cannot be done as asked (path exists, wrong profile kind, bad file): exit 2. */
export class ExportUsageError extends Error {
  override readonly name = 'ExportUsageError';
}
