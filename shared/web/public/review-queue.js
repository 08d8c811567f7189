/**
 * The review queue, driven from the keyboard: the next image to review (GET api/review/next, held for this reviewer
 * by a short lease), the model's answer, and the profile's labels numbered 1-9. Enter or A accepts the model's
 * answer (or saves the picked label), a digit or the arrow keys pick another label, S or N passes the image over,
 * Escape stops. Corrections go through PATCH api/images/{id}/review, beside the model's answer, never over it.
 */
import { apiJson, currentSession } from './api.js';
import { byId, h, replace } from './dom.js';
import { displayName, percent, statusText } from './format.js';
import { profileByName } from './profiles.js';
import { imageUrl } from './thumbnails.js';

/** Images passed over in this session, sent back as ?skip= (the API takes at most 200). */
const MAX_SKIP = 200;

export function initReviewQueue({ onReviewed }) {
  const panel = byId('review-panel');
  const start = byId('review-start');
  const view = byId('review-view');
  const status = byId('review-status');
  const state = { active: false, doc: null, etag: null, picked: null, skipped: [], reviewed: 0, busy: false };

  const session = currentSession();
  if (session.mode === 'signed-in' && !session.user.canReview) {
    panel.hidden = true;
    return;
  }

  start.addEventListener('click', () => void begin());
  panel.addEventListener('keydown', (e) => onKey(e));

  async function begin() {
    state.active = true;
    start.hidden = true;
    view.hidden = false;
    await loadNext();
  }

  function stop() {
    state.active = false;
    state.doc = null;
    view.hidden = true;
    replace(view);
    start.hidden = false;
    say(state.reviewed === 0 ? '' : `Reviewed ${state.reviewed} this session.`);
    start.focus();
  }

  async function loadNext() {
    state.busy = true;
    say('Loading the next image…');
    try {
      const skip = state.skipped.slice(-MAX_SKIP);
      const body = await apiJson(`api/review/next${skip.length === 0 ? '' : `?skip=${skip.join(',')}`}`);
      state.doc = body?.item ?? null;
      state.picked = state.doc === null ? null : modelChoice(state.doc);
      render(body?.lease?.expiresAt ?? null);
      say(state.doc === null ? `Nothing left to review${state.reviewed === 0 ? '' : ` — you reviewed ${state.reviewed}`}.` : '');
    } catch (e) {
      say(`The queue could not be loaded: ${e instanceof Error ? e.message : String(e)}`, 'error');
    } finally {
      state.busy = false;
    }
  }

  function render(leaseUntil) {
    const doc = state.doc;
    if (doc === null) {
      replace(view, h('p', { class: 'review-empty', text: 'Nothing waits for review: every image needing it is done or held by another reviewer.' }), h('div', { class: 'form-actions' }, h('button', { type: 'button', class: 'secondary', onclick: () => stop(), text: 'Close' })));
      view.querySelector('button')?.focus();
      return;
    }
    const profile = doc.profile === null ? undefined : profileByName(doc.profile.name);
    const options = labelOptions(doc, profile);
    const picture = h('div', { class: 'review-picture thumb thumb-loading' });
    imageUrl(doc, 512)
      .then((url) => {
        picture.classList.remove('thumb-loading');
        picture.append(h('img', { src: url, alt: `Image ${displayName(doc)}` }));
      })
      .catch(() => {
        picture.classList.remove('thumb-loading');
        picture.append(h('span', { class: 'thumb-reason', text: 'no preview' }));
      });
    const list = h(
      'ol',
      { class: 'review-options', role: 'listbox', 'aria-label': 'Labels', tabindex: '0', id: 'review-options', 'aria-activedescendant': options.length === 0 ? null : `review-option-${Math.max(0, options.indexOf(state.picked))}` },
      options.map((label, i) =>
        h(
          'li',
          { id: `review-option-${i}`, role: 'option', class: `review-option${label === state.picked ? ' picked' : ''}${label === modelChoice(doc) ? ' model-choice' : ''}`, 'aria-selected': label === state.picked ? 'true' : 'false', 'data-label': label, onclick: () => pick(label) },
          h('kbd', { text: i < 9 ? String(i + 1) : '·' }),
          h('span', { class: 'label-value', text: label }),
          label === modelChoice(doc) ? h('span', { class: 'hint', text: `model · ${percent(doc.confidence)}` }) : null,
        ),
      ),
    );
    replace(
      view,
      h(
        'div',
        { class: 'review-card' },
        picture,
        h(
          'div',
          { class: 'review-side' },
          h('h3', { class: 'review-name', text: displayName(doc) }),
          h('p', { class: 'hint' }, `${statusText(doc.status)} · ${doc.profile?.name ?? 'no profile'} · confidence ${percent(doc.confidence)}`, leaseUntil === null ? null : ` · held for you until ${new Date(leaseUntil).toLocaleTimeString()}`),
          options.length === 0 ? h('p', { class: 'hint', text: 'This kind of result is accepted as a whole here; open it from Results to correct it in detail.' }) : list,
          h(
            'div',
            { class: 'form-actions review-actions' },
            h('button', { type: 'button', class: 'primary', id: 'review-save', onclick: () => void save(), text: state.picked === modelChoice(doc) || options.length === 0 ? 'Accept (Enter)' : 'Save label (Enter)' }),
            h('button', { type: 'button', class: 'secondary', onclick: () => void skip(), text: 'Skip (S)' }),
            h('button', { type: 'button', class: 'secondary', onclick: () => stop(), text: 'Stop (Esc)' }),
          ),
          h('p', { class: 'hint review-keys', text: 'Keys: 1–9 or ↑/↓ pick a label · Enter or A accept/save · S or N skip · Esc stop' }),
        ),
      ),
    );
    (view.querySelector('#review-options') ?? view.querySelector('#review-save'))?.focus();
  }

  function pick(label) {
    if (state.doc === null) return;
    state.picked = label;
    for (const li of view.querySelectorAll('.review-option')) {
      const on = li.dataset.label === label;
      li.classList.toggle('picked', on);
      li.setAttribute('aria-selected', on ? 'true' : 'false');
      if (on) view.querySelector('#review-options')?.setAttribute('aria-activedescendant', li.id);
    }
    const save = view.querySelector('#review-save');
    if (save !== null) save.textContent = label === modelChoice(state.doc) ? 'Accept (Enter)' : 'Save label (Enter)';
  }

  function onKey(e) {
    if (!state.active || state.busy || e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement || e.target instanceof HTMLSelectElement) return;
    // Enter on a focused button is that button's click: leave it alone.
    if (e.key === 'Enter' && e.target instanceof HTMLButtonElement) return;
    const doc = state.doc;
    if (e.key === 'Escape') return void (e.preventDefault(), stop());
    if (doc === null) return;
    const options = labelOptions(doc, doc.profile === null ? undefined : profileByName(doc.profile.name));
    if (/^[1-9]$/.test(e.key) && Number(e.key) <= options.length) {
      e.preventDefault();
      pick(options[Number(e.key) - 1]);
    } else if ((e.key === 'ArrowDown' || e.key === 'ArrowUp') && options.length > 0) {
      e.preventDefault();
      const i = options.indexOf(state.picked);
      pick(options[(i + (e.key === 'ArrowDown' ? 1 : options.length - 1)) % options.length]);
    } else if (e.key === 'Enter') {
      e.preventDefault();
      void save();
    } else if (e.key === 'a' || e.key === 'A') {
      e.preventDefault();
      pick(modelChoice(doc));
      void save();
    } else if (e.key === 's' || e.key === 'S' || e.key === 'n' || e.key === 'N') {
      e.preventDefault();
      void skip();
    }
  }

  async function save() {
    const doc = state.doc;
    if (doc === null || state.busy) return;
    state.busy = true;
    say('Saving…');
    try {
      const saved = await apiJson(`api/images/${encodeURIComponent(doc.id)}/review`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(reviewBody(doc, state.picked)),
      });
      state.reviewed++;
      onReviewed?.(saved);
      state.busy = false;
      await loadNext();
      say(`Saved ${displayName(doc)}${state.picked === null ? '' : `: ${state.picked}`}. ${state.doc === null ? 'Nothing left to review.' : ''}`.trim(), 'success');
    } catch (e) {
      state.busy = false;
      say(`Not saved: ${e instanceof Error ? e.message : String(e)}`, 'error');
    }
  }

  async function skip() {
    if (state.doc === null || state.busy) return;
    state.skipped.push(state.doc.id);
    await loadNext();
  }

  function say(text, kind) {
    status.className = `message${kind === undefined ? '' : ` ${kind}`}`;
    status.textContent = text;
  }
}

/** The labels a reviewer picks from: the profile's, for single-label profiles; none for the other kinds. */
function labelOptions(doc, profile) {
  if (doc.result?.kind !== 'single-label' || profile === undefined || !Array.isArray(profile.labels)) return [];
  return profile.labels.map((l) => l.name);
}

function modelChoice(doc) {
  return doc.result?.kind === 'single-label' ? doc.result.label : null;
}

/** The review body: the picked label, or the model's whole answer in the shape the review endpoint takes. */
function reviewBody(doc, picked) {
  const r = doc.result;
  switch (r?.kind) {
    case 'single-label':
      return { label: picked ?? r.label };
    case 'multi-label':
      return { labels: r.labels.map((d) => d.label) };
    case 'attributes':
      return { attributes: Object.fromEntries(Object.entries(r.attributes).map(([k, v]) => [k, v.label])) };
    case 'objects':
      return { labels: [...new Set(r.objects.map((o) => o.label))] };
    default:
      return {};
  }
}
