import { test } from 'node:test';
import assert from 'node:assert/strict';
import { href, parseHash } from '../src/router.js';

test('hashes map to pages', () => {
  const cases = {
    '': ['decisions', null], '#': ['decisions', null], '#/': ['decisions', null], '#/decisions': ['decisions', null],
    '#/cases': ['cases', null], '#/cases/12': ['case', '12'], '#/rings': ['rings', null],
    '#/rings/R000001': ['ring', 'R000001'], '#/customers/c-42': ['customer', 'c-42'], '#/policy': ['policy', null],
    '#/lists': ['lists', null], '#/audit': ['audit', null], '#/signin': ['signin', null],
    '#/customers/c%2F7%20x': ['customer', 'c/7 x'], '#/nope': ['notfound', null], '#/cases/1/2': ['notfound', null],
  };
  for (const [hash, [name, id]] of Object.entries(cases)) {
    const r = parseHash(hash);
    assert.equal(r.name, name, hash);
    assert.equal(r.id, id, hash);
  }
});

test('a query after ? is parsed', () => {
  const r = parseHash('#/cases?tab=mine');
  assert.equal(r.name, 'cases');
  assert.deepEqual(r.query, { tab: 'mine' });
  assert.deepEqual(parseHash('#/lists?list_type=grey').query, { list_type: 'grey' });
});

test('href builds hashes that parse back', () => {
  assert.equal(href('case', 12), '#/cases/12');
  assert.equal(href('ring', 'R000001'), '#/rings/R000001');
  assert.equal(href('cases', null, { tab: 'mine' }), '#/cases?tab=mine');
  for (const id of ['c-42', 'a/b', '<img src=x>', '100%']) assert.equal(parseHash(href('customer', id)).id, id);
  assert.throws(() => href('nope'));
});
