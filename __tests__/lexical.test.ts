import { describe, expect, it } from 'vitest';
import { pastComment, pastQuotedOrComment } from '../src/core/sql/lexical.js';

/* What hides a semicolon from a scan of SQL text (sql/lexical.ts), as PostgreSQL lexes it. */
describe('skipping what hides a semicolon', () => {
  const cases: [string, string, string][] = [
    ['a line comment, with its newline', '-- a; b\nselect', 'select'],
    ['a line comment at the end', '-- a; b', ''],
    ['a nested block comment', '/* a /* b; */ c; */ select', ' select'],
    ['a string with a doubled quote', "'it''s; ok' x", ' x'],
    ['an escape string with an escaped quote', "E'it\\'s; ok' x", ' x'],
    ['a quoted identifier', '"a;""b" x', ' x'],
    ['a dollar-quoted body', '$$ a; $$ x', ' x'],
    ['a tagged dollar-quoted body', '$fn$ a $$; $fn$ x', ' x'],
  ];
  for (const [what, sql, rest] of cases) {
    it(`skips ${what}`, () => {
      const at = what.startsWith('an escape') ? 1 : 0;
      expect(sql.slice(pastQuotedOrComment(sql, at))).toBe(rest);
    });
  }

  it('stops where nothing is hidden: a parameter, a dollar in an identifier, a plain character', () => {
    expect(pastQuotedOrComment('$1;', 0)).toBe(0);
    expect(pastQuotedOrComment('a$b$;', 1)).toBe(1);
    expect(pastQuotedOrComment('select', 0)).toBe(0);
    // A backslash does not escape in a standard string.
    const standard = "'a\\'; x";
    expect(standard.slice(pastQuotedOrComment(standard, 0))).toBe('; x');
  });

  it('never goes past the end it is given', () => {
    expect(pastComment('/* open; */', 0, 5)).toBe(5);
    expect(pastComment('-- a\nb', 0, 3)).toBe(3);
    expect(pastQuotedOrComment("'unterminated; x", 0)).toBe(16);
    expect(pastQuotedOrComment('$$ open; $$', 0, 6)).toBe(6);
  });
});
