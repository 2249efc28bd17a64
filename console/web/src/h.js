// The one way this app makes DOM: h(tag, attrs, ...children).
// It never parses HTML. Children that are strings or numbers become text nodes; attributes are
// checked against an allow-list (no inline event handlers, no `style` strings, no `javascript:`
// links); `on<event>` keys take functions and become listeners. All data shown in the console
// goes through here or through textContent.

const TAG = /^[a-z][a-z0-9-]*$/;
const FORBIDDEN_TAGS = new Set(['script', 'iframe', 'object', 'embed', 'style', 'link', 'meta', 'base', 'frame']);
const ATTRS = new Set([
  'id', 'class', 'for', 'type', 'name', 'placeholder', 'title', 'role', 'href', 'tabindex', 'min', 'max',
  'step', 'rows', 'cols', 'colspan', 'rowspan', 'scope', 'required', 'readonly', 'hidden', 'spellcheck',
  'autocomplete', 'lang', 'dir', 'open', 'maxlength', 'minlength', 'size', 'wrap', 'datetime', 'inputmode',
]);
// Set as properties, not attributes, so that they reflect the live state of form controls.
const PROPS = new Set(['value', 'checked', 'disabled', 'selected', 'multiple']);
const SAFE_URL = /^(#|\/(?!\/)|https?:\/\/)/i;

/** Make an element. `attrs` may be null. Throws on anything that is not a safe attribute. */
export function h(tag, attrs, ...children) {
  if (!TAG.test(tag) || FORBIDDEN_TAGS.has(tag)) throw new Error(`h: tag not allowed: ${tag}`);
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) {
      if (typeof value !== 'function') throw new Error(`h: ${key} must be a function`);
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (PROPS.has(key)) {
      el[key] = key === 'value' ? String(value) : Boolean(value);
    } else if (key === 'style') {
      if (typeof value !== 'object') throw new Error('h: style must be an object');
      for (const [p, v] of Object.entries(value)) el.style.setProperty(p, String(v));
    } else if (ATTRS.has(key) || /^(aria|data)-[a-z0-9-]+$/.test(key)) {
      const text = value === true ? '' : String(value);
      if (key === 'href' && !SAFE_URL.test(text)) throw new Error('h: unsafe href');
      el.setAttribute(key, text);
    } else {
      throw new Error(`h: attribute not allowed: ${key}`);
    }
  }
  append(el, children);
  return el;
}

/** Append children (strings, numbers, nodes, arrays of them; null/false/undefined skipped). */
export function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false || c === true) continue;
    if (Array.isArray(c)) append(el, c);
    else if (typeof c === 'object' && typeof c.nodeType === 'number') el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
  return el;
}

/** Replace all children of `el`. */
export function replace(el, ...children) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return append(el, children);
}

/** A text node: for call sites that want to be explicit. */
export const text = (s) => document.createTextNode(s === null || s === undefined ? '' : String(s));
