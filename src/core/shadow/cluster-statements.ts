import { parseSync } from 'libpg-query';
import { beyondDatabase } from '../migrations/beyond-database.js';
import type { Migration, Statement } from '../migrations/model.js';
import { ensureParser } from '../migrations/statements.js';

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

type Node = Record<string, unknown>;

const NO_OP = 'SELECT NULL';

export async function clusterStatementsOf(migration: Migration): Promise<ClusterStatement[]> {
  await ensureParser();
  const found: ClusterStatement[] = [];
  for (const statement of migration.statements) {
    const [nodeType, node] = parseTreeOf(statement);
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

/** The statement's node type and body. */
function parseTreeOf(statement: Statement): [string, Node] {
  // TODO tree: read statement.tree once Statement carries it (issue 9); parse until then.
  const parsed = (statement as { tree?: Node }).tree;
  if (parsed) return [statement.nodeType, parsed];
  try {
    const tree = parseSync(statement.sql) as { stmts?: { stmt: Node }[] };
    const [nodeType, node] = Object.entries(tree.stmts?.[0]?.stmt ?? {})[0] ?? [statement.nodeType, {}];
    return [nodeType, node as Node];
  } catch {
    // It parsed as part of its file; alone it does not: it runs, and fails there if it must.
    return [statement.nodeType, {}];
  }
}
