// h() never parses HTML: hostile strings stay text, in children and in attributes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { HOSTILE, dom } from './helpers.js';

const { window, document } = dom();
const { h, replace, text } = await import('../src/h.js');

test('a hostile string as a child is rendered as text, not as markup', () => {
  const el = h('div', { class: 'x' }, HOSTILE, ' and ', 42);
  document.body.appendChild(el);
  assert.equal(el.textContent, `${HOSTILE} and 42`);
  assert.equal(el.querySelector('img'), null);
  assert.equal(el.children.length, 0);
  assert.equal(document.querySelectorAll('img').length, 0);
  // serialised, the angle brackets are escaped: the browser would show them, not run them
  assert.ok(el.innerHTML.includes('&lt;img'), el.innerHTML);
});

test('a hostile string in an attribute stays an attribute value', () => {
  const el = h('a', { href: '#/customers/x', title: HOSTILE, 'data-testid': HOSTILE }, 'x');
  assert.equal(el.getAttribute('title'), HOSTILE);
  assert.equal(el.getAttribute('data-testid'), HOSTILE);
  assert.equal(el.children.length, 0);
  const input = h('input', { value: HOSTILE });
  assert.equal(input.value, HOSTILE);
});

test('nested arrays, nodes and skipped values', () => {
  const el = h('ul', null, [h('li', null, 'a'), [h('li', null, 'b'), null, false, undefined]], text(HOSTILE));
  assert.equal(el.children.length, 2);
  assert.equal(el.textContent, `ab${HOSTILE}`);
  replace(el, HOSTILE);
  assert.equal(el.children.length, 0);
  assert.equal(el.textContent, HOSTILE);
});

test('unsafe attributes, inline handlers, javascript: links and script tags are refused', () => {
  assert.throws(() => h('div', { onclick: 'alert(1)' }), /must be a function/);
  assert.throws(() => h('div', { innerHTML: HOSTILE }), /not allowed/);
  assert.throws(() => h('div', { srcdoc: HOSTILE }), /not allowed/);
  assert.throws(() => h('img', { src: 'x' }), /not allowed/);
  assert.throws(() => h('a', { href: 'javascript:alert(1)' }), /unsafe href/);
  assert.throws(() => h('a', { href: ' javascript:alert(1)' }), /unsafe href/);
  assert.throws(() => h('a', { href: '//evil.example/x' }), /unsafe href/);
  assert.throws(() => h('script', null, 'alert(1)'), /tag not allowed/);
  assert.throws(() => h('iframe'), /tag not allowed/);
  assert.throws(() => h('<img>'), /tag not allowed/);
  assert.throws(() => h('div', { style: 'color:red' }), /style must be an object/);
});

test('on<event> functions become listeners', () => {
  let n = 0;
  const b = h('button', { type: 'button', onclick: () => n++ }, 'go');
  b.click();
  assert.equal(n, 1);
  assert.equal(b.getAttribute('onclick'), null);
});

test('no source file writes HTML from strings', () => {
  const dir = new URL('../src/', import.meta.url);
  const files = [];
  const walk = (u) => {
    for (const e of readdirSync(u, { withFileTypes: true })) {
      if (e.isDirectory()) walk(new URL(`${e.name}/`, u));
      else if (e.name.endsWith('.js')) files.push(new URL(e.name, u));
    }
  };
  walk(dir);
  assert.ok(files.length >= 10);
  for (const f of files) {
    const src = readFileSync(f, 'utf8');
    assert.doesNotMatch(src, /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|DOMParser|createContextualFragment/, f.pathname);
  }
  window.close?.();
});
