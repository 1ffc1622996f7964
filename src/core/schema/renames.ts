import type { ParseNode, Statement } from '../migrations/model.js';
import { parseMigrationSql } from '../migrations/statements.js';
import { qualifiedName } from '../sql/identifiers.js';
import type { RenameHints } from './changes.js';

type Node = ParseNode;

interface RangeVar {
  schemaname?: string;
  relname?: string;
}

const RELATION_TYPES = new Set(['OBJECT_TABLE', 'OBJECT_VIEW', 'OBJECT_MATVIEW']);

/**
 * What the pending migrations rename, read from their statements' parse trees, so that the
 * diff shows a rename instead of a drop and an add:
 *
 * - `ALTER TABLE|VIEW|MATERIALIZED VIEW [IF EXISTS] [schema.]t RENAME TO u` and
 *   `ALTER … [schema.]t SET SCHEMA s` rename the relation (`relations`: new → old identity);
 * - `ALTER TABLE|VIEW … t RENAME [COLUMN] a TO b` renames a column (`columns`: the table's
 *   identity after all renames → new name → old name).
 *
 * Statements are followed in the order given (every pending migration's, in apply order):
 * chains collapse (a → b → c is c ← a), a rename back to the original name disappears.
 * Unqualified names are taken to be in schema `public`. Identities are quoted as the model
 * quotes them (`public."Order"`).
 */
export function renameHints(statements: Pick<Statement, 'nodeType' | 'tree'>[]): RenameHints {
  const tracker = new RenameTracker();
  for (const statement of statements) tracker.statement(statement.nodeType, statement.tree);
  return tracker.hints();
}

/**
 * The same from SQL texts (one per migration, in apply order), each parsed once; text that does
 * not parse is skipped. For tools and tests: a plan has its statements parsed already.
 */
export async function renameHintsFromSql(sqls: string[]): Promise<RenameHints> {
  const statements: Statement[] = [];
  for (const sql of sqls) {
    try {
      statements.push(...(await parseMigrationSql(sql, 'rename hints')).statements);
    } catch {
      // Only reads what it can.
    }
  }
  return renameHints(statements);
}

class RenameTracker {
  /** Current relation identity → its identity before the migrations. */
  private readonly relations = new Map<string, string>();
  /** Current relation identity → current column name → column name before the migrations. */
  private readonly columns = new Map<string, Map<string, string>>();

  statement(nodeType: string, tree: Node): void {
    if (nodeType === 'RenameStmt') {
      const relation = tree.relation as RangeVar | undefined;
      if (!relation?.relname || typeof tree.newname !== 'string') return;
      const renameType = tree.renameType as string | undefined;
      if (renameType && RELATION_TYPES.has(renameType)) {
        const from = identity(relation.schemaname, relation.relname);
        const to = identity(relation.schemaname, tree.newname);
        this.moveRelation(from, to);
      } else if (renameType === 'OBJECT_COLUMN' && typeof tree.subname === 'string') {
        this.renameColumn(identity(relation.schemaname, relation.relname), tree.subname, tree.newname);
      }
      return;
    }
    const move = nodeType === 'AlterObjectSchemaStmt' ? tree : undefined;
    if (move && RELATION_TYPES.has(move.objectType as string)) {
      const relation = move.relation as RangeVar | undefined;
      if (!relation?.relname || typeof move.newschema !== 'string') return;
      this.moveRelation(
        identity(relation.schemaname, relation.relname),
        identity(move.newschema, relation.relname),
      );
    }
  }

  hints(): RenameHints {
    const relations: Record<string, string> = {};
    for (const [current, original] of [...this.relations].sort(([a], [b]) => (a < b ? -1 : 1))) {
      relations[current] = original;
    }
    const columns: Record<string, Record<string, string>> = {};
    for (const [table, renames] of [...this.columns].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (renames.size === 0) continue;
      const entry: Record<string, string> = {};
      for (const [current, original] of [...renames].sort(([a], [b]) => (a < b ? -1 : 1))) {
        entry[current] = original;
      }
      columns[table] = entry;
    }
    return { relations, columns };
  }

  private moveRelation(from: string, to: string): void {
    if (from === to) return;
    const original = this.relations.get(from) ?? from;
    this.relations.delete(from);
    if (original !== to) this.relations.set(to, original);
    else this.relations.delete(to);
    const columns = this.columns.get(from);
    this.columns.delete(from);
    if (columns) this.columns.set(to, columns);
  }

  private renameColumn(table: string, from: string, to: string): void {
    if (from === to) return;
    let renames = this.columns.get(table);
    if (!renames) {
      renames = new Map();
      this.columns.set(table, renames);
    }
    const original = renames.get(from) ?? from;
    renames.delete(from);
    if (original !== to) renames.set(to, original);
    else renames.delete(to);
  }
}

function identity(schema: string | undefined, name: string): string {
  return qualifiedName(schema ?? 'public', name);
}
