import type { ErrorCode } from '../errors.js';

/** A node of libpg_query's JSON parse tree. */
export type ParseNode = Record<string, unknown>;

/** A statement of a migration file, as the parser found it. */
export interface Statement {
  /** 0-based position among the file's executable statements. */
  index: number;
  /** The text sent to the server: trimmed, without its terminating semicolon. */
  sql: string;
  /** Character offset of `sql` in the normalized file text. */
  offset: number;
  /** 1-based line and column where `sql` starts in the file. */
  line: number;
  column: number;
  /** The parse node type, e.g. `IndexStmt`. */
  nodeType: string;
  /**
   * The statement's parse tree: libpg_query's JSON under its `nodeType` key (for
   * `{ IndexStmt: {…} }`, the `{…}`). Parsed once with the file; read it instead of re-parsing.
   * Never serialised into results.
   */
  tree: ParseNode;
  /** Set when PostgreSQL refuses to run this statement inside a transaction block. */
  nonTransactional?: string;
}

export interface ParsedSql {
  statements: Statement[];
  /**
   * The statements as the Supabase CLI splits and stores them in
   * `supabase_migrations.schema_migrations.statements` (comments kept, trimmed, no `;`).
   */
  cliStatements: string[];
  /** The file had BEGIN … COMMIT blocks; supagate removed the pairs (it runs a transaction anyway). */
  strippedTransactionWrapper: boolean;
}

export interface MigrationFile {
  /** The digits before the first underscore, exactly as in the file name (history key). */
  version: string;
  name: string;
  /** Path relative to the project directory, with forward slashes: what messages show. */
  path: string;
  absolutePath: string;
  /** Normalized source (LF line endings, no BOM). */
  sql: string;
  checksum: string;
}

/** Why a file cannot be run: it does not parse, is not UTF-8, or controls the transaction. */
export interface InvalidFile {
  code: ErrorCode;
  /** Starts with `path:line:column` when the position is known. */
  message: string;
  hint?: string;
  line?: number;
  column?: number;
}

/** A migration with its statements split and classified. */
export interface Migration extends MigrationFile, ParsedSql {
  /**
   * Set when the file cannot be run (statements are then empty). Discovery collects these
   * instead of stopping at the first, so that one run reports them all and a file already
   * applied does not block the pending ones (pending.ts decides).
   */
  invalid?: InvalidFile;
  /** The down migration paired with it, when one exists. */
  rollback?: MigrationFile;
  /**
   * Set when discovery was told not to parse it (files.ts parseMigrations): its statements are
   * then empty and whether it parses is unknown. Only its text and checksum are to be read.
   */
  unparsed?: true;
  /** True when every statement can run in one transaction. */
  transactional: boolean;
}

export type MigrationTransactionMode = 'transaction' | 'non-atomic';

export interface FileWarning {
  path: string;
  message: string;
}
