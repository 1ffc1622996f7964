import { quoteLiteral } from '../../sql/quote.js';
import {
  commentOf,
  extensionMember,
  type Nullable,
  routineIdentity,
  sortedRecord,
} from '../introspect-sql.js';
import type { CatalogKind } from './catalog-kind.js';

/*
 * Casts (CREATE CAST) the user made: database-wide, so not scoped by schema; not built in
 * (oid >= FirstNormalObjectId, 16384) and not an extension's (citext's casts are citext's).
 * pg_cast has no owner: a cast belongs to whoever owns its types.
 */

export interface Cast {
  /** The source type as format_type() writes it (schema-qualified outside pg_catalog). */
  source: string;
  target: string;
  /** WITH FUNCTION, WITH INOUT or WITHOUT FUNCTION (binary coercible). */
  method: 'function' | 'inout' | 'binary';
  /** The cast function's identity (`public.mood_to_int(public.mood)`) when method is `function`. */
  function: string | null;
  /** Explicit only, AS ASSIGNMENT or AS IMPLICIT. */
  context: 'explicit' | 'assignment' | 'implicit';
  comment: string | null;
}

interface CastRow {
  source: string;
  target: string;
  method: 'f' | 'i' | 'b';
  function: Nullable<string>;
  context: 'e' | 'a' | 'i';
  comment: Nullable<string>;
}

const METHODS: Record<CastRow['method'], Cast['method']> = { f: 'function', i: 'inout', b: 'binary' };
const CONTEXTS: Record<CastRow['context'], Cast['context']> = {
  e: 'explicit',
  a: 'assignment',
  i: 'implicit',
};

/** The identity of a cast: `(source AS target)`. */
export function castId(cast: Pick<Cast, 'source' | 'target'>): string {
  return `(${cast.source} AS ${cast.target})`;
}

function castsQuery(): string {
  return `SELECT format_type(ca.castsource, NULL) AS source, format_type(ca.casttarget, NULL) AS target,
  ca.castmethod::text AS method, ca.castcontext::text AS context,
  CASE WHEN p.oid IS NOT NULL THEN ${routineIdentity('p', 'pn')} END AS function,
  ${commentOf('ca.oid', 'pg_cast')} AS comment
FROM pg_cast ca
  LEFT JOIN pg_proc p ON p.oid = ca.castfunc LEFT JOIN pg_namespace pn ON pn.oid = p.pronamespace
WHERE ca.oid >= 16384 AND NOT ${extensionMember('pg_cast', 'ca.oid')}
  -- Not part of another object: a range type's cast to its multirange comes and goes with it.
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                   WHERE d.classid = 'pg_cast'::regclass AND d.objid = ca.oid AND d.deptype = 'i')`;
}

function toCast(row: CastRow): Cast {
  return {
    source: row.source,
    target: row.target,
    method: METHODS[row.method],
    function: row.function,
    context: CONTEXTS[row.context],
    comment: row.comment,
  };
}

function castDdl(cast: Cast): string {
  const id = castId(cast);
  const method =
    cast.method === 'function'
      ? `WITH FUNCTION ${cast.function}`
      : cast.method === 'inout'
        ? 'WITH INOUT'
        : 'WITHOUT FUNCTION';
  const context = cast.context === 'explicit' ? '' : ` AS ${cast.context.toUpperCase()}`;
  const lines = [`CREATE CAST ${id} ${method}${context};`];
  if (cast.comment !== null) lines.push('', `COMMENT ON CAST ${id} IS ${quoteLiteral(cast.comment)};`);
  return `${lines.join('\n')}\n`;
}

export const castKind: CatalogKind<CastRow, Cast> = {
  kind: 'cast',
  key: 'casts',
  query: castsQuery,
  assemble: (rows) => sortedRecord(rows.map((row): [string, Cast] => [castId(row), toCast(row)])),
  ddl: castDdl,
  identity: new Set(['source', 'target']),
};
