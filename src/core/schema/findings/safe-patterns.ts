import { quoteIdent } from '../../sql/identifiers.js';
import type { Table } from '../model.js';
import type { Found } from './locate.js';
import type { PendingStatement, PendingStatements } from './pending.js';
import { addedConstraints } from './statement-match.js';
import { actsOnOneOf, alterTableCommands, nullTestColumn, type QualifiedName } from './tree.js';

/**
 * The safe forms of locking statements, recognized so that the plan does not report what they
 * avoid: a constraint added NOT VALID (validated later without blocking writes), and SET NOT
 * NULL after a validated CHECK (column IS NOT NULL), added earlier in the pending migrations or
 * already in production, which PostgreSQL uses instead of a scan.
 */

/** The statement adds the constraint NOT VALID. */
export function addedNotValid(at: Found, name: string): boolean {
  if (!at) return false;
  return addedConstraints(at.statement).some(
    ({ constraint }) =>
      constraint.skip_validation === true && (!constraint.conname || constraint.conname === name),
  );
}

/**
 * Before `at`, the pending statements add a CHECK (column IS NOT NULL) on the relation and
 * validate it (or add it valid): SET NOT NULL then finds its proof and does not scan.
 */
export function notNullProvenBefore(
  pending: PendingStatements,
  relation: QualifiedName,
  column: string,
  at: Found,
): boolean {
  const end = at ? pending.list.indexOf(at) : pending.list.length;
  const names = pending.relationNames(relation);
  const columns = pending.columnNames(relation, column);
  const earlier = pending.list
    .slice(0, Math.max(0, end))
    .filter(({ statement }) => statement.nodeType === 'AlterTableStmt' && actsOnOneOf(statement.tree, names));
  const checks = earlier.flatMap((statement) =>
    addedConstraints(statement.statement)
      .filter(
        ({ constraint }) =>
          constraint.contype === 'CONSTR_CHECK' &&
          columns.includes(nullTestColumn(constraint.raw_expr, 'IS_NOT_NULL') ?? ''),
      )
      .map(({ constraint }) => ({ name: constraint.conname, valid: constraint.skip_validation !== true })),
  );
  return checks.some((check) => check.valid || (check.name !== undefined && validates(earlier, check.name)));
}

function validates(statements: PendingStatement[], name: string): boolean {
  return statements.some(({ statement }) =>
    alterTableCommands(statement.tree).some(
      (cmd) => cmd.subtype === 'AT_ValidateConstraint' && cmd.name === name,
    ),
  );
}

/**
 * Production already has a validated CHECK (column IS NOT NULL) on the table (the expand step
 * of an expand/contract, applied earlier), and no pending statement before `at` drops it.
 */
export function notNullProvenInProduction(
  pending: PendingStatements,
  table: Table,
  relation: QualifiedName,
  column: string,
  at: Found,
): boolean {
  const proof = `CHECK ((${quoteIdent(column)} IS NOT NULL))`;
  const checks = Object.values(table.constraints).filter(
    (c) => c.type === 'check' && c.validated && c.definition === proof,
  );
  if (checks.length === 0) return false;
  const end = at ? pending.list.indexOf(at) : pending.list.length;
  const names = pending.relationNames(relation);
  const dropped = new Set(
    pending.list
      .slice(0, Math.max(0, end))
      .filter(
        ({ statement }) => statement.nodeType === 'AlterTableStmt' && actsOnOneOf(statement.tree, names),
      )
      .flatMap(({ statement }) => alterTableCommands(statement.tree))
      .filter((cmd) => cmd.subtype === 'AT_DropConstraint')
      .map((cmd) => cmd.name),
  );
  return checks.some((c) => !dropped.has(c.name));
}
