import { describe, expect, it } from 'vitest';
import { planGate } from '../src/core/commands/plan-gate.js';
import type { LintFinding } from '../src/core/schema/lints.js';
import type { SchemaModel } from '../src/core/schema/model.js';
import { findingsOf, pendingMigrations, whereIs } from './harness/findings.js';
import {
  column,
  constraint,
  grants,
  index,
  type ModelBuilder,
  model,
  policy,
  TABLE_PRIVILEGES,
} from './harness/model-factory.js';

/**
 * Lints are findings like hazards: each located at the statement that creates or changes its
 * object, accepted by an allow comment in that statement's file or by the configuration.
 */
const BEFORE = model((m) => m.schema('public'));

/** public.notes without RLS, with an anon write policy, a duplicated index, and more. */
function withNotes(m: ModelBuilder): void {
  m.schema('public');
  m.table('public', 'notes', {
    columns: [column('id', 'integer', { notNull: true }), column('body', 'text')],
    constraints: {
      notes_pkey: constraint('notes_pkey', {
        type: 'primary key',
        definition: 'PRIMARY KEY (id)',
        columns: ['id'],
      }),
    },
    indexes: {
      notes_body_a: index('notes_body_a', 'CREATE INDEX notes_body_a ON public.notes USING btree (body)'),
      notes_body_b: index('notes_body_b', 'CREATE INDEX notes_body_b ON public.notes USING btree (body)'),
    },
    policies: {
      'anyone writes': policy('anyone writes', 'public.notes', {
        command: 'INSERT',
        roles: ['anon'],
        withCheck: 'true',
      }),
    },
    grants: grants({ anon: TABLE_PRIVILEGES, postgres: TABLE_PRIVILEGES }),
  });
}

const FILES = {
  '2_create': [
    'create table public.notes (id int primary key, body text);',
    'create index notes_body_a on public.notes (body);',
    'create policy "anyone writes" on notes for insert to anon with check (true);',
  ].join('\n'),
  '3_more': ['grant all on public.notes to anon;', 'create index notes_body_b on notes (body);'].join('\n'),
};

async function lintsOf(
  files: Record<string, string>,
  after: SchemaModel,
  accepted: { code: string; reason: string; object?: string }[] = [],
): Promise<LintFinding[]> {
  return findingsOf(await pendingMigrations(files), BEFORE, after, { accepted }).lints;
}

function where(lints: LintFinding[], code: string): string[] {
  return lints.filter((lint) => lint.code === code).map(whereIs);
}

describe('lint locations', () => {
  const after = model(withNotes);

  it('puts a table without RLS at its CREATE TABLE, not at later statements on it', async () => {
    const lints = await lintsOf(FILES, after);
    expect(where(lints, 'rls_disabled_in_public')).toEqual(['supabase/migrations/2_create.sql:1']);
    expect(where(lints, 'policy_exists_rls_disabled')).toEqual(['supabase/migrations/2_create.sql:3']);
  });

  it('puts a policy lint at the CREATE POLICY, and a duplicate index at the index that duplicates', async () => {
    const lints = await lintsOf(FILES, after);
    expect(where(lints, 'rls_policy_always_true')).toEqual(['supabase/migrations/2_create.sql:3']);
    expect(where(lints, 'duplicate_index')).toEqual(['supabase/migrations/3_more.sql:2']);
  });

  it('puts a table that loses RLS at the DISABLE ROW LEVEL SECURITY', async () => {
    const before = model((m) => {
      withNotes(m);
      const notes = m.model.tables['public.notes'];
      if (notes) notes.rlsEnabled = true;
    });
    const pending = await pendingMigrations({
      '2_comment': "alter table public.notes alter column body set default '';",
      '3_open': 'alter table public.notes disable row level security;',
    });
    const { lints } = findingsOf(pending, before, after);
    expect(where(lints, 'rls_disabled_in_public')).toEqual(['supabase/migrations/3_open.sql:1']);
  });

  it('puts function lints at the CREATE FUNCTION of each overload, and a view at its ALTER VIEW', async () => {
    const functions = model((m) => {
      m.schema('public');
      m.routine('public', 'touch', '', { config: [] });
      m.routine('public', 'touch', 'p_id integer', { config: [] });
      m.view('public', 'open_notes', 'SELECT 1', {
        securityInvoker: false,
        grants: grants({ anon: ['SELECT'] }),
      });
    });
    const pending = await pendingMigrations({
      '2_one': 'create function public.touch() returns boolean language sql as $$ select true $$;',
      '3_two': [
        'create function touch(p_id int) returns boolean language sql as $$ select true $$;',
        'create view open_notes with (security_invoker = true) as select 1;',
        'alter view public.open_notes set (security_invoker = false);',
      ].join('\n'),
    });
    const { lints } = findingsOf(pending, BEFORE, functions);
    expect(
      lints.filter((l) => l.code === 'function_search_path_mutable').map((l) => `${l.object} ${whereIs(l)}`),
    ).toEqual([
      'public.touch() supabase/migrations/2_one.sql:1',
      'public.touch(p_id integer) supabase/migrations/3_two.sql:1',
    ]);
    expect(where(lints, 'security_definer_view')).toEqual(['supabase/migrations/3_two.sql:3']);
  });
});

describe('lint locations of the advisor rules added with storage, reg* types and extension versions', () => {
  const after = model((m) => {
    m.schema('public');
    m.table('public', 'jobs', {
      rlsEnabled: true,
      columns: [column('id', 'integer', { notNull: true }), column('handler', 'regprocedure')],
      constraints: {
        jobs_pkey: constraint('jobs_pkey', {
          type: 'primary key',
          definition: 'PRIMARY KEY (id)',
          columns: ['id'],
        }),
      },
      policies: {
        reads: policy('reads', 'public.jobs', { command: 'SELECT', roles: ['authenticated'], using: 'true' }),
      },
    });
    const extension = m.extension('pg_trgm', { version: '1.5' });
    Object.assign(extension, { defaultVersion: '1.6' });
    m.bucket('avatars', { public: true });
    m.table('storage', 'objects', {
      managed: true,
      rlsEnabled: true,
      policies: {
        'Public read': policy('Public read', 'storage.objects', {
          command: 'SELECT',
          using: "(bucket_id = 'avatars'::text)",
        }),
      },
    });
    m.routine('public', 'on_signup', '', {
      returns: 'trigger',
      language: 'plpgsql',
      securityDefiner: true,
      config: ['search_path=""'],
    });
  });
  const files = {
    '2_jobs': [
      'create table public.jobs (id int primary key, handler text);',
      'alter table public.jobs enable row level security;',
      'create policy reads on public.jobs for select to authenticated using (true);',
      'alter table public.jobs alter column handler type regprocedure using handler::regprocedure;',
    ].join('\n'),
    '3_storage': [
      "create extension pg_trgm version '1.5' schema extensions;",
      'create policy "Public read" on storage.objects for select using (bucket_id = \'avatars\');',
      "create function public.on_signup() returns trigger language plpgsql security definer set search_path = '' as $$ begin return new; end $$;",
    ].join('\n'),
  };

  it('puts each at the statement that brings it', async () => {
    const lints = await lintsOf(files, after);
    expect(where(lints, 'unsupported_reg_types')).toEqual(['supabase/migrations/2_jobs.sql:4']);
    expect(where(lints, 'extension_versions_outdated')).toEqual(['supabase/migrations/3_storage.sql:1']);
    expect(where(lints, 'public_bucket_allows_listing')).toEqual(['supabase/migrations/3_storage.sql:2']);
    expect(where(lints, 'anon_security_definer_function_executable')).toEqual([
      'supabase/migrations/3_storage.sql:3',
    ]);
  });
});

describe('accepting lints', () => {
  const after = model(withNotes);
  const allow = '\n-- supagate:allow rls_disabled_in_public: a public guest book';

  it('accepts a lint by an allow comment in the file that causes it, not in another', async () => {
    const inFile = await lintsOf({ ...FILES, '2_create': FILES['2_create'] + allow }, after);
    expect(inFile.find((l) => l.code === 'rls_disabled_in_public')?.accepted).toEqual({
      reason: 'a public guest book',
      source: 'migration',
    });
    const elsewhere = await lintsOf({ ...FILES, '3_more': FILES['3_more'] + allow }, after);
    expect(elsewhere.find((l) => l.code === 'rls_disabled_in_public')?.accepted).toBeUndefined();
  });

  it('accepts a lint by configuration, by code written either way, by category, or by object', async () => {
    for (const entry of [
      { code: 'rls_disabled_in_public', reason: 'ok' },
      { code: 'rls-disabled-in-public', reason: 'ok' },
      { code: 'security', reason: 'ok' },
      { code: 'rls_disabled_in_public', object: 'public.notes', reason: 'ok' },
    ]) {
      const lints = await lintsOf(FILES, after, [entry]);
      expect(lints.find((l) => l.code === 'rls_disabled_in_public')?.accepted, entry.code).toEqual({
        reason: 'ok',
        source: 'config',
      });
    }
    const other = await lintsOf(FILES, after, [
      { code: 'rls_disabled_in_public', object: 'public.x', reason: 'ok' },
    ]);
    expect(other.find((l) => l.code === 'rls_disabled_in_public')?.accepted).toBeUndefined();
  });
});

describe('planGate', () => {
  const none = { problems: [], hazards: [], lints: { introduced: [], resolved: [], existingCount: 0 } };

  it('blocks on an unaccepted ERROR lint, naming file:line and how to accept it', async () => {
    const introduced = await lintsOf(FILES, model(withNotes));
    const gate = planGate({ ...none, lints: { ...none.lints, introduced } });
    expect(gate.blocking).toBe(true);
    const reason = gate.reasons.find((r) => r.startsWith('rls_disabled_in_public'));
    expect(reason).toContain('at supabase/migrations/2_create.sql:1');
    expect(reason).toContain(
      'add `-- supagate:allow rls_disabled_in_public: <why>` to supabase/migrations/2_create.sql',
    );
    expect(gate.reasons.some((r) => r.startsWith('rls_policy_always_true'))).toBe(false);
  });

  it('does not block once every blocking finding is accepted', async () => {
    const introduced = await lintsOf(FILES, model(withNotes), [{ code: 'security', reason: 'ok' }]);
    expect(planGate({ ...none, lints: { ...none.lints, introduced } })).toEqual({
      blocking: false,
      reasons: [],
    });
  });

  it('says where to accept a finding no single statement causes', () => {
    const gate = planGate({
      ...none,
      hazards: [
        {
          code: 'drop-column',
          category: 'data-loss',
          severity: 'blocking',
          message: 'Column public.t.c is dropped with its data (no single statement causes this)',
          object: 'public.t.c',
        },
      ],
    });
    expect(gate.reasons).toEqual([
      'drop-column: Column public.t.c is dropped with its data (no single statement causes this) — to accept it, list it in supabase/supagate.yml (acceptedHazards: - { code: drop-column, object: public.t.c, reason: <why> })',
    ]);
  });
});
