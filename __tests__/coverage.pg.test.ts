import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, disconnect } from '../src/core/db/connect.js';
import { MANAGED_SCHEMAS } from '../src/core/platform.js';
import { introspect } from '../src/core/schema/introspect.js';
import type { SchemaModel } from '../src/core/schema/model.js';
import { type NotComparedKind, notCompared } from '../src/core/schema/not-compared.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';

/*
 * Coverage doctrine: every object of the user's is either in the schema model (compared) or
 * reported by notCompared(). This test makes one object of every kind PostgreSQL 15 has, then
 * sweeps the catalogs themselves: a catalog, relkind or typtype this file does not know (a
 * later PostgreSQL's) fails it, and so does a user object that is neither modeled nor reported.
 */

/** One object of every kind, in the user schema `app` or database-wide. */
const FIXTURE = `
create schema app;
-- Modeled.
create table app.t (id int primary key, a int, b int check (b > 0), r int4range);
create table app.parted (id int, k int) partition by range (k);
create table app.parted_1 partition of app.parted for values from (0) to (10);
create index parted_k on app.parted (k);
create table app.child () inherits (app.t);
create view app.v as select id, a from app.t;
create materialized view app.mv as select id from app.t;
create index mv_id on app.mv (id);
create sequence app.s;
create index t_a on app.t (a);
create type app.mood as enum ('happy', 'sad');
create domain app.positive as int check (value > 0);
create type app.pair as (x int, y int);
create function app.touch() returns trigger language plpgsql as $$ begin return new; end $$;
create trigger t_touch before insert on app.t for each row execute function app.touch();
create constraint trigger t_later after insert on app.t deferrable for each row execute function app.touch();
create trigger v_instead instead of insert on app.v for each row execute function app.touch();
alter table app.t enable row level security;
create policy t_all on app.t using (true);
create procedure app.noop() language sql as $$ select 1 $$;
create aggregate app.total(int) (sfunc = int4pl, stype = int);
create publication app_pub for table app.t;
alter default privileges in schema app grant select on tables to public;
create foreign data wrapper app_fdw;
create server app_srv foreign data wrapper app_fdw;
create user mapping for current_user server app_srv;
create foreign table app.ft (x int check (x > 0)) server app_srv;
-- Not modeled.
create collation app.ci from "C";
create type app.floatrange as range (subtype = float8);
create operator app.=== (leftarg = int, rightarg = int, function = int4eq);
create operator family app.fam using btree;
create operator class app.int_ops for type int using btree family app.fam as
  operator 1 <, operator 2 <=, operator 3 =, operator 4 >=, operator 5 >, function 1 btint4cmp(int, int);
create cast (app.mood as int) with inout;
create statistics app.t_ab on a, b from app.t;
create text search dictionary app.dict (template = simple);
create text search configuration app.cfg (copy = pg_catalog.simple);
create text search template app.tmpl (lexize = dsimple_lexize, init = dsimple_init);
create text search parser app.prs (start = prsd_start, gettoken = prsd_nexttoken, end = prsd_end, lextypes = prsd_lextype);
create rule t_ignore as on insert to app.t where new.a = -1 do instead nothing;
create function app.on_ddl() returns event_trigger language plpgsql as $$ begin end $$;
create event trigger app_ddl on ddl_command_end execute function app.on_ddl();
create trigger ft_touch before insert on app.ft for each row execute function app.touch();
create conversion app.latin1_utf8 for 'LATIN1' to 'UTF8' from iso8859_1_to_utf8;
create transform for int language sql (from sql with function brin_minmax_opcinfo(internal), to sql with function int4recv(internal));
create language app_pl handler plpgsql_call_handler;
create access method app_heap type table handler heap_tableam_handler;
create type app.unfinished;
create type app.word;
create function app.word_in(cstring) returns app.word language internal immutable strict as 'int4in';
create function app.word_out(app.word) returns cstring language internal immutable strict as 'int4out';
create type app.word (input = app.word_in, output = app.word_out, internallength = 4, passedbyvalue, alignment = int4);
select lo_create(0);
`;

/** Catalogs that hold no object of their own: members of another object, or statistics. */
const MEMBER_CATALOGS: Record<string, string> = {
  pg_aggregate: 'an aggregate: its pg_proc row (a function)',
  pg_amop: "an operator family's operators",
  pg_amproc: "an operator family's support functions",
  pg_attrdef: "a column's default",
  pg_attribute: "a relation's columns",
  pg_depend: 'dependencies',
  pg_description: 'comments of other objects',
  pg_enum: "an enum's labels",
  pg_foreign_table: "a foreign table's pg_class row",
  pg_index: "an index's pg_class row",
  pg_inherits: "a table's inheritance, a partition's parent",
  pg_init_privs: "an extension's initial privileges",
  pg_largeobject: "a large object's data (pg_largeobject_metadata)",
  pg_partitioned_table: "a partitioned table's key",
  pg_range: "a range type's pg_type row",
  pg_seclabel: 'labels of other objects (checked apart)',
  pg_sequence: "a sequence's pg_class row",
  pg_statistic: 'planner statistics',
  pg_statistic_ext_data: "extended statistics' data",
  pg_subscription_rel: "a subscription's tables",
  pg_ts_config_map: "a text search configuration's mappings",
  pg_publication_namespace: "a publication's schemas",
  pg_publication_rel: "a publication's tables",
};

/** Shared by the cluster's databases: roles, databases, tablespaces… not a database's schema. */
const CLUSTER_CATALOGS = new Set([
  'pg_auth_members',
  'pg_authid',
  'pg_database',
  'pg_db_role_setting',
  'pg_parameter_acl',
  'pg_replication_origin',
  'pg_shdepend',
  'pg_shdescription',
  'pg_shseclabel',
  'pg_tablespace',
]);

/** Catalogs whose rows are objects: the kind notCompared() reports them as, or 'modeled'. */
const OBJECT_CATALOGS: Record<string, string> = {
  pg_am: 'access method',
  pg_cast: 'modeled',
  pg_class: 'by relkind',
  pg_collation: 'modeled',
  pg_constraint: 'modeled',
  pg_conversion: 'conversion',
  pg_default_acl: 'modeled',
  pg_event_trigger: 'modeled',
  pg_extension: 'modeled',
  pg_foreign_data_wrapper: 'modeled',
  pg_foreign_server: 'modeled',
  pg_language: 'procedural language',
  pg_largeobject_metadata: 'large object',
  pg_namespace: 'modeled',
  pg_opclass: 'modeled',
  pg_operator: 'modeled',
  pg_opfamily: 'modeled',
  pg_policy: 'modeled',
  pg_proc: 'modeled',
  pg_publication: 'modeled',
  pg_rewrite: 'modeled',
  pg_statistic_ext: 'modeled',
  pg_subscription: 'subscription',
  pg_transform: 'transform',
  pg_trigger: 'by relkind',
  pg_ts_config: 'modeled',
  pg_ts_dict: 'modeled',
  pg_ts_parser: 'text search parser',
  pg_ts_template: 'text search template',
  pg_type: 'by typtype',
  pg_user_mapping: 'modeled',
};

/** pg_class.relkind: modeled, implicit (part of another object), or the kind reported. */
const RELKINDS: Record<string, string> = {
  r: 'modeled',
  p: 'modeled',
  v: 'modeled',
  m: 'modeled',
  S: 'modeled',
  c: 'modeled',
  i: 'modeled',
  I: 'modeled',
  t: 'implicit: a table’s TOAST storage, in pg_toast',
  f: 'modeled',
};

/** pg_type.typtype. */
const TYPTYPES: Record<string, string> = {
  e: 'modeled',
  d: 'modeled',
  c: 'modeled',
  b: 'base type',
  p: 'shell type',
  r: 'modeled',
  m: 'implicit: a range type’s multirange',
};

/** A user object the catalogs hold, found by the sweep. */
interface Swept {
  catalog: string;
  identity: string;
  type: string;
  schema: string | null;
  /** `schema.name` as the model keys it (relations, types), or the function's identity. */
  key: string | null;
  relkind: string | null;
  typtype: string | null;
  relation: string | null;
  relation_kind: string | null;
  name: string | null;
  contype: string | null;
}

const KEY: Record<string, string> = {
  pg_class: `format('%I.%I', (SELECT n.nspname FROM pg_namespace n WHERE n.oid = x.relnamespace), x.relname)`,
  pg_type: `format('%I.%I', (SELECT n.nspname FROM pg_namespace n WHERE n.oid = x.typnamespace), x.typname)`,
  pg_proc: `format('%I.%I(%s)', (SELECT n.nspname FROM pg_namespace n WHERE n.oid = x.pronamespace), x.proname, oidvectortypes(x.proargtypes))`,
  pg_namespace: 'quote_ident(x.nspname)',
  pg_extension: 'x.extname::text',
  pg_publication: 'x.pubname::text',
  pg_foreign_data_wrapper: 'quote_ident(x.fdwname)',
  pg_foreign_server: 'quote_ident(x.srvname)',
  pg_collation: `format('%I.%I', (SELECT n.nspname FROM pg_namespace n WHERE n.oid = x.collnamespace), x.collname)`,
  pg_cast: `format('(%s AS %s)', format_type(x.castsource, NULL), format_type(x.casttarget, NULL))`,
  pg_statistic_ext: `format('%I.%I', (SELECT n.nspname FROM pg_namespace n WHERE n.oid = x.stxnamespace), x.stxname)`,
  pg_event_trigger: 'quote_ident(x.evtname)',
  pg_operator: 'x.oid::regoperator::text',
  pg_opfamily: `format('%I.%I', (SELECT n.nspname FROM pg_namespace n WHERE n.oid = x.opfnamespace), x.opfname) || ' USING ' ||
    (SELECT quote_ident(a.amname) FROM pg_am a WHERE a.oid = x.opfmethod)`,
  pg_opclass: `format('%I.%I', (SELECT n.nspname FROM pg_namespace n WHERE n.oid = x.opcnamespace), x.opcname) || ' USING ' ||
    (SELECT quote_ident(a.amname) FROM pg_am a WHERE a.oid = x.opcmethod)`,
  pg_ts_config: `format('%I.%I', (SELECT n.nspname FROM pg_namespace n WHERE n.oid = x.cfgnamespace), x.cfgname)`,
  pg_ts_dict: `format('%I.%I', (SELECT n.nspname FROM pg_namespace n WHERE n.oid = x.dictnamespace), x.dictname)`,
  pg_user_mapping: `CASE WHEN x.umuser = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(x.umuser)) END || '@' ||
    (SELECT quote_ident(s.srvname) FROM pg_foreign_server s WHERE s.oid = x.umserver)`,
};
const RELATION: Record<string, string> = {
  pg_constraint: 'x.conrelid',
  pg_trigger: 'x.tgrelid',
  pg_policy: 'x.polrelid',
  pg_rewrite: 'x.ev_class',
};
const NAME: Record<string, string> = {
  pg_constraint: 'x.conname::text',
  pg_trigger: 'x.tgname::text',
  pg_policy: 'x.polname::text',
  pg_rewrite: 'x.rulename::text',
  pg_class: 'x.relname::text',
};

/** The schema an object is in, where pg_identify_object() gives none (a schema, a table's member). */
const SCHEMA: Record<string, string> = {
  pg_namespace: 'x.nspname::text',
  pg_constraint: `(SELECT n.nspname::text FROM pg_namespace n WHERE n.oid = coalesce(
     (SELECT c.relnamespace FROM pg_class c WHERE c.oid = x.conrelid), (SELECT t.typnamespace FROM pg_type t WHERE t.oid = x.contypid)))`,
  pg_trigger:
    '(SELECT n.nspname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = x.tgrelid)',
  pg_policy:
    '(SELECT n.nspname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = x.polrelid)',
  pg_rewrite:
    '(SELECT n.nspname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = x.ev_class)',
  pg_default_acl: '(SELECT n.nspname::text FROM pg_namespace n WHERE n.oid = x.defaclnamespace)',
};

/** Every object of the catalogs in OBJECT_CATALOGS made by the user (oid ≥ 16384) in user or no schema. */
function sweepQuery(catalogs: string[]): string {
  const parts = catalogs.map((catalog) => {
    const classid =
      catalog === 'pg_largeobject_metadata' ? `'pg_largeobject'::regclass` : `'${catalog}'::regclass`;
    const relation = RELATION[catalog];
    const where =
      catalog === 'pg_subscription'
        ? ' AND x.subdbid = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())'
        : '';
    return `SELECT '${catalog}' AS catalog, ${classid}::oid AS classid, x.oid AS objid,
  ${KEY[catalog] ?? 'NULL::text'} AS key,
  ${catalog === 'pg_class' ? 'x.relkind::text' : 'NULL::text'} AS relkind,
  ${catalog === 'pg_type' ? 'x.typtype::text' : 'NULL::text'} AS typtype,
  ${relation ? `CASE WHEN ${relation} <> 0 THEN (SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = ${relation}) END` : 'NULL::text'} AS relation,
  ${relation ? `(SELECT c.relkind::text FROM pg_class c WHERE c.oid = ${relation})` : 'NULL::text'} AS relation_kind,
  ${NAME[catalog] ?? 'NULL::text'} AS name,
  ${catalog === 'pg_constraint' ? 'x.contype::text' : 'NULL::text'} AS contype,
  ${catalog === 'pg_constraint' ? 'x.conislocal' : 'true'} AS local,
  ${SCHEMA[catalog] ?? 'NULL::text'} AS schema
FROM pg_catalog.${catalog} x WHERE x.oid >= 16384${where}`;
  });
  // An inherited constraint (not local) is its parent's copy.
  return `SELECT s.catalog, s.key, s.relkind, s.typtype, s.relation, s.relation_kind, s.name, s.contype,
  i.type, coalesce(s.schema, i.schema) AS schema, i.identity
FROM (${parts.join('\nUNION ALL\n')}) s, pg_identify_object(s.classid, s.objid, 0) i
WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = s.classid AND d.objid = s.objid
                    -- Implicit: an extension's, part of another object, a partition's copy of its parent's.
                    AND (d.deptype IN ('e', 'P') OR (d.deptype = 'i' AND NOT (d.refclassid = d.classid AND d.refobjid = d.objid))))
  AND NOT (s.catalog = 'pg_constraint' AND NOT s.local)
  AND (coalesce(s.schema, i.schema) IS NULL
       OR (coalesce(s.schema, i.schema) <> ALL ($1::text[]) AND coalesce(s.schema, i.schema) !~ '^pg_'))
ORDER BY s.catalog, i.identity`;
}

describe('coverage: every object is compared or reported as not compared', () => {
  let db: TestDatabase;
  let model: SchemaModel;
  let reported: NotComparedKind[];
  let swept: Swept[];

  beforeAll(async () => {
    db = await createTestDatabase();
    await db.query(FIXTURE);
    // Not in a transaction block (a multi-statement query is one).
    await db.query(
      "create subscription app_sub connection 'dbname=nowhere' publication app_pub with (connect = false, slot_name = none)",
    );
    const connection = await connect(db.url);
    try {
      model = await introspect(connection.client);
      reported = await notCompared(connection.client);
    } finally {
      await disconnect(connection);
    }
    swept = await db.query<Swept>(sweepQuery(Object.keys(OBJECT_CATALOGS)), [[...MANAGED_SCHEMAS]]);
  });

  afterAll(async () => {
    await db?.query('drop subscription if exists app_sub').catch(() => {});
    await db?.drop();
  });

  it('knows every catalog, relkind and typtype of the server', async () => {
    const catalogs = await db.query<{ name: string }>(
      `SELECT c.relname::text AS name FROM pg_class c
        WHERE c.relnamespace = 'pg_catalog'::regnamespace AND c.relkind = 'r' ORDER BY 1`,
    );
    const unknown = catalogs
      .map((c) => c.name)
      .filter(
        (name) => !(name in MEMBER_CATALOGS) && !CLUSTER_CATALOGS.has(name) && !(name in OBJECT_CATALOGS),
      );
    expect(unknown, 'catalogs this test does not classify').toEqual([]);
    const relkinds = await db.query<{ value: string }>(
      'SELECT DISTINCT relkind::text AS value FROM pg_class',
    );
    expect(relkinds.map((r) => r.value).filter((value) => !(value in RELKINDS))).toEqual([]);
    const typtypes = await db.query<{ value: string }>('SELECT DISTINCT typtype::text AS value FROM pg_type');
    expect(typtypes.map((r) => r.value).filter((value) => !(value in TYPTYPES))).toEqual([]);
  });

  it('the fixture made an object of every relkind, typtype and object catalog', () => {
    const catalogs = new Set(swept.map((s) => s.catalog));
    const missing = Object.keys(OBJECT_CATALOGS).filter((catalog) => !catalogs.has(catalog));
    expect(missing).toEqual([]);
    const relkinds = new Set(swept.map((s) => s.relkind).filter(Boolean));
    // TOAST tables live in pg_toast, out of the sweep with the system schemas; a composite
    // type's pg_class row is its type's (an implicit dependency): the type is swept.
    expect(Object.keys(RELKINDS).filter((k) => k !== 't' && k !== 'c' && !relkinds.has(k))).toEqual([]);
    const typtypes = new Set(swept.map((s) => s.typtype).filter(Boolean));
    // A multirange is its range's (an implicit dependency): the sweep leaves it out.
    expect(Object.keys(TYPTYPES).filter((k) => k !== 'm' && !typtypes.has(k))).toEqual([]);
  });

  it('finds each user object in the model or in notCompared()', () => {
    const reportedKinds = new Map(reported.map((entry) => [entry.kind, entry]));
    const unaccounted: string[] = [];
    for (const object of swept) {
      const kind = kindOf(object);
      if (kind === 'modeled') {
        if (!modeled(model, object)) unaccounted.push(`${object.type} ${object.identity}: not in the model`);
      } else if (!reportedKinds.get(kind)) {
        unaccounted.push(`${object.type} ${object.identity}: no "${kind}" in notCompared()`);
      }
    }
    expect(unaccounted).toEqual([]);
  });

  it('reports the kinds the model does not represent, with their names', () => {
    const byKind = Object.fromEntries(reported.map((entry) => [entry.kind, entry.names]));
    expect(byKind).toEqual({
      'access method': ['app_heap'],
      'base type': ['app.word'],
      conversion: ['app.latin1_utf8'],
      'large object': [expect.stringMatching(/^\d+$/)],
      'procedural language': ['app_pl'],
      'shell type': ['app.unfinished'],
      subscription: ['app_sub'],
      'text search parser': ['app.prs'],
      'text search template': ['app.tmpl'],
      transform: ['FOR integer LANGUAGE sql'],
    });
    expect(reported.every((entry) => entry.count === entry.names.length)).toBe(true);
  });

  it('reports nothing for a fresh Supabase database', async () => {
    const fresh = await createTestDatabase();
    const connection = await connect(fresh.url);
    try {
      expect(await notCompared(connection.client)).toEqual([]);
    } finally {
      await disconnect(connection);
      await fresh.drop();
    }
  });

  it('reads only the schemas it is given', async () => {
    const connection = await connect(db.url);
    try {
      const scoped = await notCompared(connection.client, { schemas: ['public'] });
      // Database-wide kinds stay; the kinds of the schema app go.
      expect(scoped.map((entry) => entry.kind)).not.toContain('text search parser');
      expect(scoped.map((entry) => entry.kind)).toContain('procedural language');
    } finally {
      await disconnect(connection);
    }
  });
});

function kindOf(object: Swept): string {
  if (object.catalog === 'pg_class')
    return RELKINDS[object.relkind ?? ''] ?? `relation (relkind ${object.relkind})`;
  if (object.catalog === 'pg_type')
    return TYPTYPES[object.typtype ?? ''] ?? `type (typtype ${object.typtype})`;
  if (object.catalog === 'pg_trigger')
    return ['r', 'p', 'v', 'f'].includes(object.relation_kind ?? '')
      ? 'modeled'
      : `trigger (relkind ${object.relation_kind})`;
  return OBJECT_CATALOGS[object.catalog] ?? `catalog ${object.catalog}`;
}

function modeled(model: SchemaModel, object: Swept): boolean {
  const key = object.key ?? '';
  switch (object.catalog) {
    case 'pg_class':
      if (object.relkind === 'r' || object.relkind === 'p') return key in model.tables;
      if (object.relkind === 'v' || object.relkind === 'm') return key in model.views;
      if (object.relkind === 'S') return key in model.sequences;
      if (object.relkind === 'c') return key in model.types;
      if (object.relkind === 'f') return key in (model.foreignTables ?? {});
      // An index: on one of the model's tables or materialized views.
      return [...Object.values(model.tables), ...Object.values(model.views)].some(
        (relation) => relation.schema === object.schema && (object.name ?? '') in relation.indexes,
      );
    case 'pg_type':
      return key in model.types;
    case 'pg_proc':
      return key in model.functions;
    case 'pg_namespace':
      return key in model.schemas;
    case 'pg_extension':
      return key in model.extensions;
    case 'pg_publication':
      return key in model.publications;
    case 'pg_collation':
      return key in (model.collations ?? {});
    case 'pg_cast':
      return key in (model.casts ?? {});
    case 'pg_statistic_ext':
      return key in (model.extendedStatistics ?? {});
    case 'pg_foreign_data_wrapper':
      return key in (model.foreignDataWrappers ?? {});
    case 'pg_foreign_server':
      return key in (model.foreignServers ?? {});
    case 'pg_user_mapping':
      return key in (model.userMappings ?? {});
    case 'pg_default_acl':
      return model.defaultPrivileges.length > 0;
    case 'pg_constraint': {
      if (!object.relation) return Object.values(model.types).some((type) => type.kind === 'domain');
      const table = model.tables[object.relation];
      // A constraint trigger's constraint is the trigger.
      if (object.contype === 't') return (object.name ?? '') in (table?.triggers ?? {});
      const foreign = model.foreignTables?.[object.relation];
      return (object.name ?? '') in (table?.constraints ?? foreign?.constraints ?? {});
    }
    case 'pg_trigger': {
      const relation = object.relation ?? '';
      const triggers =
        model.tables[relation]?.triggers ??
        (model.views[relation] as { triggers?: Record<string, unknown> } | undefined)?.triggers ??
        model.foreignTables?.[relation]?.triggers;
      return (object.name ?? '') in (triggers ?? {});
    }
    case 'pg_policy':
      return (object.name ?? '') in (model.tables[object.relation ?? '']?.policies ?? {});
    case 'pg_rewrite': {
      const relation = object.relation ?? '';
      const rules = model.tables[relation]?.rules ?? model.views[relation]?.rules;
      return (object.name ?? '') in (rules ?? {});
    }
    case 'pg_event_trigger':
      return key in (model.eventTriggers ?? {});
    case 'pg_operator':
      return key in (model.operators ?? {});
    case 'pg_opfamily':
      return key in (model.operatorFamilies ?? {});
    case 'pg_opclass':
      return key in (model.operatorClasses ?? {});
    case 'pg_ts_config':
      return key in (model.textSearchConfigurations ?? {});
    case 'pg_ts_dict':
      return key in (model.textSearchDictionaries ?? {});
    default:
      return false;
  }
}
