import type { ParseNode } from '../migrations/model.js';
import type { PendingStatement, PendingStatements } from '../schema/findings/pending.js';
import { type QualifiedName, relationName, sameName, strings } from '../schema/findings/tree.js';
import type { DataCheckSpec } from './model.js';

/** What the pending statements before a check's statement do to its table's rows. */
export type EarlierWrites =
  | { kind: 'none' }
  /** An UPDATE that gives every row of the column a value before the statement runs. */
  | { kind: 'back-filled'; by: PendingStatement }
  /** A statement that may change the rows counted (DML on the table, DO, CALL). */
  | { kind: 'changes-rows'; by: PendingStatement };

const DML = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt', 'CopyStmt', 'TruncateStmt']);
/** Statements that run code of their own: whatever table it writes, no one can tell from here. */
const OPAQUE = new Set(['DoStmt', 'CallStmt']);

/**
 * Production's rows are counted as they are now; the statements before the check's own run
 * first. A back-fill of the column the check is about is taken into account; any other write
 * to the table (or code that may write anything) makes the count undecidable.
 */
export function earlierWrites(spec: DataCheckSpec, pending: PendingStatements): EarlierWrites {
  const end = spec.at ? pending.list.indexOf(spec.at) : pending.list.length;
  const table = spec.subject.table;
  const names = pending.relationNames({ schema: table.schema, name: table.name });
  const column = 'column' in spec.subject ? spec.subject.column : undefined;
  const columnNames = column ? pending.columnNames({ schema: table.schema, name: table.name }, column) : [];
  let found: EarlierWrites = { kind: 'none' };
  for (const candidate of pending.list.slice(0, Math.max(0, end))) {
    const { nodeType, tree } = candidate.statement;
    if (OPAQUE.has(nodeType)) found = { kind: 'changes-rows', by: candidate };
    if (!DML.has(nodeType) || !writesTo(tree, names)) continue;
    // The last write decides: a back-fill after other writes still leaves no NULL, a write after it may.
    found =
      nodeType === 'UpdateStmt' && columnNames.length > 0 && backFills(tree, columnNames)
        ? { kind: 'back-filled', by: candidate }
        : { kind: 'changes-rows', by: candidate };
  }
  return found;
}

function writesTo(tree: ParseNode, names: QualifiedName[]): boolean {
  const target = relationName(tree.relation);
  return target !== undefined && names.some((name) => sameName(name, target));
}

/**
 * `UPDATE t SET c = <value that is never NULL>` over every row, or over the rows where c IS
 * NULL: afterwards no row has c NULL. A constant, a call without arguments (now(),
 * gen_random_uuid()) or COALESCE ending in one.
 */
function backFills(tree: ParseNode, columns: string[]): boolean {
  const where = tree.whereClause as ParseNode | undefined;
  if (where && !isNullTestOf(where, columns)) return false;
  const targets = Array.isArray(tree.targetList) ? tree.targetList : [];
  return targets.some((item) => {
    const target = (item as { ResTarget?: { name?: string; val?: unknown } }).ResTarget;
    return target?.name !== undefined && columns.includes(target.name) && neverNull(target.val);
  });
}

function isNullTestOf(node: ParseNode, columns: string[]): boolean {
  const test = node.NullTest as { arg?: unknown; nulltesttype?: string } | undefined;
  if (test?.nulltesttype !== 'IS_NULL') return false;
  const field = strings(
    (test.arg as { ColumnRef?: { fields?: unknown } } | undefined)?.ColumnRef?.fields,
  ).pop();
  return field !== undefined && columns.includes(field);
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
