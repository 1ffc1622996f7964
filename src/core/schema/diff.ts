import { qualifiedName, splitIdentity } from '../sql/identifiers.js';
import type { ObjectChange, ObjectKind, RenameHints, SchemaDiff } from './changes.js';
import { defaultPrivilegeId } from './ddl.js';
import {
  byKey,
  type Context,
  compareAttributes,
  compareGrants,
  DEFAULT_PRIVILEGE_TARGET,
  PUBLICATION_DEFAULTS,
  SKIP_BUCKET,
  SKIP_EXTENSION,
  SKIP_NAME,
  SKIP_NAMED,
  withDefaults,
} from './diff-attributes.js';
import { type Comparator, diffRecords } from './diff-records.js';
import {
  compareForeignTables,
  compareRoutines,
  compareTables,
  compareUserMappings,
  compareViews,
} from './diff-relations.js';
import { CATALOG_OBJECT_KINDS } from './kinds/catalog-kind.js';
import { CATALOG_KINDS } from './kinds/index.js';
import type { SchemaModel, View } from './model.js';

export { unifiedDiff } from './diff-records.js';

/**
 * Compares two schema models: what changes from `before` to `after`.
 *
 * - Attributes are the model's property names (`type`, `notNull`, `rlsEnabled`, `using`…),
 *   with the model's values, except grants: those are compared as sets of (grantee,
 *   privilege, grant option) and reported as short sorted lines (see grantSummary).
 * - Table size estimates (`stats`) are never a change.
 * - Renames are recognized only from hints (what the migrations' own RENAME statements say),
 *   never guessed; an identity that exists on both sides is never a rename target.
 * - DDL (and its unified diff) is computed only for the objects that change, so diffing is
 *   linear in the number of objects.
 */
export function diffSchemas(
  beforeModel: SchemaModel,
  afterModel: SchemaModel,
  hints?: RenameHints,
): SchemaDiff {
  const [before, after] = withManagedTablesOnBothSides(beforeModel, afterModel);
  const context: Context = {
    before,
    after,
    version: after.serverVersion || before.serverVersion,
    hints: normalizeHints(hints, after.serverVersion || before.serverVersion),
  };
  const byKind = new Map<ObjectKind, ObjectChange[]>();
  const add = <T>(
    kind: ObjectKind,
    left: Record<string, T>,
    right: Record<string, T>,
    compare: Comparator<T>,
    renames?: Record<string, string>,
  ) => {
    const changes: ObjectChange[] = [];
    diffRecords(context, kind, left, right, compare, renames, changes);
    byKind.set(kind, changes);
  };

  add('schema', before.schemas, after.schemas, (a, b, c) => ({
    attributes: compareAttributes(a, b, SKIP_NAMED, 'schema', c),
  }));
  add('extension', before.extensions, after.extensions, (a, b, c) => ({
    attributes: compareAttributes(a, b, SKIP_EXTENSION, 'schema', c),
  }));
  add(
    'foreign data wrapper',
    before.foreignDataWrappers ?? {},
    after.foreignDataWrappers ?? {},
    (a, b, c) => ({
      attributes: compareAttributes(a, b, SKIP_NAME, 'foreign data wrapper', c),
    }),
  );
  add('foreign server', before.foreignServers ?? {}, after.foreignServers ?? {}, (a, b, c) => ({
    attributes: compareAttributes(a, b, SKIP_NAME, 'foreign server', c),
  }));
  add('user mapping', before.userMappings ?? {}, after.userMappings ?? {}, compareUserMappings);
  add('collation', before.collations ?? {}, after.collations ?? {}, (a, b, c) => ({
    attributes: compareAttributes(a, b, SKIP_NAMED, 'type', c),
  }));
  add('type', before.types, after.types, (a, b, c) => ({
    attributes: compareAttributes(a, b, SKIP_NAMED, 'type', c),
  }));
  add('sequence', before.sequences, after.sequences, (a, b, c) => ({
    attributes: compareAttributes(a, b, SKIP_NAMED, 'sequence', c),
  }));
  add('table', before.tables, after.tables, compareTables, context.hints.relations);
  add(
    'foreign table',
    before.foreignTables ?? {},
    after.foreignTables ?? {},
    compareForeignTables,
    context.hints.relations,
  );
  add(
    'view',
    viewsOfKind(before.views, 'view'),
    viewsOfKind(after.views, 'view'),
    compareViews,
    context.hints.relations,
  );
  add(
    'materialized view',
    viewsOfKind(before.views, 'materialized'),
    viewsOfKind(after.views, 'materialized'),
    compareViews,
    context.hints.relations,
  );
  add('function', before.functions, after.functions, compareRoutines);
  add('event trigger', before.eventTriggers ?? {}, after.eventTriggers ?? {}, (a, b, c) => ({
    attributes: compareAttributes(a, b, SKIP_NAME, 'table', c),
  }));
  for (const catalogKind of CATALOG_KINDS) {
    const { identity, defaults } = catalogKind;
    add<unknown>(catalogKind.kind, before[catalogKind.key] ?? {}, after[catalogKind.key] ?? {}, (a, b, c) => {
      const attributes = byKey(
        compareAttributes(a as object, b as object, identity as Set<string>, 'type', c),
      );
      return { attributes: defaults ? withDefaults(attributes, defaults) : attributes };
    });
  }
  add(
    'default privileges',
    byDefaultPrivilegeId(before.defaultPrivileges),
    byDefaultPrivilegeId(after.defaultPrivileges),
    (a, b, c) => ({
      attributes: compareGrants(a.grants, b.grants, DEFAULT_PRIVILEGE_TARGET[b.objectType], c),
    }),
  );
  add('publication', before.publications, after.publications, (a, b, c) => ({
    attributes: withDefaults(compareAttributes(a, b, SKIP_NAMED, 'table', c), PUBLICATION_DEFAULTS),
  }));
  add('cron job', before.cronJobs, after.cronJobs, (a, b, c) => ({
    attributes: compareAttributes(a, b, SKIP_NAMED, 'table', c),
  }));
  add('bucket', before.buckets, after.buckets, (a, b, c) => ({
    attributes: compareAttributes(a, b, SKIP_BUCKET, 'table', c),
  }));
  byKind.set(
    'sequence',
    withoutOwnedSequences(byKind.get('sequence') ?? [], byKind.get('table') ?? [], context),
  );
  return { changes: KIND_ORDER.flatMap((kind) => byKind.get(kind) ?? []) };
}

const KIND_ORDER: ObjectKind[] = [
  'schema',
  'extension',
  'foreign data wrapper',
  'foreign server',
  'user mapping',
  'collation',
  'type',
  'sequence',
  'table',
  'foreign table',
  'view',
  'materialized view',
  'function',
  'event trigger',
  ...CATALOG_OBJECT_KINDS,
  'default privileges',
  'publication',
  'cron job',
  'bucket',
];

/**
 * A sequence OWNED BY a column (serial, identity) comes and goes with that column: when the
 * column (or its table) is added or removed, the sequence is part of that change and is not
 * reported again; when the column or table is renamed, neither is the sequence's new owner.
 */
function withoutOwnedSequences(
  sequences: ObjectChange[],
  tables: ObjectChange[],
  context: Context,
): ObjectChange[] {
  if (sequences.length === 0 || tables.length === 0) return sequences;
  const tableChanges = new Map(tables.map((change) => [change.id, change]));
  const columnGone = (ownedBy: string | null, action: 'added' | 'removed') => {
    const parts = ownedBy === null ? [] : splitIdentity(ownedBy);
    if (parts.length !== 3) return false;
    const [schema, table, column] = parts as [string, string, string];
    const change = tableChanges.get(qualifiedName(schema, table, context.version));
    if (!change) return false;
    if (change.action === action) return true;
    return change.members.some((m) => m.kind === 'column' && m.name === column && m.action === action);
  };
  const renamedOwner = (before: string | null, after: string | null) => {
    const from = before === null ? [] : splitIdentity(before);
    const to = after === null ? [] : splitIdentity(after);
    if (from.length !== 3 || to.length !== 3) return false;
    const change = tableChanges.get(qualifiedName(to[0] as string, to[1] as string, context.version));
    if (!change) return false;
    const table = change.renamedFrom ?? change.id;
    if (table !== qualifiedName(from[0] as string, from[1] as string, context.version)) return false;
    const column = change.members.find((m) => m.kind === 'column' && m.name === to[2]);
    return (column?.renamedFrom ?? to[2]) === from[2];
  };
  return sequences.filter((change) => {
    if (change.action === 'added')
      return !columnGone(context.after.sequences[change.id]?.ownedBy ?? null, 'added');
    if (change.action === 'removed')
      return !columnGone(context.before.sequences[change.id]?.ownedBy ?? null, 'removed');
    const only = change.attributes.length === 1 ? change.attributes[0] : undefined;
    return !(
      only?.attribute === 'ownedBy' && renamedOwner(only.before as string | null, only.after as string | null)
    );
  });
}

function viewsOfKind(views: Record<string, View>, kind: View['kind']): Record<string, View> {
  const selected: Record<string, View> = Object.create(null);
  for (const id of Object.keys(views)) {
    const view = views[id] as View;
    if (view.kind === kind) selected[id] = view;
  }
  return selected;
}

function byDefaultPrivilegeId<T extends SchemaModel['defaultPrivileges'][number]>(
  list: T[],
): Record<string, T> {
  const record: Record<string, T> = Object.create(null);
  for (const entry of list) record[defaultPrivilegeId(entry)] = entry;
  return record;
}

/** Re-quotes the hints' identities with the models' server version (its key-word list). */
function normalizeHints(hints: RenameHints | undefined, version: number): RenameHints {
  const requote = (identity: string) => {
    const parts = splitIdentity(identity);
    return parts.length === 2 ? qualifiedName(parts[0] as string, parts[1] as string, version) : identity;
  };
  const relations: Record<string, string> = Object.create(null);
  const columns: Record<string, Record<string, string>> = Object.create(null);
  for (const [to, from] of Object.entries(hints?.relations ?? {})) relations[requote(to)] = requote(from);
  for (const [table, renames] of Object.entries(hints?.columns ?? {})) columns[requote(table)] = renames;
  return { relations, columns };
}

/**
 * A managed table (auth.identities) is read only while the app has a trigger on it: on the
 * side without, it is the same table without triggers, so that adding or dropping the trigger
 * is a change of the table, never the table appearing or going.
 */
function withManagedTablesOnBothSides(before: SchemaModel, after: SchemaModel): [SchemaModel, SchemaModel] {
  const complete = (model: SchemaModel, other: SchemaModel): SchemaModel => {
    const missing = Object.entries(other.tables).filter(([id, table]) => table.managed && !model.tables[id]);
    if (missing.length === 0) return model;
    const tables = { ...model.tables };
    for (const [id, table] of missing) tables[id] = { ...table, triggers: {} };
    return { ...model, tables };
  };
  return [complete(before, after), complete(after, before)];
}
