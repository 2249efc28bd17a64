// Build the browser SDK into one minified file served by the Python server at /sdk/tianwang.js.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
export const OUT = path.resolve(here, '../../src/tianwang/static/sdk/tianwang.js');
const pkg = JSON.parse(readFileSync(path.join(here, 'package.json'), 'utf8'));

await build({
  entryPoints: [path.join(here, 'src/browser.js')],
  outfile: OUT,
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2017'],
  charset: 'utf8',
  legalComments: 'none',
  banner: { js: `/*! tianwang browser SDK ${pkg.version} */` },
  logLevel: 'warning',
});

const buf = readFileSync(OUT);
const gz = gzipSync(buf, { level: 9 }).length;
console.log(`built ${path.relative(process.cwd(), OUT)}: ${buf.length} bytes, ${gz} bytes gzipped`);
if (gz > 25 * 1024) {
  console.error('the SDK is over its 25 KB gzipped budget');
  process.exit(1);
}
