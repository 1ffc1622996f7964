import { qualifiedName, quoteIdent } from '../sql/identifiers.js';
import { quoteLiteral } from '../sql/quote.js';
import { aggregateFunctionSignature, aggregateSignature, aggregateStatement } from './aggregates.js';
import type { ObjectKind } from './changes.js';
import { CATALOG_KINDS } from './kinds/index.js';
import type {
  Bucket,
  Collation,
  Column,
  Constraint,
  CronJob,
  DefaultPrivilege,
  EventTrigger,
  Extension,
  FdwOptions,
  ForeignDataWrapper,
  ForeignServer,
  ForeignTable,
  ForeignTableColumn,
  Grant,
  Index,
  Policy,
  Publication,
  Routine,
  Rule,
  Schema,
  SchemaModel,
  Sequence,
  Table,
  Trigger,
  TypeDefinition,
  UserMapping,
  View,
} from './model.js';
import { REDACTED, SECRET_OPTION } from './model.js';

/**
 * Normalized DDL of one top-level object of a SchemaModel: deterministic, readable SQL that
 * PostgreSQL accepts, written so that a change of one attribute changes one line (one column,
 * one policy clause, one grantee per line). It is what PR comments show before/after and diff;
 * it is not a migration (no DROP, no dependency order between objects).
 */
export function objectDdl(model: SchemaModel, kind: ObjectKind, id: string): string | null {
  const version = model.serverVersion;
  switch (kind) {
    case 'schema': {
      const schema = model.schemas[id];
      return schema ? schemaDdl(schema, version) : null;
    }
    case 'extension': {
      const extension = model.extensions[id];
      return extension ? extensionDdl(extension, version) : null;
    }
    case 'collation': {
      const collation = model.collations?.[id];
      return collation ? collationDdl(collation, version) : null;
    }
    case 'type': {
      const type = model.types[id];
      return type ? typeDdl(type, version) : null;
    }
    case 'sequence': {
      const sequence = model.sequences[id];
      return sequence ? sequenceDdl(sequence, version) : null;
    }
    case 'table': {
      const table = model.tables[id];
      return table ? tableDdl(table, version) : null;
    }
    case 'view':
    case 'materialized view': {
      const view = model.views[id];
      if (!view || (view.kind === 'materialized') !== (kind === 'materialized view')) return null;
      return viewDdl(view, version);
    }
    case 'function': {
      const routine = model.functions[id];
      return routine ? routineDdl(routine, version) : null;
    }
    case 'default privileges': {
      const entry = model.defaultPrivileges.find((d) => defaultPrivilegeId(d) === id);
      return entry ? defaultPrivilegeDdl(entry, version) : null;
    }
    case 'publication': {
      const publication = model.publications[id];
      return publication ? publicationDdl(publication, version) : null;
    }
    case 'cron job': {
      const job = model.cronJobs[id];
      return job ? cronJobDdl(job) : null;
    }
    case 'bucket': {
      const bucket = model.buckets[id];
      return bucket ? bucketDdl(bucket) : null;
    }
    case 'foreign data wrapper': {
      const wrapper = model.foreignDataWrappers?.[id];
      return wrapper ? foreignDataWrapperDdl(wrapper, version) : null;
    }
    case 'foreign server': {
      const server = model.foreignServers?.[id];
      return server ? foreignServerDdl(server, version) : null;
    }
    case 'user mapping': {
      const mapping = model.userMappings?.[id];
      return mapping ? userMappingDdl(mapping, version) : null;
    }
    case 'foreign table': {
      const table = model.foreignTables?.[id];
      return table ? foreignTableDdl(table, version) : null;
    }
    case 'event trigger': {
      const trigger = model.eventTriggers?.[id];
      return trigger ? eventTriggerDdl(trigger, version) : null;
    }
    default: {
      const catalogKind = CATALOG_KINDS.find((entry) => entry.kind === kind);
      const object = catalogKind ? model[catalogKind.key]?.[id] : undefined;
      return catalogKind && object !== undefined ? catalogKind.ddl(object, version) : null;
    }
  }
}

/** The identity of a default-privileges entry: `role:schema:objectType`, `*` for every schema. */
export function defaultPrivilegeId(entry: DefaultPrivilege): string {
  return `${quoteIdent(entry.role)}:${entry.schema === null ? '*' : quoteIdent(entry.schema)}:${entry.objectType}`;
}

// ---------------------------------------------------------------------------------------------
// Privileges

/** What privileges apply to, for ALL and for the GRANT … ON clause. */
export type GrantTarget =
  | 'table'
  | 'column'
  | 'sequence'
  | 'function'
  | 'procedure'
  | 'schema'
  | 'type'
  | 'foreign data wrapper'
  | 'foreign server';

const PRIVILEGE_ORDER = [
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'TRUNCATE',
  'REFERENCES',
  'TRIGGER',
  'MAINTAIN',
  'USAGE',
  'CREATE',
  'CONNECT',
  'TEMPORARY',
  'EXECUTE',
];

function allPrivileges(target: GrantTarget, serverVersion: number): string[] {
  switch (target) {
    case 'table': {
      const base = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'];
      return serverVersion === 0 || serverVersion >= 170000 ? [...base, 'MAINTAIN'] : base;
    }
    case 'column':
      return ['SELECT', 'INSERT', 'UPDATE', 'REFERENCES'];
    case 'sequence':
      return ['SELECT', 'UPDATE', 'USAGE'];
    case 'function':
    case 'procedure':
      return ['EXECUTE'];
    case 'schema':
      return ['USAGE', 'CREATE'];
    case 'type':
    case 'foreign data wrapper':
    case 'foreign server':
      return ['USAGE'];
  }
}

function comparePrivileges(a: string, b: string): number {
  const ia = PRIVILEGE_ORDER.indexOf(a);
  const ib = PRIVILEGE_ORDER.indexOf(b);
  if (ia !== ib) return (ia < 0 ? PRIVILEGE_ORDER.length : ia) - (ib < 0 ? PRIVILEGE_ORDER.length : ib);
  return a < b ? -1 : a > b ? 1 : 0;
}

interface GrantGroup {
  grantee: string;
  grantable: boolean;
  /** `ALL` when the grantee holds every privilege of the target (and there are at least four). */
  privileges: string;
}

/** Grants grouped per grantee (and grant option), sorted by grantee: one GRANT each. */
export function groupGrants(grants: Grant[], target: GrantTarget, serverVersion = 0): GrantGroup[] {
  const groups = new Map<string, { grantee: string; grantable: boolean; privileges: Set<string> }>();
  for (const grant of grants) {
    const key = `${grant.grantable ? 1 : 0}\u0000${grant.grantee}`;
    let group = groups.get(key);
    if (!group) {
      group = { grantee: grant.grantee, grantable: grant.grantable, privileges: new Set() };
      groups.set(key, group);
    }
    group.privileges.add(grant.privilege.toUpperCase());
  }
  const all = allPrivileges(target, serverVersion);
  return [...groups.values()]
    .sort((a, b) =>
      a.grantee === b.grantee ? Number(a.grantable) - Number(b.grantable) : a.grantee < b.grantee ? -1 : 1,
    )
    .map((group) => {
      const list = [...group.privileges].sort(comparePrivileges);
      const isAll =
        all.length >= 4 && all.every((p) => group.privileges.has(p)) && list.length === all.length;
      return {
        grantee: group.grantee,
        grantable: group.grantable,
        privileges: isAll ? 'ALL' : list.join(', '),
      };
    });
}

/**
 * Grants as short sorted lines, one per grantee (and grant option): `anon: SELECT`,
 * `authenticated: ALL`, `postgres: ALL WITH GRANT OPTION`. The form diffs report grants in.
 */
export function grantSummary(grants: Grant[], target: GrantTarget, serverVersion = 0): string[] {
  return groupGrants(grants, target, serverVersion).map(
    (g) => `${g.grantee}: ${g.privileges}${g.grantable ? ' WITH GRANT OPTION' : ''}`,
  );
}

function granteeSql(grantee: string, version: number): string {
  return grantee.toUpperCase() === 'PUBLIC' ? 'PUBLIC' : quoteIdent(grantee, version);
}

function grantStatements(grants: Grant[], target: GrantTarget, on: string, version: number): string[] {
  return groupGrants(grants, target, version).map(
    (g) =>
      `GRANT ${g.privileges} ON ${on} TO ${granteeSql(g.grantee, version)}${g.grantable ? ' WITH GRANT OPTION' : ''};`,
  );
}

function columnGrantStatements(
  table: string,
  columns: Pick<Column, 'name' | 'grants'>[],
  version: number,
): string[] {
  // grantee + grant option → privilege → columns (in column order)
  const groups = new Map<
    string,
    { grantee: string; grantable: boolean; privileges: Map<string, string[]> }
  >();
  for (const column of columns) {
    for (const grant of column.grants) {
      const key = `${grant.grantable ? 1 : 0}\u0000${grant.grantee}`;
      let group = groups.get(key);
      if (!group) {
        group = { grantee: grant.grantee, grantable: grant.grantable, privileges: new Map() };
        groups.set(key, group);
      }
      const privilege = grant.privilege.toUpperCase();
      const list = group.privileges.get(privilege) ?? [];
      if (!list.includes(column.name)) list.push(column.name);
      group.privileges.set(privilege, list);
    }
  }
  return [...groups.values()]
    .sort((a, b) =>
      a.grantee === b.grantee ? Number(a.grantable) - Number(b.grantable) : a.grantee < b.grantee ? -1 : 1,
    )
    .map((group) => {
      const privileges = [...group.privileges.entries()]
        .sort(([a], [b]) => comparePrivileges(a, b))
        .map(([privilege, cols]) => `${privilege} (${cols.map((c) => quoteIdent(c, version)).join(', ')})`);
      return `GRANT ${privileges.join(', ')} ON TABLE ${table} TO ${granteeSql(group.grantee, version)}${
        group.grantable ? ' WITH GRANT OPTION' : ''
      };`;
    });
}

// ---------------------------------------------------------------------------------------------
// Objects

type Block = string[];

function render(blocks: Block[]): string {
  return `${blocks
    .filter((block) => block.length > 0)
    .map((block) => block.join('\n'))
    .join('\n\n')}\n`;
}

function comment(on: string, text: string | null): string[] {
  return text === null ? [] : [`COMMENT ON ${on} IS ${quoteLiteral(text)};`];
}

function byName<T extends { name: string }>(record: Record<string, T>): T[] {
  return Object.values(record).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function schemaDdl(schema: Schema, v: number): string {
  const name = quoteIdent(schema.name, v);
  return render([
    [`CREATE SCHEMA ${name};`],
    [`ALTER SCHEMA ${name} OWNER TO ${quoteIdent(schema.owner, v)};`],
    grantStatements(schema.grants, 'schema', `SCHEMA ${name}`, v),
    comment(`SCHEMA ${name}`, schema.comment),
  ]);
}

function extensionDdl(extension: Extension, v: number): string {
  return render([
    [
      `CREATE EXTENSION ${quoteIdent(extension.name, v)} WITH SCHEMA ${quoteIdent(extension.schema, v)} VERSION ${quoteLiteral(extension.version)};`,
    ],
  ]);
}

function typeDdl(type: TypeDefinition, v: number): string {
  const name = qualifiedName(type.schema, type.name, v);
  switch (type.kind) {
    case 'enum': {
      const labels = type.labels.map(
        (label, i) => `    ${quoteLiteral(label)}${i < type.labels.length - 1 ? ',' : ''}`,
      );
      return render([
        labels.length > 0
          ? [`CREATE TYPE ${name} AS ENUM (`, ...labels, ');']
          : [`CREATE TYPE ${name} AS ENUM ();`],
        [`ALTER TYPE ${name} OWNER TO ${quoteIdent(type.owner, v)};`],
        comment(`TYPE ${name}`, type.comment),
      ]);
    }
    case 'domain': {
      const lines = [`CREATE DOMAIN ${name} AS ${type.baseType}`];
      if (type.collation) lines.push(`    COLLATE ${collationSql(type.collation, v)}`);
      if (type.default !== null) lines.push(`    DEFAULT ${type.default}`);
      if (type.notNull) lines.push('    NOT NULL');
      const checks = [...type.checks].sort((a, b) => (a.name < b.name ? -1 : 1));
      // CREATE DOMAIN does not take NOT VALID: such checks are added after.
      const notValid = (check: { definition: string }) => /\bNOT VALID$/i.test(check.definition);
      for (const check of checks.filter((c) => !notValid(c))) {
        lines.push(`    CONSTRAINT ${quoteIdent(check.name, v)} ${check.definition}`);
      }
      lines[lines.length - 1] += ';';
      for (const check of checks.filter(notValid)) {
        lines.push(`ALTER DOMAIN ${name} ADD CONSTRAINT ${quoteIdent(check.name, v)} ${check.definition};`);
      }
      return render([
        lines,
        [`ALTER DOMAIN ${name} OWNER TO ${quoteIdent(type.owner, v)};`],
        comment(`DOMAIN ${name}`, type.comment),
      ]);
    }
    case 'composite': {
      const attributes = type.attributes.map(
        (a, i) =>
          `    ${quoteIdent(a.name, v)} ${a.type}${a.collation ? ` COLLATE ${collationSql(a.collation, v)}` : ''}${
            i < type.attributes.length - 1 ? ',' : ''
          }`,
      );
      return render([
        attributes.length > 0
          ? [`CREATE TYPE ${name} AS (`, ...attributes, ');']
          : [`CREATE TYPE ${name} AS ();`],
        [`ALTER TYPE ${name} OWNER TO ${quoteIdent(type.owner, v)};`],
        comment(`TYPE ${name}`, type.comment),
      ]);
    }
    case 'range': {
      const options = [`SUBTYPE = ${type.subtype}`];
      if (type.subtypeOpclass) options.push(`SUBTYPE_OPCLASS = ${type.subtypeOpclass}`);
      if (type.collation) options.push(`COLLATION = ${collationSql(type.collation, v)}`);
      if (type.canonical) options.push(`CANONICAL = ${type.canonical}`);
      if (type.subtypeDiff) options.push(`SUBTYPE_DIFF = ${type.subtypeDiff}`);
      if (type.multirange) options.push(`MULTIRANGE_TYPE_NAME = ${type.multirange}`);
      return render([
        [
          `CREATE TYPE ${name} AS RANGE (`,
          ...options.map((option, i) => `    ${option}${i < options.length - 1 ? ',' : ''}`),
          ');',
        ],
        [`ALTER TYPE ${name} OWNER TO ${quoteIdent(type.owner, v)};`],
        comment(`TYPE ${name}`, type.comment),
      ]);
    }
  }
}

/** CREATE COLLATION with every option spelled out (deterministic too), so one differing option is one line. */
function collationDdl(collation: Collation, v: number): string {
  const name = qualifiedName(collation.schema, collation.name, v);
  const options = [`provider = ${collation.provider}`];
  if (collation.locale !== null) options.push(`locale = ${quoteLiteral(collation.locale)}`);
  if (collation.lcCollate !== null) options.push(`lc_collate = ${quoteLiteral(collation.lcCollate)}`);
  if (collation.lcCtype !== null) options.push(`lc_ctype = ${quoteLiteral(collation.lcCtype)}`);
  options.push(`deterministic = ${collation.deterministic}`);
  if (collation.rules !== undefined) options.push(`rules = ${quoteLiteral(collation.rules)}`);
  return render([
    [
      `CREATE COLLATION ${name} (`,
      ...options.map((option, i) => `    ${option}${i < options.length - 1 ? ',' : ''}`),
      ');',
    ],
    [`ALTER COLLATION ${name} OWNER TO ${quoteIdent(collation.owner, v)};`],
    comment(`COLLATION ${name}`, collation.comment),
  ]);
}

function sequenceDdl(sequence: Sequence, v: number): string {
  const name = qualifiedName(sequence.schema, sequence.name, v);
  return render([
    [
      `CREATE SEQUENCE ${name}`,
      `    AS ${sequence.dataType}`,
      `    START WITH ${sequence.start}`,
      `    INCREMENT BY ${sequence.increment}`,
      `    MINVALUE ${sequence.min}`,
      `    MAXVALUE ${sequence.max}`,
      `    CACHE ${sequence.cache}`,
      `    ${sequence.cycle ? 'CYCLE' : 'NO CYCLE'};`,
    ],
    [
      ...(sequence.ownedBy ? [`ALTER SEQUENCE ${name} OWNED BY ${sequence.ownedBy};`] : []),
      `ALTER SEQUENCE ${name} OWNER TO ${quoteIdent(sequence.owner, v)};`,
    ],
    grantStatements(sequence.grants, 'sequence', `SEQUENCE ${name}`, v),
    comment(`SEQUENCE ${name}`, sequence.comment),
  ]);
}

/** Collations come as names (`C`) or already quoted (`"C"`, `pg_catalog."C"`). */
function collationSql(collation: string, v: number): string {
  return collation.includes('"') || collation.includes('.') ? collation : quoteIdent(collation, v);
}

function columnSql(column: Column, v: number): string {
  let sql = `${quoteIdent(column.name, v)} ${column.type}`;
  if (column.collation) sql += ` COLLATE ${collationSql(column.collation, v)}`;
  if (column.identity) sql += ` GENERATED ${column.identity.toUpperCase()} AS IDENTITY`;
  if (column.generated !== null) sql += ` GENERATED ALWAYS AS (${column.generated}) STORED`;
  if (column.default !== null && column.generated === null) sql += ` DEFAULT ${column.default}`;
  if (column.notNull) sql += ' NOT NULL';
  return sql;
}

const CONSTRAINT_ORDER: Record<Constraint['type'], number> = {
  'primary key': 0,
  unique: 1,
  exclusion: 2,
  check: 3,
  'foreign key': 4,
};

function constraintSql(constraint: Constraint, v: number): string {
  let definition = constraint.definition;
  // pg_get_constraintdef() already says DEFERRABLE and NOT VALID; hand-written models may not.
  if (constraint.deferrable && !/\bDEFERRABLE\b/i.test(definition)) {
    definition += constraint.initiallyDeferred ? ' DEFERRABLE INITIALLY DEFERRED' : ' DEFERRABLE';
  }
  if (!constraint.validated && !/\bNOT VALID\b/i.test(definition)) definition += ' NOT VALID';
  return `CONSTRAINT ${quoteIdent(constraint.name, v)} ${definition}`;
}

function statement(definition: string): string {
  const trimmed = definition.trimEnd();
  return trimmed.endsWith(';') ? trimmed : `${trimmed};`;
}

function indexStatements(
  indexes: Index[],
  v: number,
  schema: string,
): { create: string[]; comments: string[] } {
  const create: string[] = [];
  const comments: string[] = [];
  for (const index of indexes) {
    create.push(index.valid ? statement(index.definition) : `${statement(index.definition)} -- INVALID`);
    comments.push(...comment(`INDEX ${qualifiedName(schema, index.name, v)}`, index.comment));
  }
  return { create, comments };
}

/** CREATE TRIGGER (pg_get_triggerdef) and, when not enabled as by default, ALTER TABLE (`alter`) … DISABLE/ENABLE … TRIGGER. */
function triggerStatements(table: string, triggers: Trigger[], v: number, alter = 'TABLE'): string[] {
  const lines: string[] = [];
  for (const trigger of triggers) {
    lines.push(statement(trigger.definition));
    const name = quoteIdent(trigger.name, v);
    const on = `ALTER ${alter} ${table}`;
    if (trigger.enabled === 'disabled') lines.push(`${on} DISABLE TRIGGER ${name};`);
    if (trigger.enabled === 'replica') lines.push(`${on} ENABLE REPLICA TRIGGER ${name};`);
    if (trigger.enabled === 'always') lines.push(`${on} ENABLE ALWAYS TRIGGER ${name};`);
  }
  return lines;
}

/** CREATE RULE (pg_get_ruledef) and, when not enabled as by default, ALTER TABLE … DISABLE/ENABLE … RULE. */
function ruleStatements(table: string, rules: Rule[], v: number): string[] {
  const lines: string[] = [];
  for (const rule of rules) {
    lines.push(statement(rule.definition));
    const name = quoteIdent(rule.name, v);
    if (rule.enabled === 'disabled') lines.push(`ALTER TABLE ${table} DISABLE RULE ${name};`);
    if (rule.enabled === 'replica') lines.push(`ALTER TABLE ${table} ENABLE REPLICA RULE ${name};`);
    if (rule.enabled === 'always') lines.push(`ALTER TABLE ${table} ENABLE ALWAYS RULE ${name};`);
  }
  return lines;
}

function eventTriggerDdl(trigger: EventTrigger, v: number): string {
  const name = quoteIdent(trigger.name, v);
  const create = [`CREATE EVENT TRIGGER ${name} ON ${quoteIdent(trigger.event, v)}`];
  if (trigger.tags.length > 0) create.push(`    WHEN TAG IN (${trigger.tags.map(quoteLiteral).join(', ')})`);
  create.push(`    EXECUTE FUNCTION ${trigger.function};`);
  const enabled =
    trigger.enabled === 'disabled'
      ? [`ALTER EVENT TRIGGER ${name} DISABLE;`]
      : trigger.enabled === 'replica'
        ? [`ALTER EVENT TRIGGER ${name} ENABLE REPLICA;`]
        : trigger.enabled === 'always'
          ? [`ALTER EVENT TRIGGER ${name} ENABLE ALWAYS;`]
          : [];
  return render([
    create,
    enabled,
    [`ALTER EVENT TRIGGER ${name} OWNER TO ${quoteIdent(trigger.owner, v)};`],
    comment(`EVENT TRIGGER ${name}`, trigger.comment),
  ]);
}

function policyStatement(table: string, policy: Policy, v: number): string {
  const lines = [
    `CREATE POLICY ${quoteIdent(policy.name, v)} ON ${table}`,
    `    AS ${policy.permissive ? 'PERMISSIVE' : 'RESTRICTIVE'}`,
    `    FOR ${policy.command}`,
    `    TO ${(policy.roles.length > 0 ? policy.roles : ['PUBLIC']).map((r) => granteeSql(r, v)).join(', ')}`,
  ];
  if (policy.using !== null) lines.push(`    USING (${policy.using})`);
  if (policy.withCheck !== null) lines.push(`    WITH CHECK (${policy.withCheck})`);
  lines[lines.length - 1] += ';';
  return lines.join('\n');
}

function tableDdl(table: Table, v: number): string {
  const name = qualifiedName(table.schema, table.name, v);
  const rls = [
    ...(table.rlsEnabled ? [`ALTER TABLE ${name} ENABLE ROW LEVEL SECURITY;`] : []),
    ...(table.rlsForced ? [`ALTER TABLE ${name} FORCE ROW LEVEL SECURITY;`] : []),
  ];
  const policies = byName(table.policies).map((p) => policyStatement(name, p, v));
  const grants = [
    ...grantStatements(table.grants, 'table', `TABLE ${name}`, v),
    ...columnGrantStatements(name, table.columns, v),
  ];
  if (table.managed) {
    return render([
      [
        `-- ${name} is managed by Supabase: only its row level security, policies, grants and the app's triggers are shown.`,
      ],
      rls,
      policies,
      grants,
      triggerStatements(name, byName(table.triggers), v),
    ]);
  }
  const rules = byName(table.rules ?? {});

  const constraints = Object.values(table.constraints).sort((a, b) =>
    CONSTRAINT_ORDER[a.type] !== CONSTRAINT_ORDER[b.type]
      ? CONSTRAINT_ORDER[a.type] - CONSTRAINT_ORDER[b.type]
      : a.name < b.name
        ? -1
        : 1,
  );
  // A column only inherited comes with INHERITS: it is not declared again.
  const own = table.columns.filter((c) => c.inherited === undefined || c.inherited.local);
  const body = [
    ...own.map((c) => columnSql(c, v)),
    ...constraints.filter((c) => c.validated).map((c) => constraintSql(c, v)),
  ];
  const create =
    body.length === 0
      ? [`CREATE TABLE ${name} ()`]
      : [
          `CREATE TABLE ${name} (`,
          ...body.map((line, i) => `    ${line}${i < body.length - 1 ? ',' : ''}`),
          ')',
        ];
  if (table.inherits && table.inherits.length > 0) create.push(`INHERITS (${table.inherits.join(', ')})`);
  if (table.partitionKey) {
    create.push(
      /^PARTITION BY /i.test(table.partitionKey) ? table.partitionKey : `PARTITION BY ${table.partitionKey}`,
    );
  }
  create[create.length - 1] += ';';
  // CREATE TABLE ignores NOT VALID (a new table has no rows): such constraints are added after.
  for (const c of constraints.filter((c) => !c.validated)) {
    create.push(`ALTER TABLE ${name} ADD ${constraintSql(c, v)};`);
  }
  if (table.partitionOf) {
    create.push(
      `ALTER TABLE ONLY ${table.partitionOf} ATTACH PARTITION ${name} ${table.partitionBound ?? 'DEFAULT'};`,
    );
  }

  const inherited = table.columns
    .filter((c) => c.inherited !== undefined)
    .map(
      (c) =>
        `-- ${quoteIdent(c.name, v)} ${c.type}: inherited from ${c.inherited?.from.join(', ')}${c.inherited?.local ? ' (also declared here)' : ''}`,
    );
  const physical = [
    ...(table.persistence === 'unlogged' ? [`ALTER TABLE ${name} SET UNLOGGED;`] : []),
    ...storageParameterStatements(`TABLE ${name}`, table.storageParameters),
    ...table.columns.flatMap((c) => columnStorageStatements(name, c, v)),
  ];
  const replica =
    table.replicaIdentity === 'full' || table.replicaIdentity === 'nothing'
      ? [`ALTER TABLE ${name} REPLICA IDENTITY ${table.replicaIdentity.toUpperCase()};`]
      : table.replicaIdentity === 'index'
        ? [`-- ALTER TABLE ${name} REPLICA IDENTITY USING INDEX …;`]
        : [];
  const indexes = indexStatements(
    byName(table.indexes).filter((index) => index.constraint === null),
    v,
    table.schema,
  );
  const comments = [
    ...comment(`TABLE ${name}`, table.comment),
    ...table.columns.flatMap((c) => comment(`COLUMN ${name}.${quoteIdent(c.name, v)}`, c.comment)),
    ...byName(table.constraints).flatMap((c) =>
      comment(`CONSTRAINT ${quoteIdent(c.name, v)} ON ${name}`, c.comment),
    ),
    ...indexes.comments,
    ...byName(table.triggers).flatMap((t) =>
      comment(`TRIGGER ${quoteIdent(t.name, v)} ON ${name}`, t.comment),
    ),
    ...rules.flatMap((r) => comment(`RULE ${quoteIdent(r.name, v)} ON ${name}`, r.comment)),
    ...byName(table.policies).flatMap((p) =>
      comment(`POLICY ${quoteIdent(p.name, v)} ON ${name}`, p.comment),
    ),
  ];
  return render([
    create,
    inherited,
    physical,
    [...rls, ...replica],
    indexes.create,
    triggerStatements(name, byName(table.triggers), v),
    ruleStatements(name, rules, v),
    policies,
    [`ALTER TABLE ${name} OWNER TO ${quoteIdent(table.owner, v)};`],
    grants,
    comments,
  ]);
}

/** `ALTER … SET (name = value);`, one per storage parameter (`fillfactor=70`, `toast.autovacuum_enabled=false`). */
function storageParameterStatements(on: string, parameters: string[] | undefined): string[] {
  return (parameters ?? []).map((parameter) => {
    const at = parameter.indexOf('=');
    const key = at < 0 ? parameter : parameter.slice(0, at);
    const value = at < 0 ? 'true' : parameter.slice(at + 1);
    return `ALTER ${on} SET (${key} = ${/^[A-Za-z0-9_.+-]+$/.test(value) ? value : quoteLiteral(value)});`;
  });
}

/** SET STATISTICS and SET STORAGE of a column that has them. */
function columnStorageStatements(table: string, column: Column, v: number): string[] {
  const alter = `ALTER TABLE ${table} ALTER COLUMN ${quoteIdent(column.name, v)}`;
  return [
    ...(column.statistics !== undefined ? [`${alter} SET STATISTICS ${column.statistics};`] : []),
    ...(column.storage !== undefined ? [`${alter} SET STORAGE ${column.storage.toUpperCase()};`] : []),
  ];
}

function viewDdl(view: View, v: number): string {
  const name = qualifiedName(view.schema, view.name, v);
  const query = view.definition.trimEnd().replace(/;+$/, '').trimEnd();
  const create: string[] = [];
  if (view.kind === 'materialized') {
    create.push(`CREATE MATERIALIZED VIEW ${name} AS`, query);
    create.push(view.populated ? 'WITH DATA;' : 'WITH NO DATA;');
  } else {
    const options = [`security_invoker=${view.securityInvoker}`, `security_barrier=${view.securityBarrier}`];
    if (view.checkOption) options.push(`check_option=${view.checkOption}`);
    create.push(`CREATE VIEW ${name} WITH (${options.join(', ')}) AS`, `${query};`);
  }
  const indexes = indexStatements(byName(view.indexes), v, view.schema);
  const keyword = view.kind === 'materialized' ? 'MATERIALIZED VIEW' : 'VIEW';
  const triggers = byName(view.triggers ?? {});
  const rules = byName(view.rules ?? {});
  return render([
    create,
    [
      ...view.columns.flatMap((c) =>
        c.default === undefined
          ? []
          : [`ALTER VIEW ${name} ALTER COLUMN ${quoteIdent(c.name, v)} SET DEFAULT ${c.default};`],
      ),
      ...storageParameterStatements(`${keyword} ${name}`, view.storageParameters),
    ],
    indexes.create,
    triggerStatements(name, triggers, v),
    ruleStatements(name, rules, v),
    [`ALTER ${keyword} ${name} OWNER TO ${quoteIdent(view.owner, v)};`],
    grantStatements(view.grants, 'table', `TABLE ${name}`, v),
    [
      ...comment(`${keyword} ${name}`, view.comment),
      ...view.columns.flatMap((c) => comment(`COLUMN ${name}.${quoteIdent(c.name, v)}`, c.comment)),
      ...indexes.comments,
      ...triggers.flatMap((t) => comment(`TRIGGER ${quoteIdent(t.name, v)} ON ${name}`, t.comment)),
      ...rules.flatMap((r) => comment(`RULE ${quoteIdent(r.name, v)} ON ${name}`, r.comment)),
    ],
  ]);
}

function dollarQuote(body: string): string {
  let tag = '$function$';
  for (let n = 1; body.includes(tag); n++) tag = `$function${n}$`;
  return `${tag}${body}${tag}`;
}

function configSql(entry: string, v: number): string {
  const at = entry.indexOf('=');
  if (at < 0) return `SET ${entry}`;
  const key = entry.slice(0, at);
  const value = entry.slice(at + 1);
  return `SET ${quoteIdent(key, v)} TO ${value === '""' ? "''" : quoteLiteral(value)}`;
}

function routineDdl(routine: Routine, v: number): string {
  const name = qualifiedName(routine.schema, routine.name, v);
  const aggregate = routine.kind === 'aggregate';
  const signature = aggregate ? aggregateSignature(name, routine) : `${name}(${routine.identityArguments})`;
  const keyword = routine.kind === 'procedure' ? 'PROCEDURE' : aggregate ? 'AGGREGATE' : 'FUNCTION';
  let create: string[];
  if (routine.definition !== null) {
    create = [statement(routine.definition)];
  } else if (aggregate) {
    create = [
      routine.aggregate
        ? aggregateStatement(signature, routine, routine.aggregate)
        : `-- CREATE AGGREGATE ${signature} (its definition is not part of the model)`,
    ];
  } else {
    const lines = [
      `CREATE OR REPLACE ${keyword} ${qualifiedName(routine.schema, routine.name, v)}(${routine.arguments})`,
    ];
    if (routine.returns !== null) lines.push(` RETURNS ${routine.returns}`);
    lines.push(` LANGUAGE ${routine.language}`);
    const traits: string[] = [];
    if (routine.kind !== 'procedure') {
      if (routine.kind === 'window') traits.push('WINDOW');
      if (routine.volatility !== 'volatile') traits.push(routine.volatility.toUpperCase());
      if (routine.strict) traits.push('STRICT');
    }
    if (routine.securityDefiner) traits.push('SECURITY DEFINER');
    if (routine.kind !== 'procedure') {
      if (routine.leakproof) traits.push('LEAKPROOF');
      if (routine.parallel !== 'unsafe') traits.push(`PARALLEL ${routine.parallel.toUpperCase()}`);
    }
    if (traits.length > 0) lines.push(` ${traits.join(' ')}`);
    for (const entry of routine.config) lines.push(` ${configSql(entry, v)}`);
    lines.push(`AS ${dollarQuote(routine.body)};`);
    create = [lines.join('\n')];
  }
  const target: GrantTarget = routine.kind === 'procedure' ? 'procedure' : 'function';
  // GRANT … ON FUNCTION takes an aggregate's argument types as one list (no ORDER BY, no `*`).
  const on = `${routine.kind === 'procedure' ? 'PROCEDURE' : 'FUNCTION'} ${aggregate ? aggregateFunctionSignature(name, routine) : signature}`;
  // PUBLIC may execute a new function: say so when it has been taken away.
  const publicExecute = routine.grants.some(
    (g) => g.grantee.toUpperCase() === 'PUBLIC' && g.privilege.toUpperCase() === 'EXECUTE',
  );
  return render([
    create,
    [`ALTER ${keyword} ${signature} OWNER TO ${quoteIdent(routine.owner, v)};`],
    [
      ...(publicExecute ? [] : [`REVOKE ALL ON ${on} FROM PUBLIC;`]),
      ...grantStatements(routine.grants, target, on, v),
    ],
    comment(`${keyword} ${signature}`, routine.comment),
  ]);
}

const DEFAULT_PRIVILEGE_TARGET: Record<DefaultPrivilege['objectType'], GrantTarget> = {
  tables: 'table',
  sequences: 'sequence',
  functions: 'function',
  types: 'type',
  schemas: 'schema',
};

function defaultPrivilegeDdl(entry: DefaultPrivilege, v: number): string {
  const head = `ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(entry.role, v)}${
    entry.schema === null ? '' : ` IN SCHEMA ${quoteIdent(entry.schema, v)}`
  }`;
  const objects = entry.objectType.toUpperCase();
  const groups = groupGrants(entry.grants, DEFAULT_PRIVILEGE_TARGET[entry.objectType], v);
  if (groups.length === 0) return render([[`-- ${head}: no privileges on new ${entry.objectType}`]]);
  return render([
    groups.map(
      (g) =>
        `${head} GRANT ${g.privileges} ON ${objects} TO ${granteeSql(g.grantee, v)}${g.grantable ? ' WITH GRANT OPTION' : ''};`,
    ),
  ]);
}

function publicationDdl(publication: Publication, v: number): string {
  const name = quoteIdent(publication.name, v);
  const ops = publication.operations;
  const publish = (['insert', 'update', 'delete', 'truncate'] as const).filter((op) => ops[op]).join(', ');
  const lines = [`CREATE PUBLICATION ${name}`];
  if (publication.allTables) lines.push('    FOR ALL TABLES');
  else if (publication.tables.length > 0) {
    lines.push('    FOR TABLE');
    publication.tables.forEach((table, i) => {
      const columns = publication.columnLists?.[table];
      const filter = publication.rowFilters?.[table];
      const list = columns ? ` (${columns.map((c) => quoteIdent(c, v)).join(', ')})` : '';
      const where = filter !== undefined ? ` WHERE ${parenthesized(filter)}` : '';
      lines.push(`        ${table}${list}${where}${i < publication.tables.length - 1 ? ',' : ''}`);
    });
  }
  lines.push(`    WITH (publish = ${quoteLiteral(publish)});`);
  return render([lines]);
}

/** An expression in parentheses, as WHERE of a publication needs it (once: pg_get_expr often has them). */
function parenthesized(expression: string): string {
  const text = expression.trim();
  if (text.startsWith('(') && text.endsWith(')')) {
    let depth = 0;
    let quoted = false;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i];
      if (ch === "'") quoted = !quoted;
      if (quoted) continue;
      if (ch === '(') depth++;
      if (ch === ')') depth--;
      if (depth === 0 && i < text.length - 1) return `(${text})`;
    }
    return text;
  }
  return `(${text})`;
}

function cronJobDdl(job: CronJob): string {
  const lines = [
    `-- database ${job.database}, user ${job.username}`,
    `SELECT cron.schedule(${quoteLiteral(job.name)}, ${quoteLiteral(job.schedule)}, ${quoteLiteral(job.command)});`,
  ];
  if (!job.active) {
    lines.push(
      `SELECT cron.alter_job((SELECT jobid FROM cron.job WHERE jobname = ${quoteLiteral(job.name)}), active := false);`,
    );
  }
  return render([lines]);
}

function bucketDdl(bucket: Bucket): string {
  const mime =
    bucket.allowedMimeTypes === null
      ? 'NULL'
      : `ARRAY[${bucket.allowedMimeTypes.map(quoteLiteral).join(', ')}]::text[]`;
  return render([
    [
      'INSERT INTO storage.buckets (id, name, public, file_size_limit, allowed_mime_types) VALUES (',
      `    ${quoteLiteral(bucket.id)},`,
      `    ${quoteLiteral(bucket.name)},`,
      `    ${bucket.public},`,
      `    ${bucket.fileSizeLimit === null ? 'NULL' : String(bucket.fileSizeLimit)},`,
      `    ${mime}`,
      ');',
    ],
  ]);
}

// ---------------------------------------------------------------------------------------------
// Foreign data

/**
 * `OPTIONS (name 'value', …)`, names sorted. Secret hygiene: the value of an option whose name
 * contains key, secret, password or token (SECRET_OPTION) is shown as REDACTED, whatever the
 * model holds (introspection never reads it); `redactAll` shows every value so (user mappings).
 */
function optionsSql(options: FdwOptions | string[], v: number, redactAll = false): string | null {
  const entries: [string, string][] = Array.isArray(options)
    ? options.map((name) => [name, REDACTED])
    : Object.entries(options).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length === 0) return null;
  const items = entries.map(
    ([name, value]) =>
      `${quoteIdent(name, v)} ${quoteLiteral(redactAll || SECRET_OPTION.test(name) ? REDACTED : value)}`,
  );
  return `OPTIONS (${items.join(', ')})`;
}

function foreignDataWrapperDdl(wrapper: ForeignDataWrapper, v: number): string {
  const name = quoteIdent(wrapper.name, v);
  const lines = [`CREATE FOREIGN DATA WRAPPER ${name}`];
  if (wrapper.handler !== null) lines.push(`    HANDLER ${wrapper.handler}`);
  if (wrapper.validator !== null) lines.push(`    VALIDATOR ${wrapper.validator}`);
  const options = optionsSql(wrapper.options, v);
  if (options !== null) lines.push(`    ${options}`);
  lines[lines.length - 1] += ';';
  return render([
    lines,
    [`ALTER FOREIGN DATA WRAPPER ${name} OWNER TO ${quoteIdent(wrapper.owner, v)};`],
    grantStatements(wrapper.grants, 'foreign data wrapper', `FOREIGN DATA WRAPPER ${name}`, v),
    comment(`FOREIGN DATA WRAPPER ${name}`, wrapper.comment),
  ]);
}

function foreignServerDdl(server: ForeignServer, v: number): string {
  const name = quoteIdent(server.name, v);
  const lines = [`CREATE SERVER ${name}`];
  if (server.type !== null) lines.push(`    TYPE ${quoteLiteral(server.type)}`);
  if (server.version !== null) lines.push(`    VERSION ${quoteLiteral(server.version)}`);
  lines.push(`    FOREIGN DATA WRAPPER ${quoteIdent(server.wrapper, v)}`);
  const options = optionsSql(server.options, v);
  if (options !== null) lines.push(`    ${options}`);
  lines[lines.length - 1] += ';';
  return render([
    lines,
    [`ALTER SERVER ${name} OWNER TO ${quoteIdent(server.owner, v)};`],
    grantStatements(server.grants, 'foreign server', `FOREIGN SERVER ${name}`, v),
    comment(`SERVER ${name}`, server.comment),
  ]);
}

/** Option names only, every value shown as REDACTED: a user mapping holds the remote credentials. */
function userMappingDdl(mapping: UserMapping, v: number): string {
  const head = `CREATE USER MAPPING FOR ${granteeSql(mapping.user, v)} SERVER ${quoteIdent(mapping.server, v)}`;
  if (mapping.optionNames === null) {
    return render([[`${head}; -- its options are not readable by the role that read the schema`]]);
  }
  const options = optionsSql(mapping.optionNames, v, true);
  return render([[options === null ? `${head};` : `${head}\n    ${options};`]]);
}

function foreignColumnSql(column: ForeignTableColumn, v: number): string {
  let sql = `${quoteIdent(column.name, v)} ${column.type}`;
  const options = optionsSql(column.options, v);
  if (options !== null) sql += ` ${options}`;
  if (column.collation) sql += ` COLLATE ${collationSql(column.collation, v)}`;
  if (column.notNull) sql += ' NOT NULL';
  if (column.default !== null) sql += ` DEFAULT ${column.default}`;
  return sql;
}

function foreignTableDdl(table: ForeignTable, v: number): string {
  const name = qualifiedName(table.schema, table.name, v);
  const checks = byName(table.constraints);
  const body = [
    ...table.columns.map((c) => foreignColumnSql(c, v)),
    ...checks.filter((c) => c.validated).map((c) => constraintSql(c, v)),
  ];
  const create =
    body.length === 0
      ? [`CREATE FOREIGN TABLE ${name} ()`]
      : [
          `CREATE FOREIGN TABLE ${name} (`,
          ...body.map((line, i) => `    ${line}${i < body.length - 1 ? ',' : ''}`),
          ')',
        ];
  create.push(`SERVER ${quoteIdent(table.server, v)}`);
  const options = optionsSql(table.options, v);
  if (options !== null) create.push(options);
  create[create.length - 1] += ';';
  for (const c of checks.filter((c) => !c.validated)) {
    create.push(`ALTER FOREIGN TABLE ${name} ADD ${constraintSql(c, v)};`);
  }
  const triggers = byName(table.triggers ?? {});
  return render([
    create,
    triggerStatements(name, triggers, v, 'FOREIGN TABLE'),
    [`ALTER FOREIGN TABLE ${name} OWNER TO ${quoteIdent(table.owner, v)};`],
    [
      ...grantStatements(table.grants, 'table', `TABLE ${name}`, v),
      ...columnGrantStatements(name, table.columns, v),
    ],
    [
      ...comment(`FOREIGN TABLE ${name}`, table.comment),
      ...table.columns.flatMap((c) => comment(`COLUMN ${name}.${quoteIdent(c.name, v)}`, c.comment)),
      ...checks.flatMap((c) => comment(`CONSTRAINT ${quoteIdent(c.name, v)} ON ${name}`, c.comment)),
      ...triggers.flatMap((t) => comment(`TRIGGER ${quoteIdent(t.name, v)} ON ${name}`, t.comment)),
    ],
  ]);
}
