// The built console (make console): there, loading nothing from elsewhere, running no inline script.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const OUT = fileURLToPath(new URL('../../../src/tianwang/static/console/', import.meta.url));

test('index.html, app.js and app.css are built', () => {
  for (const name of ['index.html', 'app.js', 'app.css']) assert.ok(existsSync(OUT + name), `${OUT}${name} is missing: run \`make console\``);
});

test('index.html loads only its own files and has no inline script', () => {
  const html = readFileSync(OUT + 'index.html', 'utf8');
  assert.match(html, /<script defer src="\/console\/app\.js"><\/script>/);
  assert.match(html, /<link rel="stylesheet" href="\/console\/app\.css">/);
  assert.doesNotMatch(html, /<script>(?!<)|https?:\/\//);
  const css = readFileSync(OUT + 'app.css', 'utf8');
  assert.doesNotMatch(css, /@import|@font-face|url\(/, 'no external fonts or imports');
});

test('the bundle holds Cytoscape and ECharts and names no CDN', () => {
  const js = readFileSync(OUT + 'app.js', 'utf8');
  assert.ok(js.length > 300_000, 'the libraries are bundled');
  assert.doesNotMatch(js, /(unpkg\.com|cdn\.jsdelivr|cdnjs\.cloudflare)/);
  assert.doesNotMatch(js, /sourceMappingURL/);
});
