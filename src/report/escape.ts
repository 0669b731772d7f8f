/**
 * Node and tensor names come from model files, which may be hostile: every piece of text reaches the
 * page through here so that it stays text (`<script>` in a node name shows as those characters).
 */
const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Control characters are not allowed in HTML text: they would make the page invalid. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000e-\u001f\u007f]/g;

/** Escapes text for element content and for quoted attribute values, in HTML and inline SVG alike. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]).replace(CONTROL, '\ufffd');
}
