import type { MemberChange, ObjectChange } from '../changes.js';
import type { Policy, Rule, Table } from '../model.js';
import { type AccessLevel, describeAccess } from '../rls.js';
import { type Hazard, type HazardInput, type HazardOptions, hazardAt, isLarge, rowsNote } from './hazard.js';
import type { Locator } from './locate.js';
import { lockEstimate } from './lock-estimate.js';
import { renameHazards } from './rename-hazards.js';
import { addedNotValid, notNullProvenBefore, notNullProvenInProduction } from './safe-patterns.js';
import { argumentCount } from './statement-match.js';
import type { QualifiedName } from './tree.js';
import { classifyTypeChange } from './type-change.js';

/**
 * Hazards read from the schema diff, so that a DROP SCHEMA … CASCADE still reports each table
 * it drops and a recognized rename is no drop; each located at the statement that causes it.
 */
export function objectHazards(input: HazardInput, options: HazardOptions, locate: Locator): Hazard[] {
  return [
    ...input.diff.changes.flatMap((change) => changeHazards(change, input, options, locate)),
    ...input.diff.changes.flatMap((change) => renameHazards(change, input, options, locate)),
    ...accessHazards(input, locate),
  ];
}

function changeHazards(
  change: ObjectChange,
  input: HazardInput,
  options: HazardOptions,
  locate: Locator,
): Hazard[] {
  if (change.kind === 'schema' && change.action === 'removed') {
    const name = input.before.schemas[change.id]?.name ?? change.id;
    return [
      hazardAt(
        'drop-schema',
        'blocking',
        `Schema ${change.id} is dropped with everything in it`,
        change.id,
        locate.schemaDrop(name),
      ),
    ];
  }
  if (change.kind === 'table' && change.action === 'removed') {
    const table = input.before.tables[change.id];
    const at = table ? locate.relationDrop(nameOf(table)) : undefined;
    return [
      hazardAt('drop-table', 'blocking', `Table ${change.id} is dropped${rowsNote(table)}`, change.id, at),
    ];
  }
  if (change.kind === 'table' && change.action === 'added') {
    const table = input.after.tables[change.id];
    if (table?.persistence !== 'unlogged') return [];
    return [
      hazardAt(
        'unlogged-table',
        'warning',
        `Table ${change.id} is created UNLOGGED: its rows are emptied after a crash and are not replicated (read replicas, logical replication, point-in-time recovery)`,
        change.id,
        locate.creation(nameOf(table)),
      ),
    ];
  }
  if (change.kind === 'table' && (change.action === 'changed' || change.action === 'renamed')) {
    const before = input.before.tables[change.renamedFrom ?? change.id];
    const after = input.after.tables[change.id];
    if (!before || !after) return [];
    const table: ChangedTable = { id: change.id, before, after, name: nameOf(after) };
    return [
      ...unloggedHazards(change, table, locate),
      ...rlsHazards(change, table, locate),
      ...change.members.flatMap((member) => memberHazards(member, table, options, locate)),
      ...writeRuleHazards(change, 'table', before.rules, after.rules, table.name, locate),
    ];
  }
  if (change.kind === 'view' && (change.action === 'changed' || change.action === 'renamed')) {
    const before = input.before.views[change.renamedFrom ?? change.id];
    const after = input.after.views[change.id];
    return [
      ...viewTriggerHazards(change, input, locate),
      ...(before && after
        ? writeRuleHazards(
            change,
            'view',
            before.rules,
            after.rules,
            { schema: after.schema, name: after.name },
            locate,
          )
        : []),
    ];
  }
  if (change.kind === 'event trigger' && change.action !== 'removed')
    return eventTriggerHazards(change, input, locate);
  if (change.kind === 'function' && change.action !== 'removed')
    return functionHazards(change.id, input, locate);
  return [];
}

interface ChangedTable {
  id: string;
  before: Table;
  after: Table;
  /** Its name after the migrations; the locator follows renames back. */
  name: QualifiedName;
}

/** A table made UNLOGGED (ALTER TABLE … SET UNLOGGED, or re-created so). */
function unloggedHazards(change: ObjectChange, table: ChangedTable, locate: Locator): Hazard[] {
  const made = change.attributes.some((a) => a.attribute === 'persistence' && a.after === 'unlogged');
  if (!made) return [];
  return [
    hazardAt(
      'unlogged-table',
      'warning',
      `Table ${table.id} is made UNLOGGED: its rows are emptied after a crash and no longer replicated (read replicas, logical replication, point-in-time recovery)${rowsNote(table.before)}`,
      table.id,
      locate.alterCommand(table.name, (cmd) => cmd.subtype === 'AT_SetUnLogged') ??
        locate.recreation(table.name),
    ),
  ];
}

/**
 * A rule on INSERT, UPDATE or DELETE added to, dropped from or changed on a table or view that
 * stays: what writes to it do changes (they are rewritten into other commands, or no longer).
 */
function writeRuleHazards(
  change: ObjectChange,
  kind: 'table' | 'view',
  before: Record<string, Rule> | undefined,
  after: Record<string, Rule> | undefined,
  name: QualifiedName,
  locate: Locator,
): Hazard[] {
  return change.members.flatMap((member) => {
    if (member.kind !== 'rule') return [];
    const was = before?.[member.renamedFrom ?? member.name];
    const is = after?.[member.name];
    const rule = is ?? was;
    if (!rule || (rule.event === 'SELECT' && (was?.event ?? 'SELECT') === 'SELECT')) return [];
    const does = (r: Rule) => `ON ${r.event} DO ${r.instead ? 'INSTEAD' : 'ALSO'}`;
    let message: string;
    if (member.action === 'added' && is) {
      message = `Rule "${member.name}" (${does(is)}) is added to ${kind} ${change.id}: ${is.event} on it ${is.instead ? 'no longer does what it did and runs' : 'also runs'} the rule's commands`;
    } else if (member.action === 'removed' && was) {
      message = `Rule "${member.name}" (${does(was)}) on ${kind} ${change.id} is dropped: ${was.event} on it no longer runs the rule's commands${was.instead ? ` (it acts on the ${kind} itself${kind === 'view' ? ', or fails' : ''})` : ''}`;
    } else {
      const attributes = member.attributes.map((a) => a.attribute);
      if (!attributes.some((a) => a === 'definition' || a === 'enabled' || a === 'event' || a === 'instead'))
        return [];
      message = `Rule "${member.name}" (${does(rule)}) on ${kind} ${change.id} changes (${attributes.join(', ')}): what ${rule.event} on it does changes`;
    }
    return [
      hazardAt(
        'write-rule-changed',
        'warning',
        message,
        `${change.id}.${member.name}`,
        locate.ruleChange(name, member.name),
      ),
    ];
  });
}

/**
 * An event trigger created or changed: it runs on every later DDL command of the database (of
 * its tags), whoever runs it. Creating one needs a superuser.
 */
function eventTriggerHazards(change: ObjectChange, input: HazardInput, locate: Locator): Hazard[] {
  const trigger = input.after.eventTriggers?.[change.id];
  if (!trigger) return [];
  if (change.action === 'changed' && change.attributes.every((a) => a.attribute === 'comment')) return [];
  const on = trigger.tags.length > 0 ? `every later ${trigger.tags.join(', ')}` : 'every later DDL command';
  const what =
    change.action === 'added'
      ? `is created: it runs ${trigger.function} on ${trigger.event} of ${on} in the database, whoever runs it. Creating an event trigger needs a superuser: on Supabase, where the postgres role is not one, the statement fails`
      : `changes (${change.attributes.map((a) => a.attribute).join(', ')}): it runs ${trigger.function} on ${trigger.event} of ${on} in the database, whoever runs it (altering one needs its owner, a superuser)`;
  return [
    hazardAt(
      'event-trigger-change',
      'warning',
      `Event trigger ${change.id} ${what}`,
      change.id,
      locate.eventTriggerChange(trigger.name),
    ),
  ];
}

/** An INSTEAD OF trigger dropped from a view that stays: INSERT/UPDATE/DELETE through the view no longer do what they did. */
function viewTriggerHazards(change: ObjectChange, input: HazardInput, locate: Locator): Hazard[] {
  const before = input.before.views[change.renamedFrom ?? change.id];
  const after = input.after.views[change.id];
  if (!before || !after) return [];
  const name = { schema: after.schema, name: after.name };
  return change.members.flatMap((member) => {
    if (member.kind !== 'trigger' || member.action !== 'removed') return [];
    const trigger = before.triggers?.[member.name];
    if (!trigger || !/\bINSTEAD OF\b/i.test(trigger.definition)) return [];
    return [
      hazardAt(
        'view-write-trigger-dropped',
        'warning',
        `INSTEAD OF trigger "${member.name}" on view ${change.id} is dropped: writes through the view no longer run ${trigger.function} (they fail, or go to the underlying table directly)`,
        `${change.id}.${member.name}`,
        locate.triggerDrop(name, member.name),
      ),
    ];
  });
}

function rlsHazards(change: ObjectChange, table: ChangedTable, locate: Locator): Hazard[] {
  const disabled = change.attributes.some(
    (a) => a.attribute === 'rlsEnabled' && a.before === true && a.after === false,
  );
  if (!disabled) return [];
  return [
    hazardAt(
      'rls-disabled',
      'blocking',
      `Row level security is disabled on ${table.id}: every row is readable by whoever has table privileges`,
      table.id,
      locate.rlsDisable(table.name),
    ),
  ];
}

function memberHazards(
  member: MemberChange,
  table: ChangedTable,
  options: HazardOptions,
  locate: Locator,
): Hazard[] {
  if (member.kind === 'column' && member.action === 'removed') {
    const type = table.before.columns.find((column) => column.name === member.name)?.type;
    return [
      hazardAt(
        'drop-column',
        'blocking',
        `Column ${table.id}.${member.name} is dropped with its data${rowsNote(table.before)}`,
        `${table.id}.${member.name}`,
        locate.columnDrop(table.name, member.name, type),
      ),
    ];
  }
  if (member.kind === 'column' && (member.action === 'changed' || member.action === 'renamed'))
    return [...typeHazards(member, table, locate), ...notNullHazards(member, table, options, locate)];
  if (member.kind === 'constraint' && member.action === 'added')
    return constraintHazards(member, table, locate);
  if (
    member.kind === 'policy' &&
    member.action === 'removed' &&
    !replacedUnderAnotherName(member.name, table)
  ) {
    return [
      hazardAt(
        'policy-dropped',
        'warning',
        `Policy "${member.name}" on ${table.id} is dropped`,
        `${table.id}.${member.name}`,
        locate.policyDrop(table.name, member.name),
      ),
    ];
  }
  return [];
}

function typeHazards(member: MemberChange, table: ChangedTable, locate: Locator): Hazard[] {
  const type = member.attributes.find((a) => a.attribute === 'type');
  if (!type) return [];
  const object = `${table.id}.${member.name}`;
  const at = locate.columnTypeChange(table.name, member.name);
  const conversion = classifyTypeChange(String(type.before), String(type.after));
  const hazards: Hazard[] = [];
  if (conversion === 'narrowing')
    hazards.push(
      hazardAt(
        'narrowing-type',
        'blocking',
        `Column ${object} narrows from ${type.before} to ${type.after}: values that do not fit fail or are cut`,
        object,
        at,
      ),
    );
  if (conversion === 'other')
    hazards.push(
      hazardAt(
        'lossy-type-change',
        'warning',
        `Column ${object} changes from ${type.before} to ${type.after}: check that every value converts`,
        object,
        at,
      ),
    );
  if (conversion !== 'binary-compatible' && table.before.stats.estimatedRows > 0)
    hazards.push({
      ...hazardAt(
        'table-rewrite',
        'warning',
        `Changing ${object} to ${type.after} rewrites ${table.id} under an ACCESS EXCLUSIVE lock${rowsNote(table.before)}`,
        object,
        at,
      ),
      lock: lockEstimate(table.before, table.id, 'rewrite', 'ACCESS EXCLUSIVE'),
    });
  return hazards;
}

function notNullHazards(
  member: MemberChange,
  table: ChangedTable,
  options: HazardOptions,
  locate: Locator,
): Hazard[] {
  const notNull = member.attributes.find((a) => a.attribute === 'notNull');
  const setsNotNull = notNull?.before === false && notNull.after === true;
  if (!setsNotNull || !isLarge(table.before, options)) return [];
  const object = `${table.id}.${member.name}`;
  const at = locate.notNullSet(table.name, member.name);
  const column = member.renamedFrom ?? member.name;
  if (notNullProvenBefore(locate.pending, table.name, column, at)) return [];
  if (notNullProvenInProduction(locate.pending, table.before, table.name, column, at)) return [];
  return [
    {
      ...hazardAt(
        'set-not-null',
        'warning',
        `SET NOT NULL on ${object} scans ${table.id} under an ACCESS EXCLUSIVE lock${rowsNote(table.before)}`,
        object,
        at,
      ),
      lock: lockEstimate(table.before, table.id, 'scan', 'ACCESS EXCLUSIVE'),
    },
  ];
}

function constraintHazards(member: MemberChange, table: ChangedTable, locate: Locator): Hazard[] {
  const constraint = table.after.constraints[member.name];
  if (table.before.stats.estimatedRows <= 0 || !constraint?.validated) return [];
  if (constraint.type !== 'foreign key' && constraint.type !== 'check') return [];
  const at = locate.constraintAddition(table.name, member.name, constraint.type);
  // Added NOT VALID: VALIDATE CONSTRAINT checks the rows later without blocking writes.
  if (addedNotValid(at, member.name)) return [];
  // ADD FOREIGN KEY takes SHARE ROW EXCLUSIVE (writes wait); ADD CHECK takes ACCESS EXCLUSIVE.
  const lock = constraint.type === 'foreign key' ? 'SHARE ROW EXCLUSIVE' : 'ACCESS EXCLUSIVE';
  return [
    {
      ...hazardAt(
        'constraint-validation',
        'warning',
        `Adding ${constraint.type} ${member.name} validates every row of ${table.id} while holding a lock${rowsNote(table.before)}; add it NOT VALID, then VALIDATE CONSTRAINT in a later migration`,
        `${table.id}.${member.name}`,
        at,
      ),
      lock: lockEstimate(table.before, table.id, 'scan', lock),
    },
  ];
}

/** A policy dropped while one with the same meaning appears on the table (a rename) is no loss. */
function replacedUnderAnotherName(name: string, table: ChangedTable): boolean {
  const old = table.before.policies[name];
  if (!old) return false;
  const meaning = (p: Policy) => JSON.stringify([p.command, p.permissive, p.roles, p.using, p.withCheck]);
  return Object.values(table.after.policies).some(
    (policy) => policy.name !== name && meaning(policy) === meaning(old),
  );
}

function functionHazards(id: string, input: HazardInput, locate: Locator): Hazard[] {
  const routine = input.after.functions[id];
  if (!routine?.securityDefiner || routine.config.some((c) => c.startsWith('search_path='))) return [];
  return [
    hazardAt(
      'security-definer-search-path',
      'warning',
      `SECURITY DEFINER function ${id} has no fixed search_path: a caller can shadow the objects it uses`,
      id,
      locate.functionDefinition(routine, argumentCount(routine.identityArguments)),
    ),
  ];
}

/** RLS access: any cell that grants more than before. */
function accessHazards(input: HazardInput, locate: Locator): Hazard[] {
  return input.access.flatMap((table) => {
    const before = input.before.tables[table.table];
    const after = input.after.tables[table.table];
    return table.cells
      .filter((cell) => cell.before && cell.after && widens(cell.before, cell.after))
      .map((cell) =>
        hazardAt(
          'access-widened',
          cell.role === 'anon' ? 'blocking' : 'warning',
          `${cell.role} can ${cell.command} ${describeAccess(cell.after as AccessLevel)} of ${table.table} (before: ${describeAccess(cell.before as AccessLevel)})`,
          table.table,
          before && after
            ? locate.accessWidening(nameOf(after), {
                role: cell.role,
                command: cell.command,
                privilegeHeld: before.grants.some(
                  (g) => (g.grantee === cell.role || g.grantee === 'PUBLIC') && g.privilege === cell.command,
                ),
                rlsWasOff: !before.rlsEnabled,
              })
            : undefined,
        ),
      );
  });
}

function widens(before: AccessLevel, after: AccessLevel): boolean {
  const rank = (level: AccessLevel) => (level.kind === 'none' ? 0 : level.kind === 'rows' ? 1 : 2);
  if (rank(after) > rank(before)) return true;
  return (
    before.kind === 'rows' &&
    after.kind === 'rows' &&
    before.expression !== after.expression &&
    after.expression.length > 0
  );
}

function nameOf(table: Table): QualifiedName {
  return { schema: table.schema, name: table.name };
}
