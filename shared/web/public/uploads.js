/** Upload: drop zone and file picker, a few files at a time, one request each, then the live status of each file. */
import { ApiError, apiFetch, apiJson } from './api.js';
import { byId, h, replace } from './dom.js';
import { bytes, percent, resultSummary } from './format.js';

const FINAL = new Set(['classified', 'needs_review', 'rejected', 'failed', 'deleted']);
const FIRST_POLL_MS = 500;
const MAX_POLL_MS = 5000;

/** Words shown (and announced) for each state of an upload. */
const STATE_TEXT = {
  queued: 'queued',
  uploading: 'uploading',
  waiting: 'waiting for classification',
  classified: 'classified',
  needs_review: 'needs review',
  rejected: 'rejected',
  failed: 'failed',
  refused: 'refused',
  timeout: 'still processing',
  deleted: 'deleted',
};

/**
 * options: `profile()` → the chosen profile name; `concurrency`; `pollTimeoutMs`; `onFinished(doc)` when an upload
 * has a final document (the results list refreshes); `openDetail(id, opener)`.
 */
export function initUploads(options) {
  const input = byId('file-input');
  const zone = byId('drop-zone');
  const list = byId('upload-list');
  const announcer = byId('upload-announcer');
  const queue = [];
  let active = 0;

  const announce = (text) => {
    // Clearing first makes screen readers announce a repeated message too.
    announcer.textContent = '';
    window.setTimeout(() => (announcer.textContent = text), 50);
  };

  const add = (files) => {
    const profile = options.profile();
    for (const file of files) {
      const job = createJob(file, profile, options, announce);
      list.prepend(job.item);
      queue.push(job);
    }
    pump();
  };

  const pump = () => {
    while (active < options.concurrency && queue.length > 0) {
      const job = queue.shift();
      active++;
      // The slot is held while the bytes travel; waiting for the result does not hold up the next upload.
      job.upload().then((uploaded) => {
        active--;
        pump();
        if (uploaded !== null) void job.follow(uploaded);
      });
    }
  };

  input.addEventListener('change', () => {
    if (input.files !== null && input.files.length > 0) add([...input.files]);
    // The same file can be chosen again (e.g. after fixing it).
    input.value = '';
  });

  zone.addEventListener('dragenter', (e) => {
    e.preventDefault();
    zone.classList.add('drag-over');
  });
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    if (e.dataTransfer !== null) e.dataTransfer.dropEffect = 'copy';
    zone.classList.add('drag-over');
  });
  zone.addEventListener('dragleave', (e) => {
    if (e.relatedTarget === null || !zone.contains(e.relatedTarget)) zone.classList.remove('drag-over');
  });
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('drag-over');
    const files = [...(e.dataTransfer?.files ?? [])];
    if (files.length > 0) add(files);
  });
  // A file dropped beside the zone must not make the browser leave the page to show it.
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => e.preventDefault());

  return { add };
}

function createJob(file, profile, options, announce) {
  const state = h('span', { class: 'state state-queued', text: STATE_TEXT.queued });
  const message = h('span', { class: 'upload-message' });
  const actions = h('span', { class: 'upload-actions' });
  const item = h(
    'li',
    { class: 'upload-item', 'data-state': 'queued' },
    h('span', { class: 'upload-name' }, h('span', { class: 'file-name', text: file.name || 'unnamed file' }), h('span', { class: 'hint', text: ` ${bytes(file.size)}` })),
    state,
    message,
    actions,
  );

  const set = (key, text = '', { announceIt = false } = {}) => {
    item.dataset.state = key;
    state.className = `state state-${key}`;
    state.textContent = STATE_TEXT[key] ?? key;
    message.textContent = text;
    if (announceIt) announce(`${file.name}: ${STATE_TEXT[key] ?? key}${text === '' ? '' : `. ${text}`}`);
  };

  const showOpen = (id) => {
    replace(actions, h('button', { type: 'button', class: 'link-button', text: 'Details', 'aria-label': `Details of ${file.name}`, onclick: (e) => options.openDetail(id, e.currentTarget) }));
  };

  /** Resolves with the API's 201 body, or null when the upload was refused or failed (the item says why). */
  const sendFile = async () => {
    set('uploading');
    try {
      const uploaded = await upload(file, profile);
      set('waiting', typeof uploaded.profile === 'string' ? `profile ${uploaded.profile}` : '');
      return uploaded;
    } catch (e) {
      const refused = e instanceof ApiError && e.status >= 400 && e.status < 500;
      set(refused ? 'refused' : 'failed', e instanceof Error ? e.message : String(e), { announceIt: true });
      return null;
    }
  };

  const follow = async (uploaded) => {
    let doc;
    try {
      doc = await waitForResult(uploaded.id, options.pollTimeoutMs);
    } catch (e) {
      set('failed', `The result could not be read: ${e instanceof Error ? e.message : String(e)}`, { announceIt: true });
      return;
    }
    if (doc === null) {
      set('timeout', 'check the results list later', { announceIt: true });
      showOpen(uploaded.id);
      return;
    }
    set(doc.status, outcomeText(doc), { announceIt: true });
    showOpen(doc.id);
    options.onFinished(doc);
  };

  return { item, upload: sendFile, follow };
}

async function upload(file, profile) {
  const form = new FormData();
  form.append('image', file, file.name || 'upload');
  const query = profile === '' ? '' : `?profile=${encodeURIComponent(profile)}`;
  const res = await apiFetch(`api/uploads${query}`, { method: 'POST', body: form });
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  if (!res.ok) {
    const detail = typeof body?.detail === 'string' ? body.detail : `The API answered ${res.status}.`;
    throw new ApiError(res.status, body?.code ?? `http_${res.status}`, detail);
  }
  if (typeof body?.id !== 'string') throw new ApiError(res.status, 'bad_response', 'The API took the file but did not say which image it became.');
  return body;
}

/**
 * Polls the document with growing gaps until it has a final state. Returns null when `timeoutMs` passes first:
 * the image may still be queued behind others, and the page must never wait for ever.
 */
async function waitForResult(id, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let delay = FIRST_POLL_MS;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return null;
    await sleep(Math.min(delay, left));
    try {
      const doc = await apiJson(`api/images/${encodeURIComponent(id)}`);
      if (FINAL.has(doc?.status)) return doc;
    } catch (e) {
      // 404 until the event has been handled; a network blip or 5xx is worth another try, anything else is not.
      if (!(e instanceof ApiError) || !(e.status === 404 || e.status === 0 || e.status >= 500)) throw e;
    }
    delay = Math.min(delay * 1.6, MAX_POLL_MS);
  }
}

function outcomeText(doc) {
  switch (doc.status) {
    case 'classified':
      return `${resultSummary(doc.result)}${doc.confidence === null ? '' : ` · ${percent(doc.confidence)}`}`;
    case 'needs_review':
      return `${resultSummary(doc.result)} · ${percent(doc.confidence)}, below the profile's threshold`;
    case 'rejected':
    case 'failed':
      return doc.error?.message ?? doc.error?.code ?? '';
    default:
      return '';
  }
}

function sleep(ms) {
  return new Promise((resolve) => window.setTimeout(resolve, ms));
}
