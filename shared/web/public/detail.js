/** The detail dialog: a larger image (boxes drawn over it), every fact about the result, the review, and the correction form. */
import { apiJson } from './api.js';
import { byId, focusables, h, replace, s } from './dom.js';
import { bytes, dateTime, displayName, ms, percent, statusText, usd } from './format.js';
import { profileByName } from './profiles.js';
import { resultView } from './result-view.js';
import { reviewForm } from './review-form.js';
import { imageUrl } from './thumbnails.js';

const PREVIEW_SIZE = 1024;
const TAG_FONT_PX = 13;
const PALETTE = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#008080', '#f032e6', '#9a6324', '#800000', '#000075'];

const SOURCE_TEXT = {
  logprobs: 'from token log-probabilities',
  'self-reported': "the model's own estimate",
  none: 'not available',
};

/** options: `onReviewed(doc)`; `openerFor(id)` finds the row's button again when the table was redrawn meanwhile. */
export function initDetail(options) {
  const dialog = byId('detail-dialog');
  const body = byId('detail-body');
  const title = byId('detail-title');
  const close = byId('detail-close');
  let opener = null;
  let openId = null;
  let generation = 0;

  close.addEventListener('click', () => dialog.close());
  // A click on the backdrop (outside the dialog's box) closes it, as people expect of a modal.
  dialog.addEventListener('click', (e) => {
    if (e.target !== dialog) return;
    const r = dialog.getBoundingClientRect();
    const inside = e.clientX >= r.left && e.clientX <= r.right && e.clientY >= r.top && e.clientY <= r.bottom;
    if (!inside) dialog.close();
  });
  // Tab and Shift+Tab stay inside the dialog (the modal makes the page inert; this also keeps focus off the browser UI).
  dialog.addEventListener('keydown', (e) => {
    if (e.key !== 'Tab') return;
    const items = focusables(dialog);
    if (items.length === 0) return;
    const first = items[0];
    const last = items[items.length - 1];
    if (e.shiftKey && (document.activeElement === first || !dialog.contains(document.activeElement))) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  });
  dialog.addEventListener('close', () => {
    generation++;
    const id = openId;
    openId = null;
    const target = opener?.isConnected ? opener : id === null ? null : options.openerFor(id);
    target?.focus();
    opener = null;
  });

  const show = (doc, notice) => {
    title.textContent = displayName(doc);
    const onSaved = (updated, message) => {
      options.onReviewed(updated);
      if (openId === updated.id) show(updated, message);
    };
    replace(body, detailView(doc, { onSaved }, notice));
    if (notice !== undefined) {
      // The view was rebuilt under the person's feet: keep their place (the save button) and show them the outcome.
      body.querySelector('.review-form button[type="submit"]')?.focus({ preventScroll: true });
      body.querySelector('.saved-notice')?.scrollIntoView({ block: 'nearest' });
    }
  };

  return {
    async open(id, from) {
      const mine = ++generation;
      opener = from ?? null;
      openId = id;
      title.textContent = 'Loading…';
      replace(body, h('p', { class: 'hint', role: 'status', text: 'Loading the image…' }));
      if (!dialog.open) dialog.showModal();
      close.focus();
      try {
        const doc = await apiJson(`api/images/${encodeURIComponent(id)}`);
        if (mine !== generation) return;
        show(doc);
        close.focus();
      } catch (e) {
        if (mine !== generation) return;
        title.textContent = 'Image not available';
        replace(body, h('p', { class: 'message error', role: 'alert', text: e instanceof Error ? e.message : String(e) }));
      }
    },
  };
}

function detailView(doc, handlers, notice) {
  const profile = doc.profile === null ? undefined : profileByName(doc.profile.name);
  const answers = h(
    'div',
    { class: 'answers' },
    h('section', { class: 'answer model-answer', 'aria-labelledby': 'model-answer-heading' }, h('h3', { id: 'model-answer-heading', text: "Model's answer" }), modelAnswer(doc)),
    doc.review
      ? h(
          'section',
          { class: 'answer review-answer', 'aria-labelledby': 'review-heading' },
          h('h3', { id: 'review-heading', text: 'Review' }),
          resultView(doc.review.result, { showConfidence: false }),
          h(
            'p',
            { class: 'hint review-meta' },
            `${reviewerText(doc.review)}${dateTime(doc.review.reviewedAt)}`,
          ),
          doc.review.note ? h('blockquote', { class: 'review-note', text: doc.review.note }) : null,
        )
      : null,
  );
  const form = reviewForm(doc, profile, { onSaved: handlers.onSaved });
  if (notice !== undefined) {
    // Shown again after the view was rebuilt with the saved document, so the success message stays visible.
    form.append(h('p', { class: 'message success saved-notice', role: 'status', text: notice }));
  }
  return h(
    'div',
    { class: 'detail-grid' },
    h('div', { class: 'detail-media' }, figure(doc)),
    h(
      'div',
      { class: 'detail-info' },
      h('p', { class: 'detail-status' }, h('span', { class: `state state-${doc.status}`, text: statusText(doc.status) }), doc.review ? h('span', { class: 'badge badge-reviewed', text: 'reviewed' }) : null),
      doc.error ? h('p', { class: 'message error', text: `${doc.error.code}: ${doc.error.message}` }) : null,
      answers,
      facts(doc, profile),
      form,
    ),
  );
}

function modelAnswer(doc) {
  if (doc.result === null) {
    if (doc.status === 'processing') return h('p', { class: 'hint', text: 'Still being classified.' });
    return h('p', { class: 'hint', text: 'The model gave no answer for this image.' });
  }
  return resultView(doc.result);
}

function facts(doc, profile) {
  const rows = [];
  const add = (term, ...value) => rows.push(h('dt', { text: term }), h('dd', {}, ...value));
  const threshold = profile?.confidenceThreshold;
  add('Confidence', percent(doc.confidence), doc.confidenceSource ? ` (${SOURCE_TEXT[doc.confidenceSource] ?? doc.confidenceSource})` : '', typeof threshold === 'number' && doc.result?.kind !== 'objects' ? h('span', { class: 'hint', text: ` · threshold ${percent(threshold)}` }) : null);
  add('Profile', doc.profile === null ? 'none' : `${doc.profile.name} (version ${doc.profile.version})`, profile?.kind ? h('span', { class: 'hint', text: ` · ${profile.kind}` }) : null);
  if (doc.model !== null && doc.model !== undefined) {
    add('Model', [doc.model.provider, doc.model.deployment, doc.model.reportedModel].filter((v) => typeof v === 'string' && v !== '').join(' · '));
  }
  if (doc.cached) {
    add('Answer', 'reused from an earlier image with identical bytes', h('span', { class: 'hint', text: ' · no model call, no tokens billed' }));
  }
  if (typeof doc.attempts === 'number' && doc.attempts > 1) add('Attempts', String(doc.attempts));
  const u = doc.usage;
  if (u !== undefined && u !== null) {
    add('Cost', usd(u.costUsd), h('span', { class: 'hint', text: ` · ${u.promptTokens} prompt + ${u.completionTokens} completion tokens · ${u.modelCalls} model call${u.modelCalls === 1 ? '' : 's'}` }));
  }
  const t = doc.timings;
  if (t !== undefined && t !== null) {
    add('Timings', `total ${ms(t.totalMs)}`, h('span', { class: 'hint', text: ` · download ${ms(t.downloadMs)} · preprocess ${ms(t.preprocessMs)} · model ${ms(t.modelMs)}` }));
  }
  if (doc.image) add('Image', `${doc.image.width} × ${doc.image.height} ${doc.image.format}`, h('span', { class: 'hint', text: ` · ${bytes(doc.blob?.contentLength)}` }));
  add('Blob', h('code', { class: 'blob-name', text: `${doc.blob?.container ?? ''}/${doc.blob?.name ?? ''}` }));
  add('Uploaded', dateTime(doc.createdAt), h('span', { class: 'hint', text: ` · updated ${dateTime(doc.updatedAt)}` }));
  add('Id', h('code', { text: doc.id }));
  return h('dl', { class: 'facts' }, rows);
}

/** The preview image, with detected objects drawn over it in the original image's pixel space. */
function figure(doc) {
  const fig = h('figure', { class: 'preview' });
  if (!doc.image) {
    fig.append(h('div', { class: 'preview-placeholder' }, h('span', { class: 'thumb-icon', 'aria-hidden': 'true', text: '∅' }), h('span', { text: doc.error?.message ?? (doc.status === 'processing' ? 'Still being classified; the preview appears when it is done.' : 'No image to show.') })));
    return fig;
  }
  const frame = h('div', { class: 'preview-frame loading' });
  const img = h('img', { alt: `Preview of ${displayName(doc)}`, width: doc.image.width, height: doc.image.height });
  frame.append(img);
  const overlay = boxesOverlay(doc);
  if (overlay !== null) {
    frame.append(overlay);
    // Labels keep a readable size on screen whatever the preview's size: re-fitted whenever the frame resizes.
    const { width: W, height: H } = doc.image;
    new ResizeObserver(() => fitTags(overlay, W, H, frame.clientWidth)).observe(frame);
  }
  fig.append(frame);
  imageUrl(doc, PREVIEW_SIZE)
    .then((url) => {
      img.src = url;
      frame.classList.remove('loading');
    })
    .catch((e) => {
      frame.classList.remove('loading');
      replace(frame, h('div', { class: 'preview-placeholder' }, h('span', { text: `The preview could not be loaded: ${e instanceof Error ? e.message : String(e)}` })));
    });
  return fig;
}

/**
 * Boxes are in the original image's pixels; a viewBox of that size, stretched over the displayed image (same aspect
 * ratio), scales them to whatever size the preview is shown at. Boxes a review removed are dashed.
 */
function boxesOverlay(doc) {
  if (doc.result?.kind !== 'objects' || doc.result.objects.length === 0 || !doc.image) return null;
  const { width: W, height: H } = doc.image;
  const kept = doc.review?.result?.kind === 'objects' ? new Set(doc.review.result.objects.map((o) => o.label)) : null;
  const font = Math.max(10, Math.round(Math.max(W, H) / 40));
  const colours = new Map();
  const colour = (label) => {
    if (!colours.has(label)) colours.set(label, PALETTE[colours.size % PALETTE.length]);
    return colours.get(label);
  };
  const boxes = doc.result.objects.map((o) => {
    const x = clamp(o.box.x1, 0, W);
    const y = clamp(o.box.y1, 0, H);
    const w = Math.max(1, clamp(o.box.x2, 0, W) - x);
    const hgt = Math.max(1, clamp(o.box.y2, 0, H) - y);
    const c = colour(o.label);
    const text = `${o.label} ${percent(o.score)}`;
    const tagW = Math.min(W - x, text.length * font * 0.6 + font * 0.6);
    const tagY = y >= font * 1.4 ? y - font * 1.4 : y;
    const removed = kept !== null && !kept.has(o.label);
    return s(
      'g',
      { class: removed ? 'box removed' : 'box' },
      s('rect', { x, y, width: w, height: hgt, fill: 'none', stroke: c, 'stroke-width': 3, 'vector-effect': 'non-scaling-stroke', 'stroke-dasharray': removed ? '6 4' : null }),
      s('rect', { x, y: tagY, width: tagW, height: font * 1.4, fill: c, opacity: removed ? 0.5 : 0.85 }),
      s('text', { x: x + font * 0.3, y: tagY + font * 1.05, 'font-size': font, fill: '#ffffff', 'font-family': 'system-ui, sans-serif' }, text),
    );
  });
  return s(
    'svg',
    { class: 'overlay', viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': `${doc.result.objects.length} detected object${doc.result.objects.length === 1 ? '' : 's'} drawn as boxes` },
    boxes,
  );
}

/** Sizes each box's tag to its text at ~13 screen pixels, keeping it inside the image. */
function fitTags(svg, W, H, shownWidth) {
  if (!(shownWidth > 0) || !svg.isConnected) return;
  const font = TAG_FONT_PX * (W / shownWidth);
  for (const g of svg.querySelectorAll('g.box')) {
    const [box, tag, text] = g.children;
    const x = Number(box.getAttribute('x'));
    const y = Number(box.getAttribute('y'));
    text.setAttribute('font-size', String(font));
    const tagW = Math.min(W, text.getComputedTextLength() + font * 0.6);
    const tagH = font * 1.4;
    const tagX = Math.max(0, Math.min(x, W - tagW));
    const tagY = y >= tagH ? y - tagH : Math.min(y, H - tagH);
    tag.setAttribute('x', String(tagX));
    tag.setAttribute('y', String(tagY));
    tag.setAttribute('width', String(tagW));
    tag.setAttribute('height', String(tagH));
    text.setAttribute('x', String(tagX + font * 0.3));
    text.setAttribute('y', String(tagY + font * 1.05));
  }
}

function clamp(v, lo, hi) {
  return Math.min(hi, Math.max(lo, Number(v) || 0));
}

/** "by Ana · " for a signed-in reviewer; a name sent with a function key (or before sign-in existed) is only a claim. */
function reviewerText(review) {
  if (review.reviewedBy?.kind === 'user') return `by ${review.reviewedBy.name ?? review.reviewedBy.objectId} · `;
  return review.reviewer ? `by ${review.reviewer} (not verified) · ` : '';
}
