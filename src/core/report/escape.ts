import { redact } from '../db/redact.js';

/**
 * Rendering text from migrations and catalogs (object names, comments, SQL, messages) into
 * GitHub markdown without letting it become markup: no HTML, no links or images, no
 * @mentions or #references, no table breaks, no lists or headings. Secrets are redacted
 * before escaping, while they still read as themselves.
 *
 * Readable in the raw markdown too (notification e-mails show it as it is): names go in code
 * spans, which GitHub renders literally and its mention, reference and link filters skip;
 * other text gets a backslash only before what would be markup, and an invisible
 * zero-width space where GitHub would otherwise make a mention, a reference or a link.
 *
 * Tables: GitHub splits a row at every `|` not preceded by a backslash, in code spans too,
 * and removes one backslash before each `|` of a cell before reading it. So cells go through
 * `tableRow`, which puts a backslash before every `|` of their content.
 */

const ZWSP = '\u200b';

/** A line of text (a message, a comment, a hint) as markdown that shows it as it is. */
export function inline(text: string): string {
  return (
    breakAutolinks(oneLine(redact(text)))
      // Emphasis, code, links, images, HTML, autolinks, strikethrough, math, table cells.
      .replace(/[\\`*[\]<>~$|]/g, '\\$&')
      // `_` only makes emphasis at a word boundary.
      .replace(/(?<![\p{L}\p{N}])_|_(?![\p{L}\p{N}])/gu, '\\_')
      // A character reference (`&lt;`, `&#60;`) would turn into the character it names.
      .replace(/&(?=#|[a-z][a-z0-9]*;)/gi, '&amp;')
      // What starts a heading, a list, a quote or a rule at the start of the text.
      .replace(/^(\s*)([#+=-]|\d+(?=[.)]))/, (_, space: string, mark: string) =>
        /\d/.test(mark) ? `${space}${mark}\\` : `${space}\\${mark}`,
      )
  );
}

/**
 * A name (of a table, a column, a role, a file) as a code span: GitHub shows it literally,
 * whatever it contains. The fence is longer than any backtick run inside, with a space on each
 * side when the content starts or ends with a backtick or a space (the parser takes one off).
 */
export function code(text: string): string {
  const content = oneLine(redact(text));
  if (content === '') return '` `';
  const longest = Math.max(0, ...[...content.matchAll(/`+/g)].map((run) => run[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = /^[` ]|[` ]$/.test(content) ? ' ' : '';
  return `${fence}${pad}${content}${pad}${fence}`;
}

/** A name inside raw HTML (a <summary>), where markdown is not read: an HTML code element. */
export function htmlCode(text: string): string {
  return `<code>${htmlText(text)}</code>`;
}

/** Text inside raw HTML: the characters HTML reads as markup become character references. */
export function htmlText(text: string): string {
  return breakAutolinks(oneLine(redact(text))).replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** A table row from cells already rendered (text, code spans, links). */
export function tableRow(cells: string[]): string {
  return `| ${cells.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`;
}

/** A fenced code block whose fence no backtick run in the content can close. */
export function codeBlock(raw: string, language = ''): string {
  const content = redact(raw);
  const longest = Math.max(0, ...[...content.matchAll(/`+/g)].map((run) => run[0].length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${language}\n${content.replace(/\n+$/, '')}\n${fence}`;
}

/** Only https links survive; anything else is shown as text. */
export function safeUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:'
      ? // encodeURIComponent leaves ( ) ' alone: a `)` would end the markdown link early.
        parsed
          .toString()
          .replace(/[()<>"' \\`[\]|*_]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
      : undefined;
  } catch {
    return undefined;
  }
}

/** A link whose text is a code span, when the URL is a safe one; else the code span. */
export function codeLink(text: string, url: string | undefined, title?: string): string {
  const safe = safeUrl(url);
  if (!safe) return code(text);
  // A title in quotes: its quotes and backslashes escaped, its other characters shown as text.
  const quoted = title ? ` "${oneLine(redact(title)).replace(/["\\]/g, '\\$&')}"` : '';
  return `[${code(text)}](${safe}${quoted})`;
}

function oneLine(text: string): string {
  return text.replace(/\r?\n|\r/g, ' ');
}

/**
 * GitHub links @user and @org/team (a notification to them), #123, owner/repo#123 and GH-123
 * (a cross-reference on that issue), and URLs and www. addresses it finds in text: an
 * invisible character after the `@`, the `#` or in the `://` keeps them text.
 */
function breakAutolinks(text: string): string {
  return text
    .replace(/@(?=[\p{L}\p{N}_-])/gu, `@${ZWSP}`)
    .replace(/#(?=\d)/g, `#${ZWSP}`)
    .replace(/\b(GH)-(?=\d)/gi, `$1-${ZWSP}`)
    .replace(/:\/\//g, `:${ZWSP}//`)
    .replace(/\bwww\./gi, (match) => `${match.slice(0, 3)}${ZWSP}.`);
}
