/** Builds DOM nodes from data without ever parsing data as HTML (the page has no innerHTML with data anywhere). */

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Set as properties, not attributes: their attribute is only the initial value. */
const PROPERTIES = new Set(['value', 'checked', 'selected', 'indeterminate']);

/**
 * `h('button', { class: 'x', type: 'button', onclick: fn }, 'text', child)`. Strings become text nodes; `null`,
 * `undefined` and `false` props and children are skipped; `true` sets an empty attribute.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  applyProps(el, props);
  append(el, ...children);
  return el;
}

/** The SVG twin of `h`, for overlays. */
export function s(tag, props = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  applyProps(el, props);
  append(el, ...children);
  return el;
}

function applyProps(el, props) {
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') el.textContent = String(value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (PROPERTIES.has(key)) el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
}

/** Appends children (nodes, strings, numbers, nested arrays); skips empty ones. */
export function append(parent, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replaces every child of `parent`. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, ...children);
}

/** The element with this id; fails loudly when the page and the script disagree. */
export function byId(id) {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`#${id} is missing from the page`);
  return el;
}

/** Elements that take keyboard focus inside `root`, in tab order. */
export function focusables(root) {
  const selector = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';
  return [...root.querySelectorAll(selector)].filter((el) => !el.closest('[hidden]') && el.getClientRects().length > 0);
}
