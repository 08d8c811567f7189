/** Browse: the results table with filters and paging by continuation token (Next, and Previous from a stack). */
import { apiJson } from './api.js';
import { byId, h, replace } from './dom.js';
import { dateTime, displayName, errorSummary, percent, resultSummary, shortDateTime, statusText } from './format.js';
import { thumbnail } from './thumbnails.js';

const PAGE_SIZE = 20;
const FILTERS = ['status', 'label', 'profile', 'minConfidence', 'maxConfidence'];

/** options: `openDetail(id, opener)`. */
export function initResults(options) {
  const form = byId('filter-form');
  const container = byId('results');
  const status = byId('results-status');
  const errorBox = byId('results-error');
  const prev = byId('prev-page');
  const next = byId('next-page');
  const pageInfo = byId('page-info');

  let filters = {};
  /** Tokens of the pages before this one; `undefined` is the first page. */
  const before = [];
  let token;
  let nextToken;
  let generation = 0;
  let items = [];
  let refreshTimer;

  const load = async () => {
    const mine = ++generation;
    container.setAttribute('aria-busy', 'true');
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(filters)) query.set(k, v);
    query.set('limit', String(PAGE_SIZE));
    if (token !== undefined) query.set('continuationToken', token);
    try {
      const page = await apiJson(`api/images?${query}`);
      if (mine !== generation) return; // a newer request (another filter, another page) won
      errorBox.hidden = true;
      items = Array.isArray(page?.items) ? page.items : [];
      nextToken = typeof page?.continuationToken === 'string' && page.continuationToken !== '' ? page.continuationToken : undefined;
      render();
    } catch (e) {
      if (mine !== generation) return;
      errorBox.textContent = `The results could not be loaded: ${e instanceof Error ? e.message : String(e)}`;
      errorBox.hidden = false;
      status.textContent = '';
    } finally {
      if (mine === generation) container.removeAttribute('aria-busy');
    }
  };

  const render = () => {
    const page = before.length + 1;
    pageInfo.textContent = `Page ${page}`;
    prev.disabled = before.length === 0;
    next.disabled = nextToken === undefined;
    if (items.length === 0) {
      const filtered = Object.keys(filters).length > 0;
      replace(
        container,
        h(
          'div',
          { class: 'empty-state' },
          h('p', { class: 'empty-title', text: filtered ? 'No images match these filters.' : page > 1 ? 'No more images.' : 'No images yet.' }),
          h('p', { class: 'hint', text: filtered ? 'Clear the filters to see every image.' : 'Upload some above; they appear here once classified.' }),
        ),
      );
      status.textContent = filtered ? 'No images match these filters.' : 'No images.';
      return;
    }
    const body = h('tbody', {}, items.map((doc) => row(doc)));
    replace(
      container,
      h(
        'table',
        { class: 'results-table' },
        h('caption', { class: 'visually-hidden', text: 'Images, most recently updated first' }),
        h(
          'thead',
          {},
          h('tr', {}, ['Image', 'File', 'Status', 'Result', 'Confidence', 'Profile', 'Updated'].map((t) => h('th', { scope: 'col', text: t }))),
        ),
        body,
      ),
    );
    status.textContent = `${items.length} image${items.length === 1 ? '' : 's'} on page ${page}.`;
  };

  const row = (doc) => {
    const name = displayName(doc);
    const open = h('button', { type: 'button', class: 'row-open', title: doc.blob?.name ?? name, text: name, onclick: (e) => options.openDetail(doc.id, e.currentTarget) });
    const tr = h(
      'tr',
      { 'data-id': doc.id, 'data-status': doc.status },
      h('td', { class: 'cell-thumb' }, thumbnail(doc)),
      h('td', { class: 'cell-name', 'data-label': 'File' }, open),
      h('td', { class: 'cell-status', 'data-label': 'Status' }, h('span', { class: `state state-${doc.status}`, text: statusText(doc.status) })),
      h('td', { class: 'cell-result', 'data-label': 'Result' }, resultCell(doc)),
      h('td', { class: 'cell-confidence', 'data-label': 'Confidence' }, percent(doc.confidence)),
      h('td', { class: 'cell-profile', 'data-label': 'Profile' }, doc.profile?.name ?? '—'),
      h('td', { class: 'cell-updated', 'data-label': 'Updated' }, h('time', { datetime: doc.updatedAt, title: dateTime(doc.updatedAt), text: shortDateTime(doc.updatedAt) })),
    );
    // The whole row is a click target for the mouse; the keyboard uses the button in it.
    tr.addEventListener('click', (e) => {
      if (e.target instanceof Element && e.target.closest('button, a, input, select, textarea') !== null) return;
      options.openDetail(doc.id, open);
    });
    return tr;
  };

  const go = (nextTokenValue, push) => {
    if (push) before.push(token);
    token = nextTokenValue;
    return load();
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    filters = readFilters(form);
    before.length = 0;
    token = undefined;
    void load();
  });
  form.addEventListener('reset', () => {
    // After the browser has cleared the fields.
    window.setTimeout(() => {
      filters = {};
      before.length = 0;
      token = undefined;
      void load();
    }, 0);
  });
  next.addEventListener('click', () => {
    if (nextToken !== undefined) void go(nextToken, true);
  });
  prev.addEventListener('click', () => {
    if (before.length > 0) void go(before.pop(), false);
  });
  byId('refresh-button').addEventListener('click', () => void load());

  return {
    reload: load,
    /** After an upload finished: shows it when this is the first page, without a burst of requests for a burst of uploads. */
    refreshSoon() {
      if (before.length > 0) return;
      window.clearTimeout(refreshTimer);
      refreshTimer = window.setTimeout(() => void load(), 300);
    },
    /** Replaces a document shown in the table (after a review) without reloading the page of results. */
    update(doc) {
      const i = items.findIndex((d) => d.id === doc.id);
      if (i < 0) return;
      items[i] = doc;
      const old = container.querySelector(`tr[data-id="${CSS.escape(doc.id)}"]`);
      if (old !== null) old.replaceWith(row(doc));
    },
    /** The button that opens a document's detail, for returning focus after the table was redrawn. */
    opener(id) {
      return container.querySelector(`tr[data-id="${CSS.escape(id)}"] .row-open`);
    },
  };
}

function resultCell(doc) {
  if (doc.status === 'rejected' || doc.status === 'failed') return h('span', { class: 'error-text', text: errorSummary(doc) });
  if (doc.result === null || doc.result === undefined) return h('span', { class: 'hint', text: '—' });
  const model = resultSummary(doc.result);
  if (doc.review === null || doc.review === undefined) return h('span', { class: 'result-text', text: model });
  return h(
    'span',
    { class: 'result-reviewed' },
    h('span', { class: 'result-text', text: resultSummary(doc.review.result) }),
    ' ',
    h('span', { class: 'badge badge-reviewed', text: 'reviewed' }),
    h('span', { class: 'hint model-was', text: `model: ${model}` }),
  );
}

/** Only the filters that were filled in; the API validates the values and says what is wrong. */
function readFilters(form) {
  const data = new FormData(form);
  const filters = {};
  for (const name of FILTERS) {
    const value = String(data.get(name) ?? '').trim();
    if (value !== '') filters[name] = value;
  }
  return filters;
}
