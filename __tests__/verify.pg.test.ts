import pg from 'pg';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { apply } from '../src/core/commands/apply.js';
import { planWithModels } from '../src/core/commands/plan.js';
import type { VerifySettings } from '../src/core/config-file.js';
import { connect, disconnect } from '../src/core/db/connect.js';
import { introspect } from '../src/core/schema/introspect.js';
import { compareCounts, countRows, countTables } from '../src/core/verify/counts.js';
import { compareProbes, type ProbeIdentity, probeWith, runProbes } from '../src/core/verify/probes.js';
import { checkRlsInvariants, compareRlsToPrediction } from '../src/core/verify/rls-invariants.js';
import { runVerifyScripts } from '../src/core/verify/scripts.js';
import {
  acceptedLossTables,
  takeVerifySnapshot,
  type VerifyConfig,
  verificationError,
  verifyAfterApply,
} from '../src/core/verify/verify.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

let db: TestDatabase;
let project: TestProject | undefined;

beforeEach(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  await project?.cleanup();
  project = undefined;
  await db.drop();
});

const ALICE = '00000000-0000-0000-0000-00000000000a';
const BOB = '00000000-0000-0000-0000-00000000000b';

/** posts: 3 published of 6, readable by anon and authenticated; notes: per owner; audit_log: RLS, no policy. */
const BASE = {
  '1_base': `
create table public.posts (id bigint generated always as identity primary key, author uuid, title text, published boolean not null default false);
alter table public.posts enable row level security;
create policy "published posts are public" on public.posts for select to anon, authenticated using (published);
insert into public.posts (author, title, published)
  select '${ALICE}', 'post ' || i, i <= 3 from generate_series(1, 6) i;

create table public.notes (id bigint generated always as identity primary key, owner uuid not null, body text);
alter table public.notes enable row level security;
create policy "owners read" on public.notes for select to authenticated using ((select auth.uid()) = owner);
insert into public.notes (owner, body) values ('${ALICE}', 'a1'), ('${ALICE}', 'a2'), ('${BOB}', 'b1');

create table public.audit_log (id bigint generated always as identity primary key, message text);
alter table public.audit_log enable row level security;
insert into public.audit_log (message) values ('one'), ('two');

insert into storage.buckets (id, name) values ('avatars', 'avatars');`,
};

const IDENTITIES: ProbeIdentity[] = [
  { name: 'anon', role: 'anon' },
  { name: 'alice', role: 'authenticated', claims: { sub: ALICE, role: 'authenticated' } },
  { name: 'bob', role: 'authenticated', claims: { sub: BOB } },
];

function verifyConfig(p: TestProject, verify: Partial<VerifySettings> = {}): VerifyConfig {
  return {
    projectDir: p.dir,
    apiSchemas: ['public'],
    acceptedHazards: [],
    verify: { identities: IDENTITIES, ...verify },
  };
}

/**
 * The apply pipeline as the lead will wire it: production has BASE; `pending` is planned on a
 * shadow, snapshotted, applied, then verified against the plan. `between` runs after the
 * snapshot and before the apply (out-of-band changes).
 */
async function applyAndVerify(
  pending: Record<string, string>,
  options: {
    verify?: Partial<VerifySettings>;
    between?: () => Promise<void>;
    files?: Record<string, string>;
  } = {},
) {
  project = await createProject({ ...migrations(BASE), ...(options.files ?? {}) });
  await apply(project.config(db.url));
  for (const [name, sql] of Object.entries(pending))
    await project.write(`supabase/migrations/${name}.sql`, sql);
  const planned = await planWithModels(
    project.config(db.url, { shadowUrl: inject('shadowUrl'), detectLocalSupabase: false }),
  );
  expect(planned.result.status).toBe('planned');
  const config = verifyConfig(project, options.verify);
  const before = await takeVerifySnapshot(db.url, config);
  await options.between?.();
  const applied = await apply(project.config(db.url));
  expect(applied.status).toBe('applied');
  const result = await verifyAfterApply({
    url: db.url,
    before,
    predicted: planned.after,
    baseline: planned.before,
    plannedChanges: planned.result.diff,
    appliedVersions: applied.applied.map((m) => m.version),
    config,
    acceptedLoss: acceptedLossTables(planned.result.hazards),
  });
  return { before, result, planned };
}

describe('verifyAfterApply', () => {
  it('passes a clean migration: counts kept, RLS as planned, schema as predicted', async () => {
    const { result, before } = await applyAndVerify({
      '2_tags': `
alter table public.posts add column tags text[] not null default '{}';
create table public.tags (id bigint generated always as identity primary key, name text not null);
alter table public.tags enable row level security;
create policy "tags are public" on public.tags for select to anon, authenticated using (true);
insert into public.tags (name) values ('news');`,
    });
    expect(result.failures).toEqual([]);
    expect(result.ok).toBe(true);
    expect(before.counts).toMatchObject({
      'public.posts': 6,
      'public.notes': 3,
      'public.audit_log': 2,
      'storage.buckets': 1,
      'storage.objects': 0,
    });
    expect(result.counts.tables).toContainEqual(
      expect.objectContaining({ table: 'public.tags', before: null, after: 1, status: 'new' }),
    );
    expect(result.counts.tables).toContainEqual(
      expect.objectContaining({ table: 'public.posts', before: 6, after: 6, status: 'ok' }),
    );
    expect(result.schema).toMatchObject({ checked: true, differences: [] });
    expect(result.probes.results).toContainEqual({ identity: 'anon', table: 'public.tags', visibleRows: 1 });
    // audit_log has RLS and no policy: a warning, never a failure.
    expect(result.rls.findings).toEqual([
      expect.objectContaining({ level: 'warning', code: 'rls-no-policy', table: 'public.audit_log' }),
    ]);
  });

  it('catches a migration that silently deletes rows, naming the table', async () => {
    const { result } = await applyAndVerify({
      '2_cleanup': `alter table public.notes add column archived boolean not null default false;
delete from public.notes where owner = '${BOB}';`,
    });
    expect(result.ok).toBe(false);
    expect(result.counts.failures).toEqual([
      expect.objectContaining({ table: 'public.notes', status: 'lost-rows', before: 3, after: 2 }),
    ]);
    expect(result.failures).toContain('counts: public.notes lost 1 row (3 → 2)');
    // bob's note is gone: he sees one row less, explained by the table's own rows.
    expect(result.probes.changes).toContainEqual(
      expect.objectContaining({ identity: 'bob', table: 'public.notes', delta: -1, explainedByData: true }),
    );
    expect(result.probes.failures).toEqual([]);
    expect(() => {
      throw verificationError(result);
    }).toThrow(/public\.notes lost 1 row/);
  });

  it('lets a table lose rows within its tolerance', async () => {
    const { result } = await applyAndVerify(
      { '2_cleanup': `delete from public.notes where owner = '${BOB}';` },
      { verify: { countTolerance: { 'public.notes': '34%' } } },
    );
    expect(result.counts.failures).toEqual([]);
    expect(result.counts.tables).toContainEqual(
      expect.objectContaining({
        table: 'public.notes',
        status: 'lost-rows',
        allowed: 'within tolerance (34%)',
      }),
    );
    expect(result.ok).toBe(true);
  });

  it('catches a migration that disables RLS: invariant failure and a probe change', async () => {
    const { result } = await applyAndVerify({
      '2_open': '-- supagate:allow security: testing\nalter table public.posts disable row level security;',
    });
    expect(result.ok).toBe(false);
    expect(result.rls.findings).toContainEqual(
      expect.objectContaining({ level: 'failure', code: 'rls-disabled', table: 'public.posts' }),
    );
    expect(result.failures.some((f) => f.startsWith('rls: public.posts is in the API schema public'))).toBe(
      true,
    );
    // The plan predicted it: no difference from the prediction.
    expect(result.rls.differences).toEqual([]);
    expect(result.probes.changes).toContainEqual(
      expect.objectContaining({
        identity: 'anon',
        table: 'public.posts',
        before: '3 rows',
        after: '6 rows',
        planned: true,
      }),
    );
  });

  it('reports anon seeing more through a widened policy, and fails the expectation it breaks', async () => {
    const { result } = await applyAndVerify(
      {
        '2_widen': `-- supagate:allow access-widened: every post becomes public
drop policy "published posts are public" on public.posts;
create policy "everyone reads everything" on public.posts for select to anon, authenticated using (true);`,
      },
      { verify: { expectations: [{ identity: 'anon', table: 'public.posts', visible: { max: 4 } }] } },
    );
    expect(result.probes.changes).toContainEqual(
      expect.objectContaining({ identity: 'anon', table: 'public.posts', delta: 3, planned: true }),
    );
    expect(result.probes.failures).toEqual([
      expect.objectContaining({ kind: 'expectation', identity: 'anon', table: 'public.posts' }),
    ]);
    expect(result.failures).toEqual(['probes: anon on public.posts: sees 6 rows, expected at most 4']);
    expect(result.ok).toBe(false);
  });

  it('treats a table the plan drops as expected', async () => {
    const { result } = await applyAndVerify({
      '2_drop': '-- supagate:allow data-loss: audit moved elsewhere\ndrop table public.audit_log;',
    });
    expect(result.counts.tables).toContainEqual(
      expect.objectContaining({ table: 'public.audit_log', before: 2, after: null, status: 'expected' }),
    );
    expect(result.failures).toEqual([]);
    expect(result.ok).toBe(true);
  });

  it('fails on RLS and access that differ from the plan (changed outside the migrations)', async () => {
    const { result } = await applyAndVerify(
      { '2_column': 'alter table public.notes add column pinned boolean not null default false;' },
      {
        between: async () => {
          await db.query('alter table public.notes disable row level security');
        },
      },
    );
    expect(result.ok).toBe(false);
    expect(result.rls.differences).toEqual([
      expect.objectContaining({
        id: 'public.notes',
        attribute: 'rlsEnabled',
        expected: true,
        actual: false,
      }),
    ]);
    // anon saw none of the notes and now sees all three, and the plan did not touch notes' access.
    expect(result.probes.failures).toContainEqual(
      expect.objectContaining({
        kind: 'unplanned-visibility-change',
        identity: 'anon',
        table: 'public.notes',
      }),
    );
    expect(result.failures).toContain(
      'probes: anon saw 0 rows of public.notes before and 3 rows after, but the plan does not change its RLS, policies or grants',
    );
  });

  it('runs the verify scripts of the applied version, and fails on a false check', async () => {
    const { result } = await applyAndVerify(
      { '2_column': 'alter table public.posts add column slug text;' },
      {
        files: {
          'supabase/verify/posts_have_titles.sql':
            'select count(*) = 0 from public.posts where title is null;',
          'supabase/verify/2/slugs_filled.sql':
            'select count(*) = 0 as all_slugs, count(*) as missing from public.posts where slug is null;',
          'supabase/verify/3/never.sql': 'select false;',
        },
      },
    );
    expect(result.scripts.map((s) => [s.path, s.status])).toEqual([
      ['supabase/verify/posts_have_titles.sql', 'passed'],
      ['supabase/verify/2/slugs_filled.sql', 'failed'],
    ]);
    expect(result.failures).toEqual([
      'scripts: supabase/verify/2/slugs_filled.sql returned false: {"all_slugs":false,"missing":"6"}',
    ]);
  });
});

describe('countRows', () => {
  it('counts every table in one snapshot across connections, whatever is committed meanwhile', async () => {
    await db.query(`
create table public.a (id int);
create table public.b (id int);
create table public.c (id int);
create table public."Order" (id int);
insert into public.a select generate_series(1, 10);
insert into public.b select generate_series(1, 20);
insert into public.c select generate_series(1, 30);
insert into public."Order" values (1);`);
    const progress: [number, number][] = [];
    const result = await countTables(db.url, {
      concurrency: 3,
      onProgress: (done, total) => progress.push([done, total]),
      onSnapshot: async () => {
        // Committed after the snapshot was exported, before any other connection imported it.
        await db.query(`
insert into public.a select generate_series(1, 100);
insert into public.b select generate_series(1, 100);
delete from public.c;
insert into public."Order" select generate_series(1, 100);`);
      },
    });
    // Three connections start on the first three tables at once (all of 0 pages, so by name:
    // public."Order", public.a, public.b): the second and third connection each count a table
    // changed after the export, and see it as it was.
    expect(result.connections).toBe(3);
    expect(result.counts).toEqual({
      'public."Order"': 1,
      'public.a': 10,
      'public.b': 20,
      'public.c': 30,
      'storage.buckets': 0,
      'storage.objects': 0,
    });
    expect(progress.at(-1)).toEqual([6, 6]);
    expect(progress).toHaveLength(6);
    // A new snapshot sees the changes.
    expect(await countRows(db.url, { concurrency: 2 })).toMatchObject({ 'public.a': 110, 'public.c': 0 });
  });

  it('counts a partitioned table once with its partitions, and inheritance children once each', async () => {
    await db.query(`
create table public.events (id int, at date not null) partition by range (at);
create table public.events_2024 partition of public.events for values from ('2024-01-01') to ('2025-01-01');
create table public.events_2025 partition of public.events for values from ('2025-01-01') to ('2026-01-01');
insert into public.events values (1, '2024-05-01'), (2, '2024-06-01'), (3, '2025-02-01');
create table public.parent (id int);
create table public.child () inherits (public.parent);
insert into public.parent values (1);
insert into public.child values (2), (3);`);
    const counts = await countRows(db.url, { schemas: ['public'], managedTables: [] });
    expect(counts).toEqual({ 'public.child': 2, 'public.events': 3, 'public.parent': 1 });
  });

  it('estimates from pg_class, counting exactly the tables never analyzed', async () => {
    await db.query(`
create table public.analyzed (id int);
create table public.fresh (id int);
insert into public.analyzed select generate_series(1, 500);
insert into public.fresh select generate_series(1, 7);
analyze public.analyzed;`);
    const result = await countTables(db.url, { mode: 'estimate', schemas: ['public'], managedTables: [] });
    expect(result.estimated).toEqual(['public.analyzed']);
    expect(result.counts).toEqual({ 'public.analyzed': 500, 'public.fresh': 7 });
  });

  it('compares counts: lost, vanished, expected, accepted, tolerated, renamed, new', () => {
    const before = {
      'public.a': 100,
      'public.b': 100,
      'public.c': 10,
      'public.d': 5,
      'public.e': 50,
      'public.old': 3,
    };
    const after = { 'public.a': 99, 'public.b': 90, 'public.e': 40, 'public.f': 1, 'public.new': 3 };
    const comparison = compareCounts(before, after, {
      expectedDrops: ['public.c'],
      acceptedLoss: ['public.e'],
      tolerance: { '*': '1%', 'public.b': 5 },
      renames: { 'public.new': 'public.old' },
    });
    const status = Object.fromEntries(comparison.tables.map((t) => [t.table, [t.status, t.allowed ?? null]]));
    expect(status).toEqual({
      'public.a': ['lost-rows', 'within tolerance (1%)'],
      'public.b': ['lost-rows', null],
      'public.c': ['expected', null],
      'public.d': ['vanished', null],
      'public.e': ['lost-rows', 'accepted data loss'],
      'public.f': ['new', null],
      'public.new': ['ok', null],
    });
    expect(comparison.failures.map((f) => f.message)).toEqual([
      'public.b lost 10 rows (100 → 90), more than its tolerance of 5 rows',
      'public.d no longer exists (it had 5 rows), and the plan does not drop it',
    ]);
  });
});

describe('RLS probes', () => {
  it('sees what each identity sees, leaves no role or claims set and changes no rows, even when a probe fails', async () => {
    await db.query(BASE['1_base']);
    await db.query(`
create table public.secrets (id int);
revoke all on public.secrets from anon, authenticated;
create table public.tripwire (id int);
alter table public.tripwire enable row level security;
create function public.boom() returns boolean language plpgsql as $$
begin
  perform set_config('supagate.leak', 'leaked', false);
  insert into public.audit_log (message) values ('written by a probe');
  return true;
end $$;
create policy "boom" on public.tripwire for select to anon using (public.boom());
insert into public.tripwire values (1);`);
    const counts = await countRows(db.url);
    const connection = await connect(db.url);
    try {
      const results = await probeWith(
        connection.client,
        IDENTITIES.concat({ name: 'ghost', role: 'no_such_role' }),
        ['public.posts', 'public.notes', 'public.secrets', 'public.tripwire', 'public.missing'],
      );
      const byKey = (identity: string, table: string) =>
        results.find((r) => r.identity === identity && r.table === table);
      expect(byKey('anon', 'public.posts')).toEqual({
        identity: 'anon',
        table: 'public.posts',
        visibleRows: 3,
      });
      expect(byKey('anon', 'public.notes')?.visibleRows).toBe(0);
      expect(byKey('alice', 'public.notes')?.visibleRows).toBe(2);
      expect(byKey('bob', 'public.notes')?.visibleRows).toBe(1);
      expect(byKey('anon', 'public.secrets')).toEqual({
        identity: 'anon',
        table: 'public.secrets',
        visibleRows: 0,
        denied: true,
      });
      expect(byKey('anon', 'public.missing')).toMatchObject({ visibleRows: 0, missing: true });
      expect(byKey('anon', 'public.tripwire')?.error).toMatch(/read-only transaction/);
      expect(byKey('ghost', 'public.posts')?.error).toMatch(/does not exist/);

      const { rows } = await connection.client.query(
        `select current_user as role, coalesce(current_setting('request.jwt.claims', true), '') as claims,
                coalesce(current_setting('supagate.leak', true), '') as leak, now() = statement_timestamp() as no_transaction`,
      );
      expect(rows[0]).toEqual({ role: 'postgres', claims: '', leak: '', no_transaction: true });
    } finally {
      await disconnect(connection);
    }
    expect(await countRows(db.url)).toEqual(counts);
  });

  it('compares probes: planned, data-explained and unexplained changes', () => {
    const before = [
      { identity: 'anon', table: 'public.a', visibleRows: 3 },
      { identity: 'anon', table: 'public.b', visibleRows: 3 },
      { identity: 'anon', table: 'public.c', visibleRows: 3 },
      { identity: 'anon', table: 'public.d', visibleRows: 0 },
    ];
    const after = [
      { identity: 'anon', table: 'public.a', visibleRows: 10 },
      { identity: 'anon', table: 'public.b', visibleRows: 5 },
      { identity: 'anon', table: 'public.c', visibleRows: 10 },
      { identity: 'anon', table: 'public.d', visibleRows: 0, denied: true as const },
    ];
    const comparison = compareProbes(before, after, {
      tablesWithPolicyChanges: ['public.a'],
      rowDeltas: { 'public.b': 2, 'public.c': 2 },
      expectations: [{ identity: 'anon', table: 'public.d', canSee: false }],
    });
    expect(comparison.changes.map((c) => [c.table, c.before, c.after, c.planned, c.explainedByData])).toEqual(
      [
        ['public.a', '3 rows', '10 rows', true, false],
        ['public.b', '3 rows', '5 rows', false, true],
        ['public.c', '3 rows', '10 rows', false, false],
        ['public.d', '0 rows', 'denied', false, false],
      ],
    );
    expect(comparison.failures.map((f) => f.table)).toEqual(['public.c', 'public.d']);
  });

  it('runProbes opens and closes its own connection', async () => {
    await db.query(BASE['1_base']);
    expect(await runProbes(db.url, [{ name: 'anon', role: 'anon' }], ['posts'])).toEqual([
      { identity: 'anon', table: 'public.posts', visibleRows: 3 },
    ]);
  });
});

describe('RLS invariants', () => {
  it('fails an API table without RLS unless allow-listed, warns on RLS without policy, ignores other schemas', async () => {
    await db.query(`
create table public.open (id int);
create table public.countries (id int);
create table public.locked (id int);
alter table public.locked enable row level security;
create schema private;
create table private.internal (id int);`);
    const model = await readModel();
    expect(checkRlsInvariants(model, { apiSchemas: ['public'], allowNoRls: ['countries'] })).toEqual([
      expect.objectContaining({ level: 'warning', code: 'rls-no-policy', table: 'public.locked' }),
      expect.objectContaining({ level: 'failure', code: 'rls-disabled', table: 'public.open' }),
    ]);
  });

  it('compares RLS flags and policies with the prediction, and nothing else', async () => {
    await db.query(BASE['1_base']);
    const predicted = await readModel();
    await db.query(`
alter table public.audit_log disable row level security;
alter table public.posts add column extra int;
alter policy "owners read" on public.notes using (true);
create policy "sneaky" on public.audit_log for select to anon using (true);`);
    const differences = compareRlsToPrediction(await readModel(), predicted);
    expect(differences.map((d) => d.message)).toEqual([
      'table public.audit_log: rlsEnabled is false, the plan predicted true',
      'table public.audit_log: policy "sneaky" exists, but the plan did not predict it',
      'table public.notes: policy "owners read": using is true, the plan predicted (( SELECT auth.uid() AS uid) = owner)',
    ]);
  });
});

describe('verify scripts', () => {
  it('passes, fails on false with its path, fails on errors, and rolls back what a script writes', async () => {
    await db.query(BASE['1_base']);
    project = await createProject({
      'supabase/verify/a_pass.sql': 'select count(*) = 6 as six_posts from public.posts;',
      'supabase/verify/b_false.sql': "-- the check\nselect false as ok, 'why' as reason;",
      'supabase/verify/c_error.sql': 'select 1;\nselect * from public.nope;',
      'supabase/verify/d_writes.sql':
        "delete from public.posts;\ninsert into public.audit_log (message) values ('x') returning true;",
      'supabase/verify/e_no_rows.sql': 'select false from public.posts where false;',
      'supabase/verify/f_null.sql': 'select null::boolean;',
      'supabase/verify/g_commit.sql': 'delete from public.notes;\ncommit;',
      'supabase/verify/h_set_role.sql': "set role anon;\nselect current_user = 'anon';",
      'supabase/verify/notes.txt': 'not a script',
      'supabase/verify/20240101/only_then.sql': 'select true;',
      'supabase/verify/drafts/ignored.sql': 'select false;',
    });
    const { results, skipped, ignored } = await runVerifyScripts(db.url, {
      projectDir: project.dir,
      appliedVersions: ['2'],
    });
    const summary = Object.fromEntries(
      results.map((r) => [r.path.replace('supabase/verify/', ''), r.status]),
    );
    expect(summary).toEqual({
      'a_pass.sql': 'passed',
      'b_false.sql': 'failed',
      'c_error.sql': 'failed',
      'd_writes.sql': 'passed',
      'e_no_rows.sql': 'passed',
      'f_null.sql': 'failed',
      'g_commit.sql': 'failed',
      'h_set_role.sql': 'passed',
    });
    const find = (name: string) => results.find((r) => r.path === `supabase/verify/${name}`);
    expect(find('b_false.sql')).toMatchObject({
      message: 'supabase/verify/b_false.sql returned false: {"ok":false,"reason":"why"}',
      row: { ok: false, reason: 'why' },
    });
    expect(find('c_error.sql')).toMatchObject({
      message: expect.stringMatching(
        /^supabase\/verify\/c_error\.sql:2: 42P01 relation "public\.nope" does not exist/,
      ),
      error: { sqlstate: '42P01', line: 2 },
    });
    expect(find('g_commit.sql')?.message).toBe(
      'supabase/verify/g_commit.sql:2:1: "commit" has no BEGIN before it',
    );
    expect(skipped).toEqual(['supabase/verify/20240101']);
    expect(ignored).toEqual(['supabase/verify/drafts']);
    // Nothing stayed.
    expect(await countRows(db.url, { schemas: ['public'] })).toMatchObject({
      'public.posts': 6,
      'public.notes': 3,
      'public.audit_log': 2,
    });

    const only = await runVerifyScripts(db.url, { projectDir: project.dir, appliedVersions: ['020240101'] });
    expect(only.results.map((r) => r.path)).toContain('supabase/verify/20240101/only_then.sql');
  });
});

async function readModel() {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return await introspect(client);
  } finally {
    await client.end();
  }
}
