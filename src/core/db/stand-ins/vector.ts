import type { StandIn } from './stand-in.js';

/**
 * pgvector: the `vector`, `halfvec` and `sparsevec` types with their dimension (`vector(1536)`
 * is accepted and shown as such), the distance functions and operators (`<->`, `<#>`, `<=>`,
 * `<+>`), casts from and to arrays, and the `hnsw` and `ivfflat` index methods with their
 * operator classes. Values are kept as text; distances are 0; the index methods are hash
 * indexes underneath, so they accept no storage parameters (`WITH (lists = 100)`).
 */
const TYPES = ['vector', 'halfvec', 'sparsevec'] as const;

/** pgvector's index methods: the stand-in's take no storage parameters (shadow/stand-in-indexes.ts). */
export const VECTOR_INDEX_METHODS = ['hnsw', 'ivfflat'] as const;

const DISTANCES = [
  { fn: 'l2_distance', op: '<->', ops: 'l2' },
  { fn: 'inner_product', op: '<#>', ops: 'ip' },
  { fn: 'cosine_distance', op: '<=>', ops: 'cosine' },
  { fn: 'l1_distance', op: '<+>', ops: 'l1' },
] as const;

function typeScript(type: string): string {
  const t = `@extschema@.${type}`;
  const fn = (name: string, args: string, returns: string, body: string, language = 'sql') =>
    language === 'internal'
      ? `CREATE FUNCTION @extschema@.${name}(${args}) RETURNS ${returns} LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE AS '${body}';`
      : `CREATE FUNCTION @extschema@.${name}(${args}) RETURNS ${returns} LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ ${body} $$;`;
  const lines = [
    `CREATE TYPE ${t};`,
    // Internal text functions: the value is kept as its text, the dimension as varchar's length.
    fn(`${type}_in`, 'pg_catalog.cstring, pg_catalog.oid, pg_catalog.int4', t, 'textin', 'internal'),
    fn(`${type}_out`, t, 'pg_catalog.cstring', 'textout', 'internal'),
    fn(`${type}_recv`, 'pg_catalog.internal, pg_catalog.oid, pg_catalog.int4', t, 'textrecv', 'internal'),
    fn(`${type}_send`, t, 'pg_catalog.bytea', 'textsend', 'internal'),
    fn(`${type}_typmod_in`, 'pg_catalog.cstring[]', 'pg_catalog.int4', 'varchartypmodin', 'internal'),
    fn(`${type}_typmod_out`, 'pg_catalog.int4', 'pg_catalog.cstring', 'varchartypmodout', 'internal'),
    `CREATE TYPE ${t} (INPUT = @extschema@.${type}_in, OUTPUT = @extschema@.${type}_out, RECEIVE = @extschema@.${type}_recv, SEND = @extschema@.${type}_send, TYPMOD_IN = @extschema@.${type}_typmod_in, TYPMOD_OUT = @extschema@.${type}_typmod_out, INTERNALLENGTH = VARIABLE, STORAGE = extended);`,
    fn(`${type}_cmp`, `${t}, ${t}`, 'pg_catalog.int4', 'byteacmp', 'internal'),
    fn(`${type}_hash`, t, 'pg_catalog.int4', 'hashvarlena', 'internal'),
    fn(`${type}_eq`, `${t}, ${t}`, 'pg_catalog.bool', 'byteaeq', 'internal'),
    `CREATE OPERATOR @extschema@.= (LEFTARG = ${t}, RIGHTARG = ${t}, FUNCTION = @extschema@.${type}_eq, COMMUTATOR = OPERATOR(@extschema@.=));`,
    ...DISTANCES.flatMap(({ fn: name, op }) => [
      fn(name, `${t}, ${t}`, 'pg_catalog.float8', 'SELECT 0::pg_catalog.float8'),
      `CREATE OPERATOR @extschema@.${op} (LEFTARG = ${t}, RIGHTARG = ${t}, FUNCTION = @extschema@.${name}, COMMUTATOR = OPERATOR(@extschema@.${op}));`,
    ]),
    fn('l2_norm', t, 'pg_catalog.float8', 'SELECT 0::pg_catalog.float8'),
    fn('l2_normalize', t, t, 'SELECT $1'),
    // From an array: `'[1,2,3]'`, read by the type's input function.
    ...['pg_catalog.int4', 'pg_catalog.float4', 'pg_catalog.float8', 'pg_catalog.numeric'].map((element) =>
      fn(
        `array_to_${type}`,
        `${element}[], pg_catalog.int4, pg_catalog.bool`,
        t,
        `SELECT CAST(CAST('[' OPERATOR(pg_catalog.||) pg_catalog.array_to_string($1, ',') OPERATOR(pg_catalog.||) ']' AS pg_catalog.text) AS ${t})`,
      ),
    ),
    ...['pg_catalog.int4', 'pg_catalog.float4', 'pg_catalog.float8', 'pg_catalog.numeric'].map(
      (element) =>
        `CREATE CAST (${element}[] AS ${t}) WITH FUNCTION @extschema@.array_to_${type}(${element}[], pg_catalog.int4, pg_catalog.bool) AS ASSIGNMENT;`,
    ),
    fn(
      `${type}_to_float4`,
      `${t}, pg_catalog.int4, pg_catalog.bool`,
      'pg_catalog.float4[]',
      `SELECT CAST(pg_catalog.translate(CAST($1 AS pg_catalog.text), '[]', '{}') AS pg_catalog.float4[])`,
    ),
    `CREATE CAST (${t} AS pg_catalog.float4[]) WITH FUNCTION @extschema@.${type}_to_float4(${t}, pg_catalog.int4, pg_catalog.bool) AS IMPLICIT;`,
    // Operator classes of the index methods: a hash of the value underneath.
    ...VECTOR_INDEX_METHODS.flatMap((method) =>
      DISTANCES.filter(({ ops }) => method === 'hnsw' || ops !== 'l1').map(
        ({ ops }) =>
          `CREATE OPERATOR CLASS @extschema@.${type}_${ops}_ops FOR TYPE ${t} USING ${method} AS OPERATOR 1 @extschema@.= (${t}, ${t}), FUNCTION 1 @extschema@.${type}_hash(${t});`,
      ),
    ),
  ];
  return lines.join('\n');
}

export const vector: StandIn = {
  name: 'vector',
  version: '0.8.0',
  cannotPredict:
    'how long an hnsw or ivfflat index takes to build and how much memory it needs; dimension checks on values; the storage parameters of vector indexes (m, ef_construction, lists: the shadow builds them without)',
  script: [
    // The index methods first: a hash index underneath, so index builds work on any row.
    ...VECTOR_INDEX_METHODS.map(
      (method) => `CREATE ACCESS METHOD ${method} TYPE INDEX HANDLER pg_catalog.hashhandler;`,
    ),
    ...TYPES.map(typeScript),
    "CREATE FUNCTION @extschema@.vector_dims(@extschema@.vector) RETURNS pg_catalog.int4 LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT pg_catalog.cardinality(CAST(pg_catalog.translate(CAST($1 AS pg_catalog.text), '[]', '{}') AS pg_catalog.float4[])) $$;",
    'CREATE FUNCTION @extschema@.vector_norm(@extschema@.vector) RETURNS pg_catalog.float8 LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT 0::pg_catalog.float8 $$;',
    'CREATE FUNCTION @extschema@.subvector(@extschema@.vector, pg_catalog.int4, pg_catalog.int4) RETURNS @extschema@.vector LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT $1 $$;',
    "CREATE FUNCTION @extschema@.binary_quantize(@extschema@.vector) RETURNS pg_catalog.bit LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT B'0' $$;",
    'CREATE FUNCTION @extschema@.vector_accum(@extschema@.vector, @extschema@.vector) RETURNS @extschema@.vector LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT $2 $$;',
    'CREATE AGGREGATE @extschema@.avg(@extschema@.vector) (SFUNC = @extschema@.vector_accum, STYPE = @extschema@.vector);',
    'CREATE AGGREGATE @extschema@.sum(@extschema@.vector) (SFUNC = @extschema@.vector_accum, STYPE = @extschema@.vector);',
    'CREATE FUNCTION @extschema@.hamming_distance(pg_catalog.bit, pg_catalog.bit) RETURNS pg_catalog.float8 LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT 0::pg_catalog.float8 $$;',
    'CREATE FUNCTION @extschema@.jaccard_distance(pg_catalog.bit, pg_catalog.bit) RETURNS pg_catalog.float8 LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT 0::pg_catalog.float8 $$;',
    'CREATE OPERATOR @extschema@.<~> (LEFTARG = pg_catalog.bit, RIGHTARG = pg_catalog.bit, FUNCTION = @extschema@.hamming_distance, COMMUTATOR = OPERATOR(@extschema@.<~>));',
    'CREATE OPERATOR @extschema@.<%> (LEFTARG = pg_catalog.bit, RIGHTARG = pg_catalog.bit, FUNCTION = @extschema@.jaccard_distance, COMMUTATOR = OPERATOR(@extschema@.<%>));',
    'CREATE FUNCTION @extschema@.bit_hash(pg_catalog.bit) RETURNS pg_catalog.int4 LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT pg_catalog.hashtext(CAST($1 AS pg_catalog.text)) $$;',
    'CREATE OPERATOR CLASS @extschema@.bit_hamming_ops FOR TYPE pg_catalog.bit USING hnsw AS OPERATOR 1 pg_catalog.= (pg_catalog.bit, pg_catalog.bit), FUNCTION 1 @extschema@.bit_hash(pg_catalog.bit);',
    'CREATE OPERATOR CLASS @extschema@.bit_jaccard_ops FOR TYPE pg_catalog.bit USING hnsw AS OPERATOR 1 pg_catalog.= (pg_catalog.bit, pg_catalog.bit), FUNCTION 1 @extschema@.bit_hash(pg_catalog.bit);',
    'CREATE OPERATOR CLASS @extschema@.bit_hamming_ops FOR TYPE pg_catalog.bit USING ivfflat AS OPERATOR 1 pg_catalog.= (pg_catalog.bit, pg_catalog.bit), FUNCTION 1 @extschema@.bit_hash(pg_catalog.bit);',
  ].join('\n'),
};
