import { type ExecutionUnit, type TransactionMode, transactionModeOf } from '../migrations/execute.js';
import type { Migration } from '../migrations/model.js';
import { parseMigrationSql } from '../migrations/statements.js';

/** What apply and rollback run, statement by statement: shared by their dry runs and reports. */
export interface PlannedStatement {
  index: number;
  line: number;
  sql: string;
  /** Why it runs outside a transaction, when it does. */
  nonTransactional?: string;
}

export interface PlannedMigration {
  version: string;
  name: string;
  path: string;
  mode: TransactionMode;
  /** The file's own BEGIN/COMMIT were removed. */
  strippedTransactionWrapper: boolean;
  statements: PlannedStatement[];
}

/** What runs for a migration (or a down file), statement by statement. */
export function planOf(
  migration: ExecutionUnit & { strippedTransactionWrapper?: boolean },
  mode: TransactionMode = transactionModeOf(migration),
): PlannedMigration {
  return {
    version: migration.version,
    name: migration.name,
    path: migration.path,
    mode,
    strippedTransactionWrapper: migration.strippedTransactionWrapper ?? false,
    statements: migration.statements.map((statement) => ({
      index: statement.index,
      line: statement.line,
      sql: statement.sql,
      ...(statement.nonTransactional ? { nonTransactional: statement.nonTransactional } : {}),
    })),
  };
}

/** A migration's down file, parsed, as a unit the engine runs. */
export async function downUnit(migration: Migration): Promise<ExecutionUnit> {
  const down = migration.rollback;
  if (!down) throw new Error(`no down file for ${migration.version}`);
  const parsed = await parseMigrationSql(down.sql, down.path);
  return {
    version: migration.version,
    name: migration.name,
    path: down.path,
    checksum: down.checksum,
    sql: down.sql,
    statements: parsed.statements,
    transactional: parsed.statements.every((s) => !s.nonTransactional),
  };
}
