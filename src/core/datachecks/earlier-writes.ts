import type { ParseNode } from '../migrations/model.js';
import type { PendingStatement, PendingStatements } from '../schema/findings/pending.js';
import { actsOnOneOf, nullTestColumn, type QualifiedName } from '../schema/findings/tree.js';
import type { DataCheckSpec, DataCheckSubject, ProductionTable } from './model.js';

/** What the pending statements before a check's statement do to the rows it counts. */
export type EarlierWrites =
  | { kind: 'none' }
  /** An UPDATE that gives every row of the column a value before the statement runs. */
  | { kind: 'back-filled'; by: PendingStatement }
  /** A statement that may change the rows counted (DML on the tables, DO, CALL). */
  | { kind: 'changes-rows'; by: PendingStatement };

const DML = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt', 'CopyStmt', 'TruncateStmt']);
/** Statements that run code of their own: whatever table it writes, no one can tell from here. */
const OPAQUE = new Set(['DoStmt', 'CallStmt']);

/** A table whose rows a check reads, with every name its columns bear across renames. */
interface Watched {
  names: QualifiedName[];
  columns: string[];
  triggers: boolean;
  /** The column whose NULLs the check counts: an UPDATE that fills it is a back-fill. */
  nullable?: string[];
}

/**
 * Production's rows are counted as they are now; the statements before the check's own run
 * first. A back-fill of the column the check is about is taken into account, and an UPDATE of
 * other columns changes nothing it counts (unless triggers may); any other write to a table it
 * reads (or code that may write anything) makes the count undecidable. The last write decides:
 * a back-fill after other writes still leaves no NULL, a write after it may.
 */
export function earlierWrites(spec: DataCheckSpec, pending: PendingStatements): EarlierWrites {
  const end = spec.at ? pending.list.indexOf(spec.at) : pending.list.length;
  const watched = watchedTables(spec.subject, pending);
  let found: EarlierWrites = { kind: 'none' };
  for (const candidate of pending.list.slice(0, Math.max(0, end))) {
    const { nodeType, tree } = candidate.statement;
    if (OPAQUE.has(nodeType)) {
      found = { kind: 'changes-rows', by: candidate };
      continue;
    }
    const table = DML.has(nodeType) ? watched.find((w) => actsOnOneOf(tree, w.names)) : undefined;
    if (!table) continue;
    if (nodeType === 'UpdateStmt') {
      if (table.nullable && backFills(tree, table.nullable)) {
        found = { kind: 'back-filled', by: candidate };
        continue;
      }
      if (!table.triggers && !assignsAny(tree, table.columns)) continue;
    }
    found = { kind: 'changes-rows', by: candidate };
  }
  return found;
}

function watchedTables(subject: DataCheckSubject, pending: PendingStatements): Watched[] {
  const watch = (table: ProductionTable, columns: string[]): Watched => {
    const name = { schema: table.schema, name: table.name };
    return {
      names: pending.relationNames(name),
      columns: columns.flatMap((column) => pending.columnNames(name, column)),
      triggers: table.triggers,
    };
  };
  switch (subject.kind) {
    case 'not-null':
    case 'new-column-not-null': {
      const table = watch(subject.table, [subject.column]);
      return [{ ...table, nullable: table.columns }];
    }
    case 'conversion':
      return [watch(subject.table, [subject.column])];
    case 'unique':
    case 'check':
      return [watch(subject.table, subject.columns)];
    case 'foreign-key':
      return [
        watch(subject.table, subject.columns),
        ...(subject.referenced ? [watch(subject.referenced.table, subject.referenced.columns)] : []),
      ];
  }
}

function assignments(tree: ParseNode): { name?: string; val?: unknown }[] {
  const targets = Array.isArray(tree.targetList) ? tree.targetList : [];
  return targets
    .map((item) => (item as { ResTarget?: { name?: string; val?: unknown } }).ResTarget)
    .filter((target): target is { name?: string; val?: unknown } => target !== undefined);
}

function assignsAny(tree: ParseNode, columns: string[]): boolean {
  return assignments(tree).some((target) => target.name !== undefined && columns.includes(target.name));
}

/**
 * `UPDATE t SET c = <value that is never NULL>` over every row, or over the rows where c IS
 * NULL: afterwards no row has c NULL. A constant, a call without arguments (now(),
 * gen_random_uuid()) or COALESCE ending in one.
 */
function backFills(tree: ParseNode, columns: string[]): boolean {
  const where = tree.whereClause as ParseNode | undefined;
  if (where && !columns.includes(nullTestColumn(where, 'IS_NULL') ?? '')) return false;
  return assignments(tree).some(
    (target) => target.name !== undefined && columns.includes(target.name) && neverNull(target.val),
  );
}

function neverNull(value: unknown): boolean {
  const node = value as Record<string, Record<string, unknown> | undefined> | undefined;
  if (!node) return false;
  if (node.A_Const) return node.A_Const.isnull !== true;
  if (node.TypeCast) return neverNull(node.TypeCast.arg);
  if (node.FuncCall) return !Array.isArray(node.FuncCall.args) || node.FuncCall.args.length === 0;
  if (node.SQLValueFunction) return true;
  if (node.CoalesceExpr) {
    const args = node.CoalesceExpr.args;
    return Array.isArray(args) && neverNull(args[args.length - 1]);
  }
  return false;
}
