import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { documentId } from '../../shared/store';

const COSMOS_FORBIDDEN = /[/\\?#]/;

describe('documentId', () => {
  it('is the first 32 hex chars of SHA-256 over container/name', () => {
    const expected = createHash('sha256').update('images/cats/tabby.jpg').digest('hex').slice(0, 32);
    expect(documentId('images', 'cats/tabby.jpg')).toBe(expected);
  });

  it('is stable: the same blob always maps to the same document', () => {
    expect(documentId('images', 'a/b.png')).toBe(documentId('images', 'a/b.png'));
  });

  it('differs for different names, containers and for case', () => {
    const ids = [
      documentId('images', 'a.jpg'),
      documentId('images', 'b.jpg'),
      documentId('images', 'A.jpg'),
      documentId('other', 'a.jpg'),
      documentId('images', 'x/a.jpg'),
      documentId('images', 'a.jpg '),
    ];
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('is Cosmos-safe and fixed length for unicode, spaces, traversal and reserved characters', () => {
    const names = ['photos/été 2024/Ünïcode 🐱.jpg', '../../etc/passwd', 'a\\b?c#d', ' leading and trailing ', 'x'.repeat(1024)];
    for (const name of names) {
      const id = documentId('images', name);
      expect(id).toMatch(/^[0-9a-f]{32}$/);
      expect(id).not.toMatch(COSMOS_FORBIDDEN);
    }
  });

  it('hashes the UTF-8 bytes of the name, so composed and decomposed forms are different blobs', () => {
    const composed = 'caf\u00e9.jpg';
    const decomposed = 'cafe\u0301.jpg';
    expect(documentId('images', composed)).toBe(createHash('sha256').update(Buffer.from(`images/${composed}`, 'utf8')).digest('hex').slice(0, 32));
    expect(documentId('images', composed)).not.toBe(documentId('images', decomposed));
  });
});
