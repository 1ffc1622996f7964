import type { ParseNode } from '../migrations/model.js';
import type { ObjectChange, SchemaDiff } from '../schema/changes.js';
import type { Locator } from '../schema/findings/locate.js';
import {
  type AlterTableCommand,
  alterTableCommands,
  constraintsIn,
  type QualifiedName,
} from '../schema/findings/tree.js';
import type { Column, Constraint, Index, SchemaModel, Table } from '../schema/model.js';
import { quoteIdentifier } from '../sql/quote.js';
import { type ColumnSource, rebuildExpression, rebuildExpressionText } from './check-expression.js';
import { conversionLimit } from './conversions.js';
import { uniqueKeys } from './index-keys.js';
import type { ConversionLimit, DataCheckSpec, ProductionTable } from './model.js';

export interface DeriveInput {
  before: SchemaModel;
  after: SchemaModel;
  diff: SchemaDiff;
}

/**
 * The data checks the schema diff calls for, on tables production has: what each changed
 * table gains that its rows must satisfy. Names are mapped back to production's through the
 * renames the diff recognized; each check is located at the statement that makes it matter.
 */
export function deriveDataChecks(input: DeriveInput, locate: Locator): DataCheckSpec[] {
  const tables = new TableNames(input);
  return [...memberChecks(input, tables, locate), ...enumLabelChecks(input, locate)];
}

function memberChecks(input: DeriveInput, tables: TableNames, locate: Locator): DataCheckSpec[] {
  return input.diff.changes
    .filter(
      (change) => change.kind === 'table' && (change.action === 'changed' || change.action === 'renamed'),
    )
    .flatMap((change) => {
      const before = input.before.tables[change.renamedFrom ?? change.id];
      const after = input.after.tables[change.id];
      if (!before || !after || before.managed) return [];
      const changed = new ChangedTable(change, before, after, tables);
      return [
        ...notNullChecks(changed, locate),
        ...uniqueChecks(changed, locate),
        ...foreignKeyChecks(changed, locate),
        ...conversionChecks(changed, locate),
        ...checkConstraintChecks(changed, locate),
      ];
    });
}

/** Production's name of each table the diff knows under its new name. */
class TableNames {
  private readonly renamedFrom = new Map<string, string>();
  private readonly added = new Set<string>();

  constructor(readonly input: DeriveInput) {
    for (const change of input.diff.changes) {
      if (change.kind !== 'table') continue;
      if (change.action === 'added') this.added.add(change.id);
      if (change.renamedFrom) this.renamedFrom.set(change.id, change.renamedFrom);
    }
  }

  /** Production's table for a table id after the migrations; undefined when the migrations create it. */
  production(afterId: string): Table | undefined {
    if (this.added.has(afterId)) return undefined;
    return this.input.before.tables[this.renamedFrom.get(afterId) ?? afterId];
  }
}

class ChangedTable {
  readonly production: ProductionTable;
  readonly name: QualifiedName;

  constructor(
    readonly change: ObjectChange,
    readonly before: Table,
    readonly after: Table,
    readonly tables: TableNames,
  ) {
    this.production = productionTable(before);
    this.name = { schema: after.schema, name: after.name };
  }

  get id(): string {
    return this.change.id;
  }

  /** Production's name of a column named `name` after the migrations; undefined for a new column. */
  productionColumn(name: string): string | undefined {
    const member = this.change.members.find((m) => m.kind === 'column' && m.name === name);
    if (member?.action === 'added') return undefined;
    const column = member?.renamedFrom ?? name;
    return this.before.columns.some((c) => c.name === column) ? column : undefined;
  }

  /** Members of a kind the migrations add, or change (`changed`/`renamed`). */
  members(kind: 'column' | 'constraint' | 'index', actions: string[]): string[] {
    return this.change.members
      .filter((m) => m.kind === kind && actions.includes(m.action))
      .map((m) => m.name);
  }
}

export function productionTable(table: Table): ProductionTable {
  return {
    schema: table.schema,
    name: table.name,
    partitioned: table.kind === 'partitioned',
    estimatedRows: table.stats.estimatedRows,
    triggers: Object.keys(table.triggers).length > 0,
    primaryKey: Object.values(table.constraints).find((c) => c.type === 'primary key')?.columns ?? [],
  };
}

function notNullChecks(table: ChangedTable, locate: Locator): DataCheckSpec[] {
  return table.after.columns.flatMap((column): DataCheckSpec[] => {
    if (!column.notNull) return [];
    const object = `${table.id}.${column.name}`;
    const existing = table.productionColumn(column.name);
    if (existing === undefined) {
      if (fillsExistingRows(column) || !isNew(table, column.name)) return [];
      const added = locate.alterCommand(table.name, (cmd) => addsColumn(cmd, column.name));
      // Added with a default (dropped later): the rows got their value when it was added.
      if (added && addedWithValue(added.statement.tree, column.name)) return [];
      return [
        {
          subject: { kind: 'new-column-not-null', table: table.production, column: column.name },
          object,
          action: `NOT NULL column ${object} added without a default`,
          at: locate.latest(locate.notNullSet(table.name, column.name), added),
        },
      ];
    }
    const wasNotNull = table.before.columns.find((c) => c.name === existing)?.notNull ?? false;
    if (wasNotNull) return [];
    return [
      {
        subject: { kind: 'not-null', table: table.production, column: existing },
        object,
        action: `SET NOT NULL on ${object}`,
        at: locate.notNullSet(table.name, column.name),
      },
    ];
  });
}

function addsColumn(cmd: AlterTableCommand, column: string): boolean {
  return (
    cmd.subtype === 'AT_AddColumn' &&
    (cmd.def?.ColumnDef as { colname?: string } | undefined)?.colname === column
  );
}

/** The ALTER TABLE adds the column with a default (not NULL), an identity or a generated expression. */
function addedWithValue(tree: ParseNode, column: string): boolean {
  return alterTableCommands(tree)
    .filter((cmd) => addsColumn(cmd, column))
    .some((cmd) =>
      constraintsIn(cmd.def).some(({ constraint }) => {
        if (constraint.contype === 'CONSTR_IDENTITY' || constraint.contype === 'CONSTR_GENERATED')
          return true;
        if (constraint.contype !== 'CONSTR_DEFAULT') return false;
        const value = constraint.raw_expr as { A_Const?: { isnull?: boolean } } | undefined;
        return value?.A_Const?.isnull !== true;
      }),
    );
}

function isNew(table: ChangedTable, column: string): boolean {
  return table.change.members.some((m) => m.kind === 'column' && m.name === column && m.action === 'added');
}

/** A new column whose existing rows get a value: a default, an identity or a generated expression. */
function fillsExistingRows(column: Column): boolean {
  return column.default !== null || column.identity !== null || column.generated !== null;
}

function uniqueChecks(table: ChangedTable, locate: Locator): DataCheckSpec[] {
  return table.members('index', ['added', 'changed']).flatMap((name): DataCheckSpec[] => {
    const index = table.after.indexes[name];
    if (!index?.unique) return [];
    const old = table.before.indexes[name];
    if (old?.unique && old.definition === index.definition) return [];
    // Keys and predicate as production names their columns; one the migrations add: not counted.
    let readsNewColumn = false;
    const keys = uniqueKeys(index.definition, (column) => {
      const existing = table.productionColumn(column);
      if (existing === undefined) readsNewColumn = true;
      return existing === undefined ? undefined : { column: existing };
    });
    if (readsNewColumn) return [];
    return [
      {
        subject: {
          kind: 'unique',
          table: table.production,
          ...('refused' in keys ? { columns: [], refused: keys.refused } : keys),
          nullsDistinct: !/NULLS NOT DISTINCT/.test(index.definition),
        },
        object: `${table.id}.${name}`,
        action: uniqueAction(index, table.id),
        at: locate.indexCreation(table.name, [name]),
      },
    ];
  });
}

function uniqueAction(index: Index, table: string): string {
  if (index.primary) return `PRIMARY KEY (${index.columns.join(', ')}) on ${table}`;
  return `unique index ${index.name} on ${table} (${index.columns.join(', ')})`;
}

function foreignKeyChecks(table: ChangedTable, locate: Locator): DataCheckSpec[] {
  return table.members('constraint', ['added', 'changed']).flatMap((name): DataCheckSpec[] => {
    const constraint = table.after.constraints[name];
    if (constraint?.type !== 'foreign key' || !constraint.validated || !constraint.references) return [];
    if (table.before.constraints[name]?.validated) return [];
    const columns = constraint.columns.map((column) => table.productionColumn(column));
    if (columns.some((c) => c === undefined)) return [];
    const referenced = referencedTable(constraint, table.tables);
    if (referenced === 'unknown') return [];
    return [
      {
        subject: {
          kind: 'foreign-key',
          table: table.production,
          columns: columns as string[],
          referenced,
          matchFull: / MATCH FULL/.test(constraint.definition),
        },
        object: `${table.id}.${name}`,
        action: `foreign key ${name} on ${table.id} (${constraint.columns.join(', ')}) → ${constraint.references.table}`,
        at: locate.latest(
          locate.constraintAddition(table.name, name, 'foreign key'),
          locate.alterCommand(
            table.name,
            (cmd) => cmd.subtype === 'AT_ValidateConstraint' && cmd.name === name,
          ),
        ),
      },
    ];
  });
}

/** The referenced table as production has it; undefined when the migrations create it. */
function referencedTable(
  constraint: Constraint,
  tables: TableNames,
): { table: ProductionTable; columns: string[] } | undefined | 'unknown' {
  const references = constraint.references;
  if (!references) return 'unknown';
  const production = tables.production(references.table);
  if (!production) return undefined;
  const columns = references.columns;
  if (!columns.every((column) => production.columns.some((c) => c.name === column))) return 'unknown';
  return { table: productionTable(production), columns };
}

function conversionChecks(table: ChangedTable, locate: Locator): DataCheckSpec[] {
  return table.change.members.flatMap((member): DataCheckSpec[] => {
    const type = member.attributes.find((a) => a.attribute === 'type');
    if (member.kind !== 'column' || !type) return [];
    const column = table.productionColumn(member.name);
    if (column === undefined) return [];
    const at = locate.columnTypeChange(table.name, member.name);
    const limit =
      enumToEnum(table.tables.input, String(type.before), String(type.after)) ??
      conversionLimit(member, String(type.before), String(type.after), at);
    if (!limit) return [];
    const object = `${table.id}.${member.name}`;
    return [
      {
        subject: { kind: 'conversion', table: table.production, column, limit },
        object,
        action: `${object} converted to ${limit.type}`,
        at,
      },
    ];
  });
}

/**
 * A CHECK constraint added (not NOT VALID) or validated: production's rows for which its
 * expression is false. The expression is the shadow's canonical text of it
 * (`pg_get_constraintdef`), rebuilt by check-expression.ts under production's column names.
 */
function checkConstraintChecks(table: ChangedTable, locate: Locator): DataCheckSpec[] {
  return table.members('constraint', ['added', 'changed']).flatMap((name): DataCheckSpec[] => {
    const constraint = table.after.constraints[name];
    if (constraint?.type !== 'check' || !constraint.validated) return [];
    const old = table.before.constraints[name];
    if (old?.validated && old.definition === constraint.definition) return [];
    const parts = /^CHECK (.*?)( NO INHERIT)?( NOT VALID)?$/s.exec(constraint.definition);
    if (!parts) return [];
    const object = `${table.id}.${name}`;
    // Every column the expression reads, as production names it (a new one: as the migrations do).
    const columns = new Set<string>();
    const expression = rebuildExpressionText(
      parts[1] as string,
      (column) => {
        const source = checkColumnSource(table, locate, column);
        columns.add(source && 'column' in source ? source.column : column);
        return source;
      },
      (schema, name) => productionEnum(table.tables.input, schema, name),
    );
    return [
      {
        subject: {
          kind: 'check',
          table: table.production,
          expression,
          columns: [...columns],
          ownRowsOnly: parts[2] !== undefined,
        },
        object,
        action: `CHECK ${name} on ${table.id}`,
        at: locate.latest(
          locate.constraintAddition(table.name, name, 'check'),
          locate.alterCommand(
            table.name,
            (cmd) => cmd.subtype === 'AT_ValidateConstraint' && cmd.name === name,
          ),
        ),
      },
    ];
  });
}

/**
 * An enum a CHECK casts to (`'void'::public.invoice_status`), when production has it under
 * that name and the migrations keep it an enum: written as production names it. Its input
 * function is PostgreSQL's own. Any other type of the app's is refused.
 */
function productionEnum(input: DeriveInput, schema: string, name: string): string | undefined {
  const isEnum = (model: SchemaModel) =>
    Object.values(model.types).some(
      (type) => type.kind === 'enum' && type.schema === schema && type.name === name,
    );
  return isEnum(input.before) && isEnum(input.after)
    ? `${quoteIdentifier(schema)}.${quoteIdentifier(name)}`
    : undefined;
}

/**
 * What a CHECK's column reads in production's rows: production's column, or, for a column the
 * migrations add, the value every existing row got when it was added (its ADD COLUMN's
 * default, cast to its type; NULL without one), or what keeps that from being told.
 */
function checkColumnSource(table: ChangedTable, locate: Locator, column: string): ColumnSource | undefined {
  const existing = table.productionColumn(column);
  if (existing !== undefined) return { column: existing };
  if (!isNew(table, column)) return undefined;
  const value = addedColumnValue(table, locate, column);
  return value !== undefined
    ? { value }
    : { unknown: `the new column ${column}, whose value in existing rows supagate cannot tell` };
}

/** The value an ADD COLUMN gives every existing row, rebuilt; undefined for one not rebuilt. */
function addedColumnValue(table: ChangedTable, locate: Locator, column: string): string | undefined {
  const added = locate.alterCommand(table.name, (cmd) => addsColumn(cmd, column));
  const def = alterTableCommands(added?.statement.tree ?? {}).find((cmd) => addsColumn(cmd, column))?.def
    ?.ColumnDef as { typeName?: unknown } | undefined;
  if (!def) return undefined;
  let value: unknown = { A_Const: { isnull: true } };
  for (const { constraint } of constraintsIn({ ColumnDef: def })) {
    if (constraint.contype === 'CONSTR_IDENTITY' || constraint.contype === 'CONSTR_GENERATED')
      return undefined;
    if (constraint.contype === 'CONSTR_DEFAULT') value = constraint.raw_expr;
  }
  const rebuilt = rebuildExpression({ TypeCast: { arg: value, typeName: def.typeName } }, () => undefined);
  return 'sql' in rebuilt ? rebuilt.sql : undefined;
}

/**
 * An enum type whose new definition lacks labels its old one had (recreated: renamed, created
 * again, the columns converted): production's rows that hold a removed label fail the
 * conversion. Each column of production that has the type is checked.
 */
function enumLabelChecks(input: DeriveInput, locate: Locator): DataCheckSpec[] {
  return input.diff.changes
    .filter((change) => change.kind === 'type' && change.action === 'changed')
    .flatMap((change) => {
      const before = input.before.types[change.id];
      const after = input.after.types[change.id];
      if (before?.kind !== 'enum' || after?.kind !== 'enum') return [];
      const removed = before.labels.filter((label) => !after.labels.includes(label));
      if (removed.length === 0) return [];
      return Object.entries(input.before.tables).flatMap(([id, table]) =>
        table.columns
          .filter((column) => column.type === change.id)
          .map(
            (column): DataCheckSpec => ({
              subject: {
                kind: 'conversion',
                table: productionTable(table),
                column: column.name,
                limit: { kind: 'enum-labels', type: change.id, removed },
              },
              object: `${id}.${column.name}`,
              action: `${id}.${column.name} converted to ${change.id} without ${removed.map((l) => `'${l}'`).join(', ')}`,
              at: locate.columnTypeChange({ schema: table.schema, name: table.name }, column.name),
            }),
          ),
      );
    });
}

/** A column moved from one enum type to another that lacks some of its labels. */
function enumToEnum(input: DeriveInput, from: string, to: string): ConversionLimit | undefined {
  const before = input.before.types[from];
  const after = input.after.types[to];
  if (before?.kind !== 'enum' || after?.kind !== 'enum') return undefined;
  const removed = before.labels.filter((label) => !after.labels.includes(label));
  return removed.length > 0 ? { kind: 'enum-labels', type: to, removed } : undefined;
}
