import type pg from 'pg';
import { nonUserSchemas, type Platform } from '../platform.js';
import { textArray } from './introspect-sql.js';

/*
 * notCompared: what the database holds that the schema model does not represent.
 *
 * Coverage doctrine: an object of the user's that supagate does not model is never silently
 * ignored. Plan, diff and drift list such objects under "not compared" (kind, count, the first
 * names), so a reviewer knows what the comparison cannot vouch for.
 *
 * One set-based catalog query, whatever the size of the database. The scope is
 * introspection's: the user schemas (not Supabase's managed ones, not pg_*), no extension
 * members (pg_depend deptype 'e'), no implicit objects (deptype 'i': an array or multirange
 * type, a range's constructor functions, a table's row type, a view's _RETURN rule; not an
 * object's internal dependency on its own parts, as a partitioned table's on its key). Objects
 * without a schema (languages, access methods, transforms, subscriptions, large objects)
 * count when the user made them: not built in (oid >= FirstNormalObjectId, 16384) and not an
 * extension's. Foreign data wrappers, foreign servers, user mappings and foreign tables
 * (their triggers too) are modeled (introspect-foreign.ts). Range types and
 * collations are modeled (introspect-types.ts). Rules of tables and views, and the user's
 * event triggers, are modeled (introspect-rules.ts). Text search configurations and
 * dictionaries are modeled (kinds/text-search.ts); their parsers and templates are not. Casts
 * and extended statistics are modeled (kinds/casts.ts, kinds/extended-statistics.ts).
 * Operators, operator families and operator classes are modeled (kinds/operators.ts,
 * kinds/operator-families.ts); shell operators nothing refers to are not.
 */

/** One kind of object the model does not represent, as found in one database. */
export interface NotComparedKind {
  /** `conversion`, `text search parser`, `transform`, … */
  kind: string;
  count: number;
  /** The first names (code-unit order), at most NOT_COMPARED_NAMES. */
  names: string[];
}

/** What plan and diff report: the kinds on the "after" side, and whether the change touched them. */
export interface NotComparedChange extends NotComparedKind {
  /** The kinds' count or first names differ between the two sides (before → after). */
  changed: boolean;
  /** Count on the "before" side (0 when the kind was absent). */
  countBefore: number;
}

/** Names listed per kind. */
export const NOT_COMPARED_NAMES = 10;

/** What notCompared() reads: the same scope as introspect(). */
export interface NotComparedScope {
  /** User schemas; default: every schema except nonUserSchemas(platform) and pg_*. */
  schemas?: string[];
  /** Default `supabase` (model.ts Platform). */
  platform?: Platform;
}

/**
 * The kinds notCompared() can report, in the words it uses. The `relation (relkind …)` and
 * `type (typtype …)` fallbacks catch what a later PostgreSQL adds to pg_class and pg_type.
 */
export const NOT_COMPARED_KINDS = [
  'access method',
  'conversion',
  'large object',
  'procedural language',
  'base type',
  'shell operator',
  'shell type',
  'security label',
  'subscription',
  'text search parser',
  'text search template',
  'transform',
] as const;

/** The query (exported for tests and benchmarks). */
export function notComparedQuery(client: pg.Client, scope: NotComparedScope = {}): string {
  const managed = textArray(client, nonUserSchemas(scope.platform));
  const schemaFilter = scope.schemas
    ? `n.nspname = ANY (${textArray(client, scope.schemas)})`
    : `n.nspname <> ALL (${managed}) AND n.nspname !~ '^pg_'`;
  // Objects with a schema: `inSchema(alias.column)`; database-wide ones: built by the user.
  const inSchema = (column: string) => `${column} IN (SELECT ns.oid FROM ns)`;
  const userMade = (oid: string) => `${oid} >= 16384`;
  const qualified = (namespace: string, name: string) =>
    `format('%I.%I', (SELECT nn.nspname FROM pg_namespace nn WHERE nn.oid = ${namespace}), ${name})`;
  const rows: string[] = [
    // Relations and types: everything but what the model reads (named so that a kind a later
    // PostgreSQL adds shows up rather than passing unseen).
    `SELECT 'relation (relkind ' || c.relkind::text || ')',
       ${qualified('c.relnamespace', 'c.relname')}, 'pg_class'::regclass, c.oid
     FROM pg_class c WHERE ${inSchema('c.relnamespace')} AND c.relkind NOT IN ('r', 'p', 'v', 'm', 'S', 'c', 'i', 'I', 't', 'f')`,
    `SELECT CASE t.typtype WHEN 'b' THEN 'base type' WHEN 'p' THEN 'shell type'
                ELSE 'type (typtype ' || t.typtype::text || ')' END,
       ${qualified('t.typnamespace', 't.typname')}, 'pg_type'::regclass, t.oid
     FROM pg_type t WHERE ${inSchema('t.typnamespace')} AND t.typtype NOT IN ('e', 'd', 'c', 'r')`,
    `SELECT 'conversion', ${qualified('cv.connamespace', 'cv.conname')}, 'pg_conversion'::regclass, cv.oid
     FROM pg_conversion cv WHERE ${inSchema('cv.connamespace')}`,
    // A shell operator (no function) that no operator names as its commutator or negator any
    // more; one that is named is part of that operator (kinds/operators.ts).
    `SELECT 'shell operator', o.oid::regoperator::text, 'pg_operator'::regclass, o.oid
     FROM pg_operator o WHERE ${inSchema('o.oprnamespace')} AND o.oprcode = 0
       AND NOT EXISTS (SELECT 1 FROM pg_operator r WHERE r.oprcode <> 0 AND o.oid IN (r.oprcom, r.oprnegate))`,
    `SELECT 'text search parser', ${qualified('x.prsnamespace', 'x.prsname')}, 'pg_ts_parser'::regclass, x.oid
     FROM pg_ts_parser x WHERE ${inSchema('x.prsnamespace')}`,
    `SELECT 'text search template', ${qualified('x.tmplnamespace', 'x.tmplname')}, 'pg_ts_template'::regclass, x.oid
     FROM pg_ts_template x WHERE ${inSchema('x.tmplnamespace')}`,
    // Rules the model does not read: those of relations other than tables and views (rules of
    // tables and views, other than a view's own _RETURN, are modeled: introspect-rules.ts).
    `SELECT 'rule (relkind ' || c.relkind::text || ')', ${qualified('c.relnamespace', 'c.relname')} || '.' || quote_ident(r.rulename), 'pg_rewrite'::regclass, r.oid
     FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
     WHERE ${inSchema('c.relnamespace')} AND c.relkind NOT IN ('r', 'p', 'v') AND r.rulename <> '_RETURN'`,
    // Triggers the model does not read: those of any relation kind but tables, views and
    // foreign tables.
    `SELECT 'trigger (relkind ' || c.relkind::text || ')',
       ${qualified('c.relnamespace', 'c.relname')} || '.' || quote_ident(tg.tgname), 'pg_trigger'::regclass, tg.oid
     FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
     WHERE ${inSchema('c.relnamespace')} AND c.relkind NOT IN ('r', 'p', 'v', 'f') AND NOT tg.tgisinternal`,
    // Database-wide.
    `SELECT 'procedural language', quote_ident(l.lanname), 'pg_language'::regclass, l.oid
     FROM pg_language l WHERE ${userMade('l.oid')}`,
    `SELECT 'access method', quote_ident(am.amname), 'pg_am'::regclass, am.oid
     FROM pg_am am WHERE ${userMade('am.oid')}`,
    `SELECT 'transform', format('FOR %s LANGUAGE %I', tr.trftype::regtype, (SELECT l.lanname FROM pg_language l WHERE l.oid = tr.trflang)),
       'pg_transform'::regclass, tr.oid
     FROM pg_transform tr WHERE ${userMade('tr.oid')}`,
    `SELECT 'subscription', quote_ident(sb.subname), 'pg_subscription'::regclass, sb.oid
     FROM pg_subscription sb WHERE sb.subdbid = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())`,
    `SELECT 'large object', lo.oid::text, 'pg_largeobject'::regclass, lo.oid
     FROM pg_largeobject_metadata lo`,
    // Security labels (pgsodium's column encryption…) on the user's objects.
    `SELECT 'security label', format('%s: %s', sl.provider, pg_describe_object(sl.classoid, sl.objoid, sl.objsubid)), sl.classoid, sl.objoid
     FROM pg_seclabel sl
     WHERE sl.objoid >= 16384
       AND coalesce((pg_identify_object(sl.classoid, sl.objoid, sl.objsubid)).schema IN (SELECT ns.nspname FROM ns), true)`,
  ];
  return `WITH ns AS (
  SELECT n.oid, n.nspname FROM pg_namespace n
  WHERE ${schemaFilter}
    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid AND d.deptype = 'e')
),
objects (kind, name, classid, objid) AS (
${rows.join('\nUNION ALL\n')}
)
SELECT o.kind, count(*)::int AS count,
  (array_agg(o.name ORDER BY o.name COLLATE "C"))[1:${NOT_COMPARED_NAMES}] AS names
FROM objects o
WHERE NOT EXISTS (SELECT 1 FROM pg_depend d
                   WHERE d.classid = o.classid AND d.objid = o.objid AND d.deptype IN ('e', 'i')
                     AND NOT (d.refclassid = d.classid AND d.refobjid = d.objid))
GROUP BY o.kind
ORDER BY o.kind COLLATE "C"`;
}

/**
 * The user's objects of kinds the model does not represent, by kind (sorted), in one round
 * trip. Names are deparsed with `search_path = pg_catalog` (every name outside pg_catalog
 * schema-qualified, as introspect() does), in a read-only transaction of its own: the client
 * must not be in a transaction.
 */
export async function notCompared(
  client: pg.Client,
  scope: NotComparedScope = {},
): Promise<NotComparedKind[]> {
  const statements = [
    'BEGIN READ ONLY',
    'SET LOCAL search_path = pg_catalog',
    'SET LOCAL jit = off',
    notComparedQuery(client, scope),
    'COMMIT',
  ];
  let results: pg.QueryResult[];
  try {
    const result = (await client.query(statements.join(';\n'))) as unknown as
      | pg.QueryResult
      | pg.QueryResult[];
    results = Array.isArray(result) ? result : [result];
  } catch (error) {
    // A failed statement leaves the transaction open and aborted: end it.
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
  const rows = (results[3]?.rows ?? []) as NotComparedKind[];
  return rows.map((row) => ({ kind: row.kind, count: Number(row.count), names: row.names ?? [] }));
}

/**
 * The "after" side's kinds, each marked changed when its count or first names differ from the
 * "before" side's; kinds only on the "before" side (all dropped) are kept with count 0.
 */
export function notComparedChanges(before: NotComparedKind[], after: NotComparedKind[]): NotComparedChange[] {
  const earlier = new Map(before.map((entry) => [entry.kind, entry]));
  const later = new Map(after.map((entry) => [entry.kind, entry]));
  const kinds = [...new Set([...earlier.keys(), ...later.keys()])].sort((a, b) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  return kinds.map((kind) => {
    const was = earlier.get(kind);
    const is = later.get(kind) ?? { kind, count: 0, names: [] };
    return {
      ...is,
      countBefore: was?.count ?? 0,
      changed: !was || was.count !== is.count || was.names.join('\u0000') !== is.names.join('\u0000'),
    };
  });
}

/** Objects in all the kinds. */
export function notComparedCount(kinds: readonly NotComparedKind[]): number {
  return kinds.reduce((sum, entry) => sum + entry.count, 0);
}

/** `collation: 2 (public.c1, public.c2)`: one line per kind, for the text reports. */
export function notComparedLine(
  entry: NotComparedKind & { changed?: boolean; countBefore?: number },
): string {
  const more = entry.count > entry.names.length ? `, … ${entry.count - entry.names.length} more` : '';
  const change =
    entry.changed === true
      ? entry.countBefore !== undefined && entry.countBefore !== entry.count
        ? ` [changed: ${entry.countBefore} → ${entry.count}]`
        : ' [changed]'
      : '';
  return `${entry.kind}: ${entry.count}${entry.names.length > 0 ? ` (${entry.names.join(', ')}${more})` : ''}${change}`;
}
