import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/program.js';
import { apply } from '../src/core/commands/apply.js';
import { verify } from '../src/core/commands/verify.js';
import { runAction } from './harness/action.js';
import { createTestDatabase, snapshot, type TestDatabase } from './harness/db.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

/** `supagate verify`: production's RLS, probes and verify scripts as they are, with no apply. */
let db: TestDatabase;
let project: TestProject;

beforeAll(async () => {
  db = await createTestDatabase();
  project = await createProject({
    ...migrations({
      '1_notes': `
create table public.notes (id int primary key, owner uuid not null, body text);
alter table public.notes enable row level security;
create policy "owners read" on public.notes for select to authenticated using ((select auth.uid()) = owner);
grant select on public.notes to anon, authenticated;
insert into public.notes values (1, '00000000-0000-0000-0000-000000000001', 'a'), (2, '00000000-0000-0000-0000-000000000002', 'b');`,
    }),
    'supabase/supagate.yml': `verify:
  identities:
    - name: alice
      role: authenticated
      claims: { sub: 00000000-0000-0000-0000-000000000001 }
  expectations:
    - { identity: alice, table: public.notes, visible: 1 }
`,
    'supabase/verify/bodies.sql': 'select count(*) = 0 as all_bodies from public.notes where body is null;',
  });
  await apply(project.config(db.url));
});
afterAll(async () => {
  await project.cleanup();
  await db.drop();
});

function cliVerify(): Promise<number> {
  return runCli(['verify', '--project-dir', project.dir], {
    stdout: () => {},
    stderr: () => {},
    env: { SUPAGATE_DB_URL: db.url },
  });
}

describe('supagate verify', () => {
  it('passes when RLS, the expectations and the scripts hold, and changes nothing', async () => {
    const before = await snapshot(db);
    const result = await verify(project.config(db.url));
    expect(result.failures).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.probes.results).toContainEqual(
      expect.objectContaining({ identity: 'alice', table: 'public.notes', visibleRows: 1 }),
    );
    expect(result.scripts.map((s) => [s.path, s.status])).toEqual([['supabase/verify/bodies.sql', 'passed']]);
    expect(await snapshot(db)).toEqual(before);
  });

  it('fails, naming the table, the identity and the script, when production no longer holds', async () => {
    await db.query(`alter table public.notes disable row level security;
      update public.notes set body = null where id = 2;`);
    try {
      const before = await snapshot(db);
      const result = await verify(project.config(db.url));
      expect(result.ok).toBe(false);
      expect(result.failures).toEqual([
        expect.stringMatching(/^rls: public\.notes is in the API schema public without row level security/),
        expect.stringMatching(/^probes: alice on public\.notes: /),
        expect.stringMatching(/^scripts: supabase\/verify\/bodies\.sql returned false/),
      ]);
      expect(await snapshot(db)).toEqual(before);

      expect(await cliVerify()).toBe(3);
      const run = await runAction({ command: 'verify', 'db-url': db.url, 'working-directory': project.dir });
      expect(run.exitCode).toBe(1);
      expect(run.outputs.verification).toBe('failed');
      expect(run.stdout).toContain('::error::Verification failed: rls: public.notes');
      expect(run.summary).toContain('supabase/verify/bodies.sql');
    } finally {
      await db.query(`alter table public.notes enable row level security;
        update public.notes set body = 'b' where id = 2;`);
    }
    const run = await runAction({ command: 'verify', 'db-url': db.url, 'working-directory': project.dir });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.outputs.verification).toBe('passed');
    expect(await cliVerify()).toBe(0);
  });
});
