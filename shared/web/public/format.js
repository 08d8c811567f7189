/** How results, numbers and names read on the page. */

const STATUS_TEXT = {
  classified: 'classified',
  needs_review: 'needs review',
  rejected: 'rejected',
  failed: 'failed',
  processing: 'processing',
  deleted: 'deleted',
};

export function statusText(status) {
  return STATUS_TEXT[status] ?? String(status);
}

/** 0.973 → "97 %"; null → "—" (the endpoint gave nothing to compute it from). */
export function percent(confidence) {
  if (typeof confidence !== 'number' || !Number.isFinite(confidence)) return '—';
  const p = confidence * 100;
  // One decimal only where it matters (5.3 %); 97 % and 0 % need none.
  return `${p >= 10 || p < 0.5 ? p.toFixed(0) : p.toFixed(1)} %`;
}

export function usd(value) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return 'not priced';
  if (value === 0) return '$0';
  if (value < 0.000001) return '< $0.000001';
  return value < 0.01 ? `$${value.toFixed(6).replace(/0+$/, '')}` : `$${value.toFixed(4)}`;
}

export function ms(value) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '—';
  return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
}

export function bytes(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function dateTime(iso) {
  if (typeof iso !== 'string') return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** Just the time for today, the date otherwise: fits a table column. */
export function shortDateTime(iso) {
  if (typeof iso !== 'string') return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString(undefined, { timeStyle: 'short' }) : d.toLocaleDateString(undefined, { dateStyle: 'medium' });
}

/** The name a person gave the file: the last path segment without the upload's random prefix. */
export function displayName(doc) {
  const name = doc?.blob?.name ?? '';
  const last = name.split('/').pop() ?? name;
  return last.replace(/^[0-9a-f]{8}-(?=.)/, '') || name || doc?.id || 'image';
}

/** Decisions of a result as `{ name, label, confidence }` rows, for every kind. */
export function decisions(result) {
  if (result === null || result === undefined) return [];
  switch (result.kind) {
    case 'single-label':
      return [{ name: 'label', label: result.label, confidence: result.confidence }];
    case 'multi-label':
      return result.labels.map((d) => ({ name: 'label', label: d.label, confidence: d.confidence }));
    case 'attributes':
      return Object.entries(result.attributes).map(([name, d]) => ({ name, label: d.label, confidence: d.confidence }));
    case 'objects':
      return result.objects.map((o) => ({ name: 'object', label: o.label, confidence: o.score }));
    default:
      return [];
  }
}

/** One line for a list row: "dog", "red, shoe", "weather: rainy · scene: highway", "3 objects: car ×2, bus". */
export function resultSummary(result) {
  if (result === null || result === undefined) return '';
  switch (result.kind) {
    case 'single-label':
      return result.label;
    case 'multi-label':
      return result.labels.length === 0 ? 'no labels' : result.labels.map((d) => d.label).join(', ');
    case 'attributes':
      return Object.entries(result.attributes)
        .map(([name, d]) => `${name}: ${d.label}`)
        .join(' · ');
    case 'objects': {
      if (result.objects.length === 0) return 'no objects';
      const counts = new Map();
      for (const o of result.objects) counts.set(o.label, (counts.get(o.label) ?? 0) + 1);
      const parts = [...counts].map(([label, n]) => (n > 1 ? `${label} ×${n}` : label));
      return `${result.objects.length} object${result.objects.length === 1 ? '' : 's'}: ${parts.join(', ')}`;
    }
    default:
      return '';
  }
}

/** Why an image has no result, in words. */
export function errorSummary(doc) {
  if (doc?.error === null || doc?.error === undefined) return '';
  return doc.error.message || doc.error.code;
}
