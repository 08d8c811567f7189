/** A grouped bar chart as a standalone SVG (no chart library for four bars a group), with an optional target line. */

export interface BarChart {
  title: string;
  unit: string;
  /** One group per x label (e.g. image size); one bar per series in each group. */
  groups: string[];
  series: { name: string; values: number[] }[];
  /** A horizontal dashed line, e.g. the target. */
  target?: { value: number; label: string };
}

const COLOURS = ['#2b6cb0', '#dd6b20', '#38a169', '#805ad5'];
const W = 640;
const H = 320;
const PAD = { left: 60, right: 20, top: 40, bottom: 60 };

export function svgBarChart(c: BarChart): string {
  const all = c.series.flatMap((s) => s.values).filter((v) => Number.isFinite(v));
  const max = Math.max(...all, c.target?.value ?? 0) * 1.1 || 1;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const groupW = plotW / c.groups.length;
  const barW = (groupW * 0.8) / c.series.length;
  const y = (v: number): number => PAD.top + plotH - (v / max) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(c.title)}</text>`,
    `<line x1="${PAD.left}" y1="${y(0)}" x2="${W - PAD.right}" y2="${y(0)}" stroke="black"/>`,
    `<text x="14" y="${PAD.top + plotH / 2}" transform="rotate(-90 14 ${PAD.top + plotH / 2})" text-anchor="middle">${esc(c.unit)}</text>`,
  ];
  for (let t = 0; t <= 4; t++) {
    const v = (max / 4) * t;
    parts.push(`<text x="${PAD.left - 6}" y="${y(v) + 4}" text-anchor="end">${fmt(v)}</text>`, `<line x1="${PAD.left}" y1="${y(v)}" x2="${W - PAD.right}" y2="${y(v)}" stroke="#eee"/>`);
  }
  c.groups.forEach((g, gi) => {
    const x0 = PAD.left + gi * groupW + groupW * 0.1;
    c.series.forEach((s, si) => {
      const v = s.values[gi] ?? NaN;
      if (!Number.isFinite(v)) return;
      const x = x0 + si * barW;
      parts.push(`<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(y(0) - y(v)).toFixed(1)}" fill="${COLOURS[si % COLOURS.length]}"><title>${esc(`${s.name} ${g}: ${fmt(v)} ${c.unit}`)}</title></rect>`);
      parts.push(`<text x="${(x + barW / 2).toFixed(1)}" y="${(y(v) - 3).toFixed(1)}" text-anchor="middle" font-size="9">${fmt(v)}</text>`);
    });
    parts.push(`<text x="${x0 + groupW * 0.4}" y="${y(0) + 16}" text-anchor="middle">${esc(g)}</text>`);
  });
  if (c.target !== undefined) {
    parts.push(`<line x1="${PAD.left}" y1="${y(c.target.value)}" x2="${W - PAD.right}" y2="${y(c.target.value)}" stroke="#c53030" stroke-dasharray="6 4"/>`, `<text x="${W - PAD.right}" y="${y(c.target.value) - 4}" text-anchor="end" fill="#c53030">${esc(c.target.label)}</text>`);
  }
  c.series.forEach((s, si) => {
    const x = PAD.left + si * 150;
    parts.push(`<rect x="${x}" y="${H - 22}" width="10" height="10" fill="${COLOURS[si % COLOURS.length]}"/>`, `<text x="${x + 14}" y="${H - 13}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function fmt(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
