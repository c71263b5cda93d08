/**
 * Plain text for stored answers (SPEC §7: "the answer … is rendered as plain text; it never
 * triggers actions"). A model that followed an instruction planted in a log line may answer with
 * a link, an image or markup; what hetu stores keeps the words and drops what a renderer would
 * turn into something clickable or fetched:
 *
 * - Markdown images `![alt](url)` become their alt text; links `[text](url)` their text;
 *   reference definitions (`[id]: url`) are removed; `<https://…>` autolinks lose their brackets.
 * - HTML tags (`<img …>`, `<a …>`, `<script>`, …) and HTML comments are removed.
 * - URL schemes are defanged so nothing auto-links: `https://x` → `https[:]//x`, `javascript:` →
 *   `javascript[:]`, `data:`, `mailto:`, `file:`, … likewise, and `www.` → `www[.]`.
 * - Control characters other than newline and tab become spaces.
 *
 * Every pattern has bounded quantifiers, so the cost is linear in the text (answers are capped).
 */

const IMAGE = /!\[([^\]\n]{0,500})\]\s?\([^)\n]{0,2000}\)/g;
const LINK = /\[([^\]\n]{0,500})\]\s?\([^)\n]{0,2000}\)/g;
const REF_LINK = /\[([^\]\n]{1,500})\]\[[^\]\n]{0,200}\]/g;
const REF_DEF = /^[ \t]{0,3}\[[^\]\n]{1,500}\]:[ \t]{0,20}\S{1,2000}[^\n]{0,500}$/gm;
const AUTOLINK = /<((?:[a-zA-Z][a-zA-Z0-9+.-]{1,20}:|www\.)[^<>\s]{1,2000})>/g;
const COMMENT = /<!--[\s\S]{0,20000}?-->/g;
const TAG = /<\/?[a-zA-Z!][^<>]{0,2000}>/g;
const SCHEME = /\b(https?|ftp|ftps|sftp|file|javascript|vbscript|data|mailto|tel|ssh|ws|wss|blob)(:)/gi;
const WWW = /\bwww\./gi;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

/** `text` as plain text: no links, images or markup a renderer would act on. */
export function plainText(text: string): string {
  return text
    .replace(CONTROL, ' ')
    .replace(COMMENT, '')
    .replace(IMAGE, (_m, alt: string) => (alt.trim() === '' ? '(image removed)' : alt))
    .replace(LINK, (_m, label: string) => label)
    .replace(REF_LINK, (_m, label: string) => label)
    .replace(REF_DEF, '')
    .replace(AUTOLINK, (_m, url: string) => url)
    .replace(TAG, '')
    .replace(SCHEME, (_m, scheme: string) => `${scheme}[:]`)
    .replace(WWW, (m) => `${m.slice(0, 3)}[.]`)
    .trim();
}

/** `plainText` applied to every string of a JSON-like value (objects and arrays rebuilt). */
export function plainValue<T>(value: T): T {
  if (typeof value === 'string') return plainText(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => plainValue(v)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = plainValue(v);
    return out as T;
  }
  return value;
}
