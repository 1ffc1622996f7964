import { pastQuotedOrComment } from './lexical.js';

/**
 * The storage parameters of a CREATE INDEX (or any statement with a top-level `WITH ( … )`),
 * found by scanning the text: outside parentheses, quotes, dollar quotes and comments.
 */

/** The statement without its top-level `WITH ( … )`; undefined when it has none. */
export function withoutStorageParameters(sql: string): string | undefined {
  const span = storageParametersSpan(sql);
  return span ? `${sql.slice(0, span.start).trimEnd()} ${sql.slice(span.end).trimStart()}`.trim() : undefined;
}

/** Where `WITH ( … )` is at the statement's top level: outside parentheses, quotes and comments. */
function storageParametersSpan(sql: string): { start: number; end: number } | undefined {
  let depth = 0;
  for (let i = 0; i < sql.length; i++) {
    const skipped = pastQuotedOrComment(sql, i);
    if (skipped !== i) {
      i = skipped - 1;
      continue;
    }
    const char = sql[i];
    if (char === '(') depth++;
    else if (char === ')') depth--;
    else if (depth === 0 && /^with\s*\(/i.test(sql.slice(i, i + 32)) && !/[\w$]/.test(sql[i - 1] ?? ' ')) {
      const open = sql.indexOf('(', i);
      const close = matchingParenthesis(sql, open);
      if (close !== undefined) return { start: i, end: close + 1 };
    }
  }
  return undefined;
}

function matchingParenthesis(sql: string, open: number): number | undefined {
  let depth = 0;
  for (let i = open; i < sql.length; i++) {
    const skipped = pastQuotedOrComment(sql, i);
    if (skipped !== i) {
      i = skipped - 1;
      continue;
    }
    if (sql[i] === '(') depth++;
    else if (sql[i] === ')' && --depth === 0) return i;
  }
  return undefined;
}
