import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { plan } from '../src/core/commands/plan.js';
import { renderJson } from '../src/core/report/json.js';
import { renderPlanMarkdown } from '../src/core/report/markdown.js';
import { renderPlan } from '../src/core/report/text.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

/**
 * A hostile migration author tries to get a secret into the plan's report, which is posted as
 * the PR comment: reports are built from text they control (names, comments, SQL, error
 * messages), so every renderer redacts, as a last line of defence.
 */
let db: TestDatabase;
let project: TestProject | undefined;

// A service_role key hard-coded in a webhook trigger function, as many Supabase apps have.
const SERVICE_KEY = `eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIiwiaXNzIjoic3VwYWJhc2UifQ.${'Zk3'.repeat(14)}x`;
const BACKUP_KEY = `base64:${Buffer.alloc(32, 9).toString('base64')}`;

beforeEach(async () => {
  db = await createTestDatabase();
  await db.query(`
    create function public.notify_webhook() returns trigger language plpgsql as $$
    begin
      perform 'Bearer ${SERVICE_KEY}';
      return new;
    end $$;`);
});
afterEach(async () => {
  await project?.cleanup();
  project = undefined;
  await db.drop();
});

function reports(result: Awaited<ReturnType<typeof plan>>): string[] {
  return [renderPlanMarkdown(result), renderPlan(result), renderJson(result, !result.blocking)];
}

describe('secrets never reach a plan report', () => {
  it('a key read from production’s function bodies and raised as the error', async () => {
    project = await createProject(
      migrations({
        '1_leak': `do $$ begin
  raise exception 'leak: %', (select prosrc from pg_proc where proname = 'notify_webhook');
end $$;`,
      }),
    );
    const result = await plan(project.config(db.url));
    expect(result.status).toBe('failed');
    for (const report of reports(result)) {
      expect(report).toContain('leak');
      expect(report).not.toContain(SERVICE_KEY.slice(0, 40));
      expect(report).not.toContain(SERVICE_KEY.slice(-20));
    }
  });

  it('a key copied into names, comments and a view definition', async () => {
    project = await createProject(
      migrations({
        '1_leak': `do $$ begin
  execute format('create view public.leak as select %L::text as k', (select prosrc from pg_proc where proname = 'notify_webhook'));
  execute format('comment on view public.leak is %L', (select prosrc from pg_proc where proname = 'notify_webhook'));
end $$;
alter view public.leak set (security_invoker = on);`,
      }),
    );
    const result = await plan(project.config(db.url));
    expect(result.status).toBe('planned');
    expect(JSON.stringify(result.diff)).toContain(SERVICE_KEY.slice(-20));
    for (const report of reports(result)) {
      expect(report).toContain('leak');
      expect(report).not.toContain(SERVICE_KEY.slice(-20));
    }
  });

  it('the production password and the backup key, however the migration learned them', async () => {
    const password = decodeURIComponent(new URL(db.url).password);
    project = await createProject(
      migrations({
        '1_leak': `create table public.leak (id int primary key);
alter table public.leak enable row level security;
comment on table public.leak is 'pw=${password} key=${BACKUP_KEY}';
comment on column public.leak.id is '${encodeURIComponent(password)}';`,
      }),
    );
    const result = await plan(project.config(db.url, { backupKey: BACKUP_KEY }));
    expect(result.status).toBe('planned');
    for (const report of reports(result)) {
      expect(report).not.toContain(password);
      expect(report).not.toContain(BACKUP_KEY.slice(8, 30));
    }
  });
});
