// An element's CSS path from <body> down (at most maxDepth steps): every ancestor with its id,
// first two classes and position among siblings of its type. The server matches collection
// rules' selectors (`form#apply input[name=id_number]`) against it, so ancestors must be there.
const IDENT = /^-?[A-Za-z_][\w-]*$/;

export function cssPath(el, maxDepth = 12) {
  const parts = [];
  for (let d = 0; el && el.nodeType === 1 && d < maxDepth; d++) {
    const tag = el.tagName.toLowerCase();
    if (tag === 'html' || tag === 'body') { parts.unshift(tag); break; }
    const id = el.getAttribute('id');
    let part = id && IDENT.test(id) ? tag + '#' + id : tag;
    const cls = classList(el).filter((c) => IDENT.test(c)).slice(0, 2);
    if (cls.length) part += '.' + cls.join('.');
    const parent = el.parentElement;
    if (parent) {
      let n = 0, idx = 0;
      for (let s = parent.firstElementChild; s; s = s.nextElementSibling) {
        if (s.tagName === el.tagName) { n++; if (s === el) idx = n; }
      }
      if (n > 1) part += ':nth-of-type(' + idx + ')';
    }
    parts.unshift(part);
    el = parent;
  }
  return parts.join(' > ');
}

export function classList(el) {
  const c = el.getAttribute && el.getAttribute('class');
  return c ? c.trim().split(/\s+/).filter(Boolean) : [];
}
