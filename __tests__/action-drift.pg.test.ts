import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { apply } from '../src/core/commands/apply.js';
import { runAction } from './harness/action.js';
import { createTestDatabase, snapshot, type TestDatabase } from './harness/db.js';
import { FakeGitHubApi } from './harness/github-api.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

/**
 * `command: drift` on a schedule, run as the runner runs dist/index.js, against FakeGitHubApi
 * (a local server playing the GitHub REST API): one issue opened, updated, then closed.
 */
let db: TestDatabase;
let project: TestProject;
let api: FakeGitHubApi;
let schedule: object;

const NOTES = `create table public.notes (id int primary key, body text);
alter table public.notes enable row level security;
create policy "read own" on public.notes for select to authenticated using (true);`;

beforeAll(async () => {
  db = await createTestDatabase();
  project = await createProject(migrations({ '1_notes': NOTES }));
  await apply(project.config(db.url));
  schedule = JSON.parse(await readFile('__fixtures__/github/schedule.json', 'utf8'));
  api = await FakeGitHubApi.start({ repository: 'acme/app' });
});
afterAll(async () => {
  await api.close();
  await project.cleanup();
  await db.drop();
});

function driftRun(extra: Record<string, string> = {}) {
  return runAction(
    {
      command: 'drift',
      'db-url': db.url,
      'working-directory': project.dir,
      'shadow-url': inject('shadowUrl'),
      'github-token': 'test-token',
      target: 'production',
      ...extra,
    },
    {
      event: schedule,
      eventName: 'schedule',
      env: { GITHUB_API_URL: api.url, GITHUB_SERVER_URL: 'https://github.com' },
    },
  );
}

describe('the Action: drift on a schedule', () => {
  it('reports no drift and opens no issue when production is what the migrations produce', async () => {
    const before = await snapshot(db);
    const run = await driftRun();
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.outputs.drift).toBe('false');
    expect(api.issues).toEqual([]);
    expect(run.summary).toContain('production is what its migrations produce');
    expect(await readFile(run.outputs.report_path as string, 'utf8')).toContain('supagate drift');
    expect(await snapshot(db)).toEqual(before);
  });

  it('opens one issue on drift, updates it on the next run, and fails the run when asked', async () => {
    await db.query(`alter table public.notes add column pinned boolean;
      create policy "anyone writes" on public.notes for insert to anon with check (true);`);
    const first = await driftRun();
    expect(first.exitCode, first.stdout).toBe(0);
    expect(first.outputs.drift).toBe('true');
    expect(api.issues).toHaveLength(1);
    const issue = api.issues[0];
    expect(issue?.labels.map((l) => l.name)).toEqual(['supagate-drift']);
    expect(issue?.body).toContain('<!-- supagate:drift target=production -->');
    expect(issue?.body).toContain('pinned');
    expect(issue?.body).toContain('anyone writes');
    expect(first.outputs.issue_url).toBe(issue?.html_url);

    const second = await driftRun({ 'fail-on-drift': 'true' });
    expect(second.exitCode).toBe(1);
    expect(second.stdout).toContain(
      '::error::Production drifted from its migrations (1 object(s) differ); see the job summary.',
    );
    expect(api.issues).toHaveLength(1);
    expect(api.requestsTo('PATCH', `/repos/acme/app/issues/${issue?.number}`)).toHaveLength(1);
  });

  it('closes the issue once production matches again', async () => {
    await db.query(
      `alter table public.notes drop column pinned; drop policy "anyone writes" on public.notes;`,
    );
    const run = await driftRun();
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.outputs.drift).toBe('false');
    expect(api.issues[0]?.state).toBe('closed');
    expect(api.commentsOn(api.issues[0]?.number as number).at(-1)?.body).toContain('No drift any more');
  });

  it('fails with the file and line when an applied migration no longer replays', async () => {
    await project.write(
      'supabase/migrations/1_notes.sql',
      'create table public.notes (id int primary key,\n  owner int references public.nowhere);',
    );
    try {
      const run = await driftRun();
      expect(run.exitCode).toBe(1);
      expect(run.stdout).toContain('::error::The drift check could not run');
      expect(run.summary).toContain('supabase/migrations/1_notes.sql');
      expect(run.summary).toContain('nowhere');
    } finally {
      await project.write('supabase/migrations/1_notes.sql', NOTES);
    }
  });
});
