import pg from 'pg';
import type { Client } from '../db/connect.js';
import { pgErrorFields } from '../db/connect.js';
import type { Statement } from './model.js';

/**
 * One command of a unit's script: supagate's own SQL (BEGIN, session resets, the history row),
 * a statement of the migration, or work in between that needs answers first (creating the
 * history tables). SQL given as a function is written when its round trip is sent.
 */
export type Piece = SqlPiece | StepPiece;

interface StepPiece {
  step: (client: Client) => Promise<void>;
}

export interface SqlPiece {
  sql: string | (() => string);
  statement?: Statement;
}

/** An error of a script: the migration's statement that failed (undefined: supagate's own SQL). */
export class StatementError extends Error {
  constructor(
    readonly pgError: unknown,
    readonly statement: Statement | undefined,
    /** 0-based index in `statement.sql` that PostgreSQL pointed at. */
    readonly position?: number,
  ) {
    super(pgErrorFields(pgError).message);
  }
}

/**
 * Runs the pieces in as few round trips as it can: consecutive SQL pieces go as one
 * multi-statement simple query (PostgreSQL 13+ applies statement_timeout to each statement of
 * it). With `oneByOne`, each statement of the migration goes alone, so that lexing one
 * statement sees what the ones before it set (standard_conforming_strings).
 */
export async function runScript(client: Client, pieces: Piece[], oneByOne = false): Promise<void> {
  for (const group of groups(pieces, oneByOne)) {
    if (Array.isArray(group)) {
      await send(client, group);
      continue;
    }
    try {
      await group.step(client);
    } catch (error) {
      throw error instanceof StatementError ? error : new StatementError(error, undefined);
    }
  }
}

function groups(pieces: Piece[], oneByOne: boolean): (SqlPiece[] | StepPiece)[] {
  const result: (SqlPiece[] | StepPiece)[] = [];
  let open: SqlPiece[] | undefined;
  for (const piece of pieces) {
    if ('step' in piece) {
      result.push(piece);
      open = undefined;
    } else if (oneByOne && piece.statement) {
      result.push([piece]);
      open = undefined;
    } else if (open) {
      open.push(piece);
    } else {
      open = [piece];
      result.push(open);
    }
  }
  return result;
}

/** A newline before each `;`: a statement may end in a line comment. */
const SEPARATOR = '\n;\n';

async function send(client: Client, pieces: SqlPiece[]): Promise<void> {
  const starts: number[] = [];
  let text = '';
  for (const piece of pieces) {
    if (text) text += SEPARATOR;
    starts.push(text.length);
    text += typeof piece.sql === 'function' ? piece.sql() : piece.sql;
  }
  const { error, completed } = await simpleQuery(client, text);
  if (error === undefined) return;
  // A position (a syntax error stops the query before any of it runs) names the piece; else the count.
  const at = pgErrorFields(error).position;
  const index = at === undefined ? undefined : utf16Index(text, Number(at) - 1);
  const failing = index === undefined ? completed : pieceAt(starts, index);
  const statement = pieces[Math.min(failing, pieces.length - 1)]?.statement;
  const position = statement && index !== undefined ? index - (starts[failing] ?? 0) : undefined;
  throw new StatementError(
    error,
    statement,
    position !== undefined && statement && position <= statement.sql.length ? position : undefined,
  );
}

function pieceAt(starts: number[], index: number): number {
  let piece = 0;
  while (piece + 1 < starts.length && (starts[piece + 1] ?? 0) <= index) piece++;
  return piece;
}

type CountingQuery = pg.Query & { handleCommandComplete(...args: unknown[]): void };

/** One simple-query round trip; on error, how many of its commands had completed before it. */
function simpleQuery(client: Client, text: string): Promise<{ error?: unknown; completed: number }> {
  return new Promise((resolve) => {
    let completed = 0;
    const query = new pg.Query(text, undefined, (error: unknown) =>
      resolve(error ? { error, completed } : { completed }),
    ) as CountingQuery;
    const complete = query.handleCommandComplete.bind(query);
    query.handleCommandComplete = (...args) => {
      completed++;
      complete(...args);
    };
    client.query(query);
  });
}

/** PostgreSQL counts positions in characters; JavaScript indexes UTF-16 units. */
function utf16Index(text: string, characters: number): number {
  let index = 0;
  for (let count = 0; count < characters && index < text.length; count++) {
    index += (text.codePointAt(index) ?? 0) > 0xffff ? 2 : 1;
  }
  return index;
}
