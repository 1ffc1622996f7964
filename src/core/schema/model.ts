import type { CatalogRecords } from './kinds/catalog-kind.js';
import type { ForeignDataWrapper, ForeignServer, ForeignTable, UserMapping } from './model-foreign.js';

/**
 * The typed model of a database schema, as introspected from the system catalogs. Both
 * sides of every diff (production and the shadow with the pending migrations applied) are
 * read into this one model, so comparing them is comparing plain data.
 *
 * Conventions:
 * - Objects live in records keyed by their identity: the schema-qualified name quoted as
 *   PostgreSQL quotes identifiers (`public.profiles`, `public."Order"`); functions add their
 *   argument types (`public.is_admin(uuid)`); extensions, publications and cron jobs by name.
 * - Expressions and definitions are PostgreSQL's own deparsed text (pg_get_expr,
 *   pg_get_constraintdef, pg_get_indexdef, pg_get_viewdef, …), so equal objects compare equal.
 * - Privileges are explicit: a NULL ACL is expanded to the owner's defaults (acldefault), so
 *   "never granted" and "granted by default" are told apart. Lists are sorted.
 * - Everything is JSON-serializable (the plan's JSON report embeds parts of it).
 * - Optional attributes (`persistence`, `storageParameters`, `inherits`, a column's
 *   `statistics`, `storage` and `inherited`, a view column's `default`, a view's and a foreign
 *   table's `triggers`, a publication's `columnLists` and `rowFilters`, an aggregate's `aggregate`
 *   attributes) are present only when they differ from
 *   PostgreSQL's default: a model read before they existed, or written by hand, still means the
 *   same thing, and the diff reports the default for an absent one.
 */

export interface SchemaModel extends CatalogRecords {
  /** `server_version_num` of the database it was read from. */
  serverVersion: number;
  schemas: Record<string, Schema>;
  extensions: Record<string, Extension>;
  /** Enums, domains, composite and range types. */
  types: Record<string, TypeDefinition>;
  /**
   * Collations of the user schemas (CREATE COLLATION), keyed like types. Optional: a model
   * read before they existed has none, and the diff reads an absent record as empty.
   */
  collations?: Record<string, Collation>;
  sequences: Record<string, Sequence>;
  /** Ordinary and partitioned tables, and the managed tables whose policies migrations touch (storage.objects…). */
  tables: Record<string, Table>;
  /** Views and materialized views. */
  views: Record<string, View>;
  /** Functions, procedures and aggregates. */
  functions: Record<string, Routine>;
  defaultPrivileges: DefaultPrivilege[];
  publications: Record<string, Publication>;
  /** pg_cron jobs, when the cron schema exists. */
  cronJobs: Record<string, CronJob>;
  /** Rows of storage.buckets, when that table exists. */
  buckets: Record<string, Bucket>;
  /**
   * Foreign data wrappers the user created (not built in, not an extension's), keyed by their
   * quoted name. The four foreign-data records are optional: a model read before they existed
   * has none, and the diff reads an absent record as empty.
   */
  foreignDataWrappers?: Record<string, ForeignDataWrapper>;
  /** Foreign servers (CREATE SERVER), keyed by their quoted name. */
  foreignServers?: Record<string, ForeignServer>;
  /** User mappings, keyed `user@server` (each quoted; `PUBLIC@server` for FOR PUBLIC). */
  userMappings?: Record<string, UserMapping>;
  /** Foreign tables (pg_class relkind 'f') of the user schemas, keyed like tables. */
  foreignTables?: Record<string, ForeignTable>;
  /**
   * Event triggers the user created (not built in, not an extension's, not the platform's: those
   * running a function of a managed schema), keyed by their quoted name. Optional: a model read
   * before they existed has none, and the diff reads an absent record as empty.
   */
  eventTriggers?: Record<string, EventTrigger>;
}

/** One privilege held by one grantee. `PUBLIC` is the grantee for everyone. */
export interface Grant {
  grantee: string;
  /** SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER, USAGE, CREATE, EXECUTE, … */
  privilege: string;
  grantable: boolean;
}

export interface Schema {
  name: string;
  owner: string;
  comment: string | null;
  grants: Grant[];
}

export interface Extension {
  name: string;
  schema: string;
  version: string;
  /**
   * pg_available_extensions.default_version: the version CREATE EXTENSION would install on the
   * server it was read from. Present only when it differs from `version`; never compared (two
   * servers may ship other default versions of the same installed extension).
   */
  defaultVersion?: string | null;
}

export type TypeDefinition = EnumType | DomainType | CompositeType | RangeType;

interface TypeBase {
  schema: string;
  name: string;
  owner: string;
  comment: string | null;
}

export interface EnumType extends TypeBase {
  kind: 'enum';
  /** In sort order. */
  labels: string[];
}

export interface DomainType extends TypeBase {
  kind: 'domain';
  baseType: string;
  notNull: boolean;
  default: string | null;
  collation: string | null;
  checks: { name: string; definition: string }[];
}

export interface CompositeType extends TypeBase {
  kind: 'composite';
  attributes: { name: string; type: string; collation: string | null }[];
}

/**
 * A range type (CREATE TYPE … AS RANGE). Names are deparsed as introspection deparses them
 * (schema-qualified outside pg_catalog). Its multirange and constructor functions are implicit
 * (they come and go with it) and are not modeled apart.
 */
export interface RangeType extends TypeBase {
  kind: 'range';
  /** format_type of the subtype (`double precision`, `public.mytext`). */
  subtype: string;
  /** The subtype's B-tree operator class (`schema.name`), or null when it is the subtype's default one. */
  subtypeOpclass: string | null;
  /** The range's collation when it differs from the subtype's (null: the subtype's, or not collatable). */
  collation: string | null;
  /** CANONICAL function (regproc text), or null. */
  canonical: string | null;
  /** SUBTYPE_DIFF function (regproc text), or null. */
  subtypeDiff: string | null;
  /** The multirange type (`schema.name`, PostgreSQL 14 and later; null before). */
  multirange: string | null;
}

/**
 * A collation (CREATE COLLATION). `locale` is set when LC_COLLATE and LC_CTYPE are the same
 * (or for an ICU or builtin provider); `lcCollate`/`lcCtype` when they differ. The version
 * (pg_collation.collversion) is the server's library's and is never read.
 */
export interface Collation {
  schema: string;
  name: string;
  owner: string;
  /** `libc`, `icu`, `builtin` (PostgreSQL 17). */
  provider: string;
  locale: string | null;
  lcCollate: string | null;
  lcCtype: string | null;
  deterministic: boolean;
  /** ICU tailoring rules (PostgreSQL 16): present only when set. */
  rules?: string;
  comment: string | null;
}

export interface Sequence {
  schema: string;
  name: string;
  owner: string;
  dataType: string;
  start: string;
  increment: string;
  min: string;
  max: string;
  cache: string;
  cycle: boolean;
  /** `table.column` identity when the sequence is OWNED BY a column (serial, identity). */
  ownedBy: string | null;
  comment: string | null;
  grants: Grant[];
}

export interface Table {
  schema: string;
  name: string;
  kind: 'table' | 'partitioned';
  owner: string;
  /** A table in a schema Supabase manages (storage.objects…): only its RLS, policies and grants matter. */
  managed: boolean;
  rlsEnabled: boolean;
  rlsForced: boolean;
  /** `PARTITION BY …` of a partitioned table. */
  partitionKey: string | null;
  /** The parent's identity and the bound (`FOR VALUES …`) of a partition. */
  partitionOf: string | null;
  partitionBound: string | null;
  replicaIdentity: 'default' | 'nothing' | 'full' | 'index';
  /** relpersistence: present only for an UNLOGGED table (absent: logged, crash-safe and replicated). */
  persistence?: 'unlogged';
  /** reloptions (`fillfactor=70`, `autovacuum_enabled=false`), sorted; present only when set. */
  storageParameters?: string[];
  /** Parents of a table that INHERITS (not a partition), in inheritance order; present only when any. */
  inherits?: string[];
  comment: string | null;
  /** In attnum order. */
  columns: Column[];
  constraints: Record<string, Constraint>;
  indexes: Record<string, Index>;
  triggers: Record<string, Trigger>;
  /** Rules (CREATE RULE, pg_rewrite), present only when any. */
  rules?: Record<string, Rule>;
  policies: Record<string, Policy>;
  grants: Grant[];
  /** Size estimates from pg_class (not compared; hazards use them). */
  stats: { estimatedRows: number; pages: number };
}

export interface Column {
  name: string;
  /** format_type(): `integer`, `character varying(40)`, `text[]`, `public.mood`. */
  type: string;
  notNull: boolean;
  default: string | null;
  identity: 'always' | 'by default' | null;
  /** The expression of a GENERATED ALWAYS AS (…) STORED column. */
  generated: string | null;
  /** Only when it differs from the type's default collation. */
  collation: string | null;
  comment: string | null;
  /** Column-level privileges (GRANT SELECT (col) …). */
  grants: Grant[];
  /** attstattarget, present only when set (ALTER COLUMN … SET STATISTICS n). */
  statistics?: number;
  /** attstorage, present only when it differs from the type's default (ALTER COLUMN … SET STORAGE). */
  storage?: ColumnStorage;
  /**
   * Of a table that INHERITS (not a partition): a column it has from its parents, which parents
   * have it, and whether the table declares it too (local). Present only for inherited columns.
   */
  inherited?: { from: string[]; local: boolean };
}

export type ColumnStorage = 'plain' | 'external' | 'extended' | 'main';

export type ConstraintType = 'primary key' | 'foreign key' | 'unique' | 'check' | 'exclusion';

export interface Constraint {
  name: string;
  type: ConstraintType;
  /** pg_get_constraintdef(), e.g. `FOREIGN KEY (author_id) REFERENCES profiles(id) ON DELETE CASCADE`. */
  definition: string;
  columns: string[];
  /** False for a constraint added NOT VALID and not validated since. */
  validated: boolean;
  deferrable: boolean;
  initiallyDeferred: boolean;
  /** Foreign keys: the referenced table and columns, and the actions. */
  references: {
    table: string;
    columns: string[];
    onUpdate: ForeignKeyAction;
    onDelete: ForeignKeyAction;
  } | null;
  comment: string | null;
}

export type ForeignKeyAction = 'no action' | 'restrict' | 'cascade' | 'set null' | 'set default';

export interface Index {
  name: string;
  /** pg_get_indexdef(). */
  definition: string;
  unique: boolean;
  primary: boolean;
  /** The constraint this index backs (primary key, unique, exclusion), if any. */
  constraint: string | null;
  /** Key column names; expressions appear as their deparsed text. */
  columns: string[];
  /** False for an index left invalid by a failed CREATE INDEX CONCURRENTLY. */
  valid: boolean;
  comment: string | null;
}

export interface Trigger {
  name: string;
  /** pg_get_triggerdef(). */
  definition: string;
  /** The function it executes (identity with argument types). */
  function: string;
  enabled: 'origin' | 'disabled' | 'replica' | 'always';
  comment: string | null;
}

/** A rule (pg_rewrite) of a table or view, other than a view's own `_RETURN`. */
export interface Rule {
  name: string;
  /** The event it rewrites. */
  event: 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE';
  /** DO INSTEAD (true) or DO ALSO (false). */
  instead: boolean;
  /** pg_get_ruledef(): `CREATE RULE … AS ON INSERT TO public.t DO INSTEAD …;`. */
  definition: string;
  /** ev_enabled, as for triggers (ALTER TABLE … DISABLE RULE / ENABLE REPLICA|ALWAYS RULE). */
  enabled: 'origin' | 'disabled' | 'replica' | 'always';
  comment: string | null;
}

/** A database-wide event trigger (pg_event_trigger). */
export interface EventTrigger {
  name: string;
  /** `ddl_command_start`, `ddl_command_end`, `sql_drop`, `table_rewrite`, `login`. */
  event: string;
  /** The function it executes (identity with argument types: `public.audit_ddl()`). */
  function: string;
  /** WHEN TAG IN (…), sorted; empty: every command tag. */
  tags: string[];
  enabled: 'origin' | 'disabled' | 'replica' | 'always';
  owner: string;
  comment: string | null;
}

export type PolicyCommand = 'ALL' | 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE';

export interface Policy {
  name: string;
  /** The table's identity. */
  table: string;
  command: PolicyCommand;
  permissive: boolean;
  /** Sorted; `PUBLIC` when the policy applies to every role. */
  roles: string[];
  using: string | null;
  withCheck: string | null;
  comment: string | null;
}

export interface View {
  schema: string;
  name: string;
  kind: 'view' | 'materialized';
  owner: string;
  /** pg_get_viewdef(), normalized by PostgreSQL. */
  definition: string;
  securityInvoker: boolean;
  securityBarrier: boolean;
  checkOption: 'local' | 'cascaded' | null;
  comment: string | null;
  /** `default`: ALTER VIEW … ALTER COLUMN … SET DEFAULT, present only when set (views only). */
  columns: ViewColumn[];
  /** Materialized views only. */
  indexes: Record<string, Index>;
  /** Triggers on a view (INSTEAD OF …), present only when any. */
  triggers?: Record<string, Trigger>;
  /** Rules on a view (not its own `_RETURN` rule, which is the view), present only when any. */
  rules?: Record<string, Rule>;
  /** Materialized views: reloptions (`fillfactor=70`…), sorted; present only when set. */
  storageParameters?: string[];
  grants: Grant[];
  /** Populated (materialized views: WITH DATA). */
  populated: boolean;
}

export interface ViewColumn {
  name: string;
  type: string;
  comment: string | null;
  default?: string;
}

export interface Routine {
  schema: string;
  name: string;
  kind: 'function' | 'procedure' | 'aggregate' | 'window';
  /** pg_get_function_identity_arguments(): `p_id uuid, p_limit integer`. */
  identityArguments: string;
  /** pg_get_function_arguments(): with defaults. */
  arguments: string;
  /** pg_get_function_result(); null for procedures. */
  returns: string | null;
  language: string;
  /** prosrc: the body. */
  body: string;
  /** pg_get_functiondef(): the full CREATE OR REPLACE statement (null for aggregates). */
  definition: string | null;
  volatility: 'immutable' | 'stable' | 'volatile';
  securityDefiner: boolean;
  strict: boolean;
  leakproof: boolean;
  parallel: 'safe' | 'restricted' | 'unsafe';
  /** proconfig: `search_path=""`, `statement_timeout=5s`, … */
  config: string[];
  owner: string;
  comment: string | null;
  grants: Grant[];
  /**
   * Of an aggregate (kind 'aggregate'): its pg_aggregate row (CREATE AGGREGATE's options).
   * Absent for other routines, and from a model read before it existed: not compared then.
   */
  aggregate?: Aggregate;
}

/** How a final function may treat the state (FINALFUNC_MODIFY / MFINALFUNC_MODIFY). */
export type AggregateFinalModify = 'read_only' | 'shareable' | 'read_write';

/**
 * An aggregate's definition (pg_aggregate), named after CREATE AGGREGATE's options. Functions
 * are regproc text (`int4pl`, `public.add_to`: qualified outside pg_catalog), types format_type
 * text, the sort operator `schema.name` (`pg_catalog.>`). Every attribute but `sfunc` and
 * `stype` is present only when it differs from CREATE AGGREGATE's default (absent: no such
 * function, no initial condition, 0, false, the kind's default FINALFUNC_MODIFY: READ_ONLY for
 * a normal aggregate, READ_WRITE for an ordered-set or hypothetical-set one). Its parallel
 * safety is the routine's `parallel`.
 */
export interface Aggregate {
  /** aggkind: absent for a normal aggregate. */
  kind?: 'ordered-set' | 'hypothetical';
  /** aggnumdirectargs: the direct arguments of an ordered-set aggregate (before ORDER BY). */
  directArgs?: number;
  /** SFUNC: the state transition function. */
  sfunc: string;
  /** STYPE: the state's data type. */
  stype: string;
  /** SSPACE: the state's average size in bytes. */
  sspace?: number;
  finalfunc?: string;
  /** FINALFUNC_EXTRA. */
  finalfuncExtra?: true;
  /** FINALFUNC_MODIFY. */
  finalfuncModify?: AggregateFinalModify;
  combinefunc?: string;
  serialfunc?: string;
  deserialfunc?: string;
  /** INITCOND: the state's initial value, as text. */
  initcond?: string;
  /** Moving-aggregate mode: MSFUNC, MINVFUNC, MSTYPE, MSSPACE, MFINALFUNC…, MINITCOND. */
  msfunc?: string;
  minvfunc?: string;
  mstype?: string;
  msspace?: number;
  mfinalfunc?: string;
  mfinalfuncExtra?: true;
  mfinalfuncModify?: AggregateFinalModify;
  minitcond?: string;
  /** SORTOP: the sort operator (MIN/MAX-like aggregates). */
  sortop?: string;
}

export interface DefaultPrivilege {
  /** The role whose new objects get these privileges. */
  role: string;
  /** null: in every schema. */
  schema: string | null;
  objectType: 'tables' | 'sequences' | 'functions' | 'types' | 'schemas';
  grants: Grant[];
}

export interface Publication {
  name: string;
  allTables: boolean;
  /** Table identities, sorted. */
  tables: string[];
  /** PostgreSQL 15+: table identity → its published columns (`FOR TABLE t (a, b)`); only tables that have a column list. */
  columnLists?: Record<string, string[]>;
  /** PostgreSQL 15+: table identity → its row filter (`FOR TABLE t WHERE (…)`, the deparsed expression); only tables that have one. */
  rowFilters?: Record<string, string>;
  operations: { insert: boolean; update: boolean; delete: boolean; truncate: boolean };
}

export interface CronJob {
  name: string;
  schedule: string;
  command: string;
  database: string;
  username: string;
  active: boolean;
}

export interface Bucket {
  id: string;
  name: string;
  public: boolean;
  fileSizeLimit: number | null;
  allowedMimeTypes: string[] | null;
}

export function emptyModel(serverVersion = 0): SchemaModel {
  return {
    serverVersion,
    schemas: {},
    extensions: {},
    types: {},
    collations: {},
    sequences: {},
    tables: {},
    views: {},
    functions: {},
    defaultPrivileges: [],
    publications: {},
    cronJobs: {},
    buckets: {},
    foreignDataWrappers: {},
    foreignServers: {},
    userMappings: {},
    foreignTables: {},
    eventTriggers: {},
  };
}
