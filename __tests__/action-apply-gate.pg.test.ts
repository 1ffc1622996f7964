import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { apply } from '../src/core/commands/apply.js';
import { runAction } from './harness/action.js';
import { createTestDatabase, snapshot, type TestDatabase } from './harness/db.js';
import { FakeGitHubApi } from './harness/github-api.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

/**
 * The approval gate of `command: apply` on a push to main: the merged pull request must be
 * approved, after its last migration change, for the plan that is about to be applied.
 */
const HEAD = '9f2c1e4b7a6d5c3b2a1908f7e6d5c4b3a2910f8e';
let db: TestDatabase;
let project: TestProject;
let api: FakeGitHubApi;
let push: { after: string };
let opened: object;

beforeAll(async () => {
  db = await createTestDatabase();
  project = await createProject(
    migrations({
      '1_base':
        'create table public.notes (id int primary key);\nalter table public.notes enable row level security;',
    }),
  );
  await apply(project.config(db.url));
  await project.write('supabase/migrations/2_body.sql', 'alter table public.notes add column body text;');
  push = JSON.parse(await readFile('__fixtures__/github/push.main.json', 'utf8'));
  opened = JSON.parse(await readFile('__fixtures__/github/pull_request.opened.json', 'utf8'));
  api = await FakeGitHubApi.start({ repository: 'acme/app' });
  api.addPullRequest({
    number: 12,
    user: 'alice',
    headSha: HEAD,
    state: 'closed',
    mergedAt: '2024-05-02T12:00:00Z',
    mergeCommitSha: push.after,
  });
  api.addCommit(12, { sha: HEAD, date: '2024-05-02T10:00:00Z', files: ['supabase/migrations/2_body.sql'] });
});
afterAll(async () => {
  await api.close();
  await project.cleanup();
  await db.drop();
});

const env = () => ({
  GITHUB_API_URL: api.url,
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_WORKSPACE: project.dir,
});
const inputs = () => ({
  'db-url': db.url,
  'working-directory': project.dir,
  'shadow-url': inject('serverUrl'),
  'github-token': 'test-token',
  backup: 'off',
});

function applyOnPush() {
  return runAction(
    { command: 'apply', ...inputs() },
    { event: push, eventName: 'push', env: { ...env(), GITHUB_SHA: push.after } },
  );
}

describe('the Action: apply on push needs an approval of this plan', () => {
  it('refuses without an approval, changing nothing, and says what is missing', async () => {
    // The plan comment exists (the PR was planned) but nobody approved.
    const planned = await runAction(
      { command: 'plan', ...inputs() },
      { event: opened, eventName: 'pull_request', env: env() },
    );
    expect(planned.exitCode, planned.stdout).toBe(0);
    const before = await snapshot(db);
    const run = await applyOnPush();
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain('APPROVAL_MISSING');
    expect(run.stdout).toContain('1 more approval needed');
    expect(await snapshot(db)).toEqual(before);
  });

  it('refuses an approval by the author, and one given before the last migration change', async () => {
    api.addReview(12, {
      user: 'alice',
      state: 'APPROVED',
      commitId: HEAD,
      submittedAt: '2024-05-02T11:00:00Z',
    });
    api.addReview(12, {
      user: 'carol',
      state: 'APPROVED',
      commitId: '0'.repeat(40),
      submittedAt: '2024-05-02T09:00:00Z',
    });
    const before = await snapshot(db);
    const run = await applyOnPush();
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain('APPROVAL_MISSING');
    expect(run.stdout).toContain('1 more approval needed');
    expect(await snapshot(db)).toEqual(before);
  });

  it('refuses a stale approval when production changed after the plan was approved', async () => {
    api.addReview(12, {
      user: 'bob',
      state: 'APPROVED',
      commitId: HEAD,
      submittedAt: '2024-05-02T11:30:00Z',
    });
    await db.query('create index notes_id_idx on public.notes (id)');
    try {
      const before = await snapshot(db);
      const run = await applyOnPush();
      expect(run.exitCode).toBe(1);
      expect(run.stdout).toContain('the plan changed since it was approved');
      expect(await snapshot(db)).toEqual(before);
    } finally {
      await db.query('drop index public.notes_id_idx');
    }
  });

  it('applies once approved for this plan', async () => {
    const run = await applyOnPush();
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.stdout).toContain('Approved by bob on pull request #12.');
    expect(run.outputs.applied_versions).toBe('2');
    expect(run.outputs.verification).toBe('passed');
  });
});
