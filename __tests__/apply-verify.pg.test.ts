import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apply } from '../src/core/commands/apply.js';
import { renderApply } from '../src/core/report/text.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

/** apply with verification on: predicted on a shadow, checked after (counts, RLS, probes, schema). */
const BASE = `
create table public.items (id int primary key, owner uuid, secret text);
alter table public.items enable row level security;
create policy "owners read" on public.items for select to authenticated using ((select auth.uid()) = owner);
insert into public.items select g, null, 's' || g from generate_series(1, 5) g;`;

let db: TestDatabase;
let project: TestProject;

beforeEach(async () => {
  db = await createTestDatabase();
  project = await createProject(migrations({ '1_base': BASE }));
  await apply(project.config(db.url));
});
afterEach(async () => {
  await project.cleanup();
  await db.drop();
});

function verifying(overrides = {}) {
  return project.config(db.url, { verify: 'on', ...overrides });
}

describe('verification after apply', () => {
  it('passes for a migration that does what its plan says', async () => {
    await project.write('supabase/migrations/2_col.sql', 'alter table public.items add column note text;');
    const result = await apply(verifying());
    expect(result.status).toBe('applied');
    expect(result.verification).toMatchObject({ status: 'passed', failures: [] });
    expect(result.verification.status === 'passed' && result.verification.schema.differences).toEqual([]);
    expect(result.planHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('catches a migration that silently deletes rows, and prints the command that undoes it', async () => {
    await project.write('supabase/migrations/2_cleanup.sql', 'delete from public.items where id > 2;');
    const result = await apply(verifying({ backup: 'on' }));
    expect(result.status).toBe('verify-failed');
    expect(result.verification.status).toBe('failed');
    const items =
      result.verification.status === 'failed'
        ? result.verification.counts.tables.find((t) => t.table === 'public.items')
        : undefined;
    expect(items).toMatchObject({ before: 5, after: 2, status: 'lost-rows' });
    // No down file: the backup it took is the way back.
    expect(result.backup.status).toBe('taken');
    const backupId = result.backup.status === 'taken' ? result.backup.id : '';
    expect(result.recovery?.command).toBe(`supagate rollback --backup ${backupId} --confirm ${db.name}`);
    expect(renderApply(result)).toContain('Verification FAILED');
  });

  it('catches a migration that disables RLS, and rolls it back with its down file when asked to', async () => {
    await project.write(
      'supabase/migrations/2_open.sql',
      // Accepted in the plan, so apply runs it: verification still catches what it does.
      [
        '-- supagate:allow rls-disabled, access-widened: the items are to be public',
        '-- supagate:allow rls_disabled_in_public, policy_exists_rls_disabled, sensitive_columns_exposed: the same',
        'alter table public.items disable row level security;',
      ].join('\n'),
    );
    await project.write(
      'supabase/rollbacks/2_open.sql',
      'alter table public.items enable row level security;',
    );
    const result = await apply(verifying({ onVerifyFailure: 'rollback' }));
    expect(result.status).toBe('verify-failed');
    const failures = result.verification.status === 'failed' ? result.verification.failures.join('\n') : '';
    expect(failures).toContain('public.items');
    expect(result.recovery).toMatchObject({
      rolledBack: ['2'],
      command: `supagate rollback --to 1 --confirm ${db.name}`,
    });
    const [rls] = await db.query<{ on: boolean }>(
      `select relrowsecurity as on from pg_class where oid = 'public.items'::regclass`,
    );
    expect(rls?.on).toBe(true);
    const history = await db.query<{ version: string }>(
      'select version from supabase_migrations.schema_migrations',
    );
    expect(history.map((r) => r.version)).toEqual(['1']);
  });

  it('fails when what anon can read violates an expectation in supabase/supagate.yml', async () => {
    await project.write(
      'supabase/supagate.yml',
      'verify:\n  expectations:\n    - identity: anon\n      table: public.items\n      visible:\n        max: 0\n',
    );
    await project.write(
      'supabase/migrations/2_public.sql',
      // Accepted in the plan, so apply runs it: the expectation in supagate.yml still fails it.
      '-- supagate:allow access-widened: anon is to read the items\ncreate policy "anyone reads" on public.items for select to anon using (true);',
    );
    const result = await apply(verifying());
    expect(result.status).toBe('verify-failed');
    const probes = result.verification.status === 'failed' ? result.verification.probes : undefined;
    expect(probes?.changes).toContainEqual(
      expect.objectContaining({ identity: 'anon', table: 'public.items', delta: 5 }),
    );
    expect(probes?.failures.length).toBeGreaterThan(0);
  });
});
