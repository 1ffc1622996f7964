/**
 * Quoting for SQL that supagate builds itself. Foundation: imports nothing.
 * (The model's identities use identifiers.ts's quoteIdent, which leaves plain names bare as
 * quote_ident() does.)
 */

/** An identifier in double quotes, `"` doubled: safe for any name. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A string literal: single quotes doubled (standard_conforming_strings is on). */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
