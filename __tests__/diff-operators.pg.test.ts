import { describe, expect, it } from 'vitest';
import { connect, disconnect } from '../src/core/db/connect.js';
import type { ObjectChange, ObjectKind } from '../src/core/schema/changes.js';
import { notCompared } from '../src/core/schema/not-compared.js';
import { convergeHarness, only } from './harness/converge.js';
import { expectExtensionAvailable } from './harness/db.js';

/**
 * Operators, operator families and operator classes are compared like other objects. Each case
 * is read from real databases: "before" (`setup`), "after" (`setup` + `change`), diffed; then it
 * must converge: `change` applied to "before" for real re-diffs empty, and (where `recreate` is
 * given) the object dropped from "before" and re-created from the normalized DDL of "after"
 * re-diffs empty.
 */

const { diffCase, database, read } = convergeHarness();

/** The one change of `kind` and `id` (a class and the family of its name share an id). */
function of(changes: ObjectChange[], kind: ObjectKind, id: string): ObjectChange {
  return only(
    changes.filter((c) => c.kind === kind),
    id,
  );
}

function attributesOf(change: ObjectChange) {
  return Object.fromEntries(change.attributes.map((a) => [a.attribute, [a.before, a.after]]));
}

const EQ = 'public.===(integer,integer)';
const PLAIN_EQ = 'create operator public.=== (leftarg = int, rightarg = int, function = int4eq);';

describe('operators', () => {
  it('added: modeled with its estimators and flags; its shell negator is its own; the DDL re-creates it', async () => {
    const { changes, after } = await diffCase({
      setup: '',
      change: `create operator public.=== (leftarg = int, rightarg = int, function = int4eq, commutator = ===,
  negator = !==, restrict = eqsel, join = eqjoinsel, hashes, merges);
comment on operator public.=== (int, int) is 'same';`,
      recreate: { kind: 'operator', id: EQ, drop: '' },
    });
    const change = only(changes, EQ);
    expect(change).toMatchObject({ kind: 'operator', action: 'added' });
    expect(after.operators?.[EQ]).toEqual({
      schema: 'public',
      name: '===',
      left: 'integer',
      right: 'integer',
      function: 'int4eq',
      commutator: EQ,
      negator: 'public.!==(integer,integer)',
      restrict: 'eqsel',
      join: 'eqjoinsel',
      hashes: true,
      merges: true,
      owner: 'postgres',
      comment: 'same',
    });
    expect(change.ddl.after).toBe(`CREATE OPERATOR public.=== (
    FUNCTION = int4eq,
    LEFTARG = integer,
    RIGHTARG = integer,
    COMMUTATOR = OPERATOR(public.===),
    NEGATOR = OPERATOR(public.!==),
    RESTRICT = eqsel,
    JOIN = eqjoinsel,
    HASHES,
    MERGES
);

ALTER OPERATOR public.=== (integer, integer) OWNER TO postgres;

COMMENT ON OPERATOR public.=== (integer, integer) IS 'same';
`);
    // The shell operator !== made for the negator is not an object of its own.
    expect(changes.map((c) => c.id)).toEqual([EQ]);
  });

  it('added: two operators naming each other as commutators, and a prefix operator', async () => {
    const { changes, after } = await diffCase({
      setup: '',
      change: `create operator public.<<< (leftarg = int, rightarg = bigint, function = int48lt, commutator = >>>);
create operator public.>>> (leftarg = bigint, rightarg = int, function = int84gt, commutator = <<<);
create operator public.~~~ (rightarg = int, function = int4um);`,
      recreate: { kind: 'operator', id: 'public.<<<(integer,bigint)', drop: '' },
    });
    expect(changes.map((c) => [c.kind, c.id, c.action])).toEqual([
      ['operator', 'public.<<<(integer,bigint)', 'added'],
      ['operator', 'public.>>>(bigint,integer)', 'added'],
      ['operator', 'public.~~~(NONE,integer)', 'added'],
    ]);
    expect(after.operators?.['public.>>>(bigint,integer)']?.commutator).toBe('public.<<<(integer,bigint)');
    expect(after.operators?.['public.<<<(integer,bigint)']?.commutator).toBe('public.>>>(bigint,integer)');
    expect(after.operators?.['public.~~~(NONE,integer)']).toMatchObject({ left: null, right: 'integer' });
    expect(only(changes, 'public.~~~(NONE,integer)').ddl.after).toContain(
      'ALTER OPERATOR public.~~~ (NONE, integer) OWNER TO postgres;',
    );
  });

  it('changed: commutator, negator, estimators, owner and comment', async () => {
    const { changes } = await diffCase({
      setup: PLAIN_EQ,
      change: `drop operator public.=== (int, int);
create operator public.=== (leftarg = int, rightarg = int, function = int4eq, commutator = ===, negator = !==);
alter operator public.=== (int, int) set (restrict = eqsel, join = eqjoinsel);
alter operator public.=== (int, int) owner to authenticated;
comment on operator public.=== (int, int) is 'same';`,
      recreate: { kind: 'operator', id: EQ, drop: 'drop operator public.=== (int, int)' },
    });
    const change = only(changes, EQ);
    expect(change.action).toBe('changed');
    expect(attributesOf(change)).toEqual({
      commutator: [null, EQ],
      negator: [null, 'public.!==(integer,integer)'],
      restrict: [null, 'eqsel'],
      join: [null, 'eqjoinsel'],
      owner: ['postgres', 'authenticated'],
      comment: [null, 'same'],
    });
    expect(change.ddl.diff).toContain('+    COMMUTATOR = OPERATOR(public.===),');
  });

  it('removed: shown with the DDL it had', async () => {
    const { changes } = await diffCase({ setup: PLAIN_EQ, change: 'drop operator public.=== (int, int);' });
    const change = only(changes, EQ);
    expect(change).toMatchObject({ kind: 'operator', action: 'removed' });
    expect(change.ddl.before).toContain('CREATE OPERATOR public.=== (\n    FUNCTION = int4eq,');
  });
});

const FAMILY = 'public.fam USING btree';
const CROSS_TYPE = `alter operator family public.fam using btree add
  operator 1 <(int, bigint), function 1 (int, bigint) btint48cmp(int, bigint);`;

describe('operator families', () => {
  it('added with loose members: modeled; the DDL re-creates it', async () => {
    const { changes, after } = await diffCase({
      setup: '',
      change: `create operator family public.fam using btree;
${CROSS_TYPE}
comment on operator family public.fam using btree is 'mixed';`,
      recreate: { kind: 'operator family', id: FAMILY, drop: '' },
    });
    const change = only(changes, FAMILY);
    expect(change).toMatchObject({ kind: 'operator family', action: 'added' });
    expect(after.operatorFamilies?.[FAMILY]).toEqual({
      schema: 'public',
      name: 'fam',
      method: 'btree',
      operators: [{ strategy: 1, operator: '<(integer,bigint)', orderFamily: null }],
      functions: [
        { number: 1, function: 'btint48cmp(integer,bigint)', lefttype: 'integer', righttype: 'bigint' },
      ],
      owner: 'postgres',
      comment: 'mixed',
    });
    expect(change.ddl.after).toBe(`CREATE OPERATOR FAMILY public.fam USING btree;

ALTER OPERATOR FAMILY public.fam USING btree ADD
    OPERATOR 1 <(integer,bigint),
    FUNCTION 1 (integer, bigint) btint48cmp(integer,bigint);

ALTER OPERATOR FAMILY public.fam USING btree OWNER TO postgres;

COMMENT ON OPERATOR FAMILY public.fam USING btree IS 'mixed';
`);
  });

  it('changed: a member added with ALTER OPERATOR FAMILY … ADD, and the owner', async () => {
    const { changes } = await diffCase({
      setup: 'create operator family public.fam using btree;',
      change: `${CROSS_TYPE}
alter operator family public.fam using btree owner to authenticated;`,
      recreate: { kind: 'operator family', id: FAMILY, drop: 'drop operator family public.fam using btree' },
    });
    const change = only(changes, FAMILY);
    expect(change.action).toBe('changed');
    expect(attributesOf(change)).toEqual({
      operators: [[], [{ strategy: 1, operator: '<(integer,bigint)', orderFamily: null }]],
      functions: [
        [],
        [{ number: 1, function: 'btint48cmp(integer,bigint)', lefttype: 'integer', righttype: 'bigint' }],
      ],
      owner: ['postgres', 'authenticated'],
    });
    expect(change.ddl.diff).toContain('+    OPERATOR 1 <(integer,bigint),');
  });

  it('removed', async () => {
    const { changes } = await diffCase({
      setup: 'create operator family public.fam using btree;',
      change: 'drop operator family public.fam using btree;',
    });
    expect(only(changes, FAMILY)).toMatchObject({ kind: 'operator family', action: 'removed' });
  });
});

const CLASS = 'public.int_ops USING btree';
const INT_OPS = `create operator class public.int_ops for type int using btree as
  operator 1 <, operator 3 =, function 1 btint4cmp(int, int);`;

describe('operator classes', () => {
  it('added: modeled with its members; its family of the same name is a family; the DDL re-creates it', async () => {
    const { changes, after } = await diffCase({
      setup: '',
      change: `${INT_OPS}\ncomment on operator class public.int_ops using btree is 'ints';`,
      recreate: { kind: 'operator class', id: CLASS, drop: '' },
    });
    expect(changes.map((c) => [c.kind, c.id, c.action])).toEqual([
      ['operator family', 'public.int_ops USING btree', 'added'],
      ['operator class', CLASS, 'added'],
    ]);
    expect(after.operatorClasses?.[CLASS]).toEqual({
      schema: 'public',
      name: 'int_ops',
      method: 'btree',
      type: 'integer',
      default: false,
      family: null,
      storage: null,
      operators: [
        { strategy: 1, operator: '<(integer,integer)', orderFamily: null },
        { strategy: 3, operator: '=(integer,integer)', orderFamily: null },
      ],
      functions: [{ number: 1, function: 'btint4cmp(integer,integer)' }],
      owner: 'postgres',
      comment: 'ints',
    });
    expect(
      of(changes, 'operator class', CLASS).ddl.after,
    ).toBe(`CREATE OPERATOR CLASS public.int_ops FOR TYPE integer USING btree AS
    OPERATOR 1 <(integer,integer),
    OPERATOR 3 =(integer,integer),
    FUNCTION 1 (integer, integer) btint4cmp(integer,integer);

ALTER OPERATOR CLASS public.int_ops USING btree OWNER TO postgres;

COMMENT ON OPERATOR CLASS public.int_ops USING btree IS 'ints';
`);
  });

  it('added: a DEFAULT class whose members the access method leaves to its family', async () => {
    const id = 'public.mood_ops USING hash';
    const { changes, after } = await diffCase({
      setup: "create type public.mood as enum ('sad', 'happy');",
      change: `create operator class public.mood_ops default for type public.mood using hash as
  operator 1 =(anyenum, anyenum), function 1 hashenum(anyenum);`,
      recreate: { kind: 'operator class', id, drop: '' },
    });
    expect(after.operatorClasses?.[id]).toMatchObject({ default: true, operators: [], functions: [] });
    expect(after.operatorFamilies?.[id]?.operators).toEqual([
      { strategy: 1, operator: '=(anyenum,anyenum)', orderFamily: null },
    ]);
    expect(of(changes, 'operator class', id).ddl.after).toContain(
      'CREATE OPERATOR CLASS public.mood_ops DEFAULT FOR TYPE public.mood USING hash AS\n    STORAGE public.mood;',
    );
  });

  it('added: a GiST class with a storage type; its ordering operator is a loose family member', async () => {
    const id = 'public.pt_ops USING gist';
    const { changes, after } = await diffCase({
      setup: '',
      change: `create operator class public.pt_ops for type point using gist as
  operator 1 <<(point, point), operator 15 <->(point, point) for order by pg_catalog.float_ops,
  function 1 gist_point_consistent(internal, point, smallint, oid, internal), function 2 gist_box_union(internal, internal),
  function 3 gist_point_compress(internal), function 5 gist_box_penalty(internal, internal, internal),
  function 6 gist_box_picksplit(internal, internal), function 7 gist_box_same(box, box, internal),
  storage box;`,
      recreate: { kind: 'operator family', id, drop: '' },
    });
    expect(after.operatorClasses?.[id]).toMatchObject({ type: 'point', storage: 'box' });
    expect(after.operatorFamilies?.[id]?.operators).toEqual([
      { strategy: 1, operator: '<<(point,point)', orderFamily: null },
      { strategy: 15, operator: '<->(point,point)', orderFamily: 'pg_catalog.float_ops' },
    ]);
    expect(of(changes, 'operator family', id).ddl.after).toContain(
      '    OPERATOR 15 <->(point,point) FOR ORDER BY pg_catalog.float_ops,',
    );
    expect(of(changes, 'operator class', id).ddl.after).toContain('    STORAGE box;');
  });

  it('changed: operators (dropped and re-created), family, owner and comment', async () => {
    const { changes } = await diffCase({
      setup: `${INT_OPS}\ncreate operator family public.fam using btree;`,
      change: `drop operator class public.int_ops using btree;
create operator class public.int_ops for type int using btree family public.fam as
  operator 1 <, operator 2 <=, operator 3 =, function 1 btint4cmp(int, int);
alter operator class public.int_ops using btree owner to authenticated;
comment on operator class public.int_ops using btree is 'ints';`,
      recreate: { kind: 'operator class', id: CLASS, drop: 'drop operator class public.int_ops using btree' },
    });
    expect(changes.map((c) => [c.kind, c.id, c.action])).toEqual([['operator class', CLASS, 'changed']]);
    const change = of(changes, 'operator class', CLASS);
    expect(Object.keys(attributesOf(change))).toEqual(['family', 'operators', 'owner', 'comment']);
    expect(attributesOf(change).family).toEqual([null, 'public.fam']);
    expect(change.ddl.diff).toContain('+    OPERATOR 2 <=(integer,integer),');
  });

  it('removed: its family of the same name stays', async () => {
    const { changes } = await diffCase({
      setup: INT_OPS,
      change: 'drop operator class public.int_ops using btree;',
    });
    expect(changes.map((c) => [c.kind, c.id, c.action])).toEqual([['operator class', CLASS, 'removed']]);
  });
});

describe('scope', () => {
  it("an extension's operators, families and classes are the extension's, not reported", async () => {
    const db = await database('');
    await expectExtensionAvailable(db, 'citext');
    const { changes, after } = await diffCase({ setup: '', change: 'create extension citext;' });
    expect(changes.map((c) => c.kind)).toEqual(['extension']);
    expect([after.operators, after.operatorFamilies, after.operatorClasses]).toEqual([{}, {}, {}]);
  });

  it('not compared lists none of them, only a shell operator nothing refers to', async () => {
    const db = await database(`${PLAIN_EQ}
${INT_OPS}
create operator public.<<< (leftarg = int, rightarg = int, function = int4lt, commutator = >>>);
drop operator public.<<< (int, int);`);
    expect(Object.keys((await read(db)).operators ?? {})).toEqual([EQ]);
    const connection = await connect(db.url);
    try {
      const kinds = await notCompared(connection.client);
      expect(kinds).toEqual([{ kind: 'shell operator', count: 1, names: ['public.>>>(integer,integer)'] }]);
    } finally {
      await disconnect(connection);
    }
  });
});
