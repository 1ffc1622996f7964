import { describe, expect, it } from 'vitest';
import { NO_SINGLE_STATEMENT } from '../src/core/schema/findings/finding.js';
import type { HazardCode } from '../src/core/schema/hazards.js';
import type { EventTrigger, Rule, SchemaModel, Table } from '../src/core/schema/model.js';
import { findingsOf, pendingMigrations, whereIs } from './harness/findings.js';
import {
  column,
  constraint,
  grants,
  type ModelBuilder,
  model,
  policy,
  TABLE_PRIVILEGES,
} from './harness/model-factory.js';

/**
 * Every hazard at the statement that causes it, with two migrations touching the same object:
 * the first (`2_touch`) alters the table without causing the hazard, the second (`3_cause`)
 * causes it. An allow comment accepts it only in the second file. Models are built by hand, as
 * the shadow would read them after the migrations; no database is needed for the rules.
 */
function production(m: ModelBuilder): void {
  m.schema('public');
  m.schema('reports');
  m.table('reports', 'daily', {
    rlsEnabled: true,
    columns: [column('day', 'date', { notNull: true })],
    stats: { estimatedRows: 10, pages: 1 },
  });
  m.table('public', 'items', {
    rlsEnabled: true,
    columns: [
      column('id', 'bigint', { notNull: true }),
      column('name', 'text', { notNull: true }),
      column('qty', 'integer'),
      column('note', 'character varying(50)'),
      column('owner', 'uuid'),
    ],
    constraints: {
      items_pkey: constraint('items_pkey', {
        type: 'primary key',
        definition: 'PRIMARY KEY (id)',
        columns: ['id'],
      }),
    },
    policies: {
      owners: policy('owners', 'public.items', {
        command: 'SELECT',
        roles: ['authenticated'],
        using: '(auth.uid() = owner)',
      }),
    },
    grants: grants({ anon: TABLE_PRIVILEGES, authenticated: TABLE_PRIVILEGES, postgres: TABLE_PRIVILEGES }),
    stats: { estimatedRows: 1000, pages: 10 },
  });
  m.table('public', 'empty_things', {
    rlsEnabled: true,
    columns: [column('id', 'integer', { notNull: true })],
    grants: grants({ postgres: TABLE_PRIVILEGES }),
  });
  m.routine('public', 'f', '', { returns: 'integer', config: ['search_path=""'] });
  m.view('public', 'items_view', ' SELECT items.id, items.name FROM public.items;', {
    triggers: {
      items_view_write: {
        name: 'items_view_write',
        definition:
          'CREATE TRIGGER items_view_write INSTEAD OF INSERT ON public.items_view FOR EACH ROW EXECUTE FUNCTION public.f()',
        function: 'public.f()',
        enabled: 'origin',
        comment: null,
      },
    },
  });
}

const BEFORE = model(production);

/** The first migration touches public.items with an ALTER TABLE that causes nothing. */
const TOUCH = "alter table public.items alter column name set default 'x';";

function items(after: SchemaModel): Table {
  return after.tables['public.items'] as Table;
}

function touched(after: SchemaModel): void {
  const table = after.tables['public.items'];
  const name = table?.columns.find((c) => c.name === 'name');
  if (name) name.default = "'x'::text";
}

interface Case {
  code: HazardCode;
  /** Causes the hazard: the second migration, after two comment lines (so at line 3). */
  cause: string;
  /** The models after both migrations, from a copy of BEFORE. */
  after: (after: SchemaModel) => void;
  first?: string;
}

const CASES: Case[] = [
  {
    code: 'drop-schema',
    first: 'alter table reports.daily add column total integer;',
    cause: 'drop schema reports cascade;',
    after: (m) => {
      delete m.schemas.reports;
      delete m.tables['reports.daily'];
    },
  },
  {
    code: 'drop-table',
    cause: 'drop table public.items;',
    after: (m) => {
      delete m.tables['public.items'];
    },
  },
  {
    code: 'drop-column',
    cause: 'alter table public.items drop column note;',
    after: (m) => {
      items(m).columns = items(m).columns.filter((c) => c.name !== 'note');
    },
  },
  {
    code: 'rename-breaks-clients',
    cause: 'alter table public.items rename column note to remark;',
    after: (m) => {
      const note = items(m).columns.find((c) => c.name === 'note');
      if (note) note.name = 'remark';
    },
  },
  { code: 'truncate', cause: 'truncate public.items;', after: () => {} },
  {
    code: 'narrowing-type',
    cause: 'alter table public.items alter column note type varchar(10);',
    after: (m) => setType(m, 'note', 'character varying(10)'),
  },
  {
    code: 'lossy-type-change',
    cause: 'alter table public.items alter column name type bytea using name::bytea;',
    after: (m) => setType(m, 'name', 'bytea'),
  },
  { code: 'delete-without-where', cause: 'delete from public.items;', after: () => {} },
  { code: 'update-without-where', cause: "update public.items set note = 'x';", after: () => {} },
  {
    code: 'table-rewrite',
    cause: 'alter table public.items alter column qty type bigint;',
    after: (m) => setType(m, 'qty', 'bigint'),
  },
  {
    code: 'index-not-concurrent',
    cause: 'create index items_name_idx on public.items (name);',
    after: () => {},
  },
  {
    code: 'constraint-validation',
    cause: 'alter table public.items add constraint qty_positive check (qty > 0);',
    after: (m) => {
      items(m).constraints.qty_positive = constraint('qty_positive', {
        type: 'check',
        definition: 'CHECK ((qty > 0))',
        columns: ['qty'],
      });
    },
  },
  {
    code: 'set-not-null',
    cause: 'alter table public.items alter column qty set not null;',
    after: (m) => {
      const qty = items(m).columns.find((c) => c.name === 'qty');
      if (qty) qty.notNull = true;
    },
  },
  {
    code: 'non-transactional',
    cause: 'create index concurrently items_qty_idx on public.items (qty);',
    after: () => {},
  },
  {
    code: 'rls-disabled',
    cause: 'alter table public.items disable row level security;',
    after: (m) => {
      items(m).rlsEnabled = false;
    },
  },
  {
    code: 'policy-dropped',
    cause: 'drop policy "owners" on public.items;',
    after: (m) => {
      items(m).policies = {};
    },
  },
  {
    code: 'access-widened',
    cause: 'create policy "anon read" on public.items for select to anon using (true);',
    after: (m) => {
      items(m).policies['anon read'] = policy('anon read', 'public.items', {
        command: 'SELECT',
        roles: ['anon'],
        using: 'true',
      });
    },
  },
  { code: 'grant-to-anon', cause: 'grant select on public.empty_things to anon;', after: () => {} },
  {
    code: 'security-definer-search-path',
    // The old locator took any CREATE FUNCTION whose text contains the function's name.
    first: `${TOUCH}\ncreate function public.g() returns int language sql set search_path = '' as $$ select public.f() $$;`,
    cause: 'alter function public.f() security definer reset search_path;',
    after: (m) => {
      const f = m.functions['public.f()'];
      if (f) Object.assign(f, { securityDefiner: true, config: [] });
    },
  },
  {
    code: 'unlogged-table',
    cause: 'alter table public.items set unlogged;',
    after: (m) => {
      items(m).persistence = 'unlogged';
    },
  },
  {
    code: 'view-write-trigger-dropped',
    cause: 'drop trigger items_view_write on public.items_view;',
    after: (m) => {
      const view = m.views['public.items_view'];
      if (view) delete view.triggers;
    },
  },
  {
    code: 'write-rule-changed',
    cause: 'create rule items_no_delete as on delete to public.items do instead nothing;',
    after: (m) => {
      items(m).rules = {
        items_no_delete: {
          name: 'items_no_delete',
          event: 'DELETE',
          instead: true,
          definition: 'CREATE RULE items_no_delete AS\n    ON DELETE TO public.items DO INSTEAD NOTHING;',
          enabled: 'origin',
          comment: null,
        },
      };
    },
  },
  {
    code: 'event-trigger-change',
    cause: 'create event trigger audit_ddl on ddl_command_end execute function public.audit_ddl();',
    after: (m) => {
      m.eventTriggers = {
        audit_ddl: {
          name: 'audit_ddl',
          event: 'ddl_command_end',
          function: 'public.audit_ddl()',
          tags: [],
          enabled: 'origin',
          owner: 'postgres',
          comment: null,
        },
      };
    },
  },
  {
    code: 'database-change',
    cause: "alter database postgres set statement_timeout = '5s';",
    after: () => {},
  },
  { code: 'role-change', cause: 'alter role authenticated bypassrls;', after: () => {} },
  { code: 'system-change', cause: "alter system set log_statement = 'none';", after: () => {} },
  {
    code: 'other-sessions',
    cause: 'select pg_terminate_backend(pid) from pg_stat_activity;',
    after: () => {},
  },
  { code: 'remote-connection', cause: "select dblink_exec('host=db', 'drop table t');", after: () => {} },
  { code: 'server-program', cause: "copy public.items from program 'env';", after: () => {} },
  { code: 'server-file', cause: "select pg_read_file('/etc/passwd');", after: () => {} },
];

function setType(m: SchemaModel, name: string, type: string): void {
  const target = items(m).columns.find((c) => c.name === name);
  if (target) target.type = type;
}

async function hazardsFor(spec: Case, allowIn?: 'first' | 'second') {
  const allow = `\n-- supagate:allow ${spec.code}: reviewed`;
  const pending = await pendingMigrations({
    '2_touch': `${spec.first ?? TOUCH}${allowIn === 'first' ? allow : ''}`,
    '3_cause': `-- causes ${spec.code}\n\n${spec.cause}${allowIn === 'second' ? allow : ''}`,
  });
  const after = structuredClone(BEFORE);
  touched(after);
  spec.after(after);
  return findingsOf(pending, BEFORE, after).hazards.filter((h) => h.code === spec.code);
}

/** The statements that rewrite or scan public.items: the lock each holds, and the work. */
const LOCKS: Partial<Record<HazardCode, [string, string]>> = {
  'table-rewrite': ['ACCESS EXCLUSIVE', 'rewrite'],
  'index-not-concurrent': ['SHARE', 'index build'],
  'constraint-validation': ['ACCESS EXCLUSIVE', 'scan'],
  'set-not-null': ['ACCESS EXCLUSIVE', 'scan'],
};

describe('each hazard at the statement that causes it, across two migrations', () => {
  it('has a case for every hazard code', async () => {
    const { HAZARD_CATEGORY } = await import('../src/core/schema/findings/codes.js');
    // data-check-failed comes from production's rows, not from the models: located and
    // accepted in data-checks.pg.test.ts. declared-schema-differs comes from the schema files,
    // at no statement: in declared-schema.pg.test.ts.
    const elsewhere = ['data-check-failed', 'declared-schema-differs'];
    const fromModels = Object.keys(HAZARD_CATEGORY).filter((code) => !elsewhere.includes(code));
    expect(CASES.map((c) => c.code).sort()).toEqual(fromModels.sort());
  });

  for (const spec of CASES) {
    describe(spec.code, () => {
      it(`is located at \`${spec.cause}\`, not at the first migration`, async () => {
        const hazards = await hazardsFor(spec);
        expect(hazards.length, JSON.stringify(hazards)).toBeGreaterThan(0);
        for (const hazard of hazards) expect(whereIs(hazard)).toBe('supabase/migrations/3_cause.sql:3');
      });

      const lock = LOCKS[spec.code];
      if (lock)
        it(`says it holds ${lock[0]} for a ${lock[1]} of public.items (80 KiB: under a second)`, async () => {
          const [hazard] = await hazardsFor(spec);
          expect(hazard?.lock).toMatchObject({
            lock: lock[0],
            work: lock[1],
            table: 'public.items',
            tableBytes: 81920,
          });
          expect(hazard?.lock?.seconds.high).toBeLessThan(1);
        });

      it('is accepted by an allow comment in that migration', async () => {
        const hazards = await hazardsFor(spec, 'second');
        expect(hazards.length).toBeGreaterThan(0);
        for (const hazard of hazards)
          expect(hazard.accepted).toEqual({ reason: 'reviewed', source: 'migration' });
      });

      it('is not accepted by the same comment in the other migration', async () => {
        const hazards = await hazardsFor(spec, 'first');
        expect(hazards.length).toBeGreaterThan(0);
        for (const hazard of hazards) expect(hazard.accepted).toBeUndefined();
      });
    });
  }
});

describe('locating by meaning', () => {
  const changed = (change: (m: SchemaModel) => void) => {
    const copy = structuredClone(BEFORE);
    change(copy);
    return copy;
  };
  const withoutNote = changed((m) => {
    items(m).columns = items(m).columns.filter((c) => c.name !== 'note');
  });

  it('takes the last of several statements that could cause it, in apply order', async () => {
    const pending = await pendingMigrations({
      '2_off': 'alter table public.items disable row level security;',
      '3_on_off':
        'alter table public.items enable row level security;\nalter table public.items disable row level security;',
    });
    const { hazards } = findingsOf(
      pending,
      BEFORE,
      changed((m) => {
        items(m).rlsEnabled = false;
      }),
    );
    expect(hazards.filter((h) => h.code === 'rls-disabled').map(whereIs)).toEqual([
      'supabase/migrations/3_on_off.sql:2',
    ]);
  });

  it('follows a table renamed in one migration and dropped in the next', async () => {
    const pending = await pendingMigrations({
      '2_rename': 'alter table public.items rename to goods;',
      '3_drop': 'drop table goods;',
    });
    const { hazards } = findingsOf(
      pending,
      BEFORE,
      changed((m) => {
        delete m.tables['public.items'];
      }),
    );
    expect(hazards.filter((h) => h.code === 'drop-table').map(whereIs)).toEqual([
      'supabase/migrations/3_drop.sql:1',
    ]);
  });

  it('follows a column renamed, then dropped under its new name', async () => {
    const pending = await pendingMigrations({
      '2_rename': 'alter table items rename column note to remark;',
      '3_drop': 'alter table items drop column remark;',
    });
    const { hazards } = findingsOf(pending, BEFORE, withoutNote);
    expect(hazards.filter((h) => h.code === 'drop-column').map(whereIs)).toEqual([
      'supabase/migrations/3_drop.sql:1',
    ]);
  });

  it('puts a column lost with a dropped and re-created table at its DROP TABLE', async () => {
    const pending = await pendingMigrations({
      '2_drop': 'drop table public.items;',
      '3_create':
        'create table public.items (id bigint primary key, name text not null, qty int, owner uuid);',
    });
    const { hazards } = findingsOf(pending, BEFORE, withoutNote);
    expect(hazards.filter((h) => h.code === 'drop-column').map(whereIs)).toEqual([
      'supabase/migrations/2_drop.sql:1',
    ]);
  });

  it('puts the tables of a dropped schema at the DROP SCHEMA … CASCADE', async () => {
    const pending = await pendingMigrations({ '2_drop': 'drop schema reports cascade;' });
    const { hazards } = findingsOf(
      pending,
      BEFORE,
      changed((m) => {
        delete m.schemas.reports;
        delete m.tables['reports.daily'];
      }),
    );
    expect(hazards.filter((h) => h.code === 'drop-table').map(whereIs)).toEqual([
      'supabase/migrations/2_drop.sql:1',
    ]);
  });

  it('finds an unnamed constraint by the name PostgreSQL gives it', async () => {
    const pending = await pendingMigrations({
      '2_check': 'alter table items add check (qty > 0);',
      '3_fk':
        'alter table items add foreign key (owner) references public.empty_things (id);\nalter table items add check (id > 0);',
    });
    const { hazards } = findingsOf(
      pending,
      BEFORE,
      changed((m) => {
        items(m).constraints.items_qty_check = constraint('items_qty_check', {
          type: 'check',
          definition: 'CHECK ((qty > 0))',
        });
        items(m).constraints.items_owner_fkey = constraint('items_owner_fkey', {
          type: 'foreign key',
          definition: 'FOREIGN KEY (owner) REFERENCES public.empty_things(id)',
        });
      }),
    );
    expect(
      hazards.filter((h) => h.code === 'constraint-validation').map((h) => `${h.object} ${whereIs(h)}`),
    ).toEqual([
      'public.items.items_owner_fkey supabase/migrations/3_fk.sql:1',
      'public.items.items_qty_check supabase/migrations/2_check.sql:1',
    ]);
  });

  it('puts a widening at the statement for that role and command', async () => {
    const pending = await pendingMigrations({
      '2_anon': 'create policy "anon read" on items for select to anon using (true);',
      '3_auth': 'create policy "auth insert" on items for insert to authenticated with check (true);',
    });
    const { hazards } = findingsOf(
      pending,
      BEFORE,
      changed((m) => {
        items(m).policies['anon read'] = policy('anon read', 'public.items', {
          command: 'SELECT',
          roles: ['anon'],
          using: 'true',
        });
        items(m).policies['auth insert'] = policy('auth insert', 'public.items', {
          command: 'INSERT',
          roles: ['authenticated'],
          withCheck: 'true',
        });
      }),
    );
    expect(
      hazards
        .filter((h) => h.code === 'access-widened')
        .map((h) => `${h.message.split(' ').slice(0, 2).join(' ')} ${whereIs(h)}`),
    ).toEqual([
      'anon can supabase/migrations/2_anon.sql:1',
      'authenticated can supabase/migrations/3_auth.sql:1',
    ]);
  });

  it('does not blame a GRANT of a privilege the role held already', async () => {
    const pending = await pendingMigrations({
      '2_policy': 'create policy "anon read" on items for select to anon using (true);',
      '3_grant': 'grant select on public.items to anon;',
    });
    const { hazards } = findingsOf(
      pending,
      BEFORE,
      changed((m) => {
        items(m).policies['anon read'] = policy('anon read', 'public.items', {
          command: 'SELECT',
          roles: ['anon'],
          using: 'true',
        });
      }),
    );
    expect(hazards.filter((h) => h.code === 'access-widened').map(whereIs)).toEqual([
      'supabase/migrations/2_policy.sql:1',
    ]);
  });

  it('says that no single statement causes a hazard it cannot locate, and only the config accepts it', async () => {
    const pending = await pendingMigrations({
      '2_touch': `${TOUCH}\n-- supagate:allow drop-column: not this one`,
    });
    const [hazard] = findingsOf(pending, BEFORE, withoutNote).hazards.filter((h) => h.code === 'drop-column');
    expect(hazard?.location).toBeUndefined();
    expect(hazard?.message).toContain(NO_SINGLE_STATEMENT);
    expect(hazard?.accepted).toBeUndefined();
    const accepted = findingsOf(pending, BEFORE, withoutNote, {
      accepted: [{ code: 'data-loss', object: 'public.items.note', reason: 'archived' }],
    }).hazards.find((h) => h.code === 'drop-column');
    expect(accepted?.accepted).toEqual({ reason: 'archived', source: 'config' });
  });

  it('narrows a configured acceptance to its version and object', async () => {
    const pending = await pendingMigrations({
      '2_touch': TOUCH,
      '3_drop': 'alter table items drop column note;',
    });
    const accept = (entry: { version?: string; object?: string }) =>
      findingsOf(pending, BEFORE, withoutNote, {
        accepted: [{ code: 'drop_column', reason: 'ok', ...entry }],
      }).hazards.find((h) => h.code === 'drop-column')?.accepted?.source;
    expect(accept({ version: '3' })).toBe('config');
    expect(accept({ version: '2' })).toBeUndefined();
    expect(accept({ object: 'public.items.note' })).toBe('config');
    expect(accept({ object: 'public.items.qty' })).toBeUndefined();
  });
});

describe('rules and event triggers', () => {
  const rule: Rule = {
    name: 'items_no_delete',
    event: 'DELETE',
    instead: true,
    definition: 'CREATE RULE items_no_delete AS\n    ON DELETE TO public.items DO INSTEAD NOTHING;',
    enabled: 'origin',
    comment: null,
  };
  const trigger: EventTrigger = {
    name: 'audit_ddl',
    event: 'ddl_command_end',
    function: 'public.audit_ddl()',
    tags: [],
    enabled: 'origin',
    owner: 'postgres',
    comment: null,
  };
  const withRule = structuredClone(BEFORE);
  items(withRule).rules = { items_no_delete: rule };
  const withTrigger = structuredClone(BEFORE);
  withTrigger.eventTriggers = { audit_ddl: trigger };

  it('a rule dropped is at its DROP RULE, and says writes change', async () => {
    const pending = await pendingMigrations({ '2_drop': 'drop rule items_no_delete on public.items;' });
    const hazards = findingsOf(pending, withRule, BEFORE).hazards.filter(
      (h) => h.code === 'write-rule-changed',
    );
    expect(hazards.map(whereIs)).toEqual(['supabase/migrations/2_drop.sql:1']);
    expect(hazards[0]?.message).toMatch(/is dropped: DELETE on it no longer runs/);
  });

  it('a rule disabled is at its ALTER TABLE … DISABLE RULE', async () => {
    const after = structuredClone(withRule);
    items(after).rules = { items_no_delete: { ...rule, enabled: 'disabled' } };
    const pending = await pendingMigrations({
      '2_disable': 'alter table public.items disable rule items_no_delete;',
    });
    const hazards = findingsOf(pending, withRule, after).hazards.filter(
      (h) => h.code === 'write-rule-changed',
    );
    expect(hazards.map(whereIs)).toEqual(['supabase/migrations/2_disable.sql:1']);
  });

  it('an event trigger created says it needs a superuser; one disabled is at its ALTER EVENT TRIGGER', async () => {
    const created = findingsOf(
      await pendingMigrations({
        '2_create': 'create event trigger audit_ddl on ddl_command_end execute function public.audit_ddl();',
      }),
      BEFORE,
      withTrigger,
    ).hazards.filter((h) => h.code === 'event-trigger-change');
    expect(created[0]?.message).toMatch(/needs a superuser/);
    expect(created[0]?.category).toBe('cluster');
    const disabled = structuredClone(withTrigger);
    disabled.eventTriggers = { audit_ddl: { ...trigger, enabled: 'disabled' } };
    const altered = findingsOf(
      await pendingMigrations({ '2_disable': 'alter event trigger audit_ddl disable;' }),
      withTrigger,
      disabled,
    ).hazards.filter((h) => h.code === 'event-trigger-change');
    expect(altered.map(whereIs)).toEqual(['supabase/migrations/2_disable.sql:1']);
    const dropped = findingsOf(
      await pendingMigrations({ '2_drop': 'drop event trigger audit_ddl;' }),
      withTrigger,
      BEFORE,
    ).hazards.filter((h) => h.code === 'event-trigger-change');
    expect(dropped).toEqual([]);
  });
});
