import { compareAggregates } from './aggregates.js';
import type { MemberChange, MemberKind } from './changes.js';
import type { GrantTarget } from './ddl.js';
import {
  COLUMN_DEFAULTS,
  type Context,
  compareAttributes,
  compareText,
  has,
  ROUTINE_PARTS,
  SKIP_FOREIGN_TABLE,
  SKIP_MEMBER,
  SKIP_POLICY,
  SKIP_ROUTINE,
  SKIP_TABLE,
  SKIP_USER_MAPPING,
  SKIP_VIEW,
  TABLE_DEFAULTS,
  VIEW_DEFAULTS,
  withDefaults,
} from './diff-attributes.js';
import { type Comparison, confirmedRenames } from './diff-records.js';
import type { Index, Routine, Table, View } from './model.js';
import type { ForeignTable, UserMapping } from './model-foreign.js';

// ---------------------------------------------------------------------------------------------
// Tables, views, functions

const MEMBER_ORDER: MemberKind[] = ['column', 'constraint', 'index', 'trigger', 'rule', 'policy'];

/** How to compare the members of one kind. */
interface MemberSpec {
  kind: MemberKind;
  skip: Set<string>;
  target: GrantTarget;
  /** Index and trigger definitions name their table: rewrite it after a rename. */
  namesTable: boolean;
  /** What optional attributes absent from the model mean. */
  defaults?: Record<string, unknown>;
}

const COLUMNS: MemberSpec = {
  kind: 'column',
  skip: SKIP_MEMBER,
  target: 'column',
  namesTable: false,
  defaults: COLUMN_DEFAULTS,
};
const CONSTRAINTS: MemberSpec = { kind: 'constraint', skip: SKIP_MEMBER, target: 'table', namesTable: false };
const INDEXES: MemberSpec = { kind: 'index', skip: SKIP_MEMBER, target: 'table', namesTable: true };
const TRIGGERS: MemberSpec = { kind: 'trigger', skip: SKIP_MEMBER, target: 'table', namesTable: true };
/** Rule definitions (pg_get_ruledef) name their table too. */
const RULES: MemberSpec = { kind: 'rule', skip: SKIP_MEMBER, target: 'table', namesTable: true };
const POLICIES: MemberSpec = { kind: 'policy', skip: SKIP_POLICY, target: 'table', namesTable: false };

/** A table or view renamed from `from` to `to`. */
interface Rename {
  from: string;
  to: string;
}

/** The relation's own rename (confirmed by diffRecords) and the column renames its hints name. */
function renamesOf(context: Context, id: string, renamedFrom: string | undefined) {
  return {
    rename: renamedFrom === undefined ? undefined : ({ from: renamedFrom, to: id } satisfies Rename),
    columnRenames: has(context.hints.columns, id) ? context.hints.columns[id] : undefined,
  };
}

export function compareTables(
  before: Table,
  after: Table,
  context: Context,
  id: string,
  renamedFrom?: string,
): Comparison {
  const { rename, columnRenames } = renamesOf(context, id, renamedFrom);
  const members: MemberChange[] = [];
  diffMembers(COLUMNS, keyed(before.columns), keyed(after.columns), columnRenames, context, rename, members);
  diffMembers(CONSTRAINTS, before.constraints, after.constraints, undefined, context, rename, members);
  diffMembers(INDEXES, before.indexes, after.indexes, undefined, context, rename, members);
  diffMembers(TRIGGERS, before.triggers, after.triggers, undefined, context, rename, members);
  diffMembers(RULES, before.rules ?? {}, after.rules ?? {}, undefined, context, rename, members);
  diffMembers(POLICIES, before.policies, after.policies, undefined, context, rename, members);
  return {
    attributes: withDefaults(compareAttributes(before, after, SKIP_TABLE, 'table', context), TABLE_DEFAULTS),
    members: sortMembers(
      inheritanceNoted(withoutAttachedToParent(members, before, after, context), before, after),
    ),
  };
}

/**
 * A partition's constraint or index that the migrations attached to a new one of its parent
 * (ALTER TABLE parent ADD PRIMARY KEY, CREATE INDEX ON parent, ALTER INDEX … ATTACH PARTITION
 * reuse the partition's own) still exists: it is only read as the parent's now (the model
 * leaves out a partition's copies of its parent's constraints and indexes). Not a removal.
 */
function withoutAttachedToParent(
  members: MemberChange[],
  before: Table,
  after: Table,
  context: Context,
): MemberChange[] {
  const parent = after.partitionOf === null ? undefined : context.after.tables[after.partitionOf];
  if (!parent || !members.some((m) => m.action === 'removed')) return members;
  const parentConstraints = Object.values(parent.constraints);
  const parentIndexes = Object.values(parent.indexes).map(indexShape);
  return members.filter((member) => {
    if (member.action !== 'removed') return true;
    if (member.kind === 'constraint') {
      const constraint = before.constraints[member.name];
      return !(
        constraint &&
        parentConstraints.some((c) => c.type === constraint.type && c.definition === constraint.definition)
      );
    }
    if (member.kind === 'index') {
      const index = before.indexes[member.name];
      return !(index && parentIndexes.includes(indexShape(index)));
    }
    return true;
  });
}

/** An index's definition without its name and table: what an index attached to a parent's has in common with it. */
function indexShape(index: Index): string {
  return `${index.unique}:${index.primary}:${index.definition.replace(/^CREATE (UNIQUE )?INDEX \S+ ON (ONLY )?\S+ /, '')}`;
}

/** A column added or removed that the table only inherits names the parents it comes from. */
function inheritanceNoted(members: MemberChange[], before: Table, after: Table): MemberChange[] {
  if (!before.inherits && !after.inherits) return members;
  for (const member of members) {
    if (member.kind !== 'column' || (member.action !== 'added' && member.action !== 'removed')) continue;
    const column = (member.action === 'added' ? after : before).columns.find((c) => c.name === member.name);
    if (column?.inherited && !column.inherited.local) member.inheritedFrom = column.inherited.from;
  }
  return members;
}

export function compareViews(
  before: View,
  after: View,
  context: Context,
  id: string,
  renamedFrom?: string,
): Comparison {
  const { rename, columnRenames } = renamesOf(context, id, renamedFrom);
  const members: MemberChange[] = [];
  diffMembers(COLUMNS, keyed(before.columns), keyed(after.columns), columnRenames, context, rename, members);
  diffMembers(INDEXES, before.indexes, after.indexes, undefined, context, rename, members);
  diffMembers(TRIGGERS, before.triggers ?? {}, after.triggers ?? {}, undefined, context, rename, members);
  diffMembers(RULES, before.rules ?? {}, after.rules ?? {}, undefined, context, rename, members);
  return {
    attributes: withDefaults(compareAttributes(before, after, SKIP_VIEW, 'table', context), VIEW_DEFAULTS),
    members: sortMembers(members),
  };
}

export function compareRoutines(before: Routine, after: Routine, context: Context): Comparison {
  const changes = compareAttributes(before, after, SKIP_ROUTINE, routineTarget(after), context);
  if (before.definition !== after.definition && !changes.some((c) => ROUTINE_PARTS.includes(c.attribute))) {
    changes.push({ attribute: 'definition', before: before.definition, after: after.definition });
  }
  changes.push(...compareAggregates(before, after));
  return { attributes: changes };
}

/**
 * A user mapping's option names (never their values: see UserMapping) are compared only when
 * both sides could read them: null is "not known", not "none".
 */
export function compareUserMappings(before: UserMapping, after: UserMapping, context: Context): Comparison {
  const attributes = compareAttributes(before, after, SKIP_USER_MAPPING, 'foreign server', context);
  return {
    attributes:
      before.optionNames === null || after.optionNames === null
        ? attributes.filter((change) => change.attribute !== 'optionNames')
        : attributes,
  };
}

/** A foreign table: its own attributes (server, options, owner, grants…), its columns, CHECK constraints and triggers. */
export function compareForeignTables(
  before: ForeignTable,
  after: ForeignTable,
  context: Context,
  id: string,
  renamedFrom?: string,
): Comparison {
  const { rename, columnRenames } = renamesOf(context, id, renamedFrom);
  const members: MemberChange[] = [];
  diffMembers(COLUMNS, keyed(before.columns), keyed(after.columns), columnRenames, context, rename, members);
  diffMembers(CONSTRAINTS, before.constraints, after.constraints, undefined, context, rename, members);
  diffMembers(TRIGGERS, before.triggers ?? {}, after.triggers ?? {}, undefined, context, rename, members);
  return {
    attributes: compareAttributes(before, after, SKIP_FOREIGN_TABLE, 'table', context),
    members: sortMembers(members),
  };
}

function routineTarget(routine: Routine): GrantTarget {
  return routine.kind === 'procedure' ? 'procedure' : 'function';
}

/**
 * After a rename, index and trigger definitions name the table by its new identity: the old
 * side's `ON old` is rewritten so that the rename alone is not reported as a definition change.
 */
function renamedDefinition(definition: string, rename: Rename): string {
  for (const on of ['ON ', 'ON ONLY ']) {
    const pattern = `${on}${rename.from} `;
    const at = definition.indexOf(pattern);
    if (at >= 0)
      return `${definition.slice(0, at)}${on}${rename.to} ${definition.slice(at + pattern.length)}`;
  }
  return definition;
}

function keyed<T extends { name: string }>(list: T[]): Record<string, T> {
  const record: Record<string, T> = Object.create(null);
  for (const item of list) record[item.name] = item;
  return record;
}

function diffMembers<T extends object>(
  spec: MemberSpec,
  before: Record<string, T>,
  after: Record<string, T>,
  renames: Record<string, string> | undefined,
  context: Context,
  rename: Rename | undefined,
  out: MemberChange[],
): void {
  const kind = spec.kind;
  const { renamedFrom, renamedAway } = confirmedRenames(before, after, renames);
  for (const name in before) {
    if (!has(after, name) && !renamedAway.has(name))
      out.push({ kind, name, action: 'removed', attributes: [] });
  }
  for (const name in after) {
    const oldName = renamedFrom.get(name);
    const key = oldName ?? name;
    if (!has(before, key)) {
      out.push({ kind, name, action: 'added', attributes: [] });
      continue;
    }
    let left = before[key] as T;
    if (rename && spec.namesTable) {
      const definition = (left as { definition?: unknown }).definition;
      if (typeof definition === 'string')
        left = { ...left, definition: renamedDefinition(definition, rename) };
    }
    let attributes = compareAttributes(left, after[name] as T, spec.skip, spec.target, context);
    if (spec.defaults && attributes.length > 0) attributes = withDefaults(attributes, spec.defaults);
    if (oldName !== undefined) out.push({ kind, name, action: 'renamed', renamedFrom: oldName, attributes });
    else if (attributes.length > 0) out.push({ kind, name, action: 'changed', attributes });
  }
}

function sortMembers(members: MemberChange[]): MemberChange[] {
  return members.sort((a, b) =>
    a.kind !== b.kind
      ? MEMBER_ORDER.indexOf(a.kind) - MEMBER_ORDER.indexOf(b.kind)
      : compareText(a.name, b.name),
  );
}
