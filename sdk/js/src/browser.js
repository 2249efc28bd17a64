// Browser entry (built to one IIFE file): window.tianwang, auto-init from its own script tag.
import { createTianwang, autoInit } from './core.js';

(function () {
  if (typeof window === 'undefined' || (window.tianwang && window.tianwang.__tw)) return;
  const tw = createTianwang();
  Object.defineProperty(tw, '__tw', { value: true });
  window.tianwang = tw;
  const doc = window.document;
  const s = doc.currentScript || doc.querySelector('script[data-site][src*="tianwang"]');
  autoInit(tw, s);
})();
