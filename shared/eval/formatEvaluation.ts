/** The plain-text tables `blobsight evaluate` prints: aligned columns, percentages with one decimal, - for undefined. */
import type { AttributeScores, Averages, Confusion, EvaluationMetrics, EvaluationResult, LabelScores } from './types';

export function pct(x: number | null | undefined): string {
  return x === null || x === undefined ? '-' : `${(x * 100).toFixed(1)}%`;
}

function num(x: number | null | undefined, digits = 3): string {
  return x === null || x === undefined ? '-' : x.toFixed(digits);
}

function usd(x: number | null | undefined): string {
  return x === null || x === undefined ? '-' : `$${x < 0.01 ? x.toFixed(6) : x.toFixed(4)}`;
}

/** Columns padded to their widest cell; the first column left-aligned, the rest right-aligned. */
export function table(rows: readonly (readonly string[])[], indent = '  '): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => indent + r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ').trimEnd()).join('\n');
}

function scoreRows(per: Record<string, LabelScores>, macro: Averages, weighted: Averages | null): string[][] {
  const rows = [['label', 'precision', 'recall', 'f1', 'support']];
  for (const [l, s] of Object.entries(per)) rows.push([l, pct(s.precision), pct(s.recall), pct(s.f1), String(s.support)]);
  rows.push(['macro avg', pct(macro.precision), pct(macro.recall), pct(macro.f1), '']);
  if (weighted !== null) rows.push(['weighted avg', pct(weighted.precision), pct(weighted.recall), pct(weighted.f1), '']);
  return rows;
}

function confusionRows(c: Confusion): string[][] {
  return [['truth \\ answer', ...c.columns], ...c.labels.map((l, i) => [l, ...(c.matrix[i] ?? []).map(String)])];
}

export function formatMetrics(m: EvaluationMetrics): string[] {
  const out: string[] = [];
  const im = m.images;
  out.push(`Images: ${im.evaluated} evaluated, ${im.predictionsWithoutTruth} predictions without truth, ${im.truthWithoutPredictions} truth without predictions` + (im.unanswered > 0 ? `, ${im.unanswered} unanswered (counted wrong)` : '') + (im.reviewed > 0 ? `, ${im.reviewed} reviewed answers` : '') + (im.matchedByBasename > 0 ? `, ${im.matchedByBasename} matched by basename` : ''));
  if (m.classification !== undefined) {
    const c = m.classification;
    out.push('', `Classification: accuracy ${pct(c.accuracy)} (${c.correct}/${c.images})`, table(scoreRows(c.perClass, c.macro, c.weighted)), '', 'Confusion matrix (rows: truth, columns: answer)', table(confusionRows(c.confusion)));
  }
  if (m.multiLabel !== undefined) {
    const ml = m.multiLabel;
    out.push('', `Multi-label: exact match ${pct(ml.exactMatch)} over ${ml.images} images; micro P ${pct(ml.micro.precision)} R ${pct(ml.micro.recall)} F1 ${pct(ml.micro.f1)}`, table(scoreRows(ml.perLabel, ml.macro, null)));
  }
  if (m.attributes !== undefined) {
    const a = m.attributes;
    out.push('', `Attributes: overall accuracy ${pct(a.overall.accuracy)} (${a.overall.correct}/${a.overall.decisions} decisions), all attributes right on ${pct(a.overall.allCorrect)} of images`);
    for (const [name, s] of Object.entries(a)) {
      if (name === 'overall') continue;
      const sc = s as AttributeScores;
      out.push(`  ${name}: accuracy ${pct(sc.accuracy)} (${sc.correct}/${sc.images})`, table(scoreRows(sc.perLabel, sc.macro, sc.weighted), '    '), table(confusionRows(sc.confusion), '    '));
    }
  }
  if (m.detection !== undefined) {
    const d = m.detection;
    out.push('', 'Detection (COCO metrics; IoU 0.50:0.95 unless named)', table([
      ['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR100', 'ARs', 'ARm', 'ARl'],
      [d.AP, d.AP50, d.AP75, d.APsmall, d.APmedium, d.APlarge, d.AR1, d.AR10, d.AR100, d.ARsmall, d.ARmedium, d.ARlarge].map((x) => num(x)),
    ]));
    out.push(`  at IoU 0.5 and the score threshold: precision ${pct(d.at50.precision)} recall ${pct(d.at50.recall)} F1 ${pct(d.at50.f1)} (TP ${d.at50.tp}, FP ${d.at50.fp}, FN ${d.at50.fn})`);
    const rows = [['class', 'AP', 'AP50', 'AP75', 'precision', 'recall', 'f1', 'tp', 'fp', 'fn']];
    for (const [c, s] of Object.entries(d.perClass)) rows.push([c, num(s.AP), num(s.AP50), num(s.AP75), pct(s.precision), pct(s.recall), pct(s.f1), String(s.tp), String(s.fp), String(s.fn)]);
    out.push(table(rows));
  }
  if (m.calibration !== undefined) {
    const c = m.calibration;
    out.push('', `Calibration: ECE ${num(c.ece, 4)} over ${c.decisions} decisions (10 equal-width bins)`);
    if (c.decisions > 0) out.push(table([['confidence', 'count', 'mean conf', 'accuracy'], ...c.bins.filter((b) => b.count > 0).map((b) => [`${b.lower.toFixed(1)}–${b.upper.toFixed(1)}`, String(b.count), num(b.meanConfidence), pct(b.accuracy)])]));
    out.push(`Review thresholds for precision ≥ ${pct(c.targetPrecision)}: ${pct(c.reviewShare)} of images would go to review`, table([['label', 'threshold', 'precision', 'to review', 'answers'], ...Object.entries(c.thresholds).map(([l, t]) => [l, t.threshold === null ? 'none' : num(t.threshold, 4), pct(t.precision), pct(t.reviewShare), t.answers === null ? '-' : String(t.answers)])]));
  }
  if (m.latency !== undefined && m.latency.count > 0) {
    const l = m.latency;
    out.push('', `Latency (ms, ${l.count} images with a model call; linear-interpolated percentiles): p50 ${num(l.p50, 0)} p90 ${num(l.p90, 0)} p95 ${num(l.p95, 0)} p99 ${num(l.p99, 0)} max ${num(l.max, 0)}; mean ${num(l.mean, 0)} ± ${num(l.std, 0)}`);
  }
  if (m.cost !== undefined) {
    const c = m.cost;
    out.push(`Cost: ${usd(c.totalUsd)} total, ${usd(c.perImageUsd)} per image, ${usd(c.perCorrectLabelUsd)} per correct label; tokens ${c.tokens.prompt} prompt + ${c.tokens.completion} completion (${num(c.tokens.perImage, 0)} per image)`);
  }
  return out;
}

export function formatEvaluation(r: EvaluationResult): string {
  const out = [`Evaluation of ${r.inputs.pred} (${r.inputs.predFormat}) against ${r.inputs.truth} (${r.inputs.truthFormat})` + (r.inputs.profile === null ? '' : `, profile ${r.inputs.profile.name}@${r.inputs.profile.version}`), ...formatMetrics(r)];
  if (r.synonyms !== undefined) out.push('', `Synonyms used: ${r.synonyms.map((s) => `${s.attribute === null ? '' : `${s.attribute}: `}${s.from} → ${s.to} (${s.truth} truth, ${s.predictions} answers)`).join('; ')}`);
  if (r.slices !== undefined) {
    for (const [value, m] of Object.entries(r.slices.values)) out.push('', `── slice ${r.slices.by} = ${value} ──`, ...formatMetrics(m));
  }
  if (r.warnings.length > 0) out.push('', 'Warnings:', ...r.warnings.map((w) => `  - ${w}`));
  return `${out.join('\n')}\n`;
}
