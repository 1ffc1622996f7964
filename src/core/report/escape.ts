import { redact } from '../db/redact.js';

/**
 * Rendering text from migrations and catalogs (object names, comments, SQL, messages) into
 * GitHub markdown without letting it become markup: no HTML, no links or images, no
 * @mentions or #references, no table breaks. Secrets are redacted before escaping, while
 * they still read as themselves.
 */

// Every character that markdown, HTML or GitHub's autolinker gives a meaning to becomes a
// numeric character reference, which GitHub renders as the plain character.
const SPECIAL = /[\\`*_{}[\]()#+\-.!|<>&@~:="'$^]/g;

export function inline(text: string): string {
  return redact(text)
    .replace(/\r?\n|\r/g, ' ')
    .replace(SPECIAL, (char) => `&#${char.charCodeAt(0)};`);
}

/** A fenced code block whose fence no backtick run in the content can close. */
export function codeBlock(raw: string, language = ''): string {
  const content = redact(raw);
  const longest = Math.max(0, ...[...content.matchAll(/`+/g)].map((run) => run[0].length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${language}\n${content.replace(/\n+$/, '')}\n${fence}`;
}

/** Inline code for short identifiers and hashes we produce ourselves (hex, versions). */
export function code(text: string): string {
  return /^[\w.:/-]*$/.test(text) ? `\`${redact(text)}\`` : inline(text);
}

/** Only https links survive; anything else is shown as text. */
export function safeUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:'
      ? parsed.toString().replace(/[()<>"' ]/g, encodeURIComponent)
      : undefined;
  } catch {
    return undefined;
  }
}
