import { SupagateError } from '../errors.js';
import { pastComment } from '../sql/lexical.js';
import { parseStatements, type RawStmt } from './chunked-parse.js';
import type { ParsedSql, ParseNode, Statement } from './model.js';
import { ensureParser } from './parser.js';
import { lineColumnAt, lineIndex } from './text.js';

type Node = ParseNode;

/**
 * Splits a migration into statements with PostgreSQL's own grammar (libpg_query), keeping
 * each statement's position, and classifies the ones PostgreSQL refuses to run inside a
 * transaction block.
 *
 * Transaction control: balanced `BEGIN; … COMMIT;` blocks are removed, since supagate runs each
 * migration in a transaction of its own (see stripTransactionBlocks). Any other BEGIN, COMMIT,
 * ROLLBACK or PREPARE TRANSACTION is rejected: it would end supagate's transaction half-way and
 * break the all-or-nothing guarantee. SAVEPOINT, RELEASE and ROLLBACK TO are kept; they work
 * inside the migration's transaction.
 */
export async function parseMigrationSql(sql: string, path: string): Promise<ParsedSql> {
  await ensureParser();
  let raw: RawStmt[];
  try {
    raw = await parseStatements(sql);
  } catch (error) {
    throw parseError(error, sql, path);
  }
  const located = locateStatements(sql, raw);
  const statements = stripTransactionBlocks(located, path);
  return {
    statements: statements.list.map(({ end: _end, ...statement }, index) => ({
      ...statement,
      index,
    })),
    cliStatements: cliSplit(sql, located),
    strippedTransactionWrapper: statements.stripped,
  };
}

interface Located extends Omit<Statement, 'index'> {
  /** Character offset just past the statement's terminating semicolon (or its end). */
  end: number;
}

/** libpg_query reports byte offsets into the UTF-8 text; JavaScript strings index by UTF-16 unit. */
function locateStatements(sql: string, raw: RawStmt[]): Located[] {
  const bytes = Buffer.from(sql, 'utf8');
  const toChar = byteToCharIndex(bytes);
  const position = lineIndex(sql);
  return raw.map((entry) => {
    const startByte = entry.stmt_location ?? 0;
    const endByte = entry.stmt_len ? startByte + entry.stmt_len : bytes.length;
    const start = toChar(startByte);
    const end = toChar(endByte);
    // The statement starts at its first token: comments before it belong to no statement.
    const offset = skipTrivia(sql, start, end);
    const text = sql.slice(offset, end).trimEnd();
    const { line, column } = position(offset);
    const [nodeType, body] = Object.entries(entry.stmt)[0] as [string, Node];
    const nonTransactional = nonTransactionalReason(nodeType, body);
    return {
      sql: text,
      offset,
      line,
      column,
      nodeType,
      tree: body,
      end: Math.min(sql.length, end + 1),
      ...(nonTransactional ? { nonTransactional } : {}),
    };
  });
}

/** The index of the first character at or after `from` that is not white space or a comment. */
function skipTrivia(sql: string, from: number, to: number): number {
  let i = from;
  while (i < to) {
    if (/\s/.test(sql[i] as string)) {
      i++;
      continue;
    }
    const past = pastComment(sql, i, to);
    if (past === i) break;
    i = past;
  }
  return Math.min(i, to);
}

function byteToCharIndex(bytes: Buffer): (byteOffset: number) => number {
  // Walk forward once; statements arrive in order, so each lookup resumes where the last stopped.
  let byte = 0;
  let char = 0;
  return (target: number) => {
    if (target < byte) {
      byte = 0;
      char = 0;
    }
    while (byte < target && byte < bytes.length) {
      const lead = bytes[byte] ?? 0;
      const width = lead < 0x80 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
      byte += width;
      char += width === 4 ? 2 : 1;
    }
    return char;
  };
}

/**
 * What the Supabase CLI stores in `schema_migrations.statements`: the text between
 * semicolons with leading comments kept, trailing `;` and white space trimmed, empty pieces
 * dropped. A comment after the last semicolon becomes a piece of its own, as in the CLI.
 */
function cliSplit(sql: string, located: Located[]): string[] {
  const pieces: string[] = [];
  let from = 0;
  for (const statement of located) {
    // Between statements there are only white space, comments and the semicolons of empty
    // statements (`;;`); the CLI ends a piece at each of those semicolons.
    from = splitEmptyStatements(sql, from, statement.offset, pieces);
    pieces.push(sql.slice(from, statement.end));
    from = statement.end;
  }
  from = splitEmptyStatements(sql, from, sql.length, pieces);
  pieces.push(sql.slice(from));
  return pieces.map((piece) => piece.replace(/;+$/, '').trim()).filter((piece) => piece.length > 0);
}

/** Pushes the pieces that end at a semicolon outside comments in `sql[from, to)`; returns where the rest starts. */
function splitEmptyStatements(sql: string, from: number, to: number, pieces: string[]): number {
  let start = from;
  let i = from;
  while (i < to) {
    if (sql[i] === ';') {
      pieces.push(sql.slice(start, i + 1));
      start = ++i;
      continue;
    }
    const past = pastComment(sql, i, to);
    i = past > i ? past : i + 1;
  }
  return start;
}

const BEGINS = new Set(['TRANS_STMT_BEGIN', 'TRANS_STMT_START']);
const WORKS_IN_TRANSACTION = new Set([
  'TRANS_STMT_SAVEPOINT',
  'TRANS_STMT_RELEASE',
  'TRANS_STMT_ROLLBACK_TO',
]);

function transactionKind(statement: Located): string | undefined {
  return statement.nodeType === 'TransactionStmt' ? (statement.tree.kind as string | undefined) : undefined;
}

/**
 * Removes balanced top-level `BEGIN; … COMMIT;` blocks (around the whole file or anywhere in
 * it): the Supabase CLI runs them as written, and inside supagate's one transaction per
 * migration their effect is the same. Whatever would change the effect is refused: a nested or
 * unbalanced BEGIN/COMMIT, BEGIN with options, COMMIT AND CHAIN, ROLLBACK, PREPARE TRANSACTION,
 * and a block around a statement that cannot run in a transaction.
 */
function stripTransactionBlocks(located: Located[], path: string): { list: Located[]; stripped: boolean } {
  const list: Located[] = [];
  let open: Located | undefined;
  let stripped = false;
  for (const statement of located) {
    const kind = transactionKind(statement);
    if (kind && BEGINS.has(kind)) {
      if (open) throw nestedBegin(statement, open, path);
      rejectOptions(statement, path);
      open = statement;
    } else if (kind === 'TRANS_STMT_COMMIT' && statement.tree.chain !== true) {
      if (!open) throw unbalanced(statement, path, 'has no BEGIN before it');
      open = undefined;
      stripped = true;
    } else if (kind && !WORKS_IN_TRANSACTION.has(kind)) {
      throw unbalanced(statement, path, 'controls the transaction');
    } else {
      if (open && statement.nonTransactional) throw nonTransactionalInBlock(statement, path);
      list.push(statement);
    }
  }
  if (open) throw unbalanced(open, path, 'has no COMMIT after it');
  return { list, stripped };
}

const TRANSACTION_HINT =
  'supagate runs each migration in its own transaction and records it in the same transaction. ' +
  'Balanced BEGIN; … COMMIT; blocks are accepted; remove ROLLBACK, PREPARE TRANSACTION and unpaired ' +
  'BEGIN/COMMIT, or split the file into several migrations.';

function unbalanced(statement: Located, path: string, what: string): SupagateError {
  return transactionControlError(
    statement,
    path,
    `${path}:${statement.line}:${statement.column}: "${firstLine(statement.sql)}" ${what}`,
    TRANSACTION_HINT,
  );
}

function nestedBegin(statement: Located, open: Located, path: string): SupagateError {
  return transactionControlError(
    statement,
    path,
    `${path}:${statement.line}:${statement.column}: "${firstLine(statement.sql)}" is inside the BEGIN of line ${open.line}`,
    TRANSACTION_HINT,
  );
}

function rejectOptions(statement: Located, path: string): void {
  const options = statement.tree.options as unknown[] | undefined;
  if (!options || options.length === 0) return;
  throw transactionControlError(
    statement,
    path,
    `${path}:${statement.line}:${statement.column}: BEGIN with transaction options is not supported`,
    'Remove the options (or the BEGIN/COMMIT pair): supagate runs each migration in a transaction at the default isolation level.',
  );
}

function nonTransactionalInBlock(statement: Located, path: string): SupagateError {
  return transactionControlError(
    statement,
    path,
    `${path}:${statement.line}:${statement.column}: ${statement.nonTransactional} cannot run inside the file's BEGIN … COMMIT`,
    'Remove BEGIN/COMMIT around it: supagate runs statements that cannot be in a transaction on their own.',
  );
}

function transactionControlError(
  statement: Located,
  path: string,
  message: string,
  hint: string,
): SupagateError {
  return new SupagateError('MIGRATION_TRANSACTION_CONTROL', message, {
    hint,
    details: { file: path, line: statement.line, column: statement.column, statement: statement.sql },
  });
}

function firstLine(sql: string): string {
  const line = sql.split('\n', 1)[0] ?? '';
  return line.length > 80 ? `${line.slice(0, 77)}...` : line;
}

function defElems(list: unknown): Map<string, string | true> {
  const options = new Map<string, string | true>();
  if (!Array.isArray(list)) return options;
  for (const item of list) {
    const def = (item as { DefElem?: { defname?: string; arg?: Node } }).DefElem;
    if (!def?.defname) continue;
    const arg = def.arg;
    const value =
      (arg?.String as { sval?: string } | undefined)?.sval ??
      (arg?.Boolean as { boolval?: boolean } | undefined)?.boolval?.toString() ??
      (arg?.Integer as { ival?: number } | undefined)?.ival?.toString();
    options.set(def.defname.toLowerCase(), value ?? true);
  }
  return options;
}

function isOn(value: string | true | undefined): boolean {
  if (value === undefined) return false;
  if (value === true) return true;
  return !['false', 'off', '0', 'no'].includes(value.toLowerCase());
}

/**
 * The statements PostgreSQL (15–17) rejects inside a transaction block with SQLSTATE 25001.
 * Each entry is checked against a real server in __tests__/statements.pg.test.ts.
 */
export function nonTransactionalReason(nodeType: string, body: Node): string | undefined {
  switch (nodeType) {
    case 'IndexStmt':
      return body.concurrent ? 'CREATE INDEX CONCURRENTLY' : undefined;
    case 'DropStmt':
      return body.concurrent && body.removeType === 'OBJECT_INDEX' ? 'DROP INDEX CONCURRENTLY' : undefined;
    case 'ReindexStmt': {
      if (body.kind === 'REINDEX_OBJECT_SYSTEM') return 'REINDEX SYSTEM';
      if (body.kind === 'REINDEX_OBJECT_DATABASE') return 'REINDEX DATABASE';
      if (body.kind === 'REINDEX_OBJECT_SCHEMA') return 'REINDEX SCHEMA';
      return isOn(defElems(body.params).get('concurrently')) ? 'REINDEX CONCURRENTLY' : undefined;
    }
    case 'VacuumStmt':
      return body.is_vacuumcmd ? 'VACUUM' : undefined;
    case 'CreatedbStmt':
      return 'CREATE DATABASE';
    case 'DropdbStmt':
      return 'DROP DATABASE';
    case 'AlterDatabaseStmt':
      return defElems(body.options).has('tablespace') ? 'ALTER DATABASE SET TABLESPACE' : undefined;
    case 'CreateTableSpaceStmt':
      return 'CREATE TABLESPACE';
    case 'DropTableSpaceStmt':
      return 'DROP TABLESPACE';
    case 'AlterSystemStmt':
      return 'ALTER SYSTEM';
    case 'ClusterStmt':
      return body.relation ? undefined : 'CLUSTER without a table';
    case 'CreateSubscriptionStmt': {
      const options = defElems(body.options);
      const connect = options.get('connect');
      const createSlot = options.get('create_slot');
      const createsSlot =
        (connect === undefined || isOn(connect)) && (createSlot === undefined || isOn(createSlot));
      return createsSlot ? 'CREATE SUBSCRIPTION that creates a replication slot' : undefined;
    }
    case 'DropSubscriptionStmt':
      // Whether it drops a replication slot depends on the catalog; assume it does.
      return 'DROP SUBSCRIPTION';
    case 'AlterSubscriptionStmt': {
      if (body.kind === 'ALTER_SUBSCRIPTION_REFRESH') return 'ALTER SUBSCRIPTION … REFRESH PUBLICATION';
      const changesPublications =
        body.kind === 'ALTER_SUBSCRIPTION_SET_PUBLICATION' ||
        body.kind === 'ALTER_SUBSCRIPTION_ADD_PUBLICATION' ||
        body.kind === 'ALTER_SUBSCRIPTION_DROP_PUBLICATION';
      // refresh defaults to true: the subscription then refreshes, which cannot be in a transaction.
      const refresh = defElems(body.options).get('refresh');
      return changesPublications && (refresh === undefined || isOn(refresh))
        ? 'ALTER SUBSCRIPTION … PUBLICATION with refresh'
        : undefined;
    }
    case 'AlterTableStmt': {
      const cmds = Array.isArray(body.cmds) ? body.cmds : [];
      const detachConcurrently = cmds.some((cmd) => {
        const alter = (cmd as { AlterTableCmd?: { subtype?: string; def?: Node } }).AlterTableCmd;
        const partition = alter?.def?.PartitionCmd as { concurrent?: boolean } | undefined;
        return alter?.subtype === 'AT_DetachPartition' && partition?.concurrent === true;
      });
      return detachConcurrently ? 'ALTER TABLE … DETACH PARTITION CONCURRENTLY' : undefined;
    }
    case 'DiscardStmt':
      return body.target === 'DISCARD_ALL' ? 'DISCARD ALL' : undefined;
    default:
      return undefined;
  }
}

function parseError(error: unknown, sql: string, path: string): SupagateError {
  const details = (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails;
  const message = error instanceof Error ? error.message : String(error);
  // libpg_query reports a 0-based offset in characters (code points; not bytes, unlike statement
  // locations, and not the UTF-16 units JavaScript strings index by).
  const cursor = details?.cursorPosition;
  const position = cursor === undefined || cursor < 0 ? undefined : codePointToCharIndex(sql, cursor);
  if (position === undefined) {
    return new SupagateError('MIGRATION_PARSE_ERROR', `${path}: ${message}`, {
      hint: 'Fix the SQL syntax; supagate parses migrations with PostgreSQL 17’s grammar.',
      details: { file: path },
    });
  }
  const { line, column } = lineColumnAt(sql, position);
  return new SupagateError('MIGRATION_PARSE_ERROR', `${path}:${line}:${column}: ${message}`, {
    hint: 'Fix the SQL syntax at that position; supagate parses migrations with PostgreSQL’s own grammar.',
    details: { file: path, line, column },
  });
}

function codePointToCharIndex(text: string, codePoints: number): number {
  let index = 0;
  for (let n = 0; n < codePoints && index < text.length; n++) {
    index += (text.codePointAt(index) ?? 0) > 0xffff ? 2 : 1;
  }
  return index;
}
