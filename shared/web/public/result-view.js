/** A classification result (the model's or a review's) as readable markup, with the confidence of each decision. */
import { h } from './dom.js';
import { percent } from './format.js';

/** `showConfidence` is false for reviews: a person's answer has no model confidence worth showing. */
export function resultView(result, { showConfidence = true } = {}) {
  if (result === null || result === undefined) return h('p', { class: 'hint', text: 'No result.' });
  const conf = (c) => (showConfidence ? h('span', { class: 'confidence', text: percent(c) }) : null);
  switch (result.kind) {
    case 'single-label':
      return h('p', { class: 'decision single' }, h('span', { class: 'label-value', text: result.label }), ' ', conf(result.confidence));
    case 'multi-label':
      if (result.labels.length === 0) return h('p', { class: 'hint', text: 'No label applies.' });
      return h(
        'ul',
        { class: 'decision-list' },
        result.labels.map((d) => h('li', {}, h('span', { class: 'label-value', text: d.label }), ' ', conf(d.confidence))),
      );
    case 'attributes':
      return attributesView(result.attributes, conf);
    case 'objects':
      // A detection profile may also carry whole-image attributes (driving-objects: weather, timeofday, scene).
      if (result.attributes !== undefined && result.attributes !== null) {
        return h('div', { class: 'objects-with-attributes' }, attributesView(result.attributes, conf), objectsView(result, showConfidence));
      }
      return objectsView(result, showConfidence);
    default:
      return h('p', { class: 'hint', text: `Unknown result kind ${String(result.kind)}.` });
  }
}

function attributesView(attributes, conf) {
  return h(
    'dl',
    { class: 'decision-attributes' },
    Object.entries(attributes).map(([name, d]) => [
      h('dt', { text: name }),
      h('dd', {}, h('span', { class: 'label-value', text: d.label }), ' ', conf(d.confidence)),
    ]),
  );
}

function objectsView(result, showConfidence) {
  if (result.objects.length === 0) return h('p', { class: 'hint', text: 'No objects.' });
  return h(
    'ol',
    { class: 'decision-list objects-list' },
    result.objects.map((o) =>
      h(
        'li',
        {},
        h('span', { class: 'label-value', text: o.label }),
        ' ',
        showConfidence ? h('span', { class: 'confidence', text: percent(o.score) }) : null,
        h('span', { class: 'hint box-coords', text: ` at ${Math.round(o.box.x1)},${Math.round(o.box.y1)}–${Math.round(o.box.x2)},${Math.round(o.box.y2)}` }),
      ),
    ),
  );
}
