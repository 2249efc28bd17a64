// The console's entry point (bundled by build.mjs into app.js).
import { createApp } from './app.js';
import * as charts from './charts.js';
import { createGraph } from './graph.js';

const root = document.getElementById('app');
createApp({ root, window, fetch: window.fetch.bind(window), charts, graph: createGraph }).start();
