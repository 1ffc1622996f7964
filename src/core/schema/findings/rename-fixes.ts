import type { Statement } from '../../migrations/model.js';
import { qualifiedName, quoteIdent } from '../../sql/identifiers.js';
import { quoteLiteral } from '../../sql/quote.js';
import { columnGrantStatements, grantStatements } from '../ddl-grants.js';
import type { Column, SchemaModel, Table } from '../model.js';
import type { HazardFix } from './fixes.js';
import { type QualifiedName, relationName, sameName } from './tree.js';

/**
 * The safe forms of a rename in a Data API schema, where deployed clients still use the old
 * name. A column: expand (a new column kept in sync with the old one by a trigger, both names
 * work) now, contract (drop the old column) once every client uses the new name. A table: the
 * rename with a view under the old name that writes go through, dropped later. Built from the
 * models' names; offered only where the rewrite is correct, else `columnRenameObstacle` says why not.
 */

/** PostgreSQL's identifier length limit (NAMEDATALEN - 1). */
const MAX_NAME = 63;

/**
 * Why an expand/contract rewrite of the rename of `column` (its new name, on `table` after the
 * migrations) would not be correct, or undefined when it would: what uses the column by name
 * would keep using the old column (an index, a constraint, a policy, a view…) and break when
 * the contract drops it. Conservative: a mention of the name in an expression counts.
 */
export function columnRenameObstacle(table: Table, column: string, model: SchemaModel): string | undefined {
  const found = table.columns.find((c) => c.name === column);
  if (!found) return 'the column is not in the schema after the migrations';
  return kindObstacle(table, found) ?? tableUse(table, column) ?? dependentUse(table, column, model);
}

/** Columns expand/contract cannot recreate as they are: inherited, identity, generated, collated. */
function kindObstacle(table: Table, column: Column): string | undefined {
  if (table.kind === 'partitioned' || table.partitionOf || table.inherits?.length || column.inherited)
    return 'the table is partitioned or inherits';
  if (column.identity) return 'the column is an identity column';
  if (column.generated) return 'the column is generated';
  if (column.collation) return 'the column has a collation of its own';
  return undefined;
}

/** What the table itself has on the column: indexes, constraints, generated columns, triggers. */
function tableUse(table: Table, column: string): string | undefined {
  const uses = (text: string | null | undefined) => mentions(text, column);
  const index = Object.values(table.indexes).find((i) => i.columns.includes(column) || uses(i.definition));
  if (index) return `the column is in index ${quoteIdent(index.name)}`;
  const constraint = Object.values(table.constraints).find(
    (c) => c.columns.includes(column) || uses(c.definition),
  );
  if (constraint) return `the column is in constraint ${quoteIdent(constraint.name)}`;
  const generated = table.columns.find((c) => c.name !== column && uses(c.generated));
  if (generated) return `generated column ${quoteIdent(generated.name)} is computed from it`;
  const trigger = Object.values(table.triggers).find((t) => uses(t.definition));
  if (trigger) return `trigger ${quoteIdent(trigger.name)} names it`;
  return undefined;
}

/** What else names the column: foreign keys to it, policies, views (any that name the table too). */
function dependentUse(table: Table, column: string, model: SchemaModel): string | undefined {
  const id = qualifiedName(table.schema, table.name);
  const referencing = Object.values(model.tables)
    .flatMap((t) => Object.values(t.constraints))
    .find((c) => c.references?.table === id && c.references.columns.includes(column));
  if (referencing) return `the column is referenced by foreign key ${quoteIdent(referencing.name)}`;
  const policy = Object.values(model.tables)
    .flatMap((t) =>
      Object.values(t.policies).map((p) => ({ p, text: `${p.using} ${p.withCheck}`, own: t === table })),
    )
    .find(({ text, own }) => (own || mentions(text, table.name)) && mentions(text, column));
  if (policy) return `policy ${quoteIdent(policy.p.name)} uses it`;
  const view = Object.values(model.views).find(
    (v) => mentions(v.definition, table.name) && mentions(v.definition, column),
  );
  if (view) return `view ${qualifiedName(view.schema, view.name)} selects it`;
  return undefined;
}

/** `text` names `name` as PostgreSQL prints an identifier (bare or quoted), not as part of another. */
function mentions(text: string | null | undefined, name: string): boolean {
  if (!text) return false;
  const printed = quoteIdent(name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\w$])${printed}($|[^\\w$])`).test(text);
}

/**
 * `ALTER TABLE t RENAME COLUMN old TO new` → expand now, contract later. The statement must
 * rename exactly the column the models show renamed, on a table that keeps its name.
 */
export function expandContract(
  statement: Statement,
  newName: string,
  table: Table,
  before: SchemaModel,
  after: SchemaModel,
): HazardFix | undefined {
  const { tree } = statement;
  if (statement.nodeType !== 'RenameStmt' || tree.renameType !== 'OBJECT_COLUMN') return undefined;
  const relation = relationName(tree.relation);
  const oldName = typeof tree.subname === 'string' ? tree.subname : undefined;
  if (!relation || !oldName || tree.newname !== newName || !sameName(relation, table)) return undefined;
  const id = qualifiedName(table.schema, table.name);
  const old = before.tables[id]?.columns.find((c) => c.name === oldName);
  const renamed = table.columns.find((c) => c.name === newName);
  if (!old || !renamed || table.columns.some((c) => c.name === oldName)) return undefined;
  if (columnRenameObstacle(table, newName, after)) return undefined;
  const names = syncNames(table, oldName, newName, after.serverVersion);
  return {
    summary: `Expand/contract: add ${quoteIdent(newName)} beside ${quoteIdent(oldName)}, kept in sync both ways by a trigger, so that clients using either name keep working; drop the old column once no client uses it`,
    sql: expandSql(renamed, names, after.serverVersion).join('\n'),
    placement: 'replace',
    ownFile: false,
    later: {
      when: `every deployed client uses ${quoteIdent(newName)}`,
      sql: contractSql(renamed, names).join('\n'),
    },
  };
}

interface SyncNames {
  table: string;
  old: string;
  new: string;
  func: string;
  trigger: string;
  check: string;
}

function syncNames(table: Table, oldName: string, newName: string, version: number): SyncNames {
  const base = `${table.name}_${newName}`.slice(0, MAX_NAME - '_not_null'.length);
  return {
    table: qualifiedName(table.schema, table.name, version),
    old: quoteIdent(oldName, version),
    new: quoteIdent(newName, version),
    func: qualifiedName(table.schema, `${base}_sync`, version),
    trigger: quoteIdent(`${base}_sync`, version),
    check: quoteIdent(`${base}_not_null`, version),
  };
}

/**
 * The new column without default or NOT NULL (the trigger fills it from the old one: a default
 * would hide an insert that sets only the old name), its privileges and comment, the trigger,
 * the back-fill, and a CHECK proving no NULL so that the contract's SET NOT NULL does not scan.
 */
function expandSql(column: Column, n: SyncNames, version: number): string[] {
  const body = [
    'BEGIN',
    "  IF TG_OP = 'INSERT' THEN",
    `    IF NEW.${n.new} IS NULL THEN NEW.${n.new} := NEW.${n.old}; ELSE NEW.${n.old} := NEW.${n.new}; END IF;`,
    `  ELSIF NEW.${n.new} IS DISTINCT FROM OLD.${n.new} THEN`,
    `    NEW.${n.old} := NEW.${n.new};`,
    '  ELSE',
    `    NEW.${n.new} := NEW.${n.old};`,
    '  END IF;',
    '  RETURN NEW;',
    'END',
  ];
  const tag = dollarTag(body.join('\n'));
  return [
    `ALTER TABLE ${n.table} ADD COLUMN ${n.new} ${column.type};`,
    ...columnGrantStatements(n.table, [{ name: column.name, grants: column.grants }], version),
    ...(column.comment === null
      ? []
      : [`COMMENT ON COLUMN ${n.table}.${n.new} IS ${quoteLiteral(column.comment)};`]),
    `CREATE FUNCTION ${n.func}() RETURNS trigger LANGUAGE plpgsql SET search_path = '' AS ${tag}`,
    ...body,
    `${tag};`,
    `CREATE TRIGGER ${n.trigger} BEFORE INSERT OR UPDATE ON ${n.table} FOR EACH ROW EXECUTE FUNCTION ${n.func}();`,
    '-- On a large table, run this back-fill in batches (by primary key ranges) instead.',
    `UPDATE ${n.table} SET ${n.new} = ${n.old} WHERE ${n.new} IS DISTINCT FROM ${n.old};`,
    ...(column.notNull
      ? [
          `ALTER TABLE ${n.table} ADD CONSTRAINT ${n.check} CHECK (${n.new} IS NOT NULL) NOT VALID;`,
          `ALTER TABLE ${n.table} VALIDATE CONSTRAINT ${n.check};`,
        ]
      : []),
  ];
}

/** A dollar quote that the body does not contain (a quoted column name may hold `$sync$`). */
function dollarTag(body: string): string {
  let tag = '$sync$';
  for (let i = 1; body.includes(tag.slice(0, -1)); i++) tag = `$sync${i}$`;
  return tag;
}

function contractSql(column: Column, n: SyncNames): string[] {
  return [
    `DROP TRIGGER ${n.trigger} ON ${n.table};`,
    `DROP FUNCTION ${n.func}();`,
    ...(column.default === null
      ? []
      : [`ALTER TABLE ${n.table} ALTER COLUMN ${n.new} SET DEFAULT ${column.default};`]),
    ...(column.notNull
      ? [
          `ALTER TABLE ${n.table} ALTER COLUMN ${n.new} SET NOT NULL;`,
          `ALTER TABLE ${n.table} DROP CONSTRAINT ${n.check};`,
        ]
      : []),
    '-- supagate:allow drop-column: its values live on in the new column, kept in sync since the expand migration',
    `ALTER TABLE ${n.table} DROP COLUMN ${n.old};`,
  ];
}

/**
 * `ALTER TABLE old RENAME TO new` (or SET SCHEMA) → the same, then a view under the old name
 * selecting every column of the table: simple, so PostgREST writes through it;
 * security_invoker, so the table's RLS applies to the caller (PostgreSQL 15+); the table's
 * privileges (and its columns') granted on it.
 */
export function compatibilityView(
  statement: Statement,
  table: Table,
  before: SchemaModel,
  after: SchemaModel,
): HazardFix | undefined {
  const oldTable = renamedTable(statement, table, before);
  if (!oldTable) return undefined;
  const version = after.serverVersion;
  if (version > 0 && version < 150000) return undefined;
  if (table.kind === 'partitioned' || table.partitionOf) return undefined;
  const oldName = qualifiedName(oldTable.schema, oldTable.name, version);
  if (
    after.tables[qualifiedName(oldTable.schema, oldTable.name)] ||
    after.views[qualifiedName(oldTable.schema, oldTable.name)]
  )
    return undefined;
  const newName = qualifiedName(table.schema, table.name, version);
  const columns = table.columns.map((c) => quoteIdent(c.name, version)).join(', ');
  return {
    summary: `Keep a view under the old name for deployed clients: it passes reads and writes through to ${newName} with the caller's rights (security_invoker, so RLS still applies); drop it once no client uses the old name`,
    sql: [
      `CREATE VIEW ${oldName} WITH (security_invoker = true) AS SELECT ${columns} FROM ${newName};`,
      ...grantStatements(
        table.grants.filter((g) => g.grantee !== table.owner),
        'table',
        oldName,
        version,
      ),
      ...columnGrantStatements(oldName, table.columns, version),
    ].join('\n'),
    placement: 'after',
    ownFile: false,
    later: { when: `every deployed client uses ${newName}`, sql: `DROP VIEW ${oldName};` },
  };
}

/** The table before the statement, when the statement renames it (or moves it) to `table`'s name. */
function renamedTable(statement: Statement, table: Table, before: SchemaModel): Table | undefined {
  const { tree } = statement;
  const from = relationName(tree.relation);
  if (!from) return undefined;
  let to: QualifiedName | undefined;
  if (
    statement.nodeType === 'RenameStmt' &&
    tree.renameType === 'OBJECT_TABLE' &&
    typeof tree.newname === 'string'
  )
    to = { schema: from.schema, name: tree.newname };
  if (
    statement.nodeType === 'AlterObjectSchemaStmt' &&
    tree.objectType === 'OBJECT_TABLE' &&
    typeof tree.newschema === 'string'
  )
    to = { schema: tree.newschema, name: from.name };
  if (!to || !sameName(to, table)) return undefined;
  return before.tables[qualifiedName(from.schema, from.name)];
}
