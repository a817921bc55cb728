/** Hostile strings (fast-check's have lone surrogates) made safe where a string must be well-formed. */

/** `s` with lone surrogates (hostile strings have them) replaced by U+FFFD. */
export function wellFormed(s: string): string {
  return s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

/** encodeURIComponent that never throws on hostile strings. */
export function encodeAny(s: string): string {
  return encodeURIComponent(wellFormed(s));
}
