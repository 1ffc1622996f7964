import type { ParseNode } from '../../migrations/model.js';

/**
 * Readers of libpg_query's JSON parse trees, for what findings need to know of a statement:
 * which objects it names. Names come out as the server sees them (unquoted identifiers already
 * folded to lower case); an unqualified name resolves to `public`, as with Supabase's
 * search_path.
 */
export interface QualifiedName {
  schema: string;
  name: string;
}

export const DEFAULT_SCHEMA = 'public';

export interface AlterTableCommand {
  subtype: string;
  /** The column (or constraint) the command names: `DROP COLUMN c`, `ALTER COLUMN c TYPE …`. */
  name?: string;
  def?: ParseNode;
}

export interface ConstraintNode {
  contype: string;
  conname?: string;
  keys?: unknown;
  fk_attrs?: unknown;
  raw_expr?: unknown;
  /** `ADD UNIQUE … USING INDEX` / an explicit index name (`… USING INDEX TABLESPACE` has none). */
  indexname?: string;
  /** Added NOT VALID: existing rows are not checked until VALIDATE CONSTRAINT. */
  skip_validation?: boolean;
}

/** `[{ String: { sval } }, …]` → the strings. */
export function strings(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list
    .map((item) => (item as { String?: { sval?: string } }).String?.sval)
    .filter((value): value is string => typeof value === 'string');
}

/** `[name]`, `[schema, name]` or `[database, schema, name]` → a qualified name. */
export function qualified(parts: string[]): QualifiedName | undefined {
  const name = parts[parts.length - 1];
  if (name === undefined) return undefined;
  return { schema: parts.length > 1 ? (parts[parts.length - 2] as string) : DEFAULT_SCHEMA, name };
}

/** A RangeVar, bare (`relation: {…}`) or wrapped (`{ RangeVar: {…} }`). */
export function relationName(node: unknown): QualifiedName | undefined {
  const range = ((node as { RangeVar?: unknown } | undefined)?.RangeVar ?? node) as
    | { schemaname?: string; relname?: string }
    | undefined;
  if (!range?.relname) return undefined;
  return { schema: range.schemaname ?? DEFAULT_SCHEMA, name: range.relname };
}

export function sameName(a: QualifiedName, b: QualifiedName): boolean {
  return a.schema === b.schema && a.name === b.name;
}

export function nameKey(name: QualifiedName): string {
  return `${name.schema}\u0000${name.name}`;
}

export function alterTableCommands(tree: ParseNode): AlterTableCommand[] {
  const cmds = Array.isArray(tree.cmds) ? tree.cmds : [];
  return cmds
    .map((cmd) => (cmd as { AlterTableCmd?: AlterTableCommand }).AlterTableCmd)
    .filter((cmd): cmd is AlterTableCommand => cmd !== undefined);
}

/**
 * The name parts of each object a DROP names: `DROP TABLE s.t` → `[['s', 't']]`,
 * `DROP SCHEMA s` → `[['s']]`, `DROP POLICY p ON s.t` → `[['s', 't', 'p']]`, `DROP TYPE t` → `[['t']]`.
 */
export function droppedObjects(tree: ParseNode): string[][] {
  const objects = Array.isArray(tree.objects) ? tree.objects : [];
  return objects.map((object) => {
    const node = object as {
      String?: { sval?: string };
      List?: { items?: unknown };
      TypeName?: { names?: unknown };
      ObjectWithArgs?: { objname?: unknown };
    };
    if (node.String?.sval !== undefined) return [node.String.sval];
    if (node.List) return strings(node.List.items);
    if (node.TypeName) return strings(node.TypeName.names);
    if (node.ObjectWithArgs) return strings(node.ObjectWithArgs.objname);
    return [];
  });
}

/** Role names of a `RoleSpec` list; PUBLIC as `PUBLIC`. */
export function roleNames(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.map((item) => {
    const spec = (item as { RoleSpec?: { roletype?: string; rolename?: string } }).RoleSpec;
    if (spec?.roletype === 'ROLESPEC_PUBLIC') return 'PUBLIC';
    if (spec?.roletype === 'ROLESPEC_CURRENT_USER' || spec?.roletype === 'ROLESPEC_SESSION_USER')
      return 'CURRENT_USER';
    return spec?.rolename ?? '';
  });
}

/** The constraints a command or table element adds: table constraints and a column's own. */
export function constraintsIn(
  node: ParseNode | undefined,
): { constraint: ConstraintNode; column?: string }[] {
  const table = node?.Constraint as ConstraintNode | undefined;
  if (table) return [{ constraint: table }];
  const column = node?.ColumnDef as { colname?: string; constraints?: unknown } | undefined;
  if (!column || !Array.isArray(column.constraints)) return [];
  return column.constraints
    .map((item) => (item as { Constraint?: ConstraintNode }).Constraint)
    .filter((constraint): constraint is ConstraintNode => constraint !== undefined)
    .map((constraint) => ({ constraint, ...(column.colname ? { column: column.colname } : {}) }));
}

/** Every column named in an expression (the last part of each ColumnRef), in order. */
export function columnsIn(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) {
    for (const item of node) columnsIn(item, found);
  } else if (node && typeof node === 'object') {
    const ref = (node as { ColumnRef?: { fields?: unknown } }).ColumnRef;
    const last = strings(ref?.fields).pop();
    if (last) found.push(last);
    for (const value of Object.values(node)) columnsIn(value, found);
  }
  return found;
}

/** Every relation a statement names anywhere in its tree, each once, in order. */
export function relationsIn(node: unknown): QualifiedName[] {
  const found = new Map<string, QualifiedName>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
    } else if (value && typeof value === 'object') {
      const record = value as Record<string, unknown>;
      // A RangeVar, bare (`relation: {…}`) or as the value of `{ RangeVar: … }`, has `relname` and `inh`.
      const relation =
        typeof record.relname === 'string' && 'inh' in record ? relationName(record) : undefined;
      if (relation) found.set(nameKey(relation), relation);
      for (const child of Object.values(record)) visit(child);
    }
  };
  visit(node);
  return [...found.values()];
}

/** The column a `column IS NULL` (or `IS NOT NULL`) test is about, when `node` is such a test. */
export function nullTestColumn(node: unknown, type: 'IS_NULL' | 'IS_NOT_NULL'): string | undefined {
  const test = (node as { NullTest?: { arg?: unknown; nulltesttype?: string } } | undefined)?.NullTest;
  if (test?.nulltesttype !== type) return undefined;
  return strings((test.arg as { ColumnRef?: { fields?: unknown } } | undefined)?.ColumnRef?.fields).pop();
}

/** Whether the statement's own relation (`UPDATE t`, `ALTER TABLE t`…) bears one of `names`. */
export function actsOnOneOf(tree: ParseNode, names: QualifiedName[]): boolean {
  const target = relationName(tree.relation);
  return target !== undefined && names.some((name) => sameName(name, target));
}
