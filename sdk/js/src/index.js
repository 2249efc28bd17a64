// ES module entry: the shared instance and the factory (tests make their own instances).
import { createTianwang, autoInit } from './core.js';

export const tianwang = createTianwang();
export default tianwang;
export { createTianwang, autoInit };
export { scrub, scrubDeep, isPrcId, luhn } from './scrub.js';
export { cssPath } from './selector.js';
export { Behavior, stats, straightness } from './behavior.js';
export { parseUA, quickAttrs, slowAttrs, mergeAttrs, ATTR_KEYS } from './device.js';
export { hash64 } from './hash.js';
