// MurmurHash3 (x86, 32-bit) over UTF-16 code units; hash64 concatenates two seeds.
function mm3(str, seed) {
  let h = seed >>> 0;
  const n = str.length;
  const c1 = 0xcc9e2d51, c2 = 0x1b873593;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    let k = (str.charCodeAt(i) & 0xffff) | ((str.charCodeAt(i + 1) & 0xffff) << 16);
    k = Math.imul(k, c1); k = (k << 15) | (k >>> 17); k = Math.imul(k, c2);
    h ^= k; h = (h << 13) | (h >>> 19); h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  if (i < n) {
    let k = str.charCodeAt(i) & 0xffff;
    k = Math.imul(k, c1); k = (k << 15) | (k >>> 17); k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= n * 2;
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const hex8 = (x) => ('0000000' + x.toString(16)).slice(-8);

/** 64-bit non-cryptographic hash of a string, as 16 hex digits. */
export function hash64(str) {
  str = String(str);
  return hex8(mm3(str, 0)) + hex8(mm3(str, 0x9747b28c));
}
