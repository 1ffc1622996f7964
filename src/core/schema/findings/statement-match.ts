import type { Statement } from '../../migrations/model.js';
import {
  alterTableCommands,
  type ConstraintNode,
  columnsIn,
  constraintsIn,
  droppedObjects,
  nameKey,
  type QualifiedName,
  qualified,
  relationName,
  roleNames,
  strings,
} from './tree.js';

/**
 * What a statement's parse tree says it does, asked by the Locator (locate.ts): whether it
 * drops, creates, grants or widens access on a given object, and which object it targets.
 */

export const RELATION_OBJECTS = new Set([
  'OBJECT_TABLE',
  'OBJECT_VIEW',
  'OBJECT_MATVIEW',
  'OBJECT_FOREIGN_TABLE',
]);

/** The suffix PostgreSQL gives an unnamed constraint of each type. */
const DEFAULT_NAME_SUFFIX: Record<string, string> = {
  CONSTR_FOREIGN: 'fkey',
  CONSTR_CHECK: 'check',
  CONSTR_UNIQUE: 'key',
  CONSTR_PRIMARY: 'pkey',
  CONSTR_EXCLUSION: 'excl',
};

export interface Widening {
  role: string;
  /** SELECT, INSERT, UPDATE or DELETE. */
  command: string;
  /** The role held the privilege before the migrations. */
  privilegeHeld: boolean;
  /** Row level security was off before the migrations. */
  rlsWasOff: boolean;
}

/** The relation a statement creates, alters, indexes or puts a policy on. */
export function target(statement: Statement): QualifiedName | undefined {
  const { tree } = statement;
  switch (statement.nodeType) {
    case 'CreateStmt':
    case 'AlterTableStmt':
    case 'IndexStmt':
    case 'RenameStmt':
    case 'AlterObjectSchemaStmt':
    case 'CreateTrigStmt':
      return relationName(tree.relation);
    case 'ViewStmt':
      return relationName(tree.view);
    case 'CreateTableAsStmt':
      return relationName((tree.into as { rel?: unknown } | undefined)?.rel);
    case 'CreatePolicyStmt':
    case 'AlterPolicyStmt':
      return relationName(tree.table);
    default:
      return undefined;
  }
}

export function equals(a: QualifiedName | undefined): (b: QualifiedName) => boolean {
  return (b) => a !== undefined && nameKey(a) === nameKey(b);
}

export function isDrop(statement: Statement, removeType: string): boolean {
  return statement.nodeType === 'DropStmt' && statement.tree.removeType === removeType;
}

export function creates(statement: Statement): boolean {
  return ['CreateStmt', 'ViewStmt', 'CreateTableAsStmt'].includes(statement.nodeType);
}

export function isPolicyStatement(statement: Statement): boolean {
  return statement.nodeType === 'CreatePolicyStmt' || statement.nodeType === 'AlterPolicyStmt';
}

export function dropsSchema(statement: Statement, schema: string, cascadeOnly: boolean): boolean {
  if (!isDrop(statement, 'OBJECT_SCHEMA')) return false;
  if (cascadeOnly && statement.tree.behavior !== 'DROP_CASCADE') return false;
  return droppedObjects(statement.tree).some((parts) => parts[0] === schema);
}

export function dropsRelation(statement: Statement, names: QualifiedName[]): boolean {
  if (statement.nodeType !== 'DropStmt' || !RELATION_OBJECTS.has(String(statement.tree.removeType)))
    return false;
  return droppedObjects(statement.tree).some((parts) => names.some(equals(qualified(parts))));
}

export function dropsPolicyOn(statement: Statement, names: QualifiedName[]): boolean {
  return droppedObjects(statement.tree).some((parts) => names.some(equals(qualified(parts.slice(0, -1)))));
}

export function addedConstraints(statement: Statement): { constraint: ConstraintNode; column?: string }[] {
  if (statement.nodeType === 'AlterTableStmt')
    return alterTableCommands(statement.tree).flatMap((cmd) =>
      cmd.subtype === 'AT_AddConstraint' || cmd.subtype === 'AT_AddColumn' ? constraintsIn(cmd.def) : [],
    );
  if (statement.nodeType === 'CreateStmt' && Array.isArray(statement.tree.tableElts))
    return statement.tree.tableElts.flatMap((element) => constraintsIn(element as Record<string, unknown>));
  return [];
}

/**
 * PostgreSQL names an unnamed constraint `<table>_<columns>_<suffix>`, with a number appended
 * when the name is taken: the columns are a column constraint's own, a foreign key's, or the
 * first column a check expression names.
 */
export function isDefaultName(
  name: string,
  table: string,
  constraint: ConstraintNode,
  column?: string,
): boolean {
  const columns = column
    ? [column]
    : constraint.contype === 'CONSTR_FOREIGN'
      ? strings(constraint.fk_attrs)
      : constraint.contype === 'CONSTR_CHECK'
        ? columnsIn(constraint.raw_expr).slice(0, 1)
        : strings(constraint.keys);
  const base = [table, ...columns, DEFAULT_NAME_SUFFIX[constraint.contype] ?? ''].join('_');
  return name === base || new RegExp(`^${escapeRegExp(base)}\\d+$`).test(name);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function grantsOn(statement: Statement, names: QualifiedName[]): boolean {
  const { tree } = statement;
  if (statement.nodeType !== 'GrantStmt' || !tree.is_grant || tree.objtype !== 'OBJECT_TABLE') return false;
  if (tree.targtype === 'ACL_TARGET_ALL_IN_SCHEMA')
    return strings(tree.objects).some((schema) => names.some((name) => name.schema === schema));
  const objects = Array.isArray(tree.objects) ? tree.objects : [];
  return objects.some((object) => names.some(equals(relationName(object))));
}

/** Whether the statement widens `role`'s `command` on the table: by its roles, command and privileges. */
export function widensFor(statement: Statement, names: QualifiedName[], widening: Widening): boolean {
  const { tree } = statement;
  const { role, command } = widening;
  const onTable = names.some(equals(target(statement)));
  if (onTable && alterTableCommands(tree).some((cmd) => cmd.subtype === 'AT_DisableRowSecurity'))
    return !widening.rlsWasOff;
  if (onTable && isPolicyStatement(statement)) {
    const cmd = String(tree.cmd_name ?? 'all').toUpperCase();
    return includesRole(roleNames(tree.roles), role, true) && (cmd === 'ALL' || cmd === command);
  }
  if (!widening.privilegeHeld && grantsOn(statement, names)) {
    const privileges = (Array.isArray(tree.privileges) ? tree.privileges : []).map((privilege) =>
      String((privilege as { AccessPriv?: { priv_name?: string } }).AccessPriv?.priv_name).toUpperCase(),
    );
    return (
      includesRole(roleNames(tree.grantees), role, false) &&
      (privileges.length === 0 || privileges.includes(command))
    );
  }
  return false;
}

/** A policy without TO applies to PUBLIC; an ALTER POLICY without TO keeps its roles, so it may concern any. */
function includesRole(roles: string[], role: string, emptyMeansAll: boolean): boolean {
  return (emptyMeansAll && roles.length === 0) || roles.includes(role) || roles.includes('PUBLIC');
}

/** The function a `CREATE FUNCTION` or `ALTER FUNCTION` statement names. */
export function definedFunction(statement: Statement): QualifiedName | undefined {
  if (statement.nodeType === 'CreateFunctionStmt') return qualified(strings(statement.tree.funcname));
  if (statement.nodeType === 'AlterFunctionStmt')
    return qualified(strings((statement.tree.func as { objname?: unknown } | undefined)?.objname));
  return undefined;
}

/** How many input arguments a `CREATE FUNCTION` or `ALTER FUNCTION` names; undefined when it does not say. */
export function argumentsOf(statement: Statement): number | undefined {
  if (statement.nodeType === 'CreateFunctionStmt') {
    const parameters = Array.isArray(statement.tree.parameters) ? statement.tree.parameters : [];
    return parameters.filter((parameter) => {
      const mode = (parameter as { FunctionParameter?: { mode?: string } }).FunctionParameter?.mode;
      return mode !== 'FUNC_PARAM_OUT' && mode !== 'FUNC_PARAM_TABLE';
    }).length;
  }
  const func = statement.tree.func as { objargs?: unknown[]; args_unspecified?: boolean } | undefined;
  return func?.args_unspecified ? undefined : (func?.objargs?.length ?? 0);
}

/** Arguments in `pg_get_function_identity_arguments` text: commas outside parentheses, plus one. */
export function argumentCount(identityArguments: string): number {
  if (identityArguments.trim() === '') return 0;
  let depth = 0;
  let count = 1;
  for (const char of identityArguments) {
    if (char === '(') depth++;
    else if (char === ')') depth--;
    else if (char === ',' && depth === 0) count++;
  }
  return count;
}
