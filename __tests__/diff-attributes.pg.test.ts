import { describe, expect, it } from 'vitest';
import { convergeHarness, only } from './harness/converge.js';

/**
 * Physical and less common attributes (issue 13): UNLOGGED, storage parameters, a column's
 * statistics target and storage, INHERITS, view column defaults and INSTEAD OF triggers,
 * publication column lists and row filters; and the false positives of attached partition
 * constraints and range type constructors. Each case is read from real databases: "before"
 * (`setup`), "after" (`setup` + `change`), diffed; then it must converge: `change` applied to
 * "before" for real re-diffs empty against "after", and (where `recreate` is given) the object
 * dropped from "before" and re-created from the normalized DDL of "after" re-diffs empty too.
 */

const { diffCase } = convergeHarness();

const TABLE = 'create table public.t (id int primary key, body text, n numeric);';
const RECREATE_T = { kind: 'table' as const, id: 'public.t', drop: 'drop table public.t;' };

describe('UNLOGGED', () => {
  it('a table made unlogged: the attribute, the DDL line and converging', async () => {
    const { changes } = await diffCase({
      setup: TABLE,
      change: 'alter table public.t set unlogged;',
      recreate: RECREATE_T,
    });
    const change = only(changes, 'public.t');
    expect(change.attributes).toEqual([{ attribute: 'persistence', before: 'logged', after: 'unlogged' }]);
    expect(change.ddl.diff).toContain('+ALTER TABLE public.t SET UNLOGGED;');
  });

  it('a table made logged again', async () => {
    const { changes } = await diffCase({
      setup: `${TABLE} alter table public.t set unlogged;`,
      change: 'alter table public.t set logged;',
      recreate: RECREATE_T,
    });
    expect(only(changes, 'public.t').attributes).toEqual([
      { attribute: 'persistence', before: 'unlogged', after: 'logged' },
    ]);
  });

  it('a new unlogged table', async () => {
    const { changes, after } = await diffCase({
      setup: '',
      change: 'create unlogged table public.u (id int);',
    });
    expect(only(changes, 'public.u').action).toBe('added');
    expect(after.tables['public.u']?.persistence).toBe('unlogged');
    expect(only(changes, 'public.u').ddl.after).toContain('ALTER TABLE public.u SET UNLOGGED;');
  });
});

describe('storage parameters', () => {
  it('added, on the table and its TOAST table', async () => {
    const { changes } = await diffCase({
      setup: TABLE,
      change:
        'alter table public.t set (fillfactor = 70, autovacuum_enabled = false, toast.autovacuum_enabled = false);',
      recreate: RECREATE_T,
    });
    const change = only(changes, 'public.t');
    expect(change.attributes).toEqual([
      {
        attribute: 'storageParameters',
        before: [],
        after: ['autovacuum_enabled=false', 'fillfactor=70', 'toast.autovacuum_enabled=false'],
      },
    ]);
    expect(change.ddl.after).toContain('ALTER TABLE public.t SET (fillfactor = 70);');
    expect(change.ddl.after).toContain('ALTER TABLE public.t SET (toast.autovacuum_enabled = false);');
  });

  it('changed', async () => {
    const { changes } = await diffCase({
      setup: `${TABLE} alter table public.t set (fillfactor = 70);`,
      change: 'alter table public.t set (fillfactor = 90);',
      recreate: RECREATE_T,
    });
    const change = only(changes, 'public.t');
    expect(change.attributes).toEqual([
      { attribute: 'storageParameters', before: ['fillfactor=70'], after: ['fillfactor=90'] },
    ]);
    expect(change.ddl.diff).toContain('-ALTER TABLE public.t SET (fillfactor = 70);');
    expect(change.ddl.diff).toContain('+ALTER TABLE public.t SET (fillfactor = 90);');
  });

  it('reset', async () => {
    const { changes } = await diffCase({
      setup: `${TABLE} alter table public.t set (fillfactor = 70);`,
      change: 'alter table public.t reset (fillfactor);',
    });
    expect(only(changes, 'public.t').attributes).toEqual([
      { attribute: 'storageParameters', before: ['fillfactor=70'], after: [] },
    ]);
  });

  it('of a materialized view', async () => {
    const { changes } = await diffCase({
      setup: `${TABLE} create materialized view public.mv as select id from public.t;`,
      change: 'alter materialized view public.mv set (fillfactor = 50);',
      recreate: { kind: 'materialized view', id: 'public.mv', drop: 'drop materialized view public.mv;' },
    });
    const change = only(changes, 'public.mv');
    expect(change.attributes).toEqual([
      { attribute: 'storageParameters', before: [], after: ['fillfactor=50'] },
    ]);
    expect(change.ddl.after).toContain('ALTER MATERIALIZED VIEW public.mv SET (fillfactor = 50);');
  });
});

describe("a column's statistics target and storage", () => {
  it('statistics set, changed and reset', async () => {
    const set = await diffCase({
      setup: TABLE,
      change: 'alter table public.t alter column body set statistics 500;',
      recreate: RECREATE_T,
    });
    const change = only(set.changes, 'public.t');
    expect(change.members).toEqual([
      {
        kind: 'column',
        name: 'body',
        action: 'changed',
        attributes: [{ attribute: 'statistics', before: 'default', after: 500 }],
      },
    ]);
    expect(change.ddl.after).toContain('ALTER TABLE public.t ALTER COLUMN body SET STATISTICS 500;');

    const changed = await diffCase({
      setup: `${TABLE} alter table public.t alter column body set statistics 500;`,
      change: 'alter table public.t alter column body set statistics 50;',
      recreate: RECREATE_T,
    });
    expect(only(changed.changes, 'public.t').members[0]?.attributes).toEqual([
      { attribute: 'statistics', before: 500, after: 50 },
    ]);

    const reset = await diffCase({
      setup: `${TABLE} alter table public.t alter column body set statistics 500;`,
      change: 'alter table public.t alter column body set statistics -1;',
    });
    expect(only(reset.changes, 'public.t').members[0]?.attributes).toEqual([
      { attribute: 'statistics', before: 500, after: 'default' },
    ]);
  });

  it('storage set, changed and back to the type default', async () => {
    const set = await diffCase({
      setup: TABLE,
      change: 'alter table public.t alter column body set storage external;',
      recreate: RECREATE_T,
    });
    const change = only(set.changes, 'public.t');
    expect(change.members[0]).toEqual({
      kind: 'column',
      name: 'body',
      action: 'changed',
      attributes: [{ attribute: 'storage', before: 'default', after: 'external' }],
    });
    expect(change.ddl.after).toContain('ALTER TABLE public.t ALTER COLUMN body SET STORAGE EXTERNAL;');

    const changed = await diffCase({
      setup: `${TABLE} alter table public.t alter column body set storage external;`,
      change: 'alter table public.t alter column body set storage main;',
      recreate: RECREATE_T,
    });
    expect(only(changed.changes, 'public.t').members[0]?.attributes).toEqual([
      { attribute: 'storage', before: 'external', after: 'main' },
    ]);

    const back = await diffCase({
      setup: `${TABLE} alter table public.t alter column body set storage external;`,
      change: 'alter table public.t alter column body set storage extended;',
    });
    expect(only(back.changes, 'public.t').members[0]?.attributes).toEqual([
      { attribute: 'storage', before: 'external', after: 'default' },
    ]);
  });
});

describe('INHERITS', () => {
  const PARENT = 'create table public.parent (id int not null, created_at timestamptz default now());';

  it('a new child table: its inherited columns are not its own, its DDL says INHERITS', async () => {
    const { changes, after } = await diffCase({
      setup: PARENT,
      change: 'create table public.child (extra text) inherits (public.parent);',
    });
    const change = only(changes, 'public.child');
    expect(change.action).toBe('added');
    expect(after.tables['public.child']?.inherits).toEqual(['public.parent']);
    expect(after.tables['public.child']?.columns.map((c) => [c.name, c.inherited])).toEqual([
      ['id', { from: ['public.parent'], local: false }],
      ['created_at', { from: ['public.parent'], local: false }],
      ['extra', undefined],
    ]);
    expect(change.ddl.after).toContain(
      'CREATE TABLE public.child (\n    extra text\n)\nINHERITS (public.parent);',
    );
    expect(change.ddl.after).toContain('-- id integer: inherited from public.parent');
    expect(changes.filter((c) => c.id === 'public.parent')).toEqual([]);
  });

  it('re-created from its DDL', async () => {
    await diffCase({
      setup: `${PARENT} create table public.child (extra text) inherits (public.parent);`,
      change: 'alter table public.child alter column extra set default $$x$$;',
      recreate: { kind: 'table', id: 'public.child', drop: 'drop table public.child;' },
    });
  });

  it('a column added to the parent reads as inherited on the child', async () => {
    const { changes } = await diffCase({
      setup: `${PARENT} create table public.child (extra text) inherits (public.parent);`,
      change: 'alter table public.parent add column note text;',
    });
    expect(only(changes, 'public.parent').members).toEqual([
      { kind: 'column', name: 'note', action: 'added', attributes: [] },
    ]);
    expect(only(changes, 'public.child').members).toEqual([
      { kind: 'column', name: 'note', action: 'added', attributes: [], inheritedFrom: ['public.parent'] },
    ]);
  });

  it('INHERIT and NO INHERIT of an existing table', async () => {
    const setup = `${PARENT} create table public.child (id int not null, created_at timestamptz default now(), extra text);`;
    const inherit = await diffCase({
      setup,
      change: 'alter table public.child inherit public.parent;',
      recreate: { kind: 'table', id: 'public.child', drop: 'drop table public.child;' },
    });
    const change = only(inherit.changes, 'public.child');
    expect(change.attributes).toEqual([{ attribute: 'inherits', before: [], after: ['public.parent'] }]);
    expect(change.members.map((m) => [m.name, m.attributes])).toEqual([
      [
        'created_at',
        [{ attribute: 'inherited', before: null, after: { from: ['public.parent'], local: true } }],
      ],
      ['id', [{ attribute: 'inherited', before: null, after: { from: ['public.parent'], local: true } }]],
    ]);

    const noInherit = await diffCase({
      setup: `${setup} alter table public.child inherit public.parent;`,
      change: 'alter table public.child no inherit public.parent;',
    });
    expect(only(noInherit.changes, 'public.child').attributes).toEqual([
      { attribute: 'inherits', before: ['public.parent'], after: [] },
    ]);
  });
});

describe('views', () => {
  const VIEW = `${TABLE} create view public.v as select id, body from public.t;`;
  const RECREATE_V = { kind: 'view' as const, id: 'public.v', drop: 'drop view public.v;' };

  it('a column default set, changed and dropped', async () => {
    const set = await diffCase({
      setup: VIEW,
      change: `alter view public.v alter column body set default 'x';`,
      recreate: RECREATE_V,
    });
    const change = only(set.changes, 'public.v');
    expect(change.members).toEqual([
      {
        kind: 'column',
        name: 'body',
        action: 'changed',
        attributes: [{ attribute: 'default', before: null, after: "'x'::text" }],
      },
    ]);
    expect(change.ddl.after).toContain(`ALTER VIEW public.v ALTER COLUMN body SET DEFAULT 'x'::text;`);

    const changed = await diffCase({
      setup: `${VIEW} alter view public.v alter column body set default 'x';`,
      change: `alter view public.v alter column body set default 'y';`,
      recreate: RECREATE_V,
    });
    expect(only(changed.changes, 'public.v').members[0]?.attributes).toEqual([
      { attribute: 'default', before: "'x'::text", after: "'y'::text" },
    ]);

    const dropped = await diffCase({
      setup: `${VIEW} alter view public.v alter column body set default 'x';`,
      change: 'alter view public.v alter column body drop default;',
    });
    expect(only(dropped.changes, 'public.v').members[0]?.attributes).toEqual([
      { attribute: 'default', before: "'x'::text", after: null },
    ]);
  });

  const FUNCTION = `create function public.v_insert() returns trigger language plpgsql as $$
begin insert into public.t (id, body) values (new.id, new.body); return new; end $$;
create function public.v_insert2() returns trigger language plpgsql as $$
begin insert into public.t (id, body) values (new.id, upper(new.body)); return new; end $$;`;
  const TRIGGER =
    'create trigger v_insert instead of insert on public.v for each row execute function public.v_insert();';

  it('an INSTEAD OF trigger added, changed and dropped', async () => {
    const added = await diffCase({ setup: `${VIEW} ${FUNCTION}`, change: TRIGGER, recreate: RECREATE_V });
    const change = only(added.changes, 'public.v');
    expect(change.members).toEqual([{ kind: 'trigger', name: 'v_insert', action: 'added', attributes: [] }]);
    expect(change.ddl.after).toContain(
      'CREATE TRIGGER v_insert INSTEAD OF INSERT ON public.v FOR EACH ROW EXECUTE FUNCTION public.v_insert();',
    );

    const changed = await diffCase({
      setup: `${VIEW} ${FUNCTION} ${TRIGGER}`,
      change: `drop trigger v_insert on public.v; ${TRIGGER.replace('public.v_insert()', 'public.v_insert2()')}`,
      recreate: RECREATE_V,
    });
    expect(only(changed.changes, 'public.v').members[0]).toMatchObject({
      kind: 'trigger',
      name: 'v_insert',
      action: 'changed',
    });

    const dropped = await diffCase({
      setup: `${VIEW} ${FUNCTION} ${TRIGGER}`,
      change: 'drop trigger v_insert on public.v;',
    });
    expect(only(dropped.changes, 'public.v').members).toEqual([
      { kind: 'trigger', name: 'v_insert', action: 'removed', attributes: [] },
    ]);
  });
});

describe('publication column lists and row filters (PostgreSQL 15+)', () => {
  const RECREATE_P = { kind: 'publication' as const, id: 'p', drop: 'drop publication p;' };

  it('added, changed and removed', async () => {
    const added = await diffCase({
      setup: `${TABLE} create publication p;`,
      change: 'alter publication p add table public.t (id, body) where (id > 0);',
      recreate: RECREATE_P,
    });
    const change = only(added.changes, 'p');
    if (added.after.serverVersion < 150000) return;
    expect(change.attributes).toEqual([
      { attribute: 'tables', before: [], after: ['public.t'] },
      { attribute: 'columnLists', before: {}, after: { 'public.t': ['id', 'body'] } },
      { attribute: 'rowFilters', before: {}, after: { 'public.t': '(id > 0)' } },
    ]);
    expect(change.ddl.after).toContain('public.t (id, body) WHERE (id > 0)');

    const changed = await diffCase({
      setup: `${TABLE} create publication p for table public.t (id, body) where (id > 0);`,
      change: 'alter publication p set table public.t (id) where (id > 10);',
      recreate: RECREATE_P,
    });
    expect(only(changed.changes, 'p').attributes).toEqual([
      { attribute: 'columnLists', before: { 'public.t': ['id', 'body'] }, after: { 'public.t': ['id'] } },
      { attribute: 'rowFilters', before: { 'public.t': '(id > 0)' }, after: { 'public.t': '(id > 10)' } },
    ]);

    const removed = await diffCase({
      setup: `${TABLE} create publication p for table public.t (id, body) where (id > 0);`,
      change: 'alter publication p set table public.t;',
      recreate: RECREATE_P,
    });
    expect(only(removed.changes, 'p').attributes).toEqual([
      { attribute: 'columnLists', before: { 'public.t': ['id', 'body'] }, after: {} },
      { attribute: 'rowFilters', before: { 'public.t': '(id > 0)' }, after: {} },
    ]);
  });
});

describe('false positives', () => {
  const PARTITIONED = `create table public.m (id int not null, d date not null) partition by range (d);
create table public.m1 partition of public.m for values from ('2024-01-01') to ('2025-01-01');`;

  it("a partition's primary key attached to a new one of its parent is not removed", async () => {
    const { changes, before, after } = await diffCase({
      setup: `${PARTITIONED} alter table public.m1 add primary key (id, d);`,
      change: 'alter table public.m add primary key (id, d);',
    });
    // Why it was reported: attached, the partition's own key is read as a copy of its parent's.
    expect(Object.keys(before.tables['public.m1']?.constraints ?? {})).toEqual(['m1_pkey']);
    expect(Object.keys(after.tables['public.m1']?.constraints ?? {})).toEqual([]);
    expect(changes.map((c) => c.id)).toEqual(['public.m']);
    expect(only(changes, 'public.m').members.map((m) => [m.kind, m.name, m.action])).toEqual([
      ['constraint', 'm_pkey', 'added'],
      ['index', 'm_pkey', 'added'],
    ]);
  });

  it("a partition's unique constraint and index attached to its parent's are not removed", async () => {
    const { changes } = await diffCase({
      setup: `${PARTITIONED} alter table public.m1 add constraint m1_id_d_key unique (id, d); create index m1_d on public.m1 (d);`,
      change:
        'alter table public.m add constraint m_id_d_key unique (id, d); create index m_d on public.m (d);',
    });
    expect(changes.map((c) => c.id)).toEqual(['public.m']);
  });

  it('a range type is not five added functions', async () => {
    const { changes, after } = await diffCase({
      setup: '',
      change: 'create type public.floatrange as range (subtype = float8);',
    });
    expect(changes.filter((c) => c.kind === 'function')).toEqual([]);
    expect(Object.keys(after.functions).filter((id) => id.includes('floatrange'))).toEqual([]);
  });
});
