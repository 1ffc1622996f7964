import { quoteLiteral } from '../sql/quote.js';
import type { AttributeChange } from './changes.js';
import type { Nullable } from './introspect-sql.js';
import type { Aggregate, AggregateFinalModify, Routine } from './model.js';

/*
 * Aggregates (CREATE AGGREGATE): their pg_aggregate row, read with the functions (introspect.ts
 * LEFT JOINs pg_aggregate to pg_proc in the same query), modeled as a Routine's `aggregate`
 * attribute, rendered as CREATE AGGREGATE's options (ddl.ts routineDdl) and compared one option
 * at a time (diff.ts compareRoutines).
 */

// ---------------------------------------------------------------------------------------------
// SQL

/** Joined to the functions query (pg_proc alias `p`): the aggregate's row, if it is one. */
export const AGGREGATE_JOIN = 'LEFT JOIN pg_aggregate agg ON agg.aggfnoid = p.oid';

/** A function reference of pg_aggregate (regproc), or NULL when none (0). */
function proc(column: string): string {
  return `CASE WHEN agg.${column} <> 0 THEN agg.${column}::regproc::text END`;
}

/** The functions query's `aggregate` column: a JSON object of pg_aggregate's fields, NULL for other routines. */
export const AGGREGATE_COLUMN = `CASE WHEN agg.aggfnoid IS NOT NULL THEN json_build_object(
    'kind', agg.aggkind::text, 'direct_args', agg.aggnumdirectargs,
    'sfunc', ${proc('aggtransfn')}, 'stype', format_type(agg.aggtranstype, NULL), 'sspace', agg.aggtransspace,
    'finalfunc', ${proc('aggfinalfn')}, 'final_extra', agg.aggfinalextra, 'final_modify', agg.aggfinalmodify::text,
    'combinefunc', ${proc('aggcombinefn')}, 'serialfunc', ${proc('aggserialfn')},
    'deserialfunc', ${proc('aggdeserialfn')}, 'initcond', agg.agginitval,
    'msfunc', ${proc('aggmtransfn')}, 'minvfunc', ${proc('aggminvtransfn')},
    'mstype', CASE WHEN agg.aggmtranstype <> 0 THEN format_type(agg.aggmtranstype, NULL) END,
    'msspace', agg.aggmtransspace, 'mfinalfunc', ${proc('aggmfinalfn')}, 'mfinal_extra', agg.aggmfinalextra,
    'mfinal_modify', agg.aggmfinalmodify::text, 'minitcond', agg.aggminitval,
    'sortop', (SELECT format('%I.%s', son.nspname, so.oprname) FROM pg_operator so
                 JOIN pg_namespace son ON son.oid = so.oprnamespace WHERE so.oid = agg.aggsortop)) END`;

/** The `aggregate` column of a functions row. */
export interface AggregateRow {
  kind: 'n' | 'o' | 'h';
  direct_args: number;
  sfunc: string;
  stype: string;
  sspace: number;
  finalfunc: Nullable<string>;
  final_extra: boolean;
  final_modify: 'r' | 's' | 'w';
  combinefunc: Nullable<string>;
  serialfunc: Nullable<string>;
  deserialfunc: Nullable<string>;
  initcond: Nullable<string>;
  msfunc: Nullable<string>;
  minvfunc: Nullable<string>;
  mstype: Nullable<string>;
  msspace: number;
  mfinalfunc: Nullable<string>;
  mfinal_extra: boolean;
  mfinal_modify: 'r' | 's' | 'w';
  minitcond: Nullable<string>;
  sortop: Nullable<string>;
}

// ---------------------------------------------------------------------------------------------
// Rows → model

const MODIFY: Record<AggregateRow['final_modify'], AggregateFinalModify> = {
  r: 'read_only',
  s: 'shareable',
  w: 'read_write',
};

/** FINALFUNC_MODIFY when not given: READ_ONLY for a normal aggregate, READ_WRITE for the others. */
function defaultModify(kind: Aggregate['kind']): AggregateFinalModify {
  return kind === undefined ? 'read_only' : 'read_write';
}

/** The routine's `aggregate` attribute, as a spread: nothing for a routine that is not an aggregate. */
export function aggregateOf(row: Nullable<AggregateRow> | undefined): { aggregate?: Aggregate } {
  if (!row) return {};
  const kind = row.kind === 'o' ? 'ordered-set' : row.kind === 'h' ? 'hypothetical' : undefined;
  const modify = (value: AggregateRow['final_modify']) => {
    const mode = MODIFY[value];
    return mode === undefined || mode === defaultModify(kind) ? undefined : mode;
  };
  const aggregate: Aggregate = {
    kind,
    directArgs: row.direct_args > 0 ? row.direct_args : undefined,
    sfunc: row.sfunc,
    stype: row.stype,
    sspace: row.sspace > 0 ? row.sspace : undefined,
    finalfunc: row.finalfunc ?? undefined,
    finalfuncExtra: row.final_extra ? true : undefined,
    finalfuncModify: modify(row.final_modify),
    combinefunc: row.combinefunc ?? undefined,
    serialfunc: row.serialfunc ?? undefined,
    deserialfunc: row.deserialfunc ?? undefined,
    initcond: row.initcond ?? undefined,
    msfunc: row.msfunc ?? undefined,
    minvfunc: row.minvfunc ?? undefined,
    mstype: row.mstype ?? undefined,
    msspace: row.msspace > 0 ? row.msspace : undefined,
    mfinalfunc: row.mfinalfunc ?? undefined,
    mfinalfuncExtra: row.mfinal_extra ? true : undefined,
    mfinalfuncModify: modify(row.mfinal_modify),
    minitcond: row.minitcond ?? undefined,
    sortop: row.sortop ?? undefined,
  };
  // Absent, not undefined: the model is plain JSON, and a default is no key at all.
  for (const key of Object.keys(aggregate) as (keyof Aggregate)[]) {
    if (aggregate[key] === undefined) delete aggregate[key];
  }
  return { aggregate };
}

// ---------------------------------------------------------------------------------------------
// DDL

/** What an absent attribute means (see Aggregate), for the diff and the DDL. */
function defaults(aggregate: Aggregate): Record<keyof Aggregate, string | number | boolean | null> {
  const modify = defaultModify(aggregate.kind);
  return {
    kind: 'normal',
    directArgs: 0,
    sfunc: null,
    stype: null,
    sspace: 0,
    finalfunc: null,
    finalfuncExtra: false,
    finalfuncModify: modify,
    combinefunc: null,
    serialfunc: null,
    deserialfunc: null,
    initcond: null,
    msfunc: null,
    minvfunc: null,
    mstype: null,
    msspace: 0,
    mfinalfunc: null,
    mfinalfuncExtra: false,
    mfinalfuncModify: modify,
    minitcond: null,
    sortop: null,
  };
}

/** The attributes in CREATE AGGREGATE's order (as pg_dump writes them). */
const ATTRIBUTES: (keyof Aggregate)[] = [
  'kind',
  'directArgs',
  'sfunc',
  'stype',
  'sspace',
  'finalfunc',
  'finalfuncExtra',
  'finalfuncModify',
  'combinefunc',
  'serialfunc',
  'deserialfunc',
  'initcond',
  'msfunc',
  'minvfunc',
  'mstype',
  'msspace',
  'mfinalfunc',
  'mfinalfuncExtra',
  'mfinalfuncModify',
  'minitcond',
  'sortop',
];

/**
 * An aggregate's signature in CREATE/ALTER/COMMENT ON AGGREGATE: its identity arguments (with
 * ORDER BY for an ordered-set one), `*` when it has none.
 */
export function aggregateSignature(name: string, routine: Routine): string {
  return `${name}(${routine.identityArguments === '' ? '*' : routine.identityArguments})`;
}

/**
 * An aggregate's signature in GRANT … ON FUNCTION, which takes the plain list of argument types:
 * `ORDER BY` becomes a comma, and a hypothetical-set aggregate's `VARIADIC x ORDER BY VARIADIC x`
 * (one argument in pg_proc) one VARIADIC x.
 */
export function aggregateFunctionSignature(name: string, routine: Routine): string {
  // No direct arguments: `ORDER BY anyelement` (as mode's).
  const args = routine.identityArguments.startsWith('ORDER BY ')
    ? ` ${routine.identityArguments}`
    : routine.identityArguments;
  const at = args.indexOf(' ORDER BY ');
  if (at < 0) return `${name}(${args})`;
  const direct = args.slice(0, at);
  const aggregated = args.slice(at + ' ORDER BY '.length);
  const variadic = aggregated.startsWith('VARIADIC ') ? /(?:^|, )(VARIADIC .*)$/.exec(direct) : null;
  if (variadic && variadic[1] === aggregated) return `${name}(${direct})`;
  return `${name}(${direct === '' ? aggregated : `${direct}, ${aggregated}`})`;
}

/** A sort operator `schema.name` as CREATE AGGREGATE's SORTOP takes it: OPERATOR(schema.name). */
function operatorSql(operator: string): string {
  return `OPERATOR(${operator})`;
}

/**
 * CREATE AGGREGATE with one option per line, in pg_dump's order; PARALLEL from the routine.
 * `signature` is aggregateSignature().
 */
export function aggregateStatement(signature: string, routine: Routine, aggregate: Aggregate): string {
  const defaultsOf = defaults(aggregate);
  const options: string[] = [`SFUNC = ${aggregate.sfunc}`, `STYPE = ${aggregate.stype}`];
  const add = (key: keyof Aggregate, option: string, sql: (value: string) => string = (value) => value) => {
    const value = aggregate[key];
    if (value === undefined || value === defaultsOf[key]) return;
    options.push(value === true ? option : `${option} = ${sql(String(value))}`);
  };
  const modify = (value: string) => value.toUpperCase();
  add('sspace', 'SSPACE');
  add('finalfunc', 'FINALFUNC');
  add('finalfuncExtra', 'FINALFUNC_EXTRA');
  add('finalfuncModify', 'FINALFUNC_MODIFY', modify);
  add('combinefunc', 'COMBINEFUNC');
  add('serialfunc', 'SERIALFUNC');
  add('deserialfunc', 'DESERIALFUNC');
  add('initcond', 'INITCOND', quoteLiteral);
  add('msfunc', 'MSFUNC');
  add('minvfunc', 'MINVFUNC');
  add('mstype', 'MSTYPE');
  add('msspace', 'MSSPACE');
  add('mfinalfunc', 'MFINALFUNC');
  add('mfinalfuncExtra', 'MFINALFUNC_EXTRA');
  add('mfinalfuncModify', 'MFINALFUNC_MODIFY', modify);
  add('minitcond', 'MINITCOND', quoteLiteral);
  add('sortop', 'SORTOP', operatorSql);
  if (aggregate.kind === 'hypothetical') options.push('HYPOTHETICAL');
  if (routine.parallel !== 'unsafe') options.push(`PARALLEL = ${routine.parallel.toUpperCase()}`);
  return [
    `CREATE AGGREGATE ${signature} (`,
    ...options.map((option, i) => `    ${option}${i < options.length - 1 ? ',' : ''}`),
    ');',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Diff

/**
 * The aggregate attributes that differ, one attribute change each (`aggregate.sfunc` int4pl →
 * public.add_to, `aggregate.initcond` 0 → 10), an absent one reported as its default. Compared
 * only when both sides have them (a model read before they existed does not).
 */
export function compareAggregates(before: Routine, after: Routine): AttributeChange[] {
  const left = before.aggregate;
  const right = after.aggregate;
  if (left === undefined || right === undefined) return [];
  const leftDefaults = defaults(left);
  const rightDefaults = defaults(right);
  const changes: AttributeChange[] = [];
  for (const key of ATTRIBUTES) {
    const a = left[key] ?? leftDefaults[key];
    const b = right[key] ?? rightDefaults[key];
    if (a !== b) changes.push({ attribute: `aggregate.${key}`, before: a, after: b });
  }
  return changes;
}
