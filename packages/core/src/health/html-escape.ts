const ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" } as const;

/**
 * Text made safe for HTML and SVG, in element content and in quoted attribute values alike:
 * `<b>"a"&'b'` -> `&lt;b&gt;&quot;a&quot;&amp;&#39;b&#39;`. Every name in the report goes through it:
 * Postgres identifiers may hold any of these characters.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c as keyof typeof ENTITIES]);
}
