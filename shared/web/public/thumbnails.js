/** Image previews from the API as object URLs: a few at a time, cached per image version, freed when evicted. */
import { apiImageUrl } from './api.js';
import { h } from './dom.js';

const MAX_PARALLEL = 4;
const MAX_CACHED = 300;

const cache = new Map(); // key → Promise<string>
const waiting = [];
let active = 0;

function schedule(task) {
  return new Promise((resolve, reject) => {
    waiting.push(() => task().then(resolve, reject));
    pump();
  });
}

function pump() {
  while (active < MAX_PARALLEL && waiting.length > 0) {
    const run = waiting.shift();
    active++;
    run().finally(() => {
      active--;
      pump();
    });
  }
}

/** An object URL of the image at `size` px; the same image version is fetched once. */
export function imageUrl(doc, size) {
  const key = `${doc.id}:${doc.image?.sha256 ?? ''}:${size}`;
  let url = cache.get(key);
  if (url === undefined) {
    // A preview that never arrives must not shimmer for ever.
    url = schedule(() => apiImageUrl(`api/images/${encodeURIComponent(doc.id)}/content?size=${size}`, AbortSignal.timeout(30_000)));
    cache.set(key, url);
    url.catch(() => cache.delete(key));
    evict();
  }
  return url;
}

function evict() {
  while (cache.size > MAX_CACHED) {
    const [oldest, url] = cache.entries().next().value;
    cache.delete(oldest);
    url.then((u) => setTimeout(() => URL.revokeObjectURL(u), 60_000)).catch(() => undefined);
  }
}

/**
 * A thumbnail for a list row: the image, or a placeholder with the reason when there is nothing to show
 * (rejected uploads are not images; a preview that fails to load says so instead of showing a broken image).
 */
export function thumbnail(doc, size = 256) {
  const box = h('div', { class: 'thumb' });
  if (doc.image === null || doc.image === undefined) {
    box.classList.add('thumb-placeholder');
    box.append(h('span', { class: 'thumb-icon', 'aria-hidden': 'true', text: '∅' }), h('span', { class: 'thumb-reason', text: placeholderText(doc) }));
    return box;
  }
  box.classList.add('thumb-loading');
  const img = h('img', { alt: '', width: 96, height: 96, decoding: 'async' });
  imageUrl(doc, size)
    .then((url) => {
      img.src = url;
      box.classList.remove('thumb-loading');
      box.append(img);
    })
    .catch(() => {
      box.classList.remove('thumb-loading');
      box.classList.add('thumb-placeholder');
      box.append(h('span', { class: 'thumb-reason', text: 'no preview' }));
    });
  return box;
}

function placeholderText(doc) {
  if (doc.status === 'processing') return 'processing';
  const code = doc.error?.code;
  if (code === 'unsupported_format') return 'not an image';
  if (code === 'empty_blob') return 'empty file';
  if (code === 'corrupt_image') return 'corrupt image';
  if (code === 'too_large' || code === 'too_many_pixels') return 'too large';
  return code ?? 'no image';
}
