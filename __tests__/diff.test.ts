import { describe, expect, it } from 'vitest';
import type { ObjectChange, ObjectKind, RenameHints } from '../src/core/schema/changes.js';
import { diffSchemas, unifiedDiff } from '../src/core/schema/diff.js';
import type { SchemaModel, Sequence, Table } from '../src/core/schema/model.js';
import { renameHintsFromSql } from '../src/core/schema/renames.js';
import {
  column,
  constraint,
  grants,
  index,
  type ModelBuilder,
  model,
  policy,
  profilesTable,
  TABLE_PRIVILEGES,
  trigger,
} from './harness/model-factory.js';

/** A model with one object of every kind. */
function everything(b: ModelBuilder): void {
  b.schema('public', { grants: grants({ anon: ['USAGE'], postgres: ['USAGE', 'CREATE'] }) });
  b.extension('pgcrypto');
  b.enum('public', 'mood', ['happy', 'sad']);
  b.sequence('public', 'counter');
  profilesTable(b);
  b.view('public', 'profile_names', ' SELECT profiles.username\n   FROM public.profiles;', {
    columns: [{ name: 'username', type: 'text', comment: null }],
  });
  b.view('public', 'profile_stats', ' SELECT count(*) AS n\n   FROM public.profiles;', {
    kind: 'materialized',
  });
  b.routine('public', 'is_admin', 'uuid');
  b.defaultPrivilege({
    role: 'postgres',
    schema: 'public',
    objectType: 'tables',
    grants: grants({ anon: ['SELECT'] }),
  });
  b.publication('supabase_realtime', { tables: ['public.profiles'] });
  b.cronJob('nightly');
  b.bucket('avatars');
}

/** `before`, and `after` = a deep copy of it changed by `change`. */
function pair(build: (b: ModelBuilder) => void, change: (after: SchemaModel) => void) {
  const before = model(build);
  const after = structuredClone(before);
  change(after);
  return { before, after, diff: diffSchemas(before, after) };
}

function table(m: SchemaModel, id = 'public.profiles'): Table {
  const found = m.tables[id];
  if (!found) throw new Error(`no table ${id}`);
  return found;
}

function only(changes: ObjectChange[]): ObjectChange {
  expect(changes).toHaveLength(1);
  return changes[0] as ObjectChange;
}

const KIND_ORDER: ObjectKind[] = [
  'schema',
  'extension',
  'type',
  'sequence',
  'table',
  'view',
  'materialized view',
  'function',
  'default privileges',
  'publication',
  'cron job',
  'bucket',
];

describe('diffSchemas: added, removed, unchanged', () => {
  it('finds nothing between identical models, and ignores size estimates', () => {
    const { diff } = pair(everything, (after) => {
      table(after).stats = { estimatedRows: 1_000_000, pages: 9_000 };
    });
    expect(diff.changes).toEqual([]);
  });

  it('reports every kind added, in kind order, with the DDL after and no diff', () => {
    const diff = diffSchemas(model(), model(everything));
    expect(diff.changes.map((c) => [c.kind, c.id, c.action])).toEqual([
      ['schema', 'public', 'added'],
      ['extension', 'pgcrypto', 'added'],
      ['type', 'public.mood', 'added'],
      ['sequence', 'public.counter', 'added'],
      ['table', 'public.profiles', 'added'],
      ['view', 'public.profile_names', 'added'],
      ['materialized view', 'public.profile_stats', 'added'],
      ['function', 'public.is_admin(uuid)', 'added'],
      ['default privileges', 'postgres:public:tables', 'added'],
      ['publication', 'supabase_realtime', 'added'],
      ['cron job', 'nightly', 'added'],
      ['bucket', 'avatars', 'added'],
    ]);
    for (const change of diff.changes) {
      expect(change.ddl.before).toBeNull();
      expect(change.ddl.after).toMatch(/\S/);
      expect(change.ddl.diff).toBeNull();
      expect(change.attributes).toEqual([]);
      expect(change.members).toEqual([]);
    }
  });

  it('reports every kind removed, with the DDL before', () => {
    const diff = diffSchemas(model(everything), model());
    expect(diff.changes.map((c) => c.kind)).toEqual(KIND_ORDER);
    for (const change of diff.changes) {
      expect(change.action).toBe('removed');
      expect(change.ddl.before).toMatch(/\S/);
      expect(change.ddl.after).toBeNull();
      expect(change.ddl.diff).toBeNull();
    }
  });

  it('reports every kind changed, ordered by kind then identity', () => {
    const { diff } = pair(everything, (after) => {
      const m = after;
      (m.schemas.public as { comment: string | null }).comment = 'standard public schema';
      (m.extensions.pgcrypto as { version: string }).version = '1.4';
      (m.types['public.mood'] as { owner: string }).owner = 'supabase_admin';
      (m.sequences['public.counter'] as { cache: string }).cache = '10';
      table(m).rlsForced = true;
      (m.views['public.profile_names'] as { securityBarrier: boolean }).securityBarrier = true;
      (m.views['public.profile_stats'] as { populated: boolean }).populated = false;
      (m.functions['public.is_admin(uuid)'] as { volatility: string }).volatility = 'stable';
      (m.defaultPrivileges[0] as { grants: unknown }).grants = grants({ anon: ['SELECT', 'INSERT'] });
      (m.publications.supabase_realtime as { operations: { truncate: boolean } }).operations.truncate = false;
      (m.cronJobs.nightly as { schedule: string }).schedule = '0 4 * * *';
      (m.buckets.avatars as { public: boolean }).public = true;
      // A second table sorts after the first within its kind.
      m.tables['public.aaa'] = { ...table(m), name: 'aaa', policies: {}, indexes: {}, constraints: {} };
    });
    expect(diff.changes.map((c) => [c.kind, c.id, c.action])).toEqual([
      ['schema', 'public', 'changed'],
      ['extension', 'pgcrypto', 'changed'],
      ['type', 'public.mood', 'changed'],
      ['sequence', 'public.counter', 'changed'],
      ['table', 'public.aaa', 'added'],
      ['table', 'public.profiles', 'changed'],
      ['view', 'public.profile_names', 'changed'],
      ['materialized view', 'public.profile_stats', 'changed'],
      ['function', 'public.is_admin(uuid)', 'changed'],
      ['default privileges', 'postgres:public:tables', 'changed'],
      ['publication', 'supabase_realtime', 'changed'],
      ['cron job', 'nightly', 'changed'],
      ['bucket', 'avatars', 'changed'],
    ]);
    const attributes = Object.fromEntries(
      diff.changes.filter((c) => c.action === 'changed').map((c) => [c.kind, c.attributes]),
    );
    expect(attributes).toEqual({
      schema: [{ attribute: 'comment', before: null, after: 'standard public schema' }],
      extension: [{ attribute: 'version', before: '1.0', after: '1.4' }],
      type: [{ attribute: 'owner', before: 'postgres', after: 'supabase_admin' }],
      sequence: [{ attribute: 'cache', before: '1', after: '10' }],
      table: [{ attribute: 'rlsForced', before: false, after: true }],
      view: [{ attribute: 'securityBarrier', before: false, after: true }],
      'materialized view': [{ attribute: 'populated', before: true, after: false }],
      function: [{ attribute: 'volatility', before: 'volatile', after: 'stable' }],
      'default privileges': [
        { attribute: 'grants', before: ['anon: SELECT'], after: ['anon: SELECT, INSERT'] },
      ],
      publication: [
        {
          attribute: 'operations',
          before: { insert: true, update: true, delete: true, truncate: true },
          after: { insert: true, update: true, delete: true, truncate: false },
        },
      ],
      'cron job': [{ attribute: 'schedule', before: '0 3 * * *', after: '0 4 * * *' }],
      bucket: [{ attribute: 'public', before: false, after: true }],
    });
    for (const change of diff.changes.filter((c) => c.action === 'changed')) {
      expect(change.ddl.before).not.toBeNull();
      expect(change.ddl.after).not.toBeNull();
    }
  });

  it('a view that becomes a materialized view is one removed and one added', () => {
    const { diff } = pair(everything, (after) => {
      (after.views['public.profile_names'] as { kind: string }).kind = 'materialized';
    });
    expect(diff.changes.map((c) => [c.kind, c.id, c.action])).toEqual([
      ['view', 'public.profile_names', 'removed'],
      ['materialized view', 'public.profile_names', 'added'],
    ]);
  });
});

describe('diffSchemas: tables', () => {
  it('shows a column type change integer → bigint as a column attribute, with the DDL line diffed', () => {
    const { diff } = pair(profilesTable, (after) => {
      const age = table(after).columns.find((c) => c.name === 'age');
      if (age) age.type = 'bigint';
    });
    const change = only(diff.changes);
    expect(change).toMatchObject({ kind: 'table', id: 'public.profiles', action: 'changed', attributes: [] });
    expect(change.members).toEqual([
      {
        kind: 'column',
        name: 'age',
        action: 'changed',
        attributes: [{ attribute: 'type', before: 'integer', after: 'bigint' }],
      },
    ]);
    expect(change.ddl.diff).toContain('-    age integer,\n+    age bigint,');
    expect(change.ddl.diff?.startsWith('@@ -1,')).toBe(true);
    expect(change.ddl.diff).not.toMatch(/^(---|\+\+\+|Index:|====)/m);
  });

  it('reports column not null, default and collation changes, and added and removed columns', () => {
    const { diff } = pair(profilesTable, (after) => {
      const t = table(after);
      t.columns = t.columns
        .filter((c) => c.name !== 'age')
        .map((c) =>
          c.name === 'username' ? { ...c, notNull: true, default: "''::text", collation: '"C"' } : c,
        );
      t.columns.push(column('bio', 'text'));
    });
    expect(only(diff.changes).members).toEqual([
      { kind: 'column', name: 'age', action: 'removed', attributes: [] },
      { kind: 'column', name: 'bio', action: 'added', attributes: [] },
      {
        kind: 'column',
        name: 'username',
        action: 'changed',
        attributes: [
          { attribute: 'notNull', before: false, after: true },
          { attribute: 'default', before: null, after: "''::text" },
          { attribute: 'collation', before: null, after: '"C"' },
        ],
      },
    ]);
  });

  it('reports policy USING and roles changes', () => {
    const { diff } = pair(profilesTable, (after) => {
      const p = table(after).policies['Users read own'];
      if (p) {
        p.using = '(( SELECT auth.uid() AS uid) = id)';
        p.roles = ['anon', 'authenticated'];
      }
    });
    const change = only(diff.changes);
    expect(change.members).toEqual([
      {
        kind: 'policy',
        name: 'Users read own',
        action: 'changed',
        attributes: [
          { attribute: 'roles', before: ['authenticated'], after: ['anon', 'authenticated'] },
          { attribute: 'using', before: '(auth.uid() = id)', after: '(( SELECT auth.uid() AS uid) = id)' },
        ],
      },
    ]);
    expect(change.ddl.diff).toContain('-    TO authenticated\n-    USING ((auth.uid() = id));');
    expect(change.ddl.diff).toContain(
      '+    TO anon, authenticated\n+    USING ((( SELECT auth.uid() AS uid) = id));',
    );
  });

  it('reports RLS enabled/disabled and forced', () => {
    const { diff } = pair(profilesTable, (after) => {
      table(after).rlsEnabled = false;
      table(after).rlsForced = true;
    });
    const change = only(diff.changes);
    expect(change.attributes).toEqual([
      { attribute: 'rlsEnabled', before: true, after: false },
      { attribute: 'rlsForced', before: false, after: true },
    ]);
    expect(change.ddl.diff).toContain('-ALTER TABLE public.profiles ENABLE ROW LEVEL SECURITY;');
    expect(change.ddl.diff).toContain('+ALTER TABLE public.profiles FORCE ROW LEVEL SECURITY;');
  });

  it('reports constraint, index, trigger and policy members added and removed, sorted by kind then name', () => {
    const { diff } = pair(profilesTable, (after) => {
      const t = table(after);
      t.constraints.profiles_age_check = constraint('profiles_age_check', {
        type: 'check',
        definition: 'CHECK ((age >= 0))',
      });
      delete t.indexes.profiles_username_idx;
      t.indexes.a_idx = index('a_idx', 'CREATE INDEX a_idx ON public.profiles USING btree (age)');
      t.triggers.touch = trigger(
        'touch',
        'CREATE TRIGGER touch BEFORE UPDATE ON public.profiles FOR EACH ROW EXECUTE FUNCTION public.tg()',
      );
      t.policies.Zeta = policy('Zeta', 'public.profiles', { using: 'false' });
      t.policies.Alpha = policy('Alpha', 'public.profiles', { using: 'false' });
    });
    expect(only(diff.changes).members.map((m) => [m.kind, m.name, m.action])).toEqual([
      ['constraint', 'profiles_age_check', 'added'],
      ['index', 'a_idx', 'added'],
      ['index', 'profiles_username_idx', 'removed'],
      ['trigger', 'touch', 'added'],
      ['policy', 'Alpha', 'added'],
      ['policy', 'Zeta', 'added'],
    ]);
  });

  it('reports a constraint validated later, a trigger disabled and the replica identity', () => {
    const build = (b: ModelBuilder) => {
      const t = profilesTable(b);
      t.constraints.fk = constraint('fk', {
        type: 'foreign key',
        definition: 'FOREIGN KEY (id) REFERENCES auth.users(id) NOT VALID',
        validated: false,
      });
      t.triggers.touch = trigger(
        'touch',
        'CREATE TRIGGER touch BEFORE UPDATE ON public.profiles FOR EACH ROW EXECUTE FUNCTION public.tg()',
      );
    };
    const { diff } = pair(build, (after) => {
      const t = table(after);
      Object.assign(t.constraints.fk as object, {
        validated: true,
        definition: 'FOREIGN KEY (id) REFERENCES auth.users(id)',
      });
      (t.triggers.touch as { enabled: string }).enabled = 'disabled';
      t.replicaIdentity = 'full';
    });
    const change = only(diff.changes);
    expect(change.attributes).toEqual([{ attribute: 'replicaIdentity', before: 'default', after: 'full' }]);
    expect(change.members).toEqual([
      {
        kind: 'constraint',
        name: 'fk',
        action: 'changed',
        attributes: [
          {
            attribute: 'definition',
            before: 'FOREIGN KEY (id) REFERENCES auth.users(id) NOT VALID',
            after: 'FOREIGN KEY (id) REFERENCES auth.users(id)',
          },
          { attribute: 'validated', before: false, after: true },
        ],
      },
      {
        kind: 'trigger',
        name: 'touch',
        action: 'changed',
        attributes: [{ attribute: 'enabled', before: 'origin', after: 'disabled' }],
      },
    ]);
    expect(change.ddl.diff).toContain('+ALTER TABLE public.profiles DISABLE TRIGGER touch;');
  });

  it('reports comments on tables and columns', () => {
    const { diff } = pair(profilesTable, (after) => {
      table(after).comment = 'Public profiles';
      const username = table(after).columns.find((c) => c.name === 'username');
      if (username) username.comment = 'unique handle';
    });
    const change = only(diff.changes);
    expect(change.attributes).toEqual([{ attribute: 'comment', before: null, after: 'Public profiles' }]);
    expect(change.members).toEqual([
      {
        kind: 'column',
        name: 'username',
        action: 'changed',
        attributes: [{ attribute: 'comment', before: null, after: 'unique handle' }],
      },
    ]);
    expect(change.ddl.diff).toContain("+COMMENT ON TABLE public.profiles IS 'Public profiles';");
  });

  it('reports partitioning changes', () => {
    const { diff } = pair(
      (b) => {
        b.table('public', 'events', { columns: [column('at', 'date')] });
      },
      (after) => {
        const t = table(after, 'public.events');
        t.kind = 'partitioned';
        t.partitionKey = 'RANGE (at)';
      },
    );
    expect(only(diff.changes).attributes).toEqual([
      { attribute: 'kind', before: 'table', after: 'partitioned' },
      { attribute: 'partitionKey', before: null, after: 'RANGE (at)' },
    ]);
  });
});

describe('diffSchemas: sequences owned by columns', () => {
  const withSerial = (b: ModelBuilder) => {
    profilesTable(b);
    table(b.model).columns.push(
      column('n', 'integer', { notNull: true, default: "nextval('public.profiles_n_seq'::regclass)" }),
    );
    b.sequence('public', 'profiles_n_seq', { dataType: 'integer', ownedBy: 'public.profiles.n' });
    b.sequence('public', 'standalone', { ownedBy: 'public.profiles.age' });
  };

  it('a dropped table’s serial sequence is part of the table’s removal', () => {
    const { diff } = pair(withSerial, (after) => {
      delete after.tables['public.profiles'];
      delete after.sequences['public.profiles_n_seq'];
    });
    expect(diff.changes.map((c) => `${c.kind} ${c.id} ${c.action}`)).toEqual([
      'table public.profiles removed',
    ]);
  });

  it('so is an added column’s, but a sequence whose column stays is reported', () => {
    const { diff } = pair(withSerial, (after) => {
      table(after).columns.push(column('m', 'bigint', { identity: 'always', notNull: true }));
      after.sequences['public.profiles_m_seq'] = {
        ...(after.sequences['public.profiles_n_seq'] as Sequence),
        name: 'profiles_m_seq',
        ownedBy: 'public.profiles.m',
      };
      delete after.sequences['public.standalone'];
    });
    expect(diff.changes.map((c) => `${c.kind} ${c.id} ${c.action}`)).toEqual([
      'sequence public.standalone removed',
      'table public.profiles changed',
    ]);
  });

  it('a renamed table or column does not report its sequence’s new owner', () => {
    const { before, after } = pair(withSerial, (a) => {
      const t = table(a);
      delete a.tables['public.profiles'];
      a.tables['public.members'] = {
        ...t,
        name: 'members',
        columns: t.columns.map((c) => (c.name === 'n' ? { ...c, name: 'number' } : c)),
      };
      (a.sequences['public.profiles_n_seq'] as { ownedBy: string }).ownedBy = 'public.members.number';
      (a.sequences['public.standalone'] as { ownedBy: string }).ownedBy = 'public.members.age';
    });
    const diff = diffSchemas(before, after, {
      relations: { 'public.members': 'public.profiles' },
      columns: { 'public.members': { number: 'n' } },
    });
    expect(diff.changes.map((c) => `${c.kind} ${c.id} ${c.action}`)).toEqual([
      'table public.members renamed',
    ]);
    // Without the hints the sequences' owners did change (the table is new).
    const unhinted = diffSchemas(before, after);
    expect(unhinted.changes.filter((c) => c.kind === 'sequence').map((c) => c.id)).toEqual([
      'public.profiles_n_seq',
      'public.standalone',
    ]);
  });
});

describe('diffSchemas: privileges', () => {
  it('compares table grants as sets and reports them per grantee', () => {
    const { diff } = pair(profilesTable, (after) => {
      const t = table(after);
      t.grants = [
        ...grants({ anon: ['SELECT'], authenticated: TABLE_PRIVILEGES, postgres: TABLE_PRIVILEGES }),
        ...grants({ service_role: TABLE_PRIVILEGES }, true),
      ];
    });
    const change = only(diff.changes);
    expect(change.attributes).toEqual([
      {
        attribute: 'grants',
        before: ['anon: ALL', 'authenticated: ALL', 'postgres: ALL', 'service_role: ALL'],
        after: ['anon: SELECT', 'authenticated: ALL', 'postgres: ALL', 'service_role: ALL WITH GRANT OPTION'],
      },
    ]);
    expect(change.ddl.diff).toContain(
      '-GRANT ALL ON TABLE public.profiles TO anon;\n+GRANT SELECT ON TABLE public.profiles TO anon;',
    );
  });

  it('ignores the order grants are listed in', () => {
    const { diff } = pair(profilesTable, (after) => {
      table(after).grants.reverse();
    });
    expect(diff.changes).toEqual([]);
  });

  it('reports column grants on the column', () => {
    const { diff } = pair(profilesTable, (after) => {
      const username = table(after).columns.find((c) => c.name === 'username');
      if (username) username.grants = grants({ anon: ['SELECT', 'UPDATE'] });
    });
    const change = only(diff.changes);
    expect(change.members).toEqual([
      {
        kind: 'column',
        name: 'username',
        action: 'changed',
        attributes: [{ attribute: 'grants', before: [], after: ['anon: SELECT, UPDATE'] }],
      },
    ]);
    expect(change.ddl.diff).toContain(
      '+GRANT SELECT (username), UPDATE (username) ON TABLE public.profiles TO anon;',
    );
  });

  it('reports schema USAGE, function EXECUTE and default privileges', () => {
    const { diff } = pair(
      (b) => {
        b.schema('api', { grants: grants({ postgres: ['USAGE', 'CREATE'] }) });
        b.routine('public', 'is_admin', 'uuid');
        b.defaultPrivilege({
          role: 'postgres',
          schema: null,
          objectType: 'functions',
          grants: grants({ PUBLIC: ['EXECUTE'] }),
        });
      },
      (after) => {
        (after.schemas.api as { grants: unknown }).grants = grants({
          anon: ['USAGE'],
          postgres: ['USAGE', 'CREATE'],
        });
        (after.functions['public.is_admin(uuid)'] as { grants: unknown }).grants = grants({
          postgres: ['EXECUTE'],
        });
        (after.defaultPrivileges[0] as { grants: unknown }).grants = [];
        after.defaultPrivileges.push({
          role: 'postgres',
          schema: 'public',
          objectType: 'tables',
          grants: grants({ anon: ['SELECT'] }),
        });
      },
    );
    expect(diff.changes.map((c) => [c.kind, c.id, c.action, c.attributes])).toEqual([
      [
        'schema',
        'api',
        'changed',
        [
          {
            attribute: 'grants',
            before: ['postgres: USAGE, CREATE'],
            after: ['anon: USAGE', 'postgres: USAGE, CREATE'],
          },
        ],
      ],
      [
        'function',
        'public.is_admin(uuid)',
        'changed',
        [
          {
            attribute: 'grants',
            before: ['PUBLIC: EXECUTE', 'postgres: EXECUTE'],
            after: ['postgres: EXECUTE'],
          },
        ],
      ],
      [
        'default privileges',
        'postgres:*:functions',
        'changed',
        [{ attribute: 'grants', before: ['PUBLIC: EXECUTE'], after: [] }],
      ],
      ['default privileges', 'postgres:public:tables', 'added', []],
    ]);
    expect(diff.changes[1]?.ddl.diff).toContain('+REVOKE ALL ON FUNCTION public.is_admin(uuid) FROM PUBLIC;');
    expect(diff.changes[1]?.ddl.diff).toContain(
      '-GRANT EXECUTE ON FUNCTION public.is_admin(uuid) TO PUBLIC;',
    );
  });
});

describe('diffSchemas: views, functions, enums, publications', () => {
  it('reports a view’s security_invoker and definition', () => {
    const { diff } = pair(
      (b) => {
        b.view('public', 'v', ' SELECT 1 AS one;');
      },
      (after) => {
        const v = after.views['public.v'] as { securityInvoker: boolean; definition: string };
        v.securityInvoker = true;
        v.definition = ' SELECT 2 AS one;';
      },
    );
    const change = only(diff.changes);
    expect(change.kind).toBe('view');
    expect(change.attributes).toEqual([
      { attribute: 'definition', before: ' SELECT 1 AS one;', after: ' SELECT 2 AS one;' },
      { attribute: 'securityInvoker', before: false, after: true },
    ]);
    expect(change.ddl.diff).toBe(
      [
        '@@ -1,4 +1,4 @@',
        '-CREATE VIEW public.v WITH (security_invoker=false, security_barrier=false) AS',
        '- SELECT 1 AS one;',
        '+CREATE VIEW public.v WITH (security_invoker=true, security_barrier=false) AS',
        '+ SELECT 2 AS one;',
        ' ',
        ' ALTER VIEW public.v OWNER TO postgres;',
      ].join('\n'),
    );
  });

  it('reports function attributes, and the definition only when no part explains it', () => {
    const { diff } = pair(
      (b) => {
        b.routine('public', 'f', '', {
          definition: 'CREATE FUNCTION public.f() ... COST 100',
          body: 'select 1',
        });
        b.routine('public', 'g', '', { definition: 'CREATE FUNCTION public.g() ... COST 100' });
      },
      (after) => {
        Object.assign(after.functions['public.f()'] as object, {
          body: 'select 2',
          securityDefiner: true,
          config: ['search_path=""'],
          definition: 'CREATE FUNCTION public.f() ... SECURITY DEFINER',
        });
        (after.functions['public.g()'] as { definition: string }).definition =
          'CREATE FUNCTION public.g() ... COST 5';
      },
    );
    expect(diff.changes.map((c) => [c.id, c.attributes])).toEqual([
      [
        'public.f()',
        [
          { attribute: 'body', before: 'select 1', after: 'select 2' },
          { attribute: 'securityDefiner', before: false, after: true },
          { attribute: 'config', before: [], after: ['search_path=""'] },
        ],
      ],
      [
        'public.g()',
        [
          {
            attribute: 'definition',
            before: 'CREATE FUNCTION public.g() ... COST 100',
            after: 'CREATE FUNCTION public.g() ... COST 5',
          },
        ],
      ],
    ]);
  });

  it('an enum with a label added is a changed enum, showing the labels before and after', () => {
    const { diff } = pair(
      (b) => {
        b.enum('public', 'mood', ['happy', 'sad']);
      },
      (after) => {
        (after.types['public.mood'] as { labels: string[] }).labels = ['happy', 'meh', 'sad'];
      },
    );
    const change = only(diff.changes);
    expect(change).toMatchObject({
      kind: 'type',
      id: 'public.mood',
      action: 'changed',
      attributes: [{ attribute: 'labels', before: ['happy', 'sad'], after: ['happy', 'meh', 'sad'] }],
    });
    expect(change.ddl.diff).toContain(
      " CREATE TYPE public.mood AS ENUM (\n     'happy',\n+    'meh',\n     'sad'",
    );
  });

  it('reports publication membership', () => {
    const { diff } = pair(
      (b) => {
        b.publication('supabase_realtime', { tables: ['public.messages'] });
      },
      (after) => {
        (after.publications.supabase_realtime as { tables: string[] }).tables = [
          'public.messages',
          'public.rooms',
        ];
      },
    );
    const change = only(diff.changes);
    expect(change.attributes).toEqual([
      { attribute: 'tables', before: ['public.messages'], after: ['public.messages', 'public.rooms'] },
    ]);
    expect(change.ddl.diff).toContain(
      '-        public.messages\n+        public.messages,\n+        public.rooms',
    );
  });
});

describe('diffSchemas: renames', () => {
  const renamed = (after: SchemaModel) => {
    const t = table(after);
    delete after.tables['public.profiles'];
    const name = 'members';
    after.tables['public.members'] = {
      ...t,
      name,
      columns: t.columns.map((c) => (c.name === 'username' ? { ...c, name: 'handle' } : c)),
      indexes: Object.fromEntries(
        Object.entries(t.indexes).map(([k, i]) => [
          k,
          { ...i, definition: i.definition.replace('public.profiles', 'public.members') },
        ]),
      ),
      policies: Object.fromEntries(
        Object.entries(t.policies).map(([k, p]) => [k, { ...p, table: 'public.members' }]),
      ),
    };
  };

  it('without hints, a renamed table is removed + added (never guessed)', () => {
    const { diff } = pair(profilesTable, renamed);
    expect(diff.changes.map((c) => [c.id, c.action])).toEqual([
      ['public.members', 'added'],
      ['public.profiles', 'removed'],
    ]);
  });

  it('with hints, one renamed table with its renamed column, and the DDL diffed old → new', () => {
    const before = model(profilesTable);
    const after = structuredClone(before);
    renamed(after);
    const hints: RenameHints = {
      relations: { 'public.members': 'public.profiles' },
      columns: { 'public.members': { handle: 'username' } },
    };
    const change = only(diffSchemas(before, after, hints).changes);
    expect(change).toMatchObject({
      kind: 'table',
      id: 'public.members',
      action: 'renamed',
      renamedFrom: 'public.profiles',
      attributes: [],
      members: [
        { kind: 'column', name: 'handle', action: 'renamed', renamedFrom: 'username', attributes: [] },
      ],
    });
    expect(change.ddl.before).toContain('CREATE TABLE public.profiles (');
    expect(change.ddl.after).toContain('CREATE TABLE public.members (');
    expect(change.ddl.diff).toContain('-CREATE TABLE public.profiles (\n+CREATE TABLE public.members (');
  });

  it('a renamed column that also changes type is one renamed member with the attribute', () => {
    const { before, after } = pair(profilesTable, (a) => {
      table(a).columns = table(a).columns.map((c) =>
        c.name === 'age' ? { ...c, name: 'years', type: 'bigint' } : c,
      );
    });
    const change = only(
      diffSchemas(before, after, { relations: {}, columns: { 'public.profiles': { years: 'age' } } }).changes,
    );
    expect(change.members).toEqual([
      {
        kind: 'column',
        name: 'years',
        action: 'renamed',
        renamedFrom: 'age',
        attributes: [{ attribute: 'type', before: 'integer', after: 'bigint' }],
      },
    ]);
  });

  it('takes hints from the migrations’ SQL, chains included', async () => {
    const before = model(profilesTable);
    const after = structuredClone(before);
    renamed(after);
    const hints = await renameHintsFromSql([
      'alter table profiles rename to people; alter table people rename column username to nick;',
      'alter table public.people rename to members; alter table members rename nick to handle;',
    ]);
    const change = only(diffSchemas(before, after, hints).changes);
    expect(change.action).toBe('renamed');
    expect(change.renamedFrom).toBe('public.profiles');
    expect(change.members).toMatchObject([{ name: 'handle', action: 'renamed', renamedFrom: 'username' }]);
  });

  it('ignores a hint whose old name still exists after, or whose new name existed before', () => {
    const before = model((b) => {
      profilesTable(b);
      profilesTable(b, 'members');
    });
    const after = structuredClone(before);
    delete after.tables['public.profiles'];
    const diff = diffSchemas(before, after, {
      relations: { 'public.members': 'public.profiles' },
      columns: {},
    });
    expect(diff.changes.map((c) => [c.id, c.action])).toEqual([['public.profiles', 'removed']]);
  });

  it('matches hints quoted for another server version (a table named json)', () => {
    const before = model((b) => {
      b.table('public', 'json', { columns: [column('a', 'int')] });
    });
    const after = model((b) => {
      b.table('public', 'docs', { columns: [column('a', 'int')] });
    });
    // renameHintsFromSql quotes with the newest key-word list: "json"; a PostgreSQL 15 model says json.
    const diff = diffSchemas(before, after, { relations: { 'public.docs': 'public."json"' }, columns: {} });
    expect(only(diff.changes)).toMatchObject({
      id: 'public.docs',
      action: 'renamed',
      renamedFrom: 'public.json',
    });
  });
});

describe('unifiedDiff', () => {
  it('is null for equal text and keeps 3 lines of context', () => {
    expect(unifiedDiff('a\n', 'a\n')).toBeNull();
    const before = `${['1', '2', '3', '4', '5', '6', '7', '8', '9'].join('\n')}\n`;
    const after = before.replace('5', 'five');
    expect(unifiedDiff(before, after)).toBe('@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8');
  });
});

describe('scale', () => {
  // Speed is measured by the benchmark (npm run bench), not here: this checks the result.
  it('finds the one change among 2,000 tables', () => {
    const build = (b: ModelBuilder) => {
      for (let i = 0; i < 2000; i++) profilesTable(b, `t${i}`);
    };
    const before = model(build);
    const after = structuredClone(before);
    const age = table(after, 'public.t1000').columns.find((c) => c.name === 'age');
    if (age) age.type = 'bigint';
    const diff = diffSchemas(before, after);
    expect(diff.changes).toHaveLength(1);
    expect(diff.changes[0]?.id).toBe('public.t1000');
  });
});
