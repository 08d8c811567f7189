import { describe, expect, it } from 'vitest';

import { blobNameProblem } from '../../shared/blob';

describe('blobNameProblem', () => {
  it.each([['pets/cat.jpg'], ['flowers/my rosé ../x.jpg'], ['a..b/c.d.jpg'], ['uploads/2026/12/01/photo (1).jpg'], ['.hidden/a.jpg']])('accepts %j', (name) => {
    expect(blobNameProblem(name)).toBeNull();
  });

  it.each([
    ['x/../../private/secret.jpg', /"\.\." path segment/],
    ['flowers/../a.jpg', /"\.\." path segment/],
    ['..', /"\.\." path segment/],
    ['flowers/./a.jpg', /"\." path segment/],
    ['flowers//a.jpg', /empty path segment/],
    ['/a.jpg', /empty path segment/],
    ['a/', /empty path segment/],
    ['flowers\\..\\a.jpg', /backslash/],
    ['a\u0000.jpg', /control character/],
    ['a\n.jpg', /control character/],
    ['a\u0085.jpg', /control character/],
    ['', /empty/],
    ['a'.repeat(1025), /1,024/],
  ])('refuses %j with a reason', (name, reason) => {
    expect(blobNameProblem(name)).toMatch(reason);
  });
});
