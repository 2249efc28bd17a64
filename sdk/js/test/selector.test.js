import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cssPath } from '../src/index.js';
import { page } from './helpers.js';

const w = page('https://shop.example.cn/', `
  <form id="apply">
    <div class="row"><input name="a"></div>
    <div><span>x</span><button class="primary big extra">Go</button><button>Back</button></div>
  </form>
  <main><section><p>one</p><p class="note"><a href="#">link</a></p></section></main>
  <div id="1bad"><em>e</em></div>`);
after(() => w.happyDOM.close());
const $ = (s) => w.document.querySelector(s);

test('CSS path runs from body through every ancestor, ids included, and numbers same-tag siblings', () => {
  assert.equal(cssPath($('button.primary')), 'body > form#apply > div:nth-of-type(2) > button.primary.big:nth-of-type(1)');
  assert.equal(cssPath($('form#apply button:not(.primary)')), 'body > form#apply > div:nth-of-type(2) > button:nth-of-type(2)');
  assert.equal(cssPath($('input[name=a]')), 'body > form#apply > div.row:nth-of-type(1) > input');
  assert.equal(cssPath($('p.note a')), 'body > main > section > p.note:nth-of-type(2) > a');
  assert.equal(cssPath($('form')), 'body > form#apply');
});

test('the spec example shape, and ids that are not CSS identifiers are not used', () => {
  const w2 = page('https://x.cn/', '<form id="apply"><div></div><div><button class="primary">Go</button></div></form>');
  assert.equal(cssPath(w2.document.querySelector('button')), 'body > form#apply > div:nth-of-type(2) > button.primary');
  w2.happyDOM.close();
  assert.equal(cssPath($('em')), 'body > div > em');
});

test('every produced path selects the element it came from', () => {
  for (const el of w.document.body.querySelectorAll('*')) {
    const p = cssPath(el);
    if (p.includes('#1bad')) continue;
    assert.equal(w.document.querySelector(p), el, p);
  }
});
