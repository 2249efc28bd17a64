// Device attributes, collected raw (the server hashes and weighs them, never the SDK).
import { hash64 } from './hash.js';

const FONTS = [
  // Chinese
  'Microsoft YaHei', 'Microsoft JhengHei', 'SimSun', 'NSimSun', 'SimHei', 'KaiTi', 'FangSong', 'DengXian',
  'PingFang SC', 'PingFang TC', 'Hiragino Sans GB', 'Heiti SC', 'STHeiti', 'STSong', 'STKaiti', 'STFangsong',
  'Songti SC', 'Kaiti SC', 'Noto Sans CJK SC', 'Noto Serif CJK SC', 'Source Han Sans SC', 'Source Han Serif SC',
  'WenQuanYi Micro Hei', 'WenQuanYi Zen Hei', 'HarmonyOS Sans SC', 'MiSans', 'vivo Sans', 'OPPOSans',
  'Droid Sans Fallback', 'LiSu', 'YouYuan', 'MingLiU', 'PMingLiU', 'Yu Gothic', 'Meiryo', 'Malgun Gothic',
  // Western
  'Arial', 'Arial Black', 'Arial Narrow', 'Calibri', 'Cambria', 'Candara', 'Comic Sans MS', 'Consolas',
  'Courier New', 'Georgia', 'Helvetica', 'Helvetica Neue', 'Impact', 'Lucida Console', 'Lucida Grande',
  'Palatino Linotype', 'Segoe UI', 'Tahoma', 'Times New Roman', 'Trebuchet MS', 'Verdana', 'Roboto',
  'Ubuntu', 'DejaVu Sans', 'Liberation Sans', 'Menlo', 'Monaco', 'San Francisco', 'Franklin Gothic Medium',
];
const BASES = ['monospace', 'sans-serif', 'serif'];

const withTimeout = (p, ms, fallback) =>
  new Promise((resolve) => {
    const t = setTimeout(() => resolve(fallback), ms);
    Promise.resolve(p).then(
      (v) => { clearTimeout(t); resolve(v); },
      () => { clearTimeout(t); resolve(fallback); },
    );
  });

const safe = (f, fallback = null) => {
  try { const v = f(); return v === undefined ? fallback : v; } catch (e) { return fallback; }
};

/** Browser name and major version, and OS name and version, from the user agent string. */
export function parseUA(ua) {
  ua = ua || '';
  const m = (re) => { const r = re.exec(ua); return r ? r[1] : null; };
  const B = [
    ['WeChat', /MicroMessenger\/(\d+)/], ['QQBrowser', /M?QQBrowser\/(\d+)/], ['UC Browser', /UCBrowser\/(\d+)/],
    ['Samsung Internet', /SamsungBrowser\/(\d+)/], ['Opera', /(?:OPR|Opera)\/(\d+)/], ['Edge', /Edg(?:e|A|iOS)?\/(\d+)/],
    ['Firefox', /(?:Firefox|FxiOS)\/(\d+)/], ['Chrome', /(?:Chrome|CriOS)\/(\d+)/], ['Safari', /Version\/(\d+).*Safari/],
  ];
  let browser = { name: null, version: null };
  for (const [name, re] of B) {
    const v = m(re);
    if (v) { browser = { name: /HeadlessChrome/.test(ua) && name === 'Chrome' ? 'Chrome Headless' : name, version: parseInt(v, 10) }; break; }
  }
  let os = { name: null, version: null };
  let v;
  if ((v = m(/OpenHarmony (\d+(?:\.\d+)*)/)) || /HarmonyOS/.test(ua)) os = { name: 'HarmonyOS', version: v || m(/HarmonyOS[ /]?(\d+(?:\.\d+)*)/) };
  else if ((v = m(/Windows NT (\d+\.\d+)/))) os = { name: 'Windows', version: { '10.0': '10', '6.3': '8.1', '6.2': '8', '6.1': '7' }[v] || v };
  else if ((v = m(/(?:iPhone|CPU) OS (\d+(?:_\d+)*)/))) os = { name: 'iOS', version: v.replace(/_/g, '.') };
  else if (/iPad|iPhone|iPod/.test(ua)) os = { name: 'iOS', version: null };
  else if ((v = m(/Android (\d+(?:\.\d+)*)/)) || /Android/.test(ua)) os = { name: 'Android', version: v };
  else if ((v = m(/Mac OS X (\d+(?:[_.]\d+)*)/))) os = { name: 'macOS', version: v.replace(/_/g, '.') };
  else if (/CrOS/.test(ua)) os = { name: 'ChromeOS', version: m(/CrOS \S+ (\d+(?:\.\d+)*)/) };
  else if (/Linux/.test(ua)) os = { name: 'Linux', version: null };
  return { browser, os };
}

function canvasHash(doc) {
  const c = doc.createElement('canvas');
  c.width = 240; c.height = 60;
  const x = c.getContext && c.getContext('2d');
  if (!x || !c.toDataURL) return null;
  const g = x.createLinearGradient(0, 0, 240, 0);
  g.addColorStop(0, '#f60'); g.addColorStop(0.5, 'rgba(0,128,255,0.6)'); g.addColorStop(1, '#3c9');
  x.fillStyle = g;
  x.fillRect(0, 0, 240, 60);
  x.globalCompositeOperation = 'multiply';
  x.fillStyle = 'rgb(255,0,255)';
  x.beginPath(); x.arc(50, 30, 25, 0, Math.PI * 2, true); x.closePath(); x.fill();
  x.fillStyle = 'rgb(0,255,255)';
  x.beginPath(); x.arc(80, 30, 25, 0, Math.PI * 2, true); x.closePath(); x.fill();
  x.globalCompositeOperation = 'source-over';
  x.textBaseline = 'alphabetic';
  x.fillStyle = '#069';
  x.font = '14px "Times New Roman"';
  x.fillText('天网 Cwm fjordbank gly \u{1F603}\u{1F510}', 4, 20);
  x.fillStyle = 'rgba(102,204,0,0.7)';
  x.font = '16px Arial';
  x.fillText('天网 Cwm fjordbank gly \u{1F603}\u{1F510}', 6, 48);
  x.strokeStyle = '#c00';
  x.bezierCurveTo(10, 50, 120, -20, 230, 55);
  x.stroke();
  const url = c.toDataURL();
  return url && url.length > 22 ? hash64(url) : null;
}

function webgl(doc) {
  const c = doc.createElement('canvas');
  const gl = c.getContext && (c.getContext('webgl') || c.getContext('experimental-webgl'));
  if (!gl || !gl.getParameter) return null;
  let vendor = gl.getParameter(gl.VENDOR), renderer = gl.getParameter(gl.RENDERER);
  const dbg = gl.getExtension('WEBGL_debug_renderer_info');
  if (dbg) {
    vendor = gl.getParameter(dbg.UNMASKED_VENDOR_WEBGL) || vendor;
    renderer = gl.getParameter(dbg.UNMASKED_RENDERER_WEBGL) || renderer;
  }
  const params = [];
  for (const k of ['VERSION', 'SHADING_LANGUAGE_VERSION', 'MAX_TEXTURE_SIZE', 'MAX_RENDERBUFFER_SIZE',
    'MAX_VIEWPORT_DIMS', 'MAX_VERTEX_ATTRIBS', 'MAX_VERTEX_UNIFORM_VECTORS', 'MAX_FRAGMENT_UNIFORM_VECTORS',
    'MAX_VARYING_VECTORS', 'MAX_COMBINED_TEXTURE_IMAGE_UNITS', 'MAX_TEXTURE_IMAGE_UNITS', 'MAX_CUBE_MAP_TEXTURE_SIZE',
    'ALIASED_LINE_WIDTH_RANGE', 'ALIASED_POINT_SIZE_RANGE', 'RED_BITS', 'DEPTH_BITS', 'STENCIL_BITS']) {
    const v = safe(() => gl.getParameter(gl[k]));
    params.push(k + '=' + (v && typeof v === 'object' && v.length != null ? Array.prototype.join.call(v, ',') : v));
  }
  for (const t of ['VERTEX_SHADER', 'FRAGMENT_SHADER']) {
    for (const p of ['HIGH_FLOAT', 'MEDIUM_FLOAT', 'HIGH_INT']) {
      const f = safe(() => gl.getShaderPrecisionFormat(gl[t], gl[p]));
      if (f) params.push(t + p + '=' + f.rangeMin + ',' + f.rangeMax + ',' + f.precision);
    }
  }
  const ext = (safe(() => gl.getSupportedExtensions()) || []).slice().sort();
  return { vendor: vendor || null, renderer: renderer || null, hash: hash64(params.join(';') + '|' + ext.join(',')) };
}

function audio(win) {
  const A = win.OfflineAudioContext || win.webkitOfflineAudioContext;
  if (!A) return null;
  return new Promise((resolve) => {
    const ctx = new A(1, 5000, 44100);
    const osc = ctx.createOscillator();
    osc.type = 'triangle';
    osc.frequency.value = 10000;
    const comp = ctx.createDynamicsCompressor();
    for (const [k, v] of [['threshold', -50], ['knee', 40], ['ratio', 12], ['attack', 0], ['release', 0.25]]) {
      if (comp[k] && comp[k].setValueAtTime) comp[k].setValueAtTime(v, ctx.currentTime);
    }
    osc.connect(comp);
    comp.connect(ctx.destination);
    osc.start(0);
    const done = (buf) => {
      const d = buf.getChannelData(0);
      let s = 0;
      for (let i = 4500; i < d.length; i++) s += Math.abs(d[i]);
      resolve(hash64(s.toString()));
    };
    ctx.oncomplete = (e) => done(e.renderedBuffer);
    const p = ctx.startRendering();
    if (p && p.then) p.then(done, () => resolve(null));
  });
}

function fonts(doc) {
  const body = doc.body;
  if (!body) return null;
  const box = doc.createElement('div');
  box.style.cssText = 'position:absolute;left:-9999px;top:0;visibility:hidden';
  const text = 'mmmmmmmmmmlli WwQ@天网风控测试';
  const span = (family) => {
    const s = doc.createElement('span');
    s.style.cssText = 'font-size:48px;font-style:normal;font-weight:normal;letter-spacing:normal;line-height:normal;white-space:nowrap;font-family:' + family;
    s.textContent = text;
    box.appendChild(s);
    return s;
  };
  const base = BASES.map((b) => span(b));
  const probes = FONTS.map((f) => BASES.map((b) => span("'" + f + "'," + b)));
  body.appendChild(box);
  try {
    const bw = base.map((s) => [s.offsetWidth, s.offsetHeight]);
    if (!bw[0][0]) return null; // no layout (not rendered): unknown, not "no fonts"
    return FONTS.filter((f, i) => probes[i].some((s, j) => s.offsetWidth !== bw[j][0] || s.offsetHeight !== bw[j][1]));
  } finally {
    body.removeChild(box);
  }
}

async function permissionsInconsistent(nav, win) {
  const N = win.Notification;
  if (!nav.permissions || !nav.permissions.query || !N) return null;
  const st = await nav.permissions.query({ name: 'notifications' });
  return N.permission === 'denied' && st.state === 'prompt';
}

async function uaCh(nav) {
  const d = nav.userAgentData;
  if (!d) return null;
  const out = {
    brands: (d.brands || []).map((b) => [b.brand, b.version]),
    platform: d.platform || null,
    platform_version: null,
    mobile: !!d.mobile,
    model: null,
  };
  if (d.getHighEntropyValues) {
    const h = await withTimeout(d.getHighEntropyValues(['platformVersion', 'model']), 300, null);
    if (h) { out.platform_version = h.platformVersion || null; out.model = h.model || null; }
  }
  return out;
}

/**
 * The cheap, volatile part of the attributes (read again before each batch, to notice changes).
 */
export function quickAttrs(win, storageId) {
  const nav = win.navigator || {};
  const sc = win.screen || {};
  const ua = nav.userAgent || '';
  const { browser, os } = parseUA(ua);
  const langs = safe(() => Array.from(nav.languages || (nav.language ? [nav.language] : [])), []);
  const plugins = safe(() => Array.from(nav.plugins || [], (p) => p.name), []);
  const touchPoints = typeof nav.maxTouchPoints === 'number' ? nav.maxTouchPoints : null;
  return {
    user_agent: ua || null,
    platform: nav.platform || null,
    vendor: nav.vendor || null,
    browser,
    os,
    languages: langs,
    timezone: safe(() => Intl.DateTimeFormat().resolvedOptions().timeZone),
    tz_offset: safe(() => new Date().getTimezoneOffset()),
    screen: {
      w: sc.width ?? null, h: sc.height ?? null, avail_w: sc.availWidth ?? null, avail_h: sc.availHeight ?? null,
      depth: sc.colorDepth ?? null, dpr: win.devicePixelRatio ?? null,
    },
    hardware_concurrency: nav.hardwareConcurrency ?? null,
    device_memory: nav.deviceMemory ?? null,
    touch_points: touchPoints,
    touch: 'ontouchstart' in win || touchPoints > 0,
    plugins,
    storage_id: storageId,
    cookies: nav.cookieEnabled ?? null,
    automation: {
      webdriver: nav.webdriver === true,
      headless_ua: /Headless|PhantomJS|SlimerJS|Electron/.test(ua),
      no_plugins: plugins.length === 0,
      no_languages: langs.length === 0,
      chrome_missing: /Chrome\//.test(ua) && !/Edg|OPR/.test(ua) ? !win.chrome : false,
      permissions_inconsistent: null,
      window_outer_zero: win.outerWidth === 0 && win.outerHeight === 0,
    },
  };
}

const KEYS = ['user_agent', 'ua_ch', 'platform', 'vendor', 'browser', 'os', 'languages', 'timezone', 'tz_offset',
  'screen', 'hardware_concurrency', 'device_memory', 'touch_points', 'touch', 'canvas', 'webgl', 'audio', 'fonts',
  'plugins', 'storage_id', 'cookies', 'automation'];

/** Merge the quick attributes with the slow ones, in the documented key order. */
export function mergeAttrs(quick, slow) {
  const a = {};
  for (const k of KEYS) a[k] = k in slow ? slow[k] : quick[k] ?? null;
  a.automation = Object.assign({}, quick.automation, { permissions_inconsistent: slow.permissions_inconsistent ?? null });
  delete a.permissions_inconsistent;
  return a;
}

/** The slow part (canvas, WebGL, audio, fonts, UA client hints): collected once per page load. */
export async function slowAttrs(win) {
  const doc = win.document, nav = win.navigator || {};
  const [ua_ch, audioHash, perm] = await Promise.all([
    withTimeout(safe(() => uaCh(nav)), 500, null),
    withTimeout(safe(() => audio(win)), 1000, null),
    withTimeout(safe(() => permissionsInconsistent(nav, win)), 300, null),
  ]);
  return {
    ua_ch,
    canvas: safe(() => canvasHash(doc)),
    webgl: safe(() => webgl(doc)),
    audio: audioHash,
    fonts: safe(() => fonts(doc)),
    permissions_inconsistent: perm,
  };
}

export const ATTR_KEYS = KEYS;
