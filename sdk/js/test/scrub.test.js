import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scrub, scrubDeep, isPrcId, luhn } from '../src/index.js';

// 11010519491231002X is the standard's own example; the others are made up with valid check digits.
const ID_OK = ['11010519491231002X', '440524188001010014', '110101199003074477'];

test('PRC resident ID: the MOD 11-2 check digit decides', () => {
  for (const id of ID_OK) assert.equal(isPrcId(id), true, id);
  assert.equal(isPrcId('11010519491231002x'), true);
  assert.equal(isPrcId('110105194912310021'), false); // wrong check digit
  assert.equal(isPrcId('440524188001010015'), false);
  assert.equal(isPrcId('11010519491231002'), false); // 17 digits
  for (const id of ID_OK) assert.equal(scrub(id), '[id]');
  assert.equal(scrub('身份证:11010519491231002X,请核对'), '身份证:[id],请核对');
  assert.equal(scrub('/verify?idno=440524188001010014&step=2'), '/verify?idno=[id]&step=2');
  // an 18-digit number with a wrong check digit is not an ID (nor a phone: no 11-digit run)
  assert.equal(scrub('ref 110105194912310021'), 'ref 110105194912310021');
});

test('mainland mobile numbers', () => {
  assert.equal(scrub('13812345678'), '[phone]');
  assert.equal(scrub('call 19912345678 now'), 'call [phone] now');
  assert.equal(scrub('tel:+8613812345678'), 'tel:[phone]');
  assert.equal(scrub('?m=%2B8615912345678&x=1'), '?m=[phone]&x=1');
  assert.equal(scrub('138-1234-5678 / 138 1234 5678'), '[phone] / [phone]');
  assert.equal(scrub('a13812345678b,17712345678'), 'a[phone]b,[phone]');
  assert.equal(scrub('12812345678'), '12812345678'); // 12x is not a mobile prefix
  assert.equal(scrub('138123456789'), '138123456789'); // 12 digits: not a phone
  assert.equal(scrub('1381234567'), '1381234567'); // 10 digits
  assert.equal(scrub('order-2024-13812345678'), 'order-2024-[phone]');
});

test('bank card numbers: 13-19 digits passing Luhn', () => {
  assert.equal(luhn('4111111111111111'), true);
  assert.equal(luhn('4111111111111112'), false);
  assert.equal(scrub('4111111111111111'), '[card]');
  assert.equal(scrub('card=6222021234567890128;'), 'card=[card];'); // 19-digit UnionPay
  assert.equal(scrub('card=6222021234567890129;'), 'card=6222021234567890129;'); // check digit off by one
  assert.equal(scrub('pay 6212 2612 0200 1234 567 ok'), 'pay [card] ok');
  assert.equal(scrub('6228480012345671'), '[card]');
  assert.equal(scrub('amex 378282246310005.'), 'amex [card].');
  assert.equal(scrub('visa 4111 1111 1111 1111 ok'), 'visa [card] ok');
  assert.equal(scrub('visa 4111-1111-1111-1111'), 'visa [card]');
  assert.equal(scrub('4111111111111112'), '4111111111111112'); // fails Luhn
  assert.equal(scrub('411111111111'), '411111111111'); // 12 digits
  assert.equal(scrub('41111111111111111111'), '41111111111111111111'); // 20 digits
});

test('every kind inside longer strings, and nothing else touched', () => {
  const s = 'user 11010519491231002X phone 13912345678 card 4111111111111111 order 20240101';
  assert.equal(scrub(s), 'user [id] phone [phone] card [card] order 20240101');
  assert.equal(scrub('no numbers here'), 'no numbers here');
  assert.equal(scrub(''), '');
  assert.equal(scrub(42), 42);
  assert.equal(scrub('uuid 6f1c2b9e-1234-4abc-8def-138123456789'), 'uuid 6f1c2b9e-1234-4abc-8def-138123456789');
});

test('scrubDeep reaches nested values and keys', () => {
  const out = scrubDeep({ a: ['13812345678', { b: 'id 11010519491231002X' }], '13912345678': 1, n: 4111111111111111, ok: true, z: null });
  assert.deepEqual(out, { a: ['[phone]', { b: 'id [id]' }], '[phone]': 1, n: 4111111111111111, ok: true, z: null });
});
