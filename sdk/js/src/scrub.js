// Scrubbing of personal numbers: PRC resident IDs, mainland mobile numbers and bank
// card numbers are replaced by [id], [phone] and [card] in every string the SDK sends.
// No look-behind in the patterns: Safari before 16.4 cannot parse it.

const ID_W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_C = '10X98765432';

/** 18-digit resident ID number with a valid ISO 7064 MOD 11-2 check character. */
export function isPrcId(s) {
  if (!/^\d{17}[\dXx]$/.test(s)) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (s.charCodeAt(i) - 48) * ID_W[i];
  return ID_C[sum % 11] === s[17].toUpperCase();
}

/** Luhn check over a string of digits. */
export function luhn(d) {
  let sum = 0;
  for (let i = d.length - 1, alt = false; i >= 0; i--, alt = !alt) {
    let n = d.charCodeAt(i) - 48;
    if (alt) { n *= 2; if (n > 9) n -= 9; }
    sum += n;
  }
  return sum % 10 === 0;
}

// (^|\D) stands in for a look-behind: the prefix character is put back on replace.
const RE_ID = /(^|\D)(\d{17}[\dXx])(?!\d)/g;
const RE_CARD = /(^|\D)(\d{13,19}|\d{4}(?:[ -]\d{4}){2,3}(?:[ -]\d{1,3})?)(?!\d)/g;
const RE_PHONE = /(^|\D)((?:(?:\+|%2[Bb]|00)?86[ -]?)?1[3-9]\d(?:\d{8}|[ -]\d{4}[ -]\d{4}))(?!\d)/g;

export function scrub(s) {
  if (typeof s !== 'string' || !/\d{3}/.test(s)) return s;
  return s
    .replace(RE_ID, (m, p, d) => (isPrcId(d) ? p + '[id]' : m))
    .replace(RE_PHONE, (m, p) => p + '[phone]') // before cards: +86 and 11 digits can pass Luhn
    .replace(RE_CARD, (m, p, d) => {
      const digits = d.replace(/[ -]/g, '');
      return digits.length >= 13 && digits.length <= 19 && luhn(digits) ? p + '[card]' : m;
    });
}

/** Scrub every string (values and keys) inside a JSON-like value. */
export function scrubDeep(v) {
  if (typeof v === 'string') return scrub(v);
  if (Array.isArray(v)) return v.map(scrubDeep);
  if (v && typeof v === 'object') {
    const o = {};
    for (const k in v) if (Object.prototype.hasOwnProperty.call(v, k)) o[scrub(k)] = scrubDeep(v[k]);
    return o;
  }
  return v;
}
