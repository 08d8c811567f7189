/**
 * The stats view: GET api/stats?days=N drawn as tiles, small SVG charts and tables. Hand-made SVG, no chart library:
 * the page is static files, and four bar and line charts do not need one. Every chart has a text alternative.
 */
import { apiJson } from './api.js';
import { byId, h, replace, s } from './dom.js';
import { ms, percent, statusText, usd } from './format.js';

const STATUSES = ['classified', 'needs_review', 'rejected', 'failed'];
const W = 320;
const H = 140;
const PAD = { top: 10, right: 14, bottom: 22, left: 46 };

export function initStats() {
  const root = byId('stats');
  const days = byId('stats-days');
  const status = byId('stats-status');
  byId('stats-refresh').addEventListener('click', () => void load());
  days.addEventListener('change', () => void load());

  async function load() {
    status.textContent = 'Loading stats…';
    try {
      const body = await apiJson(`api/stats?days=${encodeURIComponent(days.value)}`);
      render(root, body);
      status.textContent = `Stats for ${body.from} to ${body.to} (UTC), as of ${new Date(body.generatedAt).toLocaleTimeString()}.`;
    } catch (e) {
      replace(root, h('p', { class: 'message error', role: 'alert', text: `Stats could not be loaded: ${e instanceof Error ? e.message : String(e)}` }));
      status.textContent = '';
    }
  }
  return { load };
}

function render(root, st) {
  const w = st.window;
  const budget = st.budget;
  replace(
    root,
    h(
      'div',
      { class: 'stat-tiles' },
      tile('Today', usd(st.today.costUsd), `${st.today.results} results · ${tokens(st.today)} tokens`, 'stat-today'),
      tile('Last 7 days', usd(st.last7Days.costUsd), `${st.last7Days.results} results · ${tokens(st.last7Days)} tokens`),
      tile('Total', usd(st.total.costUsd), `${st.total.results} results · ${tokens(st.total)} tokens`),
      tile(
        'Daily budget',
        budget.dailyUsd === null ? 'no cap' : `${usd(budget.spentTodayUsd)} / $${budget.dailyUsd}`,
        budget.reached ? 'reached: new images wait for tomorrow' : budget.dailyUsd === null ? 'DAILY_BUDGET_USD is not set' : 'new images are processed',
        budget.reached ? 'stat-alert' : undefined,
      ),
      tile('Model latency', `p50 ${ms(w.latency.model.p50)}`, `p90 ${ms(w.latency.model.p90)} · p99 ${ms(w.latency.model.p99)}`),
      tile('End to end', `p50 ${ms(w.latency.endToEnd.p50)}`, `p90 ${ms(w.latency.endToEnd.p90)} · p99 ${ms(w.latency.endToEnd.p99)}`),
      tile('Failed', percent(w.shares.failed), `rejected ${percent(w.shares.rejected)} · throttled ${percent(w.shares.throttled)}`),
      tile('Needed review', percent(w.shares.needsReview), `cached ${percent(w.shares.cached)} · redelivered ${percent(w.shares.retried)}`),
      tile('Reviewed accuracy', percent(w.reviews.accuracy), `${w.reviews.agreed} of ${w.reviews.reviewed} reviews agreed with the model`, 'stat-accuracy'),
    ),
    h(
      'div',
      { class: 'stat-charts' },
      chart('Results per day', stackedBars(st.series), legend()),
      chart('Cost per day', bars(st.series.map((d) => ({ x: d.day, y: d.costUsd })), usd, 'cost', compactUsd)),
      chart('Model latency (results per bucket)', bars(histogram(w.latency.model.counts, w.latency.bucketsMs), String, 'latency'), h('p', { class: 'hint', text: 'Bucket upper bounds; percentiles are read off these buckets.' })),
      chart('Reviewed accuracy per day', line(st.series.map((d) => ({ x: d.day, y: d.accuracy })))),
    ),
    h(
      'div',
      { class: 'stat-tables' },
      table('By profile', ['Profile', 'Results', ...STATUSES.map(statusText), 'Reviewed', 'Accuracy'], Object.entries(w.byProfile).map(([name, p]) => {
        const r = w.reviews.byProfile[name];
        return [name, p.results, ...STATUSES.map((st2) => p.byStatus[st2] ?? 0), r?.reviewed ?? 0, percent(r?.accuracy ?? null)];
      })),
      table('By label', ['Label', 'Results', 'Reviewed', 'Accuracy'], Object.entries(w.byLabel).sort((a, b) => b[1] - a[1]).slice(0, 15).map(([label, n]) => {
        const r = w.reviews.byLabel[label];
        return [label, n, r?.reviewed ?? 0, percent(r?.accuracy ?? null)];
      })),
    ),
  );
}

function tokens(spend) {
  return (spend.promptTokens + spend.completionTokens).toLocaleString('en');
}

function tile(label, value, detail, className) {
  return h('div', { class: `stat-tile${className === undefined ? '' : ` ${className}`}` }, h('p', { class: 'stat-label', text: label }), h('p', { class: 'stat-value', text: value }), h('p', { class: 'stat-detail', text: detail }));
}

function chart(title, svg, ...extra) {
  return h('figure', { class: 'stat-chart' }, h('figcaption', { text: title }), svg, ...extra);
}

function legend() {
  return h('ul', { class: 'stat-legend' }, STATUSES.map((st) => h('li', {}, h('span', { class: `swatch status-fill-${st}` }), statusText(st))));
}

/** The buckets from the first to the last with a count (at least two, so one bar is not the whole chart). */
function histogram(counts, boundsMs) {
  const bins = counts.map((n, i) => ({ x: i < boundsMs.length ? `≤${shortMs(boundsMs[i])}` : 'slower', y: n }));
  const first = bins.findIndex((b) => b.y > 0);
  if (first === -1) return [];
  const last = bins.length - 1 - [...bins].reverse().findIndex((b) => b.y > 0);
  return bins.slice(Math.max(0, first - 1), Math.min(bins.length, Math.max(last + 2, first + 3)));
}

function svgRoot(label, description) {
  return s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'stat-svg', role: 'img', 'aria-label': `${label}: ${description}` }, s('title', { text: `${label}: ${description}` }));
}

function axis(svg, max, fmt) {
  const y0 = H - PAD.bottom;
  svg.append(s('line', { x1: PAD.left, y1: y0, x2: W - PAD.right, y2: y0, class: 'stat-axis' }));
  svg.append(s('text', { x: PAD.left - 4, y: PAD.top + 4, class: 'stat-tick', 'text-anchor': 'end', text: fmt(max) }));
  svg.append(s('text', { x: PAD.left - 4, y: y0, class: 'stat-tick', 'text-anchor': 'end', text: fmt(0) }));
}

/** At most ~6 x labels, so day names never overlap. */
function xLabels(svg, xs, xAt, edge = false) {
  const every = Math.max(1, Math.ceil(xs.length / 6));
  xs.forEach((x, i) => {
    const last = xs.length - 1;
    // Every `every`-th label and the last one, dropping a regular one that would crowd the last.
    if (i !== last && (i % every !== 0 || last - i < every)) return;
    // The last label ends at its point, so it never runs off the right edge.
    const anchor = edge && i === xs.length - 1 && xs.length > 1 ? 'end' : 'middle';
    svg.append(s('text', { x: anchor === 'end' ? Math.min(xAt(i) + 8, W - 1) : xAt(i), y: H - 6, class: 'stat-tick', 'text-anchor': anchor, text: x.length === 10 ? x.slice(5) : x }));
  });
}

function stackedBars(series) {
  const max = Math.max(1, ...series.map((d) => d.results));
  const svg = svgRoot('Results per day', series.map((d) => `${d.day} ${d.results}`).join(', '));
  svg.setAttribute('data-chart', 'results');
  const inner = W - PAD.left - PAD.right;
  const bw = inner / series.length;
  const scale = (H - PAD.top - PAD.bottom) / max;
  axis(svg, max, String);
  series.forEach((d, i) => {
    let y = H - PAD.bottom;
    for (const st of STATUSES) {
      const n = d.byStatus[st] ?? 0;
      if (n === 0) continue;
      const hgt = n * scale;
      y -= hgt;
      svg.append(s('rect', { x: PAD.left + i * bw + bw * 0.15, y, width: bw * 0.7, height: hgt, class: `status-fill-${st}` }, s('title', { text: `${d.day}: ${n} ${statusText(st)}` })));
    }
  });
  xLabels(svg, series.map((d) => d.day), (i) => PAD.left + i * bw + bw / 2);
  return svg;
}

/** Bucket labels must fit a narrow bar: 750 ms, 1.5 s. */
function shortMs(v) {
  return v < 1000 ? `${v} ms` : `${v / 1000} s`;
}

/** Axis labels must fit 40 px: $0.0019, $1.2k. */
function compactUsd(v) {
  if (v === 0) return '$0';
  if (v >= 1000) return `$${(v / 1000).toFixed(1)}k`;
  return `$${v >= 1 ? v.toFixed(2) : v.toPrecision(2)}`;
}

function bars(points, fmt, name, axisFmt = fmt) {
  const max = Math.max(...points.map((p) => p.y), 0);
  const svg = svgRoot(name, points.map((p) => `${p.x} ${fmt(p.y)}`).join(', '));
  svg.setAttribute('data-chart', name);
  if (points.length === 0) return svg;
  const inner = W - PAD.left - PAD.right;
  const bw = inner / points.length;
  const scale = max === 0 ? 0 : (H - PAD.top - PAD.bottom) / max;
  axis(svg, max, axisFmt);
  points.forEach((p, i) => {
    const hgt = p.y * scale;
    svg.append(s('rect', { x: PAD.left + i * bw + bw * 0.15, y: H - PAD.bottom - hgt, width: bw * 0.7, height: hgt, class: 'stat-bar' }, s('title', { text: `${p.x}: ${fmt(p.y)}` })));
  });
  xLabels(svg, points.map((p) => p.x), (i) => PAD.left + i * bw + bw / 2);
  return svg;
}

/** Accuracy 0-100 %; days without reviews are gaps, not zeros. */
function line(points) {
  const svg = svgRoot('Reviewed accuracy per day', points.map((p) => `${p.x} ${percent(p.y)}`).join(', '));
  svg.setAttribute('data-chart', 'accuracy');
  const inner = W - PAD.left - PAD.right;
  const step = points.length > 1 ? inner / (points.length - 1) : 0;
  const yAt = (v) => H - PAD.bottom - v * (H - PAD.top - PAD.bottom);
  const xAt = (i) => PAD.left + (points.length > 1 ? i * step : inner / 2);
  axis(svg, 1, percent);
  let path = '';
  points.forEach((p, i) => {
    if (p.y === null) return;
    path += `${path === '' || points[i - 1]?.y === null ? 'M' : 'L'}${xAt(i).toFixed(1)},${yAt(p.y).toFixed(1)} `;
  });
  if (path !== '') svg.append(s('path', { d: path.trim(), class: 'stat-line' }));
  points.forEach((p, i) => {
    if (p.y !== null) svg.append(s('circle', { cx: xAt(i), cy: yAt(p.y), r: 3, class: 'stat-point' }, s('title', { text: `${p.x}: ${percent(p.y)}` })));
  });
  // The line's last point sits on the right edge: its label ends there instead of running off.
  xLabels(svg, points.map((p) => p.x), xAt, true);
  return svg;
}

function table(caption, head, rows) {
  const t = h(
    'table',
    { class: 'stat-table' },
    h('caption', { text: caption }),
    h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col', text: c })))),
    h('tbody', {}, rows.length === 0 ? h('tr', {}, h('td', { colspan: head.length, class: 'hint', text: 'Nothing yet.' })) : rows.map((r) => h('tr', {}, r.map((c, i) => (i === 0 ? h('th', { scope: 'row', text: String(c) }) : h('td', { text: String(c) })))))),
  );
  return h('div', { class: 'stat-table-wrap' }, t);
}
