import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { apply } from '../src/core/commands/apply.js';
import {
  type ActionRun,
  approvePullRequest,
  mergePullRequest,
  runAction,
  type SeededPullRequest,
  seedPullRequest,
} from './harness/action.js';
import { createTestDatabase, snapshot, type TestDatabase } from './harness/db.js';
import { FAILS_IN_PRODUCTION } from './harness/gate.js';
import { FakeGitHubApi } from './harness/github-api.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

/**
 * Every outcome of apply on a push leaves its trace where people look: the `supagate/apply`
 * status of the merge commit, a comment on the merged pull request, the job summary and the
 * `status` output.
 */
const MIGRATIONS = 'supabase/migrations';
let db: TestDatabase;
let project: TestProject;
let api: FakeGitHubApi;

beforeAll(async () => {
  db = await createTestDatabase();
  project = await createProject(
    migrations({
      '1_base': [
        'create table public.notes (id int primary key);',
        'alter table public.notes enable row level security;',
        'create table public.production_rows (id int primary key);',
        'alter table public.production_rows enable row level security;',
      ].join('\n'),
    }),
  );
  await apply(project.config(db.url));
  // Rows only production has (the plan's shadow has the schema only).
  await db.query(
    'insert into public.production_rows values (1); insert into public.notes select generate_series(1, 5)',
  );
  api = await FakeGitHubApi.start({ repository: 'acme/app' });
});
afterAll(async () => {
  await api?.close();
  await project?.cleanup();
  await db?.drop();
});

const env = () => ({
  GITHUB_API_URL: api.url,
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_WORKSPACE: project.dir,
});
const inputs = () => ({
  'db-url': db.url,
  'working-directory': project.dir,
  'shadow-url': inject('shadowUrl'),
  'github-token': 'test-token',
  backup: 'off',
});

/**
 * A pull request adding `name` (planned on it, approved unless told not to), merged: the run
 * of apply on the push of its merge commit. The migration file is removed afterwards unless kept.
 */
async function mergeAndApply(
  number: number,
  name: string,
  sql: string,
  options: { approve?: boolean; keep?: boolean } = {},
): Promise<{ pull: SeededPullRequest; run: ActionRun; before: unknown }> {
  const path = `${MIGRATIONS}/${name}.sql`;
  const pull = await seedPullRequest(api, number, [path]);
  await project.write(path, sql);
  try {
    await runAction(
      { command: 'plan', ...inputs() },
      { event: pull.event, eventName: 'pull_request', env: env() },
    );
    if (options.approve !== false) await approvePullRequest(api, pull);
    mergePullRequest(api, pull);
    const before = await snapshot(db);
    const run = await runAction(
      { command: 'apply', ...inputs() },
      { event: pull.push, eventName: 'push', env: { ...env(), GITHUB_SHA: pull.merge } },
    );
    return { pull, run, before };
  } finally {
    if (!options.keep) await project.remove(path);
  }
}

/** The traces of one apply run: the status of the merge commit, the PR comment, summary, output. */
function traces(pull: SeededPullRequest, run: ActionRun) {
  const statuses = api.statuses.filter((s) => s.context === 'supagate/apply' && s.sha === pull.merge);
  expect(statuses).toHaveLength(1);
  const comments = api.commentsOn(pull.number).filter((c) => !c.body.includes('<!-- supagate:plan target='));
  expect(comments).toHaveLength(1);
  expect(run.summary.trim()).not.toBe('');
  expect(run.outputs.comment_url).toBe(comments[0]?.html_url);
  return {
    status: statuses[0],
    comment: comments[0]?.body ?? '',
    summary: run.summary,
    output: run.outputs.status,
  };
}

describe('the Action: every apply outcome on a push leaves its trace', () => {
  it('refused (not approved): a failure status, a comment that says what is missing, nothing applied', async () => {
    const { pull, run, before } = await mergeAndApply(
      31,
      '2_body',
      'alter table public.notes add column body text;',
      {
        approve: false,
      },
    );
    expect(run.exitCode).toBe(1);
    const trace = traces(pull, run);
    expect(trace.output).toBe('refused');
    expect(trace.status).toMatchObject({
      state: 'failure',
      description: expect.stringMatching(/^Refused, nothing applied: Pull request #31 is not approved/),
    });
    expect(trace.comment).toContain('### ⛔ supagate apply refused: nothing was applied');
    expect(trace.comment).toContain('1 more approval needed');
    expect(trace.summary).toContain('## supagate apply: refused, nothing was applied');
    expect(trace.summary).toContain('APPROVAL_MISSING');
    expect(await snapshot(db)).toEqual(before);
  });

  it('applied: a success status, a comment with what was applied, the summary of the apply', async () => {
    const { pull, run } = await mergeAndApply(
      32,
      '2_body',
      'alter table public.notes add column body text;',
      {
        keep: true,
      },
    );
    expect(run.exitCode, run.stdout).toBe(0);
    const trace = traces(pull, run);
    expect(trace.output).toBe('applied');
    expect(run.outputs.applied_versions).toBe('2');
    expect(trace.status).toMatchObject({ state: 'success', description: 'Applied 2; verification passed' });
    expect(trace.comment).toContain('✅ supagate applied 1 migration, verified');
    expect(trace.summary).toContain('## supagate apply');
  });

  it('blocked (a blocking finding not accepted): a failure status that names it, nothing applied', async () => {
    const { pull, run, before } = await mergeAndApply(33, '3_wipe', 'delete from public.notes;');
    expect(run.exitCode).toBe(1);
    const trace = traces(pull, run);
    expect(trace.output).toBe('blocked');
    expect(trace.status).toMatchObject({
      state: 'failure',
      description: expect.stringContaining('Refused, the plan blocks: delete-without-where'),
    });
    expect(trace.comment).toContain('supagate apply refused: the plan blocks');
    expect(trace.summary).toContain('Refused: the plan blocks');
    expect(await snapshot(db)).toEqual(before);
  });

  it('failed (the migration fails in production): an error status naming the file, nothing of it applied', async () => {
    const { pull, run, before } = await mergeAndApply(34, '3_fails', `${FAILS_IN_PRODUCTION};`);
    expect(run.exitCode).toBe(1);
    const trace = traces(pull, run);
    expect(trace.output).toBe('failed');
    expect(trace.status).toMatchObject({
      state: 'error',
      description: expect.stringContaining('Migration failed: supabase/migrations/3_fails.sql'),
    });
    expect(trace.comment).toContain('3_fails');
    // In the Action's words, as in the summary: its inputs, not the CLI's flags.
    expect(trace.comment).toContain('`backup: off`');
    expect(trace.comment).not.toContain('--backup');
    expect(trace.summary).toContain('division by zero');
    expect(await snapshot(db)).toEqual(before);
  });

  it('verify-failed (rows lost that the plan did not say): a failure status, a comment, the undo in the summary', async () => {
    const { pull, run } = await mergeAndApply(35, '3_cleanup', 'delete from public.notes where id > 2;', {
      keep: true,
    });
    expect(run.exitCode).toBe(1);
    const trace = traces(pull, run);
    expect(trace.output).toBe('verify-failed');
    expect(run.outputs.verification).toBe('failed');
    expect(trace.status).toMatchObject({
      state: 'failure',
      description: 'Applied, but verification failed: see the run',
    });
    expect(trace.comment).toMatch(/verification failed/i);
    expect(trace.summary).toContain('Verification FAILED');
    expect(run.stdout).toContain('Verification after apply failed');
  });

  it('up-to-date (a merge without migrations): a success status and the summary, no comment', async () => {
    const pull = await seedPullRequest(api, 36, ['src/app.ts']);
    mergePullRequest(api, pull);
    const run = await runAction(
      { command: 'apply', ...inputs() },
      { event: pull.push, eventName: 'push', env: { ...env(), GITHUB_SHA: pull.merge } },
    );
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.outputs.status).toBe('up-to-date');
    expect(run.summary.trim()).not.toBe('');
    expect(api.statuses.filter((s) => s.context === 'supagate/apply' && s.sha === pull.merge)).toEqual([
      expect.objectContaining({ state: 'success', description: 'No migrations: nothing pending' }),
    ]);
    expect(api.commentsOn(pull.number)).toEqual([]);
  });
});
