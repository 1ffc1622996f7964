import { pastQuotedOrComment } from '../sql/lexical.js';
import type { ParseNode } from './model.js';
import { ensureParser, parseSync } from './parser.js';

export interface RawStmt {
  stmt: ParseNode;
  /** Byte offset of the statement in the whole text. */
  stmt_location?: number;
  /** Byte length up to its `;`; 0 or absent for the last one without `;`. */
  stmt_len?: number;
}

/**
 * A file is parsed in pieces of about this many characters. The parser is WebAssembly: the
 * memory it uses grows with the largest text parsed at once and is never given back (a 3 MB
 * schema dump parsed whole kept ~90 MB more resident for the process's life).
 */
export const PARSE_CHUNK_CHARS = 128 * 1024;

/**
 * The file's statements as libpg_query parses the whole text, with locations in bytes of the
 * whole text. Large texts are cut at semicolons that end a statement, and each piece is parsed
 * alone, letting other work of the process (a shadow being started) go on between pieces. A
 * cut is trusted only when the parser itself ends a statement exactly at that semicolon: it is
 * then at the start of a statement with no open quote or comment, as when parsing the whole
 * text. Otherwise (a `;` in a BEGIN ATOMIC body, a piece that does not
 * parse…) the whole text is parsed at once, so errors and results are those of a whole parse.
 * Throws the parser's error.
 */
export async function parseStatements(sql: string, chunkChars = PARSE_CHUNK_CHARS): Promise<RawStmt[]> {
  // libpg_query refuses an empty input; PostgreSQL and the Supabase CLI take it as no statements.
  if (sql.trim() === '') return [];
  await ensureParser();
  const cuts = sql.length > chunkChars ? cutPoints(sql, chunkChars) : [];
  if (cuts.length === 0) return parseWhole(sql);
  return (await parseInPieces(sql, cuts)) ?? parseWhole(sql);
}

function parseWhole(sql: string): RawStmt[] {
  return (parseSync(sql) as { stmts?: RawStmt[] }).stmts ?? [];
}

/** The statements of the pieces cut at `cuts`, or undefined when a cut is not a statement's end. */
export async function parseInPieces(sql: string, cuts: number[]): Promise<RawStmt[] | undefined> {
  await ensureParser();
  const statements: RawStmt[] = [];
  let from = 0;
  let fromByte = 0;
  for (const to of [...cuts, sql.length]) {
    await new Promise((resolve) => setImmediate(resolve));
    const piece = sql.slice(from, to);
    const last = to === sql.length;
    let parsed: RawStmt[];
    try {
      parsed = piece.trim() === '' ? [] : parseWhole(piece);
    } catch {
      return undefined;
    }
    const pieceBytes = Buffer.byteLength(piece, 'utf8');
    if (!last && !endsAtItsSemicolon(parsed, pieceBytes)) return undefined;
    for (const raw of parsed) {
      // As in a whole parse, a location of 0 is left out.
      const location = fromByte + (raw.stmt_location ?? 0);
      statements.push(location === 0 ? raw : { ...raw, stmt_location: location });
    }
    from = to;
    fromByte += pieceBytes;
  }
  return statements;
}

/** The piece's last statement ends at the piece's closing `;` (the parser's own split). */
function endsAtItsSemicolon(parsed: RawStmt[], pieceBytes: number): boolean {
  const final = parsed.at(-1);
  if (!final?.stmt_len) return false;
  return (final.stmt_location ?? 0) + final.stmt_len === pieceBytes - 1;
}

/**
 * Offsets just past a `;` outside quotes, identifiers and comments, at least `every`
 * characters apart. A wrong guess costs a whole parse, never a wrong result (see above).
 */
export function cutPoints(sql: string, every: number): number[] {
  const cuts: number[] = [];
  let last = 0;
  let i = 0;
  while (i < sql.length) {
    if (sql[i] === ';') {
      i++;
      if (i - last >= every) {
        cuts.push(i);
        last = i;
      }
      continue;
    }
    const past = pastQuotedOrComment(sql, i);
    i = past > i ? past : i + 1;
  }
  return cuts;
}
