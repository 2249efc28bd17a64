// Build the analysts' console into the files the server serves at /console:
// src/tianwang/static/console/{index.html, app.js, app.css} (git-ignored; `make console`).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
export const OUT_DIR = path.resolve(here, '../../src/tianwang/static/console');
const pkg = JSON.parse(readFileSync(path.join(here, 'package.json'), 'utf8'));
// The bundle holds Cytoscape.js and the used parts of ECharts; keep an eye on its weight.
const BUDGET_GZ = 450 * 1024;

mkdirSync(OUT_DIR, { recursive: true });
await build({
  entryPoints: [path.join(here, 'src/main.js')],
  outfile: path.join(OUT_DIR, 'app.js'),
  bundle: true,
  minify: true,
  sourcemap: false,
  format: 'iife',
  target: ['es2020'],
  charset: 'utf8',
  legalComments: 'none',
  define: { 'process.env.NODE_ENV': '"production"' },
  banner: { js: `/*! tianwang console ${pkg.version}; bundles Cytoscape.js (MIT) and Apache ECharts (Apache-2.0) */` },
  logLevel: 'warning',
});
for (const name of ['index.html', 'app.css']) copyFileSync(path.join(here, 'src', name), path.join(OUT_DIR, name));

let gzTotal = 0;
for (const name of ['index.html', 'app.js', 'app.css']) {
  const buf = readFileSync(path.join(OUT_DIR, name));
  const gz = gzipSync(buf, { level: 9 }).length;
  gzTotal += gz;
  console.log(`built ${path.relative(process.cwd(), path.join(OUT_DIR, name))}: ${buf.length} bytes, ${gz} bytes gzipped`);
}
if (gzTotal > BUDGET_GZ) {
  console.error(`the console is over its ${BUDGET_GZ / 1024} KB gzipped budget (${gzTotal} bytes)`);
  process.exit(1);
}
