import type { Statement } from '../../migrations/model.js';
import { qualifiedName, quoteIdent } from '../../sql/identifiers.js';
import type { SchemaModel } from '../model.js';
import type { Hazard } from './hazard.js';
import { compatibilityView, expandContract } from './rename-fixes.js';
import { type AlterTableCommand, alterTableCommands, constraintsIn } from './tree.js';

/**
 * The safe form of a statement a hazard is about, offered as a fix: SQL that does the same
 * without the hazard (the same final schema), and what to do with it. Built from the model's
 * names and the statement's own text; shown to the reviewer, never run by supagate.
 */
export interface HazardFix {
  /** What the rewrite does differently, in a sentence. */
  summary: string;
  sql: string;
  /** Whether `sql` replaces the statement (`location.statement`) or goes right after it. */
  placement: 'replace' | 'after';
  /** The SQL must go in a migration file of its own (it cannot run inside a transaction). */
  ownFile: boolean;
  /**
   * A second step, in a later migration, once `when` holds (expand/contract: `sql` expands,
   * this contracts).
   */
  later?: { when: string; sql: string };
}

/**
 * The fix for a hazard, given the statement it is located at (its parse tree decides whether
 * the statement does nothing but what the hazard is about: only then can it be rewritten).
 */
export function fixFor(
  hazard: Hazard,
  statement: Statement | undefined,
  before: SchemaModel,
  after: SchemaModel,
): HazardFix | undefined {
  if (!statement || !hazard.object) return undefined;
  switch (hazard.code) {
    case 'index-not-concurrent':
      return concurrentIndex(statement);
    case 'constraint-validation':
      return validatedLater(hazard.object, statement, after);
    case 'set-not-null':
      return onlyCommand(statement)?.subtype === 'AT_SetNotNull'
        ? notNullThroughCheck(hazard.object, after)
        : undefined;
    case 'security-definer-search-path':
      return fixedSearchPath(hazard.object, after);
    case 'rename-breaks-clients':
      return renameFix(hazard.object, statement, before, after);
    default:
      return undefined;
  }
}

function renameFix(
  object: string,
  statement: Statement,
  before: SchemaModel,
  after: SchemaModel,
): HazardFix | undefined {
  const renamedTable = after.tables[object];
  if (renamedTable) return compatibilityView(statement, renamedTable, before, after);
  const found = tableMember(object, after);
  const table = found ? after.tables[found.table] : undefined;
  return found && table ? expandContract(statement, found.member, table, before, after) : undefined;
}

/** The one command of an ALTER TABLE that has one, else undefined. */
function onlyCommand(statement: Statement): AlterTableCommand | undefined {
  if (statement.nodeType !== 'AlterTableStmt') return undefined;
  const commands = alterTableCommands(statement.tree);
  return commands.length === 1 ? commands[0] : undefined;
}

/** `CREATE [UNIQUE] INDEX`, where CONCURRENTLY goes in the statement's text. */
const CREATE_INDEX = /^create\s+(unique\s+)?index\s+/i;

function concurrentIndex(statement: Statement): HazardFix | undefined {
  if (statement.nodeType !== 'IndexStmt' || statement.tree.concurrent || !CREATE_INDEX.test(statement.sql))
    return undefined;
  const sql = statement.sql.replace(
    CREATE_INDEX,
    (head) => `${head}${keyword('CONCURRENTLY', statement.sql)} `,
  );
  return {
    summary:
      'Build the index without blocking writes: CONCURRENTLY, alone in a migration file of its own (it cannot run in a transaction)',
    sql: `${sql};`,
    placement: 'replace',
    ownFile: true,
  };
}

/** `public.items.qty_positive` → the table and the constraint, when the model has them. */
function tableMember(object: string, after: SchemaModel): { table: string; member: string } | undefined {
  const table = Object.keys(after.tables).find((id) => object.startsWith(`${id}.`));
  return table ? { table, member: object.slice(table.length + 1) } : undefined;
}

/** `ALTER TABLE … ADD CONSTRAINT …` as its only command: the same NOT VALID, then VALIDATE. */
function validatedLater(object: string, statement: Statement, after: SchemaModel): HazardFix | undefined {
  const command = onlyCommand(statement);
  if (command?.subtype !== 'AT_AddConstraint') return undefined;
  if (constraintsIn(command.def).some(({ constraint }) => constraint.skip_validation)) return undefined;
  const found = tableMember(object, after);
  const table = found ? after.tables[found.table] : undefined;
  if (!found || !table?.constraints[found.member]) return undefined;
  const name = quoteIdent(found.member, after.serverVersion);
  const target = qualifiedName(table.schema, table.name, after.serverVersion);
  const text = statement.sql;
  return {
    summary:
      'Add the constraint NOT VALID (new rows are checked at once, no scan under the lock), then VALIDATE it, which scans without blocking writes; the VALIDATE can go in a later migration',
    sql: `${text} ${keyword('NOT VALID', text)};\n${keyword('ALTER TABLE', text)} ${target} ${keyword('VALIDATE CONSTRAINT', text)} ${name};`,
    placement: 'replace',
    ownFile: false,
  };
}

function notNullThroughCheck(object: string, after: SchemaModel): HazardFix | undefined {
  const found = tableMember(object, after);
  const table = found ? after.tables[found.table] : undefined;
  if (!found || !table?.columns.some((c) => c.name === found.member)) return undefined;
  const target = qualifiedName(table.schema, table.name, after.serverVersion);
  const column = quoteIdent(found.member, after.serverVersion);
  const check = quoteIdent(`${table.name}_${found.member}_not_null`.slice(0, 63), after.serverVersion);
  return {
    summary:
      'Prove the column has no NULL with a CHECK added NOT VALID and validated without blocking writes; SET NOT NULL then uses it instead of scanning under ACCESS EXCLUSIVE, and the CHECK is dropped',
    sql: [
      `ALTER TABLE ${target} ADD CONSTRAINT ${check} CHECK (${column} IS NOT NULL) NOT VALID;`,
      `ALTER TABLE ${target} VALIDATE CONSTRAINT ${check};`,
      `ALTER TABLE ${target} ALTER COLUMN ${column} SET NOT NULL;`,
      `ALTER TABLE ${target} DROP CONSTRAINT ${check};`,
    ].join('\n'),
    placement: 'replace',
    ownFile: false,
  };
}

function fixedSearchPath(object: string, after: SchemaModel): HazardFix | undefined {
  const routine = after.functions[object];
  if (!routine) return undefined;
  const name = qualifiedName(routine.schema, routine.name, after.serverVersion);
  const kind = routine.kind === 'procedure' ? 'PROCEDURE' : 'FUNCTION';
  return {
    summary:
      "Pin the function's search_path to nothing: every name it uses must then be schema-qualified (public.x, auth.uid())",
    sql: `ALTER ${kind} ${name}(${routine.identityArguments}) SET search_path = '';`,
    placement: 'after',
    ownFile: false,
  };
}

/** A key word in the case the statement writes its own (`create index` → `concurrently`). */
function keyword(word: string, statement: string): string {
  return /^[a-z]/.test(statement) ? word.toLowerCase() : word;
}
