import { beyondDatabase } from '../migrations/beyond-database.js';
import type { Migration, Statement } from '../migrations/model.js';

/**
 * The statements of a migration the shadow must not run as written: those that change
 * something cluster-wide (a role, a database, a system setting), which on a shadow server are
 * shared with every other database on it. The migration is run without them (each replaced by
 * a no-op that keeps its index, line and offset, so failures still point at the right
 * file:line); a `CREATE ROLE` is stood in by a role without login or attributes, so that the
 * grants and policies naming it still plan.
 */
export interface ClusterStatement {
  statement: Statement;
  /** What it does, from a fixed list (never the statement's text): `ALTER ROLE`. */
  what: string;
  /** For `CREATE ROLE name`: the role to stand in. */
  createsRole?: string;
}

const NO_OP = 'SELECT NULL';

export function clusterStatementsOf(migration: Migration): ClusterStatement[] {
  const found: ClusterStatement[] = [];
  for (const statement of migration.statements) {
    const { nodeType, tree: node } = statement;
    const cluster = beyondDatabase(nodeType, node).find((finding) => finding.clusterStatement);
    if (!cluster) continue;
    const role = nodeType === 'CreateRoleStmt' && typeof node.role === 'string' ? node.role : undefined;
    found.push({ statement, what: cluster.what, ...(role ? { createsRole: role } : {}) });
  }
  return found;
}

/** The migration with those statements replaced by no-ops; everything else as it was. */
export function withoutStatements(migration: Migration, skipped: ClusterStatement[]): Migration {
  if (skipped.length === 0) return migration;
  const indexes = new Set(skipped.map((s) => s.statement.index));
  const statements = migration.statements.map((statement) => {
    if (!indexes.has(statement.index)) return statement;
    const { nonTransactional: _dropped, ...rest } = statement;
    return { ...rest, sql: NO_OP };
  });
  return { ...migration, statements, transactional: statements.every((s) => !s.nonTransactional) };
}
