import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { apply } from '../src/core/commands/apply.js';
import { type ActionRun, afterSecondOf, planRecordedSince, runAction } from './harness/action.js';
import { createTestDatabase, snapshot, type TestDatabase } from './harness/db.js';
import { FakeGitHubApi } from './harness/github-api.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

/**
 * The approval gate of `command: apply` on a push to main: the merged pull request must be
 * approved, after its last migration change, for the plan that is about to be applied.
 */
const HEAD = '9f2c1e4b7a6d5c3b2a1908f7e6d5c4b3a2910f8e';
const BACKUP_KEY = 'correct-horse-battery-staple-backup-key';
const APPLY_RUN = 5001;
const ROLLBACK_RUN = 5002;
let dispatchEvent: object;
let backupId = '';
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
  dispatchEvent = JSON.parse(await readFile('__fixtures__/github/workflow_dispatch.json', 'utf8'));
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

/** Every run of the Action in this file, for the secrets check at the end. */
const everyRun: ActionRun[] = [];
async function action(...args: Parameters<typeof runAction>): Promise<ActionRun> {
  const run = await runAction(...args);
  everyRun.push(run);
  return run;
}

/** What the runner gives a job for artifacts, pointed at the fake artifact service. */
const artifactEnv = (runId: number) => ({
  ACTIONS_RUNTIME_TOKEN: api.artifacts.runtimeToken(runId),
  ACTIONS_RESULTS_URL: api.url,
  GITHUB_RUN_ID: String(runId),
});

async function columnsOf(table: string): Promise<string[]> {
  const rows = await db.query<{ column_name: string }>(
    `select column_name from information_schema.columns where table_schema = 'public' and table_name = $1 order by ordinal_position`,
    [table],
  );
  return rows.map((row) => row.column_name);
}

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

function applyOnPush() {
  return action(
    { command: 'apply', ...inputs() },
    { event: push, eventName: 'push', env: { ...env(), GITHUB_SHA: push.after } },
  );
}

/**
 * bob approves, by default as a reviewer would: after reading the plan comment, so in a later
 * second than the comment records (GitHub's clock counts seconds).
 */
async function approveAsBob(at?: Date): Promise<void> {
  if (!at) await afterSecondOf(recordedPlanSince());
  const submittedAt = (at ?? new Date()).toISOString();
  api.addReview(12, { user: 'bob', state: 'APPROVED', commitId: HEAD, submittedAt });
}

/** Since when the plan comment shows its current plan (GitHub's clock, to the second). */
function recordedPlanSince(): Date {
  const since = planRecordedSince(api, 12);
  if (!since) throw new Error('the plan comment records no time');
  return since;
}

function planOnPullRequest() {
  return action({ command: 'plan', ...inputs() }, { event: opened, eventName: 'pull_request', env: env() });
}

describe('the Action: apply on push needs an approval of this plan', () => {
  it('refuses without an approval, changing nothing, and says what is missing', async () => {
    // The plan comment exists (the PR was planned) but nobody approved.
    const planned = await action(
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
    await approveAsBob();
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

  it('refuses an approval given before a re-run plan recorded a new plan, until approved again', async () => {
    await db.query('create index notes_id_idx on public.notes (id)');
    try {
      const replanned = await planOnPullRequest();
      expect(replanned.exitCode, replanned.stdout).toBe(0);
      // bob's latest approval came a second before the new plan was posted.
      await approveAsBob(new Date(recordedPlanSince().getTime() - 1_000));
      const before = await snapshot(db);
      const run = await applyOnPush();
      expect(run.exitCode, run.stdout).toBe(1);
      expect(run.stdout).toContain('approval by bob was given before the current plan was posted');
      expect(await snapshot(db)).toEqual(before);
    } finally {
      await db.query('drop index public.notes_id_idx');
    }
    // Production is back as it was approved, but the comment shows the plan of the change:
    // plan again, and an approval from before this plan still does not count.
    expect((await planOnPullRequest()).exitCode).toBe(0);
    await approveAsBob(new Date(recordedPlanSince().getTime() - 1_000));
    const again = await applyOnPush();
    expect(again.exitCode, again.stdout).toBe(1);
    expect(again.stdout).toContain('approve again');
  });

  it('applies once approved for this plan: backup as an encrypted artifact, verification, a comment on the PR', async () => {
    await approveAsBob();
    const run = await action(
      {
        command: 'apply',
        ...inputs(),
        backup: 'on',
        'backup-store': 'github-artifact',
        'backup-key': BACKUP_KEY,
      },
      {
        event: push,
        eventName: 'push',
        env: { ...env(), ...artifactEnv(APPLY_RUN), GITHUB_SHA: push.after },
      },
    );
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.stdout).toContain('Approved by bob on pull request #12.');
    expect(run.outputs.applied_versions).toBe('2');
    expect(run.outputs.verification).toBe('passed');
    backupId = run.outputs.backup_id as string;
    expect(backupId).toMatch(/^\d{8}T\d{9}Z-[0-9a-f]{8}$/);
    const uploaded = api.artifacts.finalized({ runId: APPLY_RUN }).map((a) => a.name);
    expect(uploaded.sort()).toEqual([
      `supagate-backup-${backupId}.dump.enc`,
      `supagate-backup-${backupId}.manifest.json`,
    ]);
    const comment = api.commentsOn(12).at(-1);
    expect(comment?.body).toContain('✅ supagate applied 1 migration, verified');
    expect(comment?.body).toContain(backupId);
    expect(run.outputs.comment_url).toBe(comment?.html_url);
    expect(await columnsOf('notes')).toEqual(['id', 'body']);
  });

  it('rolls back by workflow_dispatch: a dry run first, then the backup of the apply run restored', async () => {
    const dispatch = (extra: Record<string, string>) =>
      action(
        {
          command: 'rollback',
          ...inputs(),
          backup: 'on',
          'backup-store': 'github-artifact',
          'backup-key': BACKUP_KEY,
          'backup-id': backupId,
          ...extra,
        },
        {
          event: dispatchEvent,
          eventName: 'workflow_dispatch',
          env: { ...env(), ...artifactEnv(ROLLBACK_RUN) },
        },
      );
    const before = await snapshot(db);
    const dry = await dispatch({ 'dry-run': 'true' });
    expect(dry.exitCode, dry.stdout).toBe(0);
    expect(dry.outputs.status).toBe('dry-run');
    expect(await snapshot(db)).toEqual(before);

    const unconfirmed = await dispatch({});
    expect(unconfirmed.exitCode).toBe(1);
    expect(unconfirmed.stdout).toContain('CONFIRMATION_REQUIRED');
    expect(await snapshot(db)).toEqual(before);

    const restored = await dispatch({ confirm: db.name });
    expect(restored.exitCode, restored.stdout).toBe(0);
    expect(restored.outputs.status).toBe('rolled-back');
    // The safety backup went to this run's artifacts before anything changed.
    expect(api.artifacts.finalized({ runId: ROLLBACK_RUN }).map((a) => a.name)).toContain(
      `supagate-backup-${restored.outputs.backup_id}.dump.enc`,
    );
    expect(await columnsOf('notes')).toEqual(['id']);
    expect(await db.query('select version from supabase_migrations.schema_migrations')).toEqual([
      { version: '1' },
    ]);
  });

  it('names the artifact when the backup to restore is not there', async () => {
    const before = await snapshot(db);
    const run = await action(
      {
        command: 'rollback',
        ...inputs(),
        'backup-store': 'github-artifact',
        'backup-key': BACKUP_KEY,
        'backup-id': '20240101T000000000Z-deadbeef',
        confirm: db.name,
      },
      {
        event: dispatchEvent,
        eventName: 'workflow_dispatch',
        env: { ...env(), ...artifactEnv(ROLLBACK_RUN + 1) },
      },
    );
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain('BACKUP_NOT_FOUND');
    expect(run.stdout).toContain('supagate-backup-20240101T000000000Z-deadbeef.manifest.json');
    expect(await snapshot(db)).toEqual(before);
  });

  it('refuses what the plan blocks even when approved, and says so on the pull request', async () => {
    const body = 'alter table public.notes add column body text;';
    await project.write('supabase/migrations/2_body.sql', `${body}\ndelete from public.notes;`);
    try {
      await approveAsBob();
      const before = await snapshot(db);
      const run = await applyOnPush();
      expect(run.exitCode).toBe(1);
      expect(run.outputs.status).toBe('blocked');
      expect(run.stdout).toContain('The plan blocks; nothing was applied');
      expect(run.stdout).toContain('delete-without-where at supabase/migrations/2_body.sql:2');
      expect(run.summary).toContain('Refused: the plan blocks');
      expect(api.commentsOn(12).at(-1)?.body).toContain('supagate apply refused: the plan blocks');
      expect(await snapshot(db)).toEqual(before);
    } finally {
      await project.write('supabase/migrations/2_body.sql', body);
    }
  });

  it('never writes a secret: not to the log, the outputs, the summary or any request GitHub was sent', async () => {
    const secrets = [decodeURIComponent(new URL(db.url).password), BACKUP_KEY, 'test-token'];
    for (const request of api.requests) {
      const sent = JSON.stringify(request);
      for (const secret of secrets) expect(sent).not.toContain(secret);
    }
    for (const run of everyRun) {
      const unmasked = run.stdout
        .split('\n')
        .filter((line) => !line.startsWith('::add-mask::'))
        .join('\n');
      for (const text of [unmasked, run.stderr, run.summary, JSON.stringify(run.outputs)]) {
        for (const secret of secrets.slice(0, 2)) expect(text).not.toContain(secret);
      }
    }
    expect(everyRun.length).toBeGreaterThanOrEqual(8);
  });
});
