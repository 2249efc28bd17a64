import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { parseUA, quickAttrs, slowAttrs, mergeAttrs, ATTR_KEYS, hash64 } from '../src/index.js';
import { page } from './helpers.js';

test('user agent parsing: browser major version and OS', () => {
  const cases = [
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36', 'Chrome', 124, 'Windows', '10'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51', 'Edge', 124, 'Windows', '10'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1', 'Safari', 17, 'iOS', '17.4'],
    ['Mozilla/5.0 (Linux; Android 13; V2172A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Mobile Safari/537.36 MicroMessenger/8.0.47', 'WeChat', 8, 'Android', '13'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:125.0) Gecko/20100101 Firefox/125.0', 'Firefox', 125, 'macOS', '10.15'],
    ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36', 'Chrome Headless', 120, 'Linux', null],
  ];
  for (const [ua, b, bv, os, ov] of cases) {
    const r = parseUA(ua);
    assert.deepEqual(r, { browser: { name: b, version: bv }, os: { name: os, version: ov } }, ua);
  }
  assert.deepEqual(parseUA(''), { browser: { name: null, version: null }, os: { name: null, version: null } });
});

test('hash64: 16 hex digits, stable, input-sensitive', () => {
  assert.match(hash64('abc'), /^[0-9a-f]{16}$/);
  assert.equal(hash64('abc'), hash64('abc'));
  assert.notEqual(hash64('abc'), hash64('abd'));
  assert.notEqual(hash64(''), hash64(' '));
});

test('the attribute set has exactly the documented keys', async () => {
  const w = page();
  after(() => w.happyDOM.close());
  const a = mergeAttrs(quickAttrs(w, 'sid-1'), await slowAttrs(w));
  assert.deepEqual(Object.keys(a), ATTR_KEYS);
  assert.deepEqual(ATTR_KEYS, ['user_agent', 'ua_ch', 'platform', 'vendor', 'browser', 'os', 'languages', 'timezone',
    'tz_offset', 'screen', 'hardware_concurrency', 'device_memory', 'touch_points', 'touch', 'canvas', 'webgl', 'audio',
    'fonts', 'plugins', 'storage_id', 'cookies', 'automation']);
  assert.deepEqual(Object.keys(a.screen), ['w', 'h', 'avail_w', 'avail_h', 'depth', 'dpr']);
  assert.deepEqual(Object.keys(a.automation), ['webdriver', 'headless_ua', 'no_plugins', 'no_languages', 'chrome_missing',
    'permissions_inconsistent', 'window_outer_zero']);
  assert.deepEqual(Object.keys(a.browser), ['name', 'version']);
  assert.deepEqual(Object.keys(a.os), ['name', 'version']);
  assert.equal(a.storage_id, 'sid-1');
  assert.equal(typeof a.tz_offset, 'number');
  assert.ok(Array.isArray(a.languages));
  // happy-dom draws nothing and lays nothing out: those are null, not made up
  assert.equal(a.canvas, null);
  assert.equal(a.webgl, null);
  assert.equal(a.audio, null);
  assert.equal(a.fonts, null);
});

test('UA client hints, when the browser has them', async () => {
  const w = page();
  after(() => w.happyDOM.close());
  Object.defineProperty(w.navigator, 'userAgentData', {
    value: {
      brands: [{ brand: 'Chromium', version: '124' }, { brand: 'Google Chrome', version: '124' }],
      platform: 'Windows', mobile: false,
      getHighEntropyValues: async () => ({ platformVersion: '15.0.0', model: '' }),
    },
  });
  const s = await slowAttrs(w);
  assert.deepEqual(s.ua_ch, { brands: [['Chromium', '124'], ['Google Chrome', '124']], platform: 'Windows', platform_version: '15.0.0', mobile: false, model: null });
});
