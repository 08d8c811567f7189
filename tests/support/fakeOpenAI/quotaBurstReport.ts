/** The burst benchmark's Markdown table and SVG chart (drain / ideal and 429 share per configuration). */
import type { BurstResult } from './quotaBurst';

const pctText = (x: number, digits = 2): string => `${(x * 100).toFixed(digits)} %`;

export function burstMarkdown(results: readonly BurstResult[]): string {
  const rows = results.map((r) => {
    const met = r.undrained === 0 && r.drainOverIdeal <= 1.2 && r.share429 <= 0.01;
    return `| ${r.tpm.toLocaleString('en-US')} | ${r.instances} | ${r.answered}/${r.uploads} | ${r.drainMinutes} / ${r.idealMinutes} | **${r.drainOverIdeal}×** | ${r.answered429} / ${r.modelCalls} = **${pctText(r.share429)}** | ${pctText(r.utilisation, 1)} | ${r.parksPerUpload} | ${met ? 'met' : 'not met'} |`;
  });
  return [
    '| TPM | instances | answered | drain / ideal (quota min) | drain ÷ ideal | 429s / model calls | quota utilisation | parks per upload | target (≤ 1.2×, ≤ 1 %) |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|:---|',
    ...rows,
    '',
  ].join('\n');
}

/** A small hand-made chart: one group of two bars (drain ÷ ideal, 429 share × 100) per configuration, target lines dashed. */
export function burstSvg(results: readonly BurstResult[]): string {
  const w = 120 + results.length * 90;
  const h = 300;
  const top = 30;
  const base = 240;
  const yMax = 2;
  const y = (v: number): number => base - (Math.min(v, yMax) / yMax) * (base - top);
  const bars = results
    .map((r, i) => {
      const x = 80 + i * 90;
      const label = `${r.tpm / 1000}K × ${r.instances}`;
      return [
        `<rect x="${x}" y="${y(r.drainOverIdeal)}" width="28" height="${base - y(r.drainOverIdeal)}" fill="#2b6cb0"><title>drain ÷ ideal ${r.drainOverIdeal}</title></rect>`,
        `<rect x="${x + 32}" y="${y(r.share429 * 100)}" width="28" height="${base - y(r.share429 * 100)}" fill="#c05621"><title>429 share ${pctText(r.share429)}</title></rect>`,
        `<text x="${x + 30}" y="${base + 16}" font-size="11" text-anchor="middle">${label}</text>`,
        `<text x="${x + 14}" y="${y(r.drainOverIdeal) - 4}" font-size="10" text-anchor="middle">${r.drainOverIdeal}</text>`,
        `<text x="${x + 46}" y="${y(r.share429 * 100) - 4}" font-size="10" text-anchor="middle">${(r.share429 * 100).toFixed(2)}</text>`,
      ].join('');
    })
    .join('\n');
  const ticks = [0, 0.5, 1, 1.5, 2].map((v) => `<text x="60" y="${y(v) + 4}" font-size="10" text-anchor="end">${v}</text><line x1="64" x2="${w - 20}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif">
<text x="10" y="18" font-size="13">Burst drain against the quota: drain ÷ ideal (blue, target ≤ 1.2) and % of model calls answered 429 (orange, target ≤ 1)</text>
${ticks}
<line x1="64" x2="${w - 20}" y1="${y(1.2)}" y2="${y(1.2)}" stroke="#2b6cb0" stroke-dasharray="4 3"/>
<line x1="64" x2="${w - 20}" y1="${y(1)}" y2="${y(1)}" stroke="#c05621" stroke-dasharray="2 3"/>
${bars}
<text x="10" y="${h - 10}" font-size="10">TPM × simulated instances; bars above 2 are cut at 2.</text>
</svg>
`;
}
