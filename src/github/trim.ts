/**
 * Cutting markdown to a hard size limit (a comment's 65,536 characters, a check run's 65,535,
 * a job summary's 1 MiB) on purpose: at a line, with open code fences and <details> closed
 * so the rest still renders, and a note that says it was cut and where the rest is.
 */
export interface FitOptions {
  /** At most this many UTF-16 code units (what GitHub counts for comments and check runs). */
  maxChars?: number;
  /** At most this many UTF-8 bytes (what the runner counts for the job summary). */
  maxBytes?: number;
  /** Said at the end when the text had to be cut. */
  note: string;
}

export interface Fitted {
  text: string;
  trimmed: boolean;
}

export function fitMarkdown(text: string, options: FitOptions): Fitted {
  const size = measure(options);
  const max = Math.min(
    options.maxChars ?? Number.POSITIVE_INFINITY,
    options.maxBytes ?? Number.POSITIVE_INFINITY,
  );
  if (size(text) <= max) return { text, trimmed: false };
  const note = `\n\n> [!NOTE]\n> ${options.note.replace(/\s*\n\s*/g, ' ')}\n`;
  let budget = max - size(note) - 64;
  for (let attempt = 0; attempt < 8 && budget > 0; attempt += 1) {
    let head = cutTo(text, budget, options.maxBytes !== undefined);
    const newline = head.lastIndexOf('\n');
    if (newline > 0) head = head.slice(0, newline);
    const result = `${head}${closers(head)}${note}`;
    if (size(result) <= max) return { text: result, trimmed: true };
    budget -= size(result) - max + 16;
  }
  // Nothing of the text fits beside the note: the note alone, itself cut if it must be.
  return { text: cutTo(note.trim(), max, options.maxBytes !== undefined), trimmed: true };
}

function measure(options: FitOptions): (text: string) => number {
  return options.maxBytes !== undefined ? (text) => Buffer.byteLength(text, 'utf8') : (text) => text.length;
}

/** The longest prefix within `limit` (bytes or UTF-16 units) that does not split a character. */
function cutTo(text: string, limit: number, bytes: boolean): string {
  if (!bytes) {
    let end = Math.min(text.length, Math.max(0, limit));
    const last = text.charCodeAt(end - 1);
    if (end > 0 && last >= 0xd800 && last <= 0xdbff) end -= 1;
    return text.slice(0, end);
  }
  if (Buffer.byteLength(text, 'utf8') <= limit) return text;
  // Binary search on the prefix length in code units.
  let low = 0;
  let high = text.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (Buffer.byteLength(text.slice(0, mid), 'utf8') <= limit) low = mid;
    else high = mid - 1;
  }
  const code = text.charCodeAt(low - 1);
  return text.slice(0, low > 0 && code >= 0xd800 && code <= 0xdbff ? low - 1 : low);
}

/** What closes the constructs a cut left open: a code fence, then <details> blocks. */
function closers(head: string): string {
  let fence: { char: string; length: number } | undefined;
  let details = 0;
  for (const line of head.split('\n')) {
    const match = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (match) {
      const run = match[1] as string;
      if (!fence) fence = { char: run[0] as string, length: run.length };
      else if (run[0] === fence.char && run.length >= fence.length && line.trim() === run) fence = undefined;
      continue;
    }
    if (fence) continue;
    details += (line.match(/<details[\s>]/gi) ?? []).length;
    details -= (line.match(/<\/details>/gi) ?? []).length;
  }
  let out = '';
  if (fence) out += `\n${fence.char.repeat(fence.length)}`;
  if (details > 0) out += '\n\n</details>'.repeat(details);
  return out;
}
