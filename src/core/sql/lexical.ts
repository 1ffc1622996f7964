/*
 * PostgreSQL's lexical rules for what can hide a semicolon or a parenthesis: comments (block
 * comments nest), string constants (doubled quotes; backslash escapes in E'…'), quoted
 * identifiers and dollar-quoted bodies. Each function returns the index just past the token
 * that starts at `at`, never beyond `end`.
 */

/** Past the comment starting at `at`, or `at` when none starts there. */
export function pastComment(sql: string, at: number, end = sql.length): number {
  if (sql.startsWith('--', at)) {
    const newline = sql.indexOf('\n', at);
    return newline < 0 || newline >= end ? end : newline + 1;
  }
  if (!sql.startsWith('/*', at)) return at;
  let depth = 0;
  let i = at;
  while (i < end) {
    if (sql.startsWith('/*', i)) {
      depth++;
      i += 2;
    } else if (sql.startsWith('*/', i)) {
      depth--;
      i += 2;
      if (depth === 0) return Math.min(i, end);
    } else i++;
  }
  return end;
}

/**
 * Past the comment, string, quoted identifier or dollar-quoted body starting at `at`, or `at`
 * when none starts there.
 */
export function pastQuotedOrComment(sql: string, at: number, end = sql.length): number {
  const comment = pastComment(sql, at, end);
  if (comment !== at) return comment;
  const char = sql[at];
  if (char === "'" || char === '"') return pastQuoted(sql, at, end, char === "'" && isEscapeString(sql, at));
  if (char === '$') return pastDollarQuoted(sql, at, end);
  return at;
}

function isEscapeString(sql: string, quote: number): boolean {
  const before = sql[quote - 1];
  return (before === 'e' || before === 'E') && !/[\w$]/.test(sql[quote - 2] ?? ' ');
}

function pastQuoted(sql: string, open: number, end: number, backslashEscapes: boolean): number {
  const quote = sql[open];
  let i = open + 1;
  while (i < end) {
    const char = sql[i];
    if (backslashEscapes && char === '\\') i += 2;
    else if (char === quote) {
      if (sql[i + 1] !== quote) return i + 1;
      i += 2;
    } else i++;
  }
  return end;
}

const DOLLAR_TAG = /\$([A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)?\$/y;

function pastDollarQuoted(sql: string, open: number, end: number): number {
  // `$1` is a parameter and `a$b` part of an identifier, not a quote.
  if (open > 0 && /[\w$]/.test(sql[open - 1] as string)) return open;
  DOLLAR_TAG.lastIndex = open;
  const tag = DOLLAR_TAG.exec(sql)?.[0];
  if (!tag) return open;
  const close = sql.indexOf(tag, open + tag.length);
  return close < 0 || close + tag.length > end ? end : close + tag.length;
}
