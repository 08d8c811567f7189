/**
 * Why a blob name from outside (an event subject, a URL) must not reach the storage SDK, or null when it may.
 *
 * The SDK puts the name into a URL, and URL normalisation resolves `.` and `..` segments: `x/../../private/a.jpg`
 * in the images container reads `private/a.jpg`, another container. A backslash is turned into `/` by the same
 * normalisation in some clients, an empty segment (`a//b`, a leading or trailing `/`) names a different path than
 * it looks, and control characters have no business in a name shown to people. Storage itself allows most of
 * these, so a blob that really has such a name is refused too: the price of never reading outside the container.
 */
export function blobNameProblem(name: string): string | null {
  if (name.length === 0) return 'the blob name is empty';
  if (name.length > 1024) return `the blob name is ${name.length} characters long; storage allows 1,024`;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused here
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return 'the blob name contains a control character';
  if (name.includes('\\')) return 'the blob name contains a backslash';
  for (const segment of name.split('/')) {
    if (segment === '') return 'the blob name has an empty path segment (a leading, trailing or doubled "/")';
    if (segment === '.' || segment === '..') return `the blob name has a "${segment}" path segment`;
  }
  return null;
}
