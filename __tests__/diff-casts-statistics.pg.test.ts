import { describe, expect, it } from 'vitest';
import type { ObjectChange } from '../src/core/schema/changes.js';
import { convergeHarness, only } from './harness/converge.js';
import { expectExtensionAvailable } from './harness/db.js';

/**
 * Casts and extended statistics are compared like other objects. Each case is read from real
 * databases: "before" (`setup`), "after" (`setup` + `change`), diffed; then it must converge:
 * `change` applied to "before" for real re-diffs empty, and (where `recreate` is given) the
 * object dropped from "before" and re-created from the normalized DDL of "after" re-diffs empty.
 */

const { diffCase, database, read } = convergeHarness();

function attributesOf(change: ObjectChange) {
  return Object.fromEntries(change.attributes.map((a) => [a.attribute, [a.before, a.after]]));
}

const MOOD = `create type public.mood as enum ('happy', 'sad');
create function public.mood_len(public.mood) returns int language sql immutable as $$ select length($1::text) $$;`;
/** A base type laid out like integer (binary coercible to it), as in coverage.pg.test.ts. */
const WORD = `create type public.word;
create function public.word_in(cstring) returns public.word language internal immutable strict as 'int4in';
create function public.word_out(public.word) returns cstring language internal immutable strict as 'int4out';
create type public.word (input = public.word_in, output = public.word_out, internallength = 4, passedbyvalue, alignment = int4);`;
const MOOD_CAST = '(public.mood AS integer)';

describe('casts', () => {
  it('added WITH FUNCTION: modeled with its function and context; the DDL re-creates it', async () => {
    const { changes, after } = await diffCase({
      setup: MOOD,
      change: `create cast (public.mood as int) with function public.mood_len(public.mood) as assignment;
comment on cast (public.mood as int) is 'its length';`,
      recreate: { kind: 'cast', id: MOOD_CAST, drop: '' },
    });
    const change = only(changes, MOOD_CAST);
    expect(change).toMatchObject({ kind: 'cast', action: 'added' });
    // Only the user's cast: none built in.
    expect(after.casts).toEqual({
      [MOOD_CAST]: {
        source: 'public.mood',
        target: 'integer',
        method: 'function',
        function: 'public.mood_len(public.mood)',
        context: 'assignment',
        comment: 'its length',
      },
    });
    expect(change.ddl.after).toBe(
      `CREATE CAST ${MOOD_CAST} WITH FUNCTION public.mood_len(public.mood) AS ASSIGNMENT;\n\nCOMMENT ON CAST ${MOOD_CAST} IS 'its length';\n`,
    );
  });

  it('added WITH INOUT', async () => {
    const id = '(public.mood AS text)';
    const { changes, after } = await diffCase({
      setup: MOOD,
      change: 'create cast (public.mood as text) with inout as implicit;',
      recreate: { kind: 'cast', id, drop: '' },
    });
    expect(only(changes, id).ddl.after).toBe(`CREATE CAST ${id} WITH INOUT AS IMPLICIT;\n`);
    expect(after.casts?.[id]).toMatchObject({ method: 'inout', function: null, context: 'implicit' });
  });

  it('added WITHOUT FUNCTION, between binary-coercible types', async () => {
    const id = '(public.word AS integer)';
    const { changes, after } = await diffCase({
      setup: WORD,
      change: 'create cast (public.word as int) without function;',
      recreate: { kind: 'cast', id, drop: '' },
    });
    expect(only(changes, id).ddl.after).toBe(`CREATE CAST ${id} WITHOUT FUNCTION;\n`);
    expect(after.casts?.[id]).toMatchObject({ method: 'binary', function: null, context: 'explicit' });
  });

  it('changed (dropped and re-created): method, function, context and comment', async () => {
    const { changes } = await diffCase({
      setup: `${MOOD}\ncreate cast (public.mood as int) with function public.mood_len(public.mood) as assignment;`,
      change: `drop cast (public.mood as int);
create cast (public.mood as int) with inout as implicit;
comment on cast (public.mood as int) is 'by text';`,
      recreate: { kind: 'cast', id: MOOD_CAST, drop: 'drop cast (public.mood as int)' },
    });
    const change = only(changes, MOOD_CAST);
    expect(change.action).toBe('changed');
    expect(attributesOf(change)).toEqual({
      method: ['function', 'inout'],
      function: ['public.mood_len(public.mood)', null],
      context: ['assignment', 'implicit'],
      comment: [null, 'by text'],
    });
  });

  it('removed', async () => {
    const { changes } = await diffCase({
      setup: `${MOOD}\ncreate cast (public.mood as int) with function public.mood_len(public.mood);`,
      change: 'drop cast (public.mood as int);',
    });
    expect(only(changes, MOOD_CAST)).toMatchObject({ kind: 'cast', action: 'removed' });
  });

  it('built-in casts are never read', async () => {
    expect((await read(await database(''))).casts).toEqual({});
  });

  it("an extension's casts are the extension's, not reported", async () => {
    const db = await database('');
    await expectExtensionAvailable(db, 'citext');
    const { changes, after } = await diffCase({ setup: '', change: 'create extension citext;' });
    expect(changes.map((c) => c.kind)).toEqual(['extension']);
    expect(after.casts).toEqual({});
  });
});

const ORDERS = 'create table public.orders (id int, a int, b int, c text);';
const STATS = 'public.orders_ab';

describe('extended statistics', () => {
  it('added with kinds: columns as a set; the DDL re-creates it', async () => {
    const { changes, after } = await diffCase({
      setup: ORDERS,
      change: `create statistics public.orders_ab (dependencies, ndistinct) on b, a from public.orders;
comment on statistics public.orders_ab is 'pairs';`,
      recreate: { kind: 'extended statistics', id: STATS, drop: '' },
    });
    const change = only(changes, STATS);
    expect(change).toMatchObject({ kind: 'extended statistics', action: 'added' });
    expect(after.extendedStatistics).toEqual({
      [STATS]: {
        schema: 'public',
        name: 'orders_ab',
        table: 'public.orders',
        kinds: ['ndistinct', 'dependencies'],
        columns: ['a', 'b'],
        owner: 'postgres',
        comment: 'pairs',
      },
    });
    expect(change.ddl.after).toBe(
      `CREATE STATISTICS ${STATS} (ndistinct, dependencies) ON a, b FROM public.orders;

ALTER STATISTICS ${STATS} OWNER TO postgres;

COMMENT ON STATISTICS ${STATS} IS 'pairs';
`,
    );
  });

  it('added with expressions (PostgreSQL 14+): every kind by default', async () => {
    const id = 'public.orders_expr';
    const { changes, after } = await diffCase({
      setup: ORDERS,
      change: 'create statistics public.orders_expr on a, (a + b), lower(c) from public.orders;',
      recreate: { kind: 'extended statistics', id, drop: '' },
    });
    expect(
      after.serverVersion,
      'expressions in statistics need a PostgreSQL 14 or later test server',
    ).toBeGreaterThanOrEqual(140000);
    expect(after.extendedStatistics?.[id]).toMatchObject({
      kinds: ['ndistinct', 'dependencies', 'mcv', 'expressions'],
      columns: ['a'],
      expressions: ['(a + b)', 'lower(c)'],
    });
    expect(only(changes, id).ddl.after).toContain(
      `CREATE STATISTICS ${id} ON a, (a + b), lower(c) FROM public.orders;`,
    );
  });

  it('added on one expression (PostgreSQL 14+): no kinds named', async () => {
    const id = 'public.orders_double';
    const { changes, after } = await diffCase({
      setup: ORDERS,
      change: 'create statistics public.orders_double on (a * 2) from public.orders;',
      recreate: { kind: 'extended statistics', id, drop: '' },
    });
    expect(
      after.serverVersion,
      'expressions in statistics need a PostgreSQL 14 or later test server',
    ).toBeGreaterThanOrEqual(140000);
    expect(after.extendedStatistics?.[id]).toMatchObject({ kinds: ['expressions'], columns: [] });
    expect(only(changes, id).ddl.after).toContain(`CREATE STATISTICS ${id} ON (a * 2) FROM public.orders;`);
  });

  it('changed: statistics target, owner and comment', async () => {
    const { changes } = await diffCase({
      setup: `${ORDERS}\ncreate statistics public.orders_ab on a, b from public.orders;`,
      change: `alter statistics public.orders_ab set statistics 500;
alter statistics public.orders_ab owner to authenticated;
comment on statistics public.orders_ab is 'pairs';`,
      recreate: { kind: 'extended statistics', id: STATS, drop: 'drop statistics public.orders_ab' },
    });
    const change = only(changes, STATS);
    expect(attributesOf(change)).toEqual({
      statistics: ['default', 500],
      owner: ['postgres', 'authenticated'],
      comment: [null, 'pairs'],
    });
    expect(change.ddl.after).toContain(`ALTER STATISTICS ${STATS} SET STATISTICS 500;`);
  });

  it('changed (re-created): kinds and columns', async () => {
    const { changes } = await diffCase({
      setup: `${ORDERS}\ncreate statistics public.orders_ab on a, b from public.orders;`,
      change: `drop statistics public.orders_ab;
create statistics public.orders_ab (mcv) on a, b, c from public.orders;`,
      recreate: { kind: 'extended statistics', id: STATS, drop: 'drop statistics public.orders_ab' },
    });
    expect(attributesOf(only(changes, STATS))).toEqual({
      kinds: [['ndistinct', 'dependencies', 'mcv'], ['mcv']],
      columns: [
        ['a', 'b'],
        ['a', 'b', 'c'],
      ],
    });
  });

  it('a column name that needs quoting is quoted in the DDL', async () => {
    const id = 'public."Pairs"';
    const { changes, after } = await diffCase({
      setup: 'create table public.orders (id int, "Order Id" int, b int);',
      change: 'create statistics public."Pairs" (ndistinct) on "Order Id", b from public.orders;',
      recreate: { kind: 'extended statistics', id, drop: '' },
    });
    expect(after.extendedStatistics?.[id]?.columns).toEqual(['Order Id', 'b']);
    expect(only(changes, id).ddl.after).toContain(
      `CREATE STATISTICS ${id} (ndistinct) ON "Order Id", b FROM public.orders;`,
    );
  });

  it('removed, and removed with its table', async () => {
    const setup = `${ORDERS}\ncreate statistics public.orders_ab on a, b from public.orders;`;
    const dropped = await diffCase({ setup, change: 'drop statistics public.orders_ab;' });
    expect(only(dropped.changes, STATS)).toMatchObject({ kind: 'extended statistics', action: 'removed' });
    // A separate object: reported removed beside its table.
    const withTable = await diffCase({ setup, change: 'drop table public.orders;' });
    expect(only(withTable.changes, STATS)).toMatchObject({ action: 'removed' });
    expect(only(withTable.changes, 'public.orders')).toMatchObject({ kind: 'table', action: 'removed' });
  });
});
