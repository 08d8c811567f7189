/**
 * The report as one self-contained HTML page: inline CSS, charts as inline SVG (rendered in Node by renderChart),
 * gallery pictures as data URIs; no script and no external request, so it opens the same from a disk, a mail or an
 * artifact store.
 */
import { latencyStats } from '../eval/latencyStats';
import type { EvaluationResult, LabelScores } from '../eval/types';
import { OVERLAY_COLOURS } from '../visualize/overlayColours';
import { confusionChart } from './charts/confusionChart';
import { histogramChart } from './charts/histogramChart';
import type { PrCurveInput } from './charts/prCurvesChart';
import { prCurvesChart } from './charts/prCurvesChart';
import { reliabilityChart } from './charts/reliabilityChart';
import type { ClassScores } from './charts/scoreBarsChart';
import { scoreBarsChart } from './charts/scoreBarsChart';
import { STATUS_COLOURS, statusChart } from './charts/statusChart';
import type { ReportData } from './collectReport';
import type { ChartSpec } from './renderChart';
import { renderChart } from './renderChart';

interface Card {
  label: string;
  value: string;
  note?: string;
}

interface Section {
  id: string;
  title: string;
  intro?: string;
  charts: { name: string; spec: ChartSpec; wide?: boolean }[];
  html?: string;
}

export async function reportHtml(d: ReportData): Promise<string> {
  const e = d.evaluation;
  const sections = [runSection(d), ...(e === null ? [] : evaluationSections(e)), costSection(d)];
  const rendered: string[] = [];
  for (const s of sections) {
    const charts: string[] = [];
    for (const c of s.charts) {
      // The title goes in the page's own caption: wrapped by the browser, and it never widens the chart.
      const { title, ...spec } = c.spec as ChartSpec & { title?: string };
      const caption = typeof title === 'string' ? `<figcaption>${esc(title)}</figcaption>` : '';
      charts.push(`<figure class="chart${c.wide === true ? ' wide' : ''}" data-chart="${esc(c.name)}">${caption}${await renderChart(spec)}</figure>`);
    }
    rendered.push(`<section id="${esc(s.id)}"><h2>${esc(s.title)}</h2>${s.intro === undefined ? '' : `<p class="intro">${s.intro}</p>`}${charts.length > 0 ? `<div class="charts">${charts.join('')}</div>` : ''}${s.html ?? ''}</section>`);
  }
  if (e !== null) rendered.push(gallerySection(d));
  const c = d.run.config;
  const title = `blobsight report · ${d.run.id}`;
  const meta = [
    `profile <b>${esc(c.profile.name)}@${esc(c.profile.version)}</b> (${esc(c.profile.kind)})`,
    `model <b>${esc(c.model.provider)} / ${esc(c.model.deployment)}</b>`,
    `run started ${esc(c.createdAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'))}`,
    `source ${esc(c.source.kind)} <code>${esc(c.source.location)}</code>`,
    d.truth === null ? 'no ground truth given' : `truth <code>${esc(d.truth)}</code>${e === null ? '' : ` (${esc(e.inputs.truthFormat)})`}`,
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>${esc(title)}</title><style>${CSS}</style></head>
<body><header><h1>Labelling report <span class="run">${esc(d.run.id)}</span></h1><p class="meta">${meta.join(' · ')}</p></header>
<main>
<div class="cards">${cards(d).map((k) => `<div class="card"><div class="k">${esc(k.label)}</div><div class="v${k.value.length > 10 ? ' long' : ''}">${esc(k.value)}</div>${k.note === undefined ? '' : `<div class="n">${esc(k.note)}</div>`}</div>`).join('')}</div>
${warnings(d)}
${d.truth === null ? `<p class="notice">No ground truth given: this page shows what the run alone says (statuses, confidences, latency, cost). <code>blobsight report ${esc(d.run.id)} --truth &lt;labels&gt;</code> adds accuracy, the confusion matrix, per-class scores, PR curves, calibration and the worst mistakes.</p>` : ''}
${rendered.join('\n')}
</main>
<footer>Generated ${esc(d.generatedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'))} by <code>blobsight report</code>. Metrics from <code>blobsight evaluate</code>'s evaluator; fractions shown as percentages.</footer>
</body></html>
`;
}

function cards(d: ReportData): Card[] {
  const e = d.evaluation;
  const counts = statusCounts(d);
  const out: Card[] = [{ label: 'Images', value: String(d.records.length), note: `${counts['classified'] ?? 0} classified · ${counts['needs_review'] ?? 0} review · ${counts['rejected'] ?? 0} rejected · ${counts['failed'] ?? 0} failed` }];
  if (e !== null) {
    out.push({ label: 'Evaluated', value: String(e.images.evaluated), note: `${e.images.predictionsWithoutTruth} without truth · ${e.images.truthWithoutPredictions} truth without prediction` });
    if (e.classification !== undefined) out.push({ label: 'Accuracy', value: pct(e.classification.accuracy), note: `${e.classification.correct} of ${e.classification.images} · macro F1 ${pct(e.classification.macro.f1)}` });
    if (e.multiLabel !== undefined) out.push({ label: 'Exact match', value: pct(e.multiLabel.exactMatch), note: `micro F1 ${pct(e.multiLabel.micro.f1)} · macro F1 ${pct(e.multiLabel.macro.f1)}` });
    if (e.attributes !== undefined) out.push({ label: 'Attributes', value: pct(e.attributes.overall.accuracy), note: `${e.attributes.overall.correct} of ${e.attributes.overall.decisions} decisions right` });
    if (e.detection !== undefined) {
      out.push({ label: 'Detection AP', value: pct(e.detection.AP), note: `AP50 ${pct(e.detection.AP50)} · AP75 ${pct(e.detection.AP75)}` });
      const a = e.detection.at50;
      out.push({ label: 'Boxes at IoU 0.5', value: `P ${pct(a.precision)} · R ${pct(a.recall)}`, note: `${a.tp} TP · ${a.fp} FP · ${a.fn} FN · F1 ${pct(a.f1)}` });
    }
    if (e.calibration !== undefined && e.calibration.decisions > 0) out.push({ label: 'Calibration (ECE)', value: pct(e.calibration.ece), note: `to review at ${pct(e.calibration.targetPrecision)} precision: ${pct(e.calibration.reviewShare)}` });
  }
  const lat = latency(d);
  out.push({ label: 'Latency p50 / p95', value: lat.p50 === null ? '–' : `${ms(lat.p50)} / ${ms(lat.p95)}`, note: lat.count === 0 ? 'no model call' : `per image, ${lat.count} with a model call; max ${ms(lat.max)}` });
  const cost = e?.cost;
  const total = cost?.totalUsd ?? d.run.summary?.costUsd ?? sum(d.records.map((r) => r.usage.costUsd));
  out.push({ label: 'Cost', value: usd(total), note: cost?.perCorrectLabelUsd !== null && cost?.perCorrectLabelUsd !== undefined ? `${usd(cost.perImageUsd)} per image · ${usd(cost.perCorrectLabelUsd)} per correct label` : `${usd(total === null || d.records.length === 0 ? null : total / d.records.length)} per image` });
  return out;
}

function runSection(d: ReportData): Section {
  const counts = statusCounts(d);
  const confidences = d.records.filter((r) => r.confidence !== null && (r.status === 'classified' || r.status === 'needs_review')).map((r) => ({ value: r.confidence as number, group: r.status.replace('_', ' ') }));
  const times = modelTimes(d);
  const charts: Section['charts'] = [{ name: 'statuses', spec: statusChart(counts, 'Images by status') }];
  if (confidences.length > 0) charts.push({ name: 'confidence', spec: histogramChart(confidences, { title: 'Confidence of the answers', axisTitle: 'confidence', extent: [0, 1], maxbins: 20, format: '.0%', groups: { classified: STATUS_COLOURS['classified'] as string, 'needs review': STATUS_COLOURS['needs_review'] as string } }) });
  if (times.length > 0) charts.push({ name: 'latency', spec: histogramChart(times.map((t) => ({ value: t })), { title: 'Latency per image (read + preprocess + model)', axisTitle: 'milliseconds' }) });
  const errors = d.run.summary?.errors ?? {};
  const reasons = Object.entries(errors).sort((a, b) => b[1] - a[1]);
  const html = reasons.length === 0 ? '' : `<table class="small"><caption>Why images were rejected or failed</caption><tr><th>code</th><th>images</th></tr>${reasons.map(([k, v]) => `<tr><td><code>${esc(k)}</code></td><td class="num">${v}</td></tr>`).join('')}</table>`;
  return { id: 'run', title: 'The run', charts, html };
}

function evaluationSections(e: EvaluationResult): Section[] {
  const out: Section[] = [];
  if (e.classification !== undefined) {
    const k = e.classification;
    out.push({
      id: 'classification',
      title: 'Classification',
      intro: `Accuracy <b>${pct(k.accuracy)}</b> over ${k.images} images; macro P / R / F1 ${pct(k.macro.precision)} / ${pct(k.macro.recall)} / ${pct(k.macro.f1)}, weighted ${pct(k.weighted.precision)} / ${pct(k.weighted.recall)} / ${pct(k.weighted.f1)}. The "unknown" column holds answers outside the label set and unanswered images.`,
      charts: [
        { name: 'confusion', spec: confusionChart(k.confusion, 'Confusion matrix (rows: truth)') },
        { name: 'per-class', spec: scoreBarsChart(scoreRows(k.perClass), ['precision', 'recall', 'f1'], 'Per class') },
      ],
      html: scoreTable(k.perClass),
    });
  }
  if (e.multiLabel !== undefined) {
    const m = e.multiLabel;
    out.push({ id: 'multi-label', title: 'Tags (multi-label)', intro: `Exact match <b>${pct(m.exactMatch)}</b> over ${m.images} images; micro F1 ${pct(m.micro.f1)}, macro F1 ${pct(m.macro.f1)}.`, charts: [{ name: 'per-label', spec: scoreBarsChart(scoreRows(m.perLabel), ['precision', 'recall', 'f1'], 'Per tag') }], html: scoreTable(m.perLabel) });
  }
  if (e.attributes !== undefined) {
    const charts: Section['charts'] = [];
    const rows: string[] = [];
    for (const [name, a] of Object.entries(e.attributes)) {
      if (name === 'overall' || !('confusion' in a)) continue;
      rows.push(`<tr><td>${esc(name)}</td><td class="num">${pct(a.accuracy)}</td><td class="num">${a.correct} / ${a.images}</td><td class="num">${pct(a.macro.f1)}</td></tr>`);
      charts.push({ name: `attribute-${name}`, spec: confusionChart(a.confusion, `${name}: confusion (rows: truth)`) });
    }
    out.push({ id: 'attributes', title: 'Scene attributes', intro: `<b>${pct(e.attributes.overall.accuracy)}</b> of ${e.attributes.overall.decisions} attribute decisions right.`, charts, html: `<table class="small"><tr><th>attribute</th><th>accuracy</th><th>right</th><th>macro F1</th></tr>${rows.join('')}</table>` });
  }
  if (e.detection !== undefined) {
    const det = e.detection;
    const classes = Object.keys(det.perClass).sort((a, b) => (det.perClass[b]?.tp ?? 0) + (det.perClass[b]?.fn ?? 0) - ((det.perClass[a]?.tp ?? 0) + (det.perClass[a]?.fn ?? 0)) || a.localeCompare(b));
    const rows: ClassScores[] = classes.map((c) => {
      const p = det.perClass[c];
      return { label: c, support: (p?.tp ?? 0) + (p?.fn ?? 0), scores: { AP: p?.AP ?? null, AP50: p?.AP50 ?? null, precision: p?.precision ?? null, recall: p?.recall ?? null } };
    });
    const charts: Section['charts'] = [{ name: 'detection-per-class', spec: scoreBarsChart(rows, ['AP', 'AP50', 'precision', 'recall'], 'Per class (precision and recall at IoU 0.5)') }];
    const curves = prCurves(e);
    if (curves !== null && Object.keys(curves).length > 0) {
      const ap = Object.fromEntries(Object.keys(curves).map((c) => [c, det.perClass[c]?.AP50 ?? null]));
      charts.push({ name: 'pr-curves', spec: prCurvesChart(curves, ap, 'Precision–recall at IoU 0.5, per class') });
    }
    const table = `<table class="small"><tr><th>class</th><th>truth boxes</th><th>AP</th><th>AP50</th><th>AP75</th><th>precision</th><th>recall</th><th>F1</th><th>TP</th><th>FP</th><th>FN</th></tr>${classes
      .map((c) => {
        const p = det.perClass[c];
        return p === undefined ? '' : `<tr><td>${esc(c)}</td><td class="num">${p.tp + p.fn}</td><td class="num">${pct(p.AP)}</td><td class="num">${pct(p.AP50)}</td><td class="num">${pct(p.AP75)}</td><td class="num">${pct(p.precision)}</td><td class="num">${pct(p.recall)}</td><td class="num">${pct(p.f1)}</td><td class="num">${p.tp}</td><td class="num">${p.fp}</td><td class="num">${p.fn}</td></tr>`;
      })
      .join('')}</table>`;
    out.push({
      id: 'detection',
      title: 'Detection',
      intro: `COCO AP <b>${pct(det.AP)}</b> (IoU 0.50:0.95), AP50 ${pct(det.AP50)}, AP75 ${pct(det.AP75)}; small / medium / large ${pct(det.APsmall)} / ${pct(det.APmedium)} / ${pct(det.APlarge)}; AR100 ${pct(det.AR100)}. At IoU 0.5 and the profile's score threshold: precision ${pct(det.at50.precision)}, recall ${pct(det.at50.recall)}.`,
      charts,
      html: table,
    });
  }
  if (e.calibration !== undefined && e.calibration.decisions > 0) {
    const k = e.calibration;
    const thresholds = Object.entries(k.thresholds).sort((a, b) => a[0].localeCompare(b[0]));
    const html = thresholds.length === 0 ? '' : `<table class="small"><caption>Lowest confidence reaching ${pct(k.targetPrecision)} precision, per label</caption><tr><th>label</th><th>threshold</th><th>precision there</th><th>to review</th><th>answers</th></tr>${thresholds.map(([l, t]) => `<tr><td>${esc(l)}</td><td class="num">${t.threshold === null ? 'none reaches it' : t.threshold.toFixed(3)}</td><td class="num">${pct(t.precision)}</td><td class="num">${pct(t.reviewShare)}</td><td class="num">${t.answers}</td></tr>`).join('')}</table>`;
    out.push({ id: 'calibration', title: 'Calibration and the review threshold', intro: `Expected calibration error <b>${pct(k.ece)}</b> over ${k.decisions} decisions (10 bins; the number over each bar is its count). With every label at its threshold, <b>${pct(k.reviewShare)}</b> of the images would go to review.`, charts: [{ name: 'reliability', spec: reliabilityChart(k.bins, k.ece, 'Reliability diagram') }], html });
  }
  return out;
}

function costSection(d: ReportData): Section {
  const s = d.run.summary;
  const c = d.evaluation?.cost;
  const rows: [string, string][] = [];
  const total = c?.totalUsd ?? s?.costUsd ?? null;
  rows.push(['total', usd(total)]);
  if (c !== undefined) rows.push(['per image', usd(c.perImageUsd)], ['per correct label', usd(c.perCorrectLabelUsd)]);
  if (s !== null) {
    rows.push(['tokens', `${s.tokens.prompt.toLocaleString('en-US')} prompt + ${s.tokens.completion.toLocaleString('en-US')} completion in ${s.modelCalls} calls`]);
    rows.push(['reused answers (not paid)', String(s.counts.reused)]);
    if (s.estimateVsActual.images > 0) rows.push(['estimate vs actual', `${usd(s.estimateVsActual.estimated.costUsd)} estimated (with the max_tokens reserve) vs ${usd(s.estimateVsActual.actual.costUsd)} over ${s.estimateVsActual.images} images`]);
    rows.push(['wall time', `${(s.wallMs / 1000).toFixed(1)} s over ${s.sessions.length} session(s)${s.imagesPerSecond === null ? '' : `, ${s.imagesPerSecond} images/s`}`]);
  }
  const lat = latency(d);
  if (lat.count > 0) rows.push(['latency', `p50 ${ms(lat.p50)} · p90 ${ms(lat.p90)} · p95 ${ms(lat.p95)} · p99 ${ms(lat.p99)} · max ${ms(lat.max)} · mean ${ms(lat.mean)} ± ${ms(lat.std)}`]);
  return { id: 'cost', title: 'Cost and latency', charts: [], html: `<table class="kv">${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>` };
}

function gallerySection(d: ReportData): string {
  const legend = [
    [OVERLAY_COLOURS.matched, 'solid', 'predicted, matched (IoU ≥ 0.5, same class); dashed: its truth box'],
    [OVERLAY_COLOURS.falsePositive, 'solid', 'false positive'],
    [OVERLAY_COLOURS.missed, 'dashed', 'missed truth box (false negative)'],
    [OVERLAY_COLOURS.crowd, 'dashed', 'crowd / ignored region'],
  ]
    .map(([colour, style, text]) => `<span class="lg"><i style="border:2px ${style} ${colour}"></i>${esc(text as string)}</span>`)
    .join('');
  if (d.gallery.length === 0) return `<section id="gallery"><h2>Worst mistakes</h2><p class="intro">No evaluated image has an error.</p></section>`;
  const figures = d.gallery
    .map((g, i) => {
      const c = g.comparison;
      const caption = `<b>${i + 1}.</b> ${esc(c.name)} · ${c.errors} error${c.errors === 1 ? '' : 's'}`;
      return g.dataUri === null ? `<figure class="shot missing"><div class="nopic">${esc(g.problem ?? 'no picture')}</div><figcaption>${caption}</figcaption></figure>` : `<figure class="shot"><img src="${g.dataUri}" alt="${esc(c.name)} with predicted and truth boxes"><figcaption>${caption}</figcaption></figure>`;
    })
    .join('');
  return `<section id="gallery"><h2>Worst mistakes</h2><p class="intro">The ${d.gallery.length} images with the most errors (false positive and missed boxes, a wrong label, each wrong tag or attribute), worst first. The banner gives the answer against the truth; <code>blobsight visualize --worst N</code> draws them full size.</p><p class="legend">${legend}</p><div class="gallery">${figures}</div></section>`;
}

function warnings(d: ReportData): string {
  const list = [...(d.evaluation?.warnings ?? [])];
  if (d.corruptLines > 0) list.unshift(`${d.corruptLines} corrupt line(s) in the run's files were skipped`);
  if (list.length === 0) return '';
  return `<details class="warnings"><summary>${list.length} note${list.length === 1 ? '' : 's'} on the inputs</summary><ul>${list.map((w) => `<li>${esc(w)}</li>`).join('')}</ul></details>`;
}

function prCurves(e: EvaluationResult): Record<string, PrCurveInput> | null {
  const raw = e.detectionDetails?.prCurves;
  if (typeof raw !== 'object' || raw === null) return null;
  const out: Record<string, PrCurveInput> = {};
  for (const [c, v] of Object.entries(raw as Record<string, unknown>)) {
    const curve = v as Partial<PrCurveInput> | null;
    if (Array.isArray(curve?.recall) && Array.isArray(curve.precision) && curve.precision.some((p) => typeof p === 'number' && p > 0)) out[c] = { recall: curve.recall, precision: curve.precision };
  }
  return out;
}

function scoreRows(perClass: Readonly<Record<string, LabelScores>>): ClassScores[] {
  return Object.entries(perClass)
    .sort((a, b) => b[1].support - a[1].support || a[0].localeCompare(b[0]))
    .map(([label, s]) => ({ label, support: s.support, scores: { precision: s.precision, recall: s.recall, f1: s.f1 } }));
}

function scoreTable(perClass: Readonly<Record<string, LabelScores>>): string {
  const rows = Object.entries(perClass).sort((a, b) => a[0].localeCompare(b[0]));
  return `<table class="small"><tr><th>label</th><th>precision</th><th>recall</th><th>F1</th><th>support</th><th>predicted</th></tr>${rows.map(([l, s]) => `<tr><td>${esc(l)}</td><td class="num">${pct(s.precision)}</td><td class="num">${pct(s.recall)}</td><td class="num">${pct(s.f1)}</td><td class="num">${s.support}</td><td class="num">${s.predicted}</td></tr>`).join('')}</table>`;
}

function statusCounts(d: ReportData): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of d.records) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}

/** Images that made a model call in this run (reused answers took no model time). */
function modelTimes(d: ReportData): number[] {
  return d.records.filter((r) => r.usage.modelCalls > 0 && r.reused === null).map((r) => r.timings.totalMs);
}

function latency(d: ReportData): ReturnType<typeof latencyStats> {
  return d.evaluation?.latency ?? latencyStats(modelTimes(d));
}

function sum(xs: readonly (number | null)[]): number | null {
  return xs.some((x) => x !== null) ? xs.reduce<number>((a, b) => a + (b ?? 0), 0) : null;
}

function pct(x: number | null | undefined): string {
  return x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)} %`;
}

function ms(x: number | null): string {
  return x === null ? '–' : x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${Math.round(x)} ms`;
}

function usd(x: number | null | undefined): string {
  return x === null || x === undefined ? '–' : x === 0 ? '$0' : x < 0.01 ? `$${x.toFixed(5)}` : `$${x.toFixed(2)}`;
}

function esc(s: string): string {
  return s.replace(/[<>&"']/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[ch] ?? ch);
}

const CSS = `
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 "DejaVu Sans","Liberation Sans",system-ui,-apple-system,"Segoe UI",Arial,sans-serif;color:#111827;background:#f3f4f6}
header{background:#111827;color:#f9fafb;padding:18px 32px 14px}
h1{margin:0;font-size:22px;font-weight:600}
h1 .run{font-weight:400;color:#9ca3af;font-size:17px;margin-left:8px}
.meta{margin:6px 0 0;color:#d1d5db;font-size:13px}
.meta b{color:#f9fafb;font-weight:600}
.meta code{color:#e5e7eb}
main{max-width:1280px;margin:0 auto;padding:20px 32px 32px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:12px;margin-bottom:16px}
.card{background:#fff;border-radius:8px;padding:12px 14px;box-shadow:0 1px 2px rgba(0,0,0,.06)}
.card .k{font-size:12px;color:#6b7280;text-transform:uppercase;letter-spacing:.04em}
.card .v{font-size:24px;font-weight:600;margin-top:2px;white-space:nowrap}
.card .v.long{font-size:18px;padding-top:5px}
.card .n{font-size:12px;color:#4b5563;margin-top:2px}
section{background:#fff;border-radius:8px;padding:16px 20px 18px;margin:16px 0;box-shadow:0 1px 2px rgba(0,0,0,.06)}
h2{margin:0 0 8px;font-size:17px;font-weight:600}
.intro{margin:0 0 12px;color:#374151;max-width:980px}
.charts{display:flex;flex-wrap:wrap;gap:20px 32px;align-items:flex-start}
figure{margin:0}
figure.chart svg{max-width:100%;height:auto;display:block}
figure.chart figcaption{font-size:13px;font-weight:600;color:#1f2937;margin:0 0 4px;max-width:420px}
table{border-collapse:collapse;margin-top:14px;font-size:13px}
caption{text-align:left;color:#4b5563;padding-bottom:4px}
th,td{padding:4px 10px;border-bottom:1px solid #e5e7eb;text-align:left}
th{font-weight:600;color:#374151;background:#f9fafb}
td.num{text-align:right;font-variant-numeric:tabular-nums}
table.kv th{background:none;width:220px}
.notice{background:#eff6ff;border:1px solid #bfdbfe;border-radius:8px;padding:10px 14px;color:#1e3a8a}
details.warnings{background:#fffbeb;border:1px solid #fde68a;border-radius:8px;padding:8px 14px;color:#78350f}
details.warnings summary{cursor:pointer}
.legend{margin:0 0 10px;font-size:13px;color:#374151}
.lg{margin-right:18px;white-space:nowrap}
.lg i{display:inline-block;width:22px;height:12px;margin-right:6px;vertical-align:-1px}
.gallery{display:grid;grid-template-columns:repeat(auto-fill,minmax(380px,1fr));gap:14px}
.shot{background:#f9fafb;border:1px solid #e5e7eb;border-radius:6px;overflow:hidden}
.shot img{display:block;width:100%;height:auto}
.shot figcaption{padding:6px 10px;font-size:12px;color:#374151;overflow-wrap:anywhere}
.nopic{padding:40px 12px;color:#6b7280;text-align:center}
footer{color:#6b7280;font-size:12px;text-align:center;padding:0 0 24px}
code{font-family:"DejaVu Sans Mono",ui-monospace,monospace;font-size:12px}
`;
