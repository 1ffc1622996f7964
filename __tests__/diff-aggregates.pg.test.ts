import { describe, expect, it } from 'vitest';
import { diffSchemas } from '../src/core/schema/diff.js';
import type { Routine, SchemaModel } from '../src/core/schema/model.js';
import { convergeHarness, only, read } from './harness/converge.js';

/**
 * Aggregates: their pg_aggregate row (state function, state type, final, combine, serial and
 * moving-aggregate functions, initial conditions, sort operator, kind) is read with the
 * functions, rendered as CREATE AGGREGATE's options and compared one option at a time. Each case
 * is read from real databases and must converge: the change applied for real re-diffs empty,
 * and the aggregate dropped and re-created from the normalized DDL "after" re-diffs empty too.
 */

const { database, diffCase } = convergeHarness();

const APP = `create schema app;
create function app.add(int, int) returns int language sql immutable parallel safe as 'select $1 + $2';
create function app.sub(int, int) returns int language sql immutable as 'select $1 - $2';
create function app.fin(int) returns int language sql immutable parallel safe as 'select $1 * 2';`;
const TOTAL = `${APP}
create aggregate app.total(int) (sfunc = int4pl, stype = int, initcond = '0');`;
const recreateTotal = {
  kind: 'function' as const,
  id: 'app.total(integer)',
  drop: 'drop aggregate app.total(int)',
};

describe('aggregates', () => {
  it('added: the model has its pg_aggregate fields, the DDL is CREATE AGGREGATE and re-creates it', async () => {
    const { changes, after } = await diffCase({
      setup: APP,
      change: `create aggregate app.total(int) (sfunc = int4pl, stype = int, initcond = '0');
comment on aggregate app.total(int) is 'a sum';`,
      recreate: { ...recreateTotal, drop: '' },
    });
    const change = only(changes, 'app.total(integer)');
    expect(change).toMatchObject({ kind: 'function', action: 'added' });
    expect(after.functions['app.total(integer)']).toEqual({
      schema: 'app',
      name: 'total',
      kind: 'aggregate',
      identityArguments: 'integer',
      arguments: 'integer',
      returns: 'integer',
      language: 'internal',
      body: 'aggregate_dummy',
      definition: null,
      volatility: 'immutable',
      securityDefiner: false,
      strict: false,
      leakproof: false,
      parallel: 'unsafe',
      config: [],
      owner: 'postgres',
      comment: 'a sum',
      grants: [
        { grantee: 'PUBLIC', privilege: 'EXECUTE', grantable: false },
        { grantee: 'postgres', privilege: 'EXECUTE', grantable: false },
      ],
      aggregate: { sfunc: 'int4pl', stype: 'integer', initcond: '0' },
    } satisfies Routine);
    expect(change.ddl.after).toBe(`CREATE AGGREGATE app.total(integer) (
    SFUNC = int4pl,
    STYPE = integer,
    INITCOND = '0'
);

ALTER AGGREGATE app.total(integer) OWNER TO postgres;

GRANT EXECUTE ON FUNCTION app.total(integer) TO PUBLIC;
GRANT EXECUTE ON FUNCTION app.total(integer) TO postgres;

COMMENT ON AGGREGATE app.total(integer) IS 'a sum';
`);
  });

  it('a plain function has no aggregate attribute; a zero-argument aggregate is name(*)', async () => {
    const { changes, after } = await diffCase({
      setup: APP,
      change: `create aggregate app.tally(*) (sfunc = int8inc, stype = int8, initcond = '0');
revoke execute on function app.tally() from public;`,
      recreate: { kind: 'function', id: 'app.tally()', drop: '' },
    });
    expect(after.functions['app.add(integer, integer)']).not.toHaveProperty('aggregate');
    expect(after.functions['app.tally()']?.aggregate).toEqual({
      sfunc: 'int8inc',
      stype: 'bigint',
      initcond: '0',
    });
    const ddl = only(changes, 'app.tally()').ddl.after ?? '';
    expect(ddl).toContain('CREATE AGGREGATE app.tally(*) (\n');
    expect(ddl).toContain('ALTER AGGREGATE app.tally(*) OWNER TO postgres;');
    expect(ddl).toContain('REVOKE ALL ON FUNCTION app.tally() FROM PUBLIC;');
  });

  it('changed: the state function and the initial condition, each an attribute', async () => {
    const { changes } = await diffCase({
      setup: TOTAL,
      change: `drop aggregate app.total(int);
create aggregate app.total(int) (sfunc = app.add, stype = int, initcond = '10');`,
      recreate: recreateTotal,
    });
    const change = only(changes, 'app.total(integer)');
    expect(change.action).toBe('changed');
    expect(change.attributes).toEqual([
      { attribute: 'aggregate.sfunc', before: 'int4pl', after: 'app.add' },
      { attribute: 'aggregate.initcond', before: '0', after: '10' },
    ]);
    expect(change.ddl.diff).toContain('-    SFUNC = int4pl,\n+    SFUNC = app.add,');
    expect(change.ddl.diff).toContain("-    INITCOND = '0'\n+    INITCOND = '10'");
  });

  it('changed: a final function, a combine function, FINALFUNC_MODIFY, SSPACE and PARALLEL', async () => {
    const { changes, after } = await diffCase({
      setup: TOTAL,
      change: `drop aggregate app.total(int);
create aggregate app.total(int) (sfunc = int4pl, stype = int, sspace = 16, finalfunc = app.fin,
  finalfunc_modify = shareable, combinefunc = app.add, initcond = '0', parallel = safe);`,
      recreate: recreateTotal,
    });
    expect(only(changes, 'app.total(integer)').attributes).toEqual([
      { attribute: 'parallel', before: 'unsafe', after: 'safe' },
      { attribute: 'aggregate.sspace', before: 0, after: 16 },
      { attribute: 'aggregate.finalfunc', before: null, after: 'app.fin' },
      { attribute: 'aggregate.finalfuncModify', before: 'read_only', after: 'shareable' },
      { attribute: 'aggregate.combinefunc', before: null, after: 'app.add' },
    ]);
    expect(after.functions['app.total(integer)']?.aggregate).toEqual({
      sfunc: 'int4pl',
      stype: 'integer',
      sspace: 16,
      finalfunc: 'app.fin',
      finalfuncModify: 'shareable',
      combinefunc: 'app.add',
      initcond: '0',
    });
    expect(only(changes, 'app.total(integer)').ddl.after).toContain(`CREATE AGGREGATE app.total(integer) (
    SFUNC = int4pl,
    STYPE = integer,
    SSPACE = 16,
    FINALFUNC = app.fin,
    FINALFUNC_MODIFY = SHAREABLE,
    COMBINEFUNC = app.add,
    INITCOND = '0',
    PARALLEL = SAFE
);`);
  });

  it('changed: the moving-aggregate functions, type, space and initial condition', async () => {
    const moving = `${APP}
create aggregate app.total(int) (sfunc = int4pl, stype = int, initcond = '0',
  msfunc = int4pl, minvfunc = int4mi, mstype = int, minitcond = '0');`;
    const { changes, after } = await diffCase({
      setup: moving,
      change: `drop aggregate app.total(int);
create aggregate app.total(int) (sfunc = int4pl, stype = int, initcond = '0',
  msfunc = app.add, minvfunc = app.sub, mstype = int, msspace = 8, mfinalfunc = app.fin,
  mfinalfunc_modify = read_write, minitcond = '1');`,
      recreate: recreateTotal,
    });
    expect(only(changes, 'app.total(integer)').attributes).toEqual([
      { attribute: 'aggregate.msfunc', before: 'int4pl', after: 'app.add' },
      { attribute: 'aggregate.minvfunc', before: 'int4mi', after: 'app.sub' },
      { attribute: 'aggregate.msspace', before: 0, after: 8 },
      { attribute: 'aggregate.mfinalfunc', before: null, after: 'app.fin' },
      { attribute: 'aggregate.mfinalfuncModify', before: 'read_only', after: 'read_write' },
      { attribute: 'aggregate.minitcond', before: '0', after: '1' },
    ]);
    expect(after.functions['app.total(integer)']?.aggregate).toEqual({
      sfunc: 'int4pl',
      stype: 'integer',
      initcond: '0',
      msfunc: 'app.add',
      minvfunc: 'app.sub',
      mstype: 'integer',
      msspace: 8,
      mfinalfunc: 'app.fin',
      mfinalfuncModify: 'read_write',
      minitcond: '1',
    });
  });

  it('changed: a sort operator', async () => {
    const setup = `${APP}
create aggregate app.biggest(int) (sfunc = int4larger, stype = int);`;
    const { changes, after } = await diffCase({
      setup,
      change: `drop aggregate app.biggest(int);
create aggregate app.biggest(int) (sfunc = int4larger, stype = int, sortop = >);`,
      recreate: { kind: 'function', id: 'app.biggest(integer)', drop: 'drop aggregate app.biggest(int)' },
    });
    expect(only(changes, 'app.biggest(integer)').attributes).toEqual([
      { attribute: 'aggregate.sortop', before: null, after: 'pg_catalog.>' },
    ]);
    expect(after.functions['app.biggest(integer)']?.aggregate?.sortop).toBe('pg_catalog.>');
    expect(only(changes, 'app.biggest(integer)').ddl.after).toContain(
      '    SORTOP = OPERATOR(pg_catalog.>)\n',
    );
  });

  it('removed', async () => {
    const { changes } = await diffCase({ setup: TOTAL, change: 'drop aggregate app.total(int);' });
    expect(only(changes, 'app.total(integer)')).toMatchObject({ kind: 'function', action: 'removed' });
  });

  it('ordered-set and hypothetical-set aggregates: kind, direct arguments, FINALFUNC_EXTRA', async () => {
    const { changes, after } = await diffCase({
      setup: APP,
      change: `create aggregate app.pct(float8 order by anyelement) (sfunc = ordered_set_transition,
  stype = internal, finalfunc = percentile_disc_final, finalfunc_extra);
grant execute on function app.pct(float8, anyelement) to service_role;
comment on aggregate app.pct(float8 order by anyelement) is 'a percentile';`,
      recreate: { kind: 'function', id: 'app.pct(double precision, anyelement)', drop: '' },
    });
    const pct = after.functions['app.pct(double precision, anyelement)'];
    expect(pct).toMatchObject({
      kind: 'aggregate',
      identityArguments: 'double precision ORDER BY anyelement',
      returns: 'anyelement',
    });
    expect(pct?.aggregate).toEqual({
      kind: 'ordered-set',
      directArgs: 1,
      sfunc: 'ordered_set_transition',
      stype: 'internal',
      finalfunc: 'percentile_disc_final',
      finalfuncExtra: true,
    });
    const ddl = only(changes, 'app.pct(double precision, anyelement)').ddl.after ?? '';
    expect(ddl).toContain(`CREATE AGGREGATE app.pct(double precision ORDER BY anyelement) (
    SFUNC = ordered_set_transition,
    STYPE = internal,
    FINALFUNC = percentile_disc_final,
    FINALFUNC_EXTRA
);`);
    expect(ddl).toContain('GRANT EXECUTE ON FUNCTION app.pct(double precision, anyelement) TO service_role;');
    expect(ddl).toContain(
      "COMMENT ON AGGREGATE app.pct(double precision ORDER BY anyelement) IS 'a percentile';",
    );

    const hypothetical = await diffCase({
      setup: APP,
      change: `create aggregate app.rank_of(variadic "any" order by variadic "any") (
  sfunc = ordered_set_transition_multi, stype = internal, finalfunc = rank_final, finalfunc_extra,
  finalfunc_modify = shareable, hypothetical);`,
      recreate: { kind: 'function', id: 'app.rank_of("any")', drop: '' },
    });
    expect(hypothetical.after.functions['app.rank_of("any")']?.aggregate).toEqual({
      kind: 'hypothetical',
      directArgs: 1,
      sfunc: 'ordered_set_transition_multi',
      stype: 'internal',
      finalfunc: 'rank_final',
      finalfuncExtra: true,
      finalfuncModify: 'shareable',
    });
    const rankDdl = only(hypothetical.changes, 'app.rank_of("any")').ddl.after ?? '';
    expect(rankDdl).toContain('    FINALFUNC_MODIFY = SHAREABLE,\n    HYPOTHETICAL\n);');
    expect(rankDdl).toContain('GRANT EXECUTE ON FUNCTION app.rank_of(VARIADIC "any") TO postgres;');

    // No direct arguments (as mode's).
    const mode = await diffCase({
      setup: APP,
      change: `create aggregate app.most(order by anyelement) (sfunc = ordered_set_transition,
  stype = internal, finalfunc = mode_final, finalfunc_extra);`,
      recreate: { kind: 'function', id: 'app.most(anyelement)', drop: '' },
    });
    expect(mode.after.functions['app.most(anyelement)']?.aggregate).toEqual({
      kind: 'ordered-set',
      sfunc: 'ordered_set_transition',
      stype: 'internal',
      finalfunc: 'mode_final',
      finalfuncExtra: true,
    });
    const modeDdl = only(mode.changes, 'app.most(anyelement)').ddl.after ?? '';
    expect(modeDdl).toContain('CREATE AGGREGATE app.most(ORDER BY anyelement) (\n');
    expect(modeDdl).toContain('GRANT EXECUTE ON FUNCTION app.most(anyelement) TO postgres;');

    // An ordered-set aggregate's FINALFUNC_MODIFY defaults to READ_WRITE: changed to READ_ONLY.
    const modified = await diffCase({
      setup: `${APP}
create aggregate app.pct(float8 order by anyelement) (sfunc = ordered_set_transition,
  stype = internal, finalfunc = percentile_disc_final, finalfunc_extra);`,
      change: `drop aggregate app.pct(float8 order by anyelement);
create aggregate app.pct(float8 order by anyelement) (sfunc = ordered_set_transition,
  stype = internal, finalfunc = percentile_disc_final, finalfunc_extra, finalfunc_modify = read_only);`,
      recreate: {
        kind: 'function',
        id: 'app.pct(double precision, anyelement)',
        drop: 'drop aggregate app.pct(float8 order by anyelement)',
      },
    });
    expect(only(modified.changes, 'app.pct(double precision, anyelement)').attributes).toEqual([
      { attribute: 'aggregate.finalfuncModify', before: 'read_write', after: 'read_only' },
    ]);
  });

  it('a model read before aggregates had their fields (no aggregate attribute) is not an aggregate change', async () => {
    const model = await read(await database(TOTAL));
    const total = model.functions['app.total(integer)'] as Routine;
    const { aggregate: _, ...old } = total;
    const before: SchemaModel = { ...model, functions: { ...model.functions, 'app.total(integer)': old } };
    expect(diffSchemas(before, model).changes).toEqual([]);
    expect(diffSchemas(model, before).changes).toEqual([]);
  });
});
