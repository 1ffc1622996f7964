import { aclParser } from './acl.js';
import { aggregateOf } from './aggregates.js';
import { assembleForeign, type ForeignColumnRow, type ForeignRows } from './introspect-foreign.js';
import {
  type DefaultPrivilegeRow,
  type ExtensionRow,
  type FunctionRow,
  type PublicationRow,
  type SchemaRow,
  type SequenceRow,
  type TypeRow,
  toType,
} from './introspect-objects.js';
import {
  type ColumnRow,
  type ConstraintRow,
  type IndexRow,
  type PolicyRow,
  type RelationRow,
  type TriggerRow,
  toConstraint,
  toIndex,
  toPolicy,
  toTrigger,
} from './introspect-relations.js';
import { assembleEventTriggers, type EventTriggerRow, type RuleRow, toRule } from './introspect-rules.js';
import { compareText, recordOf, sortedRecord } from './introspect-sql.js';
import { assembleCollations, type TypeRows, toRangeType } from './introspect-types.js';
import type {
  Bucket,
  Column,
  ColumnStorage,
  CronJob,
  DefaultPrivilege,
  Extension,
  Publication,
  Routine,
  Schema,
  SchemaModel,
  Sequence,
  Table,
  TypeDefinition,
  View,
  ViewColumn,
} from './model.js';

/*
 * Rows → model: the results of introspect()'s second and third round trips (introspect.ts)
 * assembled into the SchemaModel.
 */

/** The results of round trip 2, by the name of their query. */
export interface ObjectResults extends ForeignRows, TypeRows {
  schemas: SchemaRow[];
  extensions: ExtensionRow[];
  types: TypeRow[];
  sequences: SequenceRow[];
  relations: RelationRow[];
  functions: FunctionRow[];
  defaultPrivileges: DefaultPrivilegeRow[];
  publications: PublicationRow[];
  cronJobs: { job: Record<string, unknown> }[];
  buckets: { bucket: Record<string, unknown> }[];
  eventTriggers: EventTriggerRow[];
}

/** The results of round trip 3: the relations' members, by the name of their query. */
export interface MemberResults {
  columns: ColumnRow[];
  constraints: ConstraintRow[];
  indexes: IndexRow[];
  triggers: TriggerRow[];
  policies: PolicyRow[];
  rules: RuleRow[];
}

/** Groups member rows by their relation, in query order. */
function byRelation<R extends { relid: number }>(rows: R[] | undefined): Map<number, R[]> {
  const groups = new Map<number, R[]>();
  for (const row of rows ?? []) {
    const group = groups.get(row.relid);
    if (group) group.push(row);
    else groups.set(row.relid, [row]);
  }
  return groups;
}

const REPLICA_IDENTITY: Record<RelationRow['replica_identity'], Table['replicaIdentity']> = {
  d: 'default',
  n: 'nothing',
  f: 'full',
  i: 'index',
};

const ROUTINE_KINDS: Record<FunctionRow['kind'], Routine['kind']> = {
  f: 'function',
  p: 'procedure',
  a: 'aggregate',
  w: 'window',
};

const VOLATILITY: Record<FunctionRow['volatility'], Routine['volatility']> = {
  i: 'immutable',
  s: 'stable',
  v: 'volatile',
};

const PARALLEL: Record<FunctionRow['parallel'], Routine['parallel']> = {
  s: 'safe',
  r: 'restricted',
  u: 'unsafe',
};

const DEFAULT_ACL_TYPES: Record<string, DefaultPrivilege['objectType']> = {
  r: 'tables',
  S: 'sequences',
  f: 'functions',
  T: 'types',
  n: 'schemas',
};

const COLUMN_STORAGE: Record<NonNullable<ColumnRow['storage']>, ColumnStorage> = {
  p: 'plain',
  e: 'external',
  x: 'extended',
  m: 'main',
};

/** A table's or materialized view's reloptions (its TOAST table's as `toast.…`), sorted. */
function storageParameters(row: RelationRow): string[] {
  if (row.storage_parameters === null && row.toast_parameters === null) return [];
  return [...(row.storage_parameters ?? []), ...(row.toast_parameters ?? []).map((o) => `toast.${o}`)].sort(
    compareText,
  );
}

/** `{ [key]: list }` when the list has items, else nothing: optional attributes are absent at their default. */
function optionalList<K extends string>(key: K, list: string[]): { [P in K]?: string[] } {
  return (list.length > 0 ? { [key]: list } : {}) as { [P in K]?: string[] };
}

/** `{ [key]: record }` when the record has entries, else nothing. */
function optionalRecord<K extends string, T>(
  key: K,
  record: Record<string, T>,
): { [P in K]?: Record<string, T> } {
  return (Object.keys(record).length > 0 ? { [key]: record } : {}) as { [P in K]?: Record<string, T> };
}

function toCronJob(job: Record<string, unknown>): CronJob {
  const name = typeof job.jobname === 'string' && job.jobname !== '' ? job.jobname : `job-${job.jobid}`;
  return {
    name,
    schedule: String(job.schedule ?? ''),
    command: String(job.command ?? ''),
    database: String(job.database ?? ''),
    username: String(job.username ?? ''),
    // pg_cron before 1.3 has no `active` column: every job is active.
    active: job.active === undefined ? true : job.active === true,
  };
}

function toBucket(bucket: Record<string, unknown>): Bucket {
  const limit = bucket.file_size_limit;
  const mimeTypes = bucket.allowed_mime_types;
  return {
    id: String(bucket.id),
    name: String(bucket.name ?? bucket.id),
    public: bucket.public === true,
    fileSizeLimit: typeof limit === 'number' ? limit : typeof limit === 'string' ? Number(limit) : null,
    allowedMimeTypes: Array.isArray(mimeTypes) ? mimeTypes.map(String) : null,
  };
}

function compareDefaultPrivileges(a: DefaultPrivilege, b: DefaultPrivilege): number {
  if (a.role !== b.role) return compareText(a.role, b.role);
  if (a.schema !== b.schema) {
    if (a.schema === null) return -1;
    if (b.schema === null) return 1;
    return compareText(a.schema, b.schema);
  }
  return compareText(a.objectType, b.objectType);
}

export function assemble(
  serverVersion: number,
  objects: Partial<ObjectResults>,
  members: Partial<MemberResults>,
): SchemaModel {
  const grants = aclParser();
  const columns = byRelation(members.columns);
  const constraints = byRelation(members.constraints);
  const indexes = byRelation(members.indexes);
  const triggers = byRelation(members.triggers);
  const policies = byRelation(members.policies);
  const indexesOf = (relid: number) => recordOf((indexes.get(relid) ?? []).map(toIndex), (i) => i.name);
  const triggersOf = (relid: number) => recordOf((triggers.get(relid) ?? []).map(toTrigger), (t) => t.name);
  const rules = byRelation(members.rules);
  const rulesOf = (relid: number) => recordOf((rules.get(relid) ?? []).map(toRule), (r) => r.name);

  const tables: [string, Table][] = [];
  const views: [string, View][] = [];
  for (const row of objects.relations ?? []) {
    if (row.kind === 'v' || row.kind === 'm') {
      views.push([
        row.id,
        {
          schema: row.schema,
          name: row.name,
          kind: row.kind === 'm' ? 'materialized' : 'view',
          owner: row.owner,
          definition: row.definition ?? '',
          securityInvoker: row.security_invoker,
          securityBarrier: row.security_barrier,
          checkOption:
            row.check_option === 'local' || row.check_option === 'cascaded' ? row.check_option : null,
          comment: row.comment,
          columns: (columns.get(row.relid) ?? []).map(
            (c): ViewColumn => ({
              name: c.name,
              type: c.type,
              comment: c.comment,
              ...(c.default !== null ? { default: c.default } : {}),
            }),
          ),
          indexes: indexesOf(row.relid),
          ...optionalRecord('triggers', triggersOf(row.relid)),
          ...optionalRecord('rules', rulesOf(row.relid)),
          grants: grants(row.grants),
          populated: row.populated,
          ...optionalList('storageParameters', storageParameters(row)),
        },
      ]);
      continue;
    }
    tables.push([
      row.id,
      {
        schema: row.schema,
        name: row.name,
        kind: row.kind === 'p' ? 'partitioned' : 'table',
        owner: row.owner,
        managed: row.managed,
        rlsEnabled: row.rls_enabled,
        rlsForced: row.rls_forced,
        partitionKey: row.partition_key,
        partitionOf: row.partition_of,
        partitionBound: row.partition_bound,
        replicaIdentity: REPLICA_IDENTITY[row.replica_identity],
        // Of a managed table only RLS, policies, grants and the owner are read.
        ...(row.persistence === 'u' && !row.managed ? { persistence: 'unlogged' as const } : {}),
        ...optionalList('storageParameters', row.managed ? [] : storageParameters(row)),
        ...optionalList('inherits', row.managed ? [] : (row.inherits ?? [])),
        comment: row.managed ? null : row.comment,
        columns: (columns.get(row.relid) ?? []).map(
          (c): Column => ({
            name: c.name,
            type: c.type,
            notNull: c.not_null,
            default: c.default,
            identity: c.identity === 'a' ? 'always' : c.identity === 'd' ? 'by default' : null,
            generated: c.generated,
            collation: c.collation,
            comment: c.comment,
            grants: grants(c.grants),
            ...(c.statistics !== null ? { statistics: c.statistics } : {}),
            ...(c.storage !== null ? { storage: COLUMN_STORAGE[c.storage] } : {}),
            ...(c.inherited_from !== null && c.inherited_from.length > 0
              ? { inherited: { from: c.inherited_from, local: c.local } }
              : {}),
          }),
        ),
        constraints: recordOf((constraints.get(row.relid) ?? []).map(toConstraint), (c) => c.name),
        indexes: indexesOf(row.relid),
        triggers: triggersOf(row.relid),
        ...optionalRecord('rules', rulesOf(row.relid)),
        policies: recordOf(
          (policies.get(row.relid) ?? []).map((p) => toPolicy(p, row.id)),
          (p) => p.name,
        ),
        grants: grants(row.grants),
        // reltuples is -1 for a table never vacuumed or analyzed.
        stats: { estimatedRows: Math.max(0, Math.round(row.estimated_rows)), pages: row.pages },
      },
    ]);
  }

  const functions = (objects.functions ?? []).map((row): [string, Routine] => [
    row.id,
    {
      schema: row.schema,
      name: row.name,
      kind: ROUTINE_KINDS[row.kind],
      identityArguments: row.identity_arguments,
      arguments: row.arguments,
      returns: row.kind === 'p' ? null : row.returns,
      language: row.language,
      body: row.body ?? '',
      definition: row.definition,
      volatility: VOLATILITY[row.volatility],
      securityDefiner: row.security_definer,
      strict: row.strict,
      leakproof: row.leakproof,
      parallel: PARALLEL[row.parallel],
      config: row.config,
      owner: row.owner,
      comment: row.comment,
      grants: grants(row.grants),
      ...aggregateOf(row.kind === 'a' ? row.aggregate : null),
    },
  ]);

  const sequences = (objects.sequences ?? []).map((row): [string, Sequence] => [
    row.id,
    {
      schema: row.schema,
      name: row.name,
      owner: row.owner,
      dataType: row.data_type,
      start: row.start,
      increment: row.increment,
      min: row.min,
      max: row.max,
      cache: row.cache,
      cycle: row.cycle,
      ownedBy: row.owned_by,
      comment: row.comment,
      grants: grants(row.grants),
    },
  ]);

  const defaultPrivileges = (objects.defaultPrivileges ?? [])
    .flatMap((row): DefaultPrivilege[] => {
      const objectType = DEFAULT_ACL_TYPES[row.object_type];
      return objectType
        ? [{ role: row.role, schema: row.schema, objectType, grants: grants(row.grants) }]
        : [];
    })
    .sort(compareDefaultPrivileges);

  return {
    serverVersion,
    schemas: sortedRecord(
      (objects.schemas ?? []).map((row): [string, Schema] => [
        row.id,
        { name: row.name, owner: row.owner, comment: row.comment, grants: grants(row.grants) },
      ]),
    ),
    extensions: recordOf(
      (objects.extensions ?? []).map(
        (row): Extension => ({
          name: row.name,
          schema: row.schema,
          version: row.version,
          // Only when another version would be installed now (see Extension.defaultVersion).
          ...(row.default_version !== null && row.default_version !== row.version
            ? { defaultVersion: row.default_version }
            : {}),
        }),
      ),
      (e) => e.name,
    ),
    types: sortedRecord([
      ...(objects.types ?? []).map((row): [string, TypeDefinition] => [row.id, toType(row)]),
      ...(objects.rangeTypes ?? []).map((row): [string, TypeDefinition] => [row.id, toRangeType(row)]),
    ]),
    collations: assembleCollations(objects.collations),
    sequences: sortedRecord(sequences),
    tables: sortedRecord(tables),
    views: sortedRecord(views),
    functions: sortedRecord(functions),
    defaultPrivileges,
    publications: recordOf(
      (objects.publications ?? []).map(
        (row): Publication => ({
          name: row.name,
          allTables: row.all_tables,
          tables: [...new Set(row.tables)].sort(compareText),
          ...optionalRecord('columnLists', sortedRecord(Object.entries(row.column_lists ?? {}))),
          ...optionalRecord('rowFilters', sortedRecord(Object.entries(row.row_filters ?? {}))),
          operations: { insert: row.insert, update: row.update, delete: row.delete, truncate: row.truncate },
        }),
      ),
      (p) => p.name,
    ),
    cronJobs: recordOf(
      (objects.cronJobs ?? []).map((row) => toCronJob(row.job)),
      (j) => j.name,
    ),
    buckets: recordOf(
      (objects.buckets ?? []).map((row) => toBucket(row.bucket)),
      (b) => b.id,
    ),
    eventTriggers: assembleEventTriggers(objects.eventTriggers),
    ...assembleForeign(objects, grants, (relid) => ({
      columns: (columns.get(relid) ?? []) as ForeignColumnRow[],
      constraints: (constraints.get(relid) ?? []).map(toConstraint),
      triggers: triggersOf(relid),
    })),
  };
}
