/**
 * The one HTML escaper, for every page tend writes (the monitor report, the optimization report):
 * any text from data, file names or model metadata goes through it before it meets markup.
 */

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Text safe inside an element or a quoted attribute.
 * @example escapeHtml(`<a href="x">`) // '&lt;a href=&quot;x&quot;&gt;'
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}
