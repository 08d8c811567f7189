/**
 * The SVG drawn over one image: a banner above it (status, errors, label and scene attributes, predicted vs truth)
 * and the boxes, coloured by outcome (OVERLAY_COLOURS). Sizes follow the output's width so a thumbnail in the
 * report stays as readable as a full-size overlay.
 */
import type { EvalBox } from '../eval/evalInput';
import type { ImageComparison, ValueCheck } from './compareImage';
import { OVERLAY_COLOURS } from './overlayColours';

type Box = { x1: number; y1: number; x2: number; y2: number };

export interface OverlayGeometry {
  /** Size of the image part of the output (the banner goes above it). */
  width: number;
  height: number;
  /** Output pixels per original pixel (the boxes are in original pixels). */
  scale: number;
}

export interface OverlayLayout {
  fontSize: number;
  lineWidth: number;
  bannerHeight: number;
  lines: BannerItem[][];
}

interface BannerItem {
  text: string;
  colour: string;
}

const FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif";
const TEXT = '#f9fafb';
const RIGHT = '#86efac';
const WRONG = '#fca5a5';
const MUTED = '#cbd5e1';

export function overlayLayout(comparison: ImageComparison, width: number): OverlayLayout {
  const fontSize = Math.round(Math.min(22, Math.max(12, width / 40)));
  const lineWidth = Math.max(2, Math.round(width / 400));
  const lines = wrap(bannerItems(comparison), width - fontSize, fontSize);
  const bannerHeight = Math.round(lines.length * fontSize * 1.45 + fontSize * 0.6);
  return { fontSize, lineWidth, bannerHeight, lines };
}

export function overlaySvg(comparison: ImageComparison, g: OverlayGeometry): { svg: string; layout: OverlayLayout } {
  const layout = overlayLayout(comparison, g.width);
  const { fontSize, lineWidth, bannerHeight } = layout;
  const parts: string[] = [];
  parts.push(`<rect x="0" y="0" width="${g.width}" height="${bannerHeight}" fill="${OVERLAY_COLOURS.banner}"/>`);
  layout.lines.forEach((line, i) => {
    const y = Math.round(fontSize * 0.3 + (i + 1) * fontSize * 1.45 - fontSize * 0.35);
    const spans = line.map((item) => `<tspan fill="${item.colour}">${escapeXml(item.text)}</tspan>`).join('');
    parts.push(`<text x="${Math.round(fontSize / 2)}" y="${y}" font-family="${FONT}" font-size="${fontSize}" xml:space="preserve">${spans}</text>`);
  });

  const place = (b: Box): Box => ({ x1: b.x1 * g.scale, y1: b.y1 * g.scale + bannerHeight, x2: b.x2 * g.scale, y2: b.y2 * g.scale + bannerHeight });
  const tagSize = Math.max(9, Math.round(fontSize * 0.65));
  const boxes = comparison.boxes;
  if (boxes !== null) {
    const dash = `${lineWidth * 3} ${lineWidth * 2}`;
    // Truth first, predictions over it: a matched pair shows the solid predicted edge on the dashed truth edge.
    for (const t of boxes.crowd) parts.push(rect(place(t), OVERLAY_COLOURS.crowd, Math.max(1, lineWidth - 1), dash));
    for (const m of boxes.matched) parts.push(rect(place(m.truth), OVERLAY_COLOURS.matched, Math.max(1, lineWidth - 1), dash));
    for (const t of boxes.missed) parts.push(rect(place(t), OVERLAY_COLOURS.missed, lineWidth, dash));
    for (const m of boxes.matched) parts.push(rect(place(m.prediction), OVERLAY_COLOURS.matched, lineWidth));
    for (const p of boxes.falsePositives) parts.push(rect(place(p), OVERLAY_COLOURS.falsePositive, lineWidth));
    for (const p of boxes.absorbed) parts.push(rect(place(p), OVERLAY_COLOURS.crowd, lineWidth));
    // Tags last so no box edge crosses a label.
    for (const m of boxes.matched) parts.push(tag(place(m.prediction), scored(m.prediction), OVERLAY_COLOURS.matched, tagSize, bannerHeight, g.width));
    for (const p of boxes.falsePositives) parts.push(tag(place(p), scored(p), OVERLAY_COLOURS.falsePositive, tagSize, bannerHeight, g.width));
    // A missed box's dashed orange edge already says "missed"; its class is tagged where there is room for it.
    for (const t of boxes.missed) if ((t.x2 - t.x1) * g.scale >= tagSize * 2.5) parts.push(tag(place(t), t.category, OVERLAY_COLOURS.missed, tagSize, bannerHeight, g.width));
  }
  const total = g.height + bannerHeight;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${g.width}" height="${total}" viewBox="0 0 ${g.width} ${total}">${parts.join('')}</svg>`;
  return { svg, layout };
}

function bannerItems(c: ImageComparison): BannerItem[][] {
  const out: BannerItem[][] = [];
  const head: BannerItem[] = [{ text: c.name, colour: TEXT }];
  const status = c.status === 'classified' || c.status === 'answered' ? '' : c.status === 'missing' ? ' · no prediction' : ` · ${c.status.replace('_', ' ')}`;
  const b = c.boxes;
  const counts = b === null ? '' : ` (${b.matched.length} matched, ${b.falsePositives.length} false positive, ${b.missed.length} missed)`;
  head.push({ text: `${status}${c.reviewed ? ' · reviewed' : ''} · ${c.errors} error${c.errors === 1 ? '' : 's'}${counts}`, colour: c.errors === 0 ? RIGHT : WRONG });
  out.push(head);
  if (c.label !== null) out.push([valueItem('label', c.label)]);
  if (c.tags !== null) {
    const tags: BannerItem[] = [{ text: `tags: ${c.tags.predicted.join(', ') || '(none)'}`, colour: TEXT }];
    if (c.tags.missing.length > 0) tags.push({ text: ` · missing ${c.tags.missing.join(', ')}`, colour: WRONG });
    if (c.tags.extra.length > 0) tags.push({ text: ` · extra ${c.tags.extra.join(', ')}`, colour: WRONG });
    out.push(tags);
  }
  if (c.attributes.length > 0) out.push(c.attributes.map((a) => valueItem(a.name, a)));
  // A box-only answer is not judged on the scene, but the truth's attributes still tell what the frame is.
  else if (c.truthAttributes !== undefined && Object.keys(c.truthAttributes).length > 0) {
    out.push([{ text: `truth: ${Object.entries(c.truthAttributes).map(([k, v]) => `${k} ${v}`).join(' · ')} (not predicted)`, colour: MUTED }]);
  }
  return out;
}

function scored(b: EvalBox): string {
  return b.score === null || b.score === undefined ? b.category : `${b.category} ${b.score.toFixed(2)}`;
}

function valueItem(name: string, v: ValueCheck): BannerItem {
  const predicted = v.predicted === null ? '(none)' : `${v.predicted}${v.confidence === null ? '' : ` ${v.confidence.toFixed(2)}`}`;
  if (v.right === null) return { text: `${name}: ${predicted}   `, colour: TEXT };
  if (v.right) return { text: `${name}: ${predicted} ✓   `, colour: RIGHT };
  return { text: `${name}: ${predicted} ✗ truth ${v.truth ?? ''}   `, colour: WRONG };
}

/** Break banner rows into lines that fit (DejaVu Sans averages about 0.6 em per character). */
function wrap(rows: BannerItem[][], width: number, fontSize: number): BannerItem[][] {
  const perChar = fontSize * 0.6;
  const lines: BannerItem[][] = [];
  for (const row of rows) {
    let line: BannerItem[] = [];
    let used = 0;
    for (const item of row) {
      const w = item.text.length * perChar;
      if (line.length > 0 && used + w > width) {
        lines.push(line);
        line = [];
        used = 0;
      }
      const room = Math.max(4, Math.floor(width / perChar));
      line.push(item.text.length > room ? { ...item, text: `${item.text.slice(0, room - 1)}…` } : item);
      used += w;
    }
    if (line.length > 0) lines.push(line);
  }
  return lines;
}

function rect(b: Box, colour: string, width: number, dash?: string): string {
  const x = Math.min(b.x1, b.x2);
  const y = Math.min(b.y1, b.y2);
  return `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${Math.abs(b.x2 - b.x1).toFixed(1)}" height="${Math.abs(b.y2 - b.y1).toFixed(1)}" fill="none" stroke="${colour}" stroke-width="${width}"${dash === undefined ? '' : ` stroke-dasharray="${dash}"`}/>`;
}

/** A filled label over the box's top-left corner, inside the box when there is no room above it. */
function tag(b: Box, text: string, colour: string, size: number, top: number, width: number): string {
  const h = Math.round(size * 1.35);
  const w = Math.round(text.length * size * 0.6 + size * 0.6);
  const x = Math.max(0, Math.min(Math.min(b.x1, b.x2), width - w));
  const above = Math.min(b.y1, b.y2) - h;
  const y = above >= top ? above : Math.min(b.y1, b.y2);
  return `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${w}" height="${h}" fill="${colour}" fill-opacity="0.85"/><text x="${(x + size * 0.3).toFixed(1)}" y="${(y + h - size * 0.35).toFixed(1)}" font-family="${FONT}" font-size="${size}" fill="#111827">${escapeXml(text)}</text>`;
}

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}
