import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { apply } from '../src/core/commands/apply.js';
import { runAction } from './harness/action.js';
import { baselineProductions } from './harness/baseline-production.js';
import { createTestDatabase, snapshot, type TestDatabase } from './harness/db.js';
import { FakeGitHubApi } from './harness/github-api.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

/** `command: plan` on a pull_request event: the sticky comment and the supagate/plan status. */
let db: TestDatabase;
let project: TestProject;
let api: FakeGitHubApi;
let opened: { pull_request: { head: { sha: string } } };
let fork: object;

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
  api = await FakeGitHubApi.start({ repository: 'acme/app' });
  opened = JSON.parse(await readFile('__fixtures__/github/pull_request.opened.json', 'utf8'));
  fork = JSON.parse(await readFile('__fixtures__/github/pull_request.fork.json', 'utf8'));
  api.addPullRequest({ number: 12, user: 'alice', headSha: opened.pull_request.head.sha });
});
afterAll(async () => {
  await api.close();
  await project.cleanup();
  await db.drop();
});

function planRun(
  event: object,
  inputs: Record<string, string> = {},
  options: { eventName?: string; env?: NodeJS.ProcessEnv } = {},
) {
  return runAction(
    {
      command: 'plan',
      'db-url': db.url,
      'working-directory': project.dir,
      'shadow-url': inject('shadowUrl'),
      'github-token': 'test-token',
      ...inputs,
    },
    {
      event,
      eventName: options.eventName ?? 'pull_request',
      env: { GITHUB_API_URL: api.url, GITHUB_SERVER_URL: 'https://github.com', ...options.env },
    },
  );
}

describe('the Action: plan on a pull request', () => {
  it('posts one sticky comment and a supagate/plan status, and updates the same comment on the next push', async () => {
    const first = await planRun(opened);
    expect(first.exitCode, first.stdout).toBe(0);
    expect(first.outputs.blocking).toBe('false');
    expect(first.outputs.plan_hash).toMatch(/^[0-9a-f]{64}$/);
    const comments = api.commentsOn(12);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toContain('<!-- supagate:plan target=');
    const recorded = new RegExp(
      `<!-- supagate:plan-hash ${first.outputs.plan_hash} since=(\\S+Z) effect=[0-9a-f]{64} history=[0-9a-f]{64} -->`,
    );
    const since = recorded.exec(comments[0]?.body ?? '')?.[1];
    expect(Date.parse(since ?? '')).toBeGreaterThan(Date.now() - 120_000);
    expect(comments[0]?.body).toContain('### supagate plan: 1 migration');
    expect(api.statuses).toContainEqual(
      expect.objectContaining({
        context: 'supagate/plan',
        state: 'success',
        sha: opened.pull_request.head.sha,
      }),
    );
    expect(first.summary).toContain('### supagate plan');
    // supagate/approval waits for a review, for branch protection to require.
    expect(api.statuses).toContainEqual(
      expect.objectContaining({
        context: 'supagate/approval',
        state: 'pending',
        description: '1 more approval needed',
      }),
    );

    const second = await planRun(opened);
    expect(second.exitCode, second.stdout).toBe(0);
    expect(api.commentsOn(12)).toHaveLength(1);
    // The same plan: the time it was first recorded stays.
    expect(recorded.exec(api.commentsOn(12)[0]?.body ?? '')?.[1]).toBe(since);
    expect(
      api.requests.filter((r) => r.method === 'PATCH' && r.path.includes('/issues/comments/')),
    ).toHaveLength(1);

    // Nothing the Action sent or printed carries the database password.
    const password = decodeURIComponent(new URL(db.url).password);
    expect(JSON.stringify(api.requests)).not.toContain(password);
    expect(
      second.stdout
        .split('\n')
        .filter((l) => !l.startsWith('::add-mask::'))
        .join('\n'),
    ).not.toContain(password);
  });

  it('fails the status and the job when something blocks', async () => {
    await project.write(
      'supabase/migrations/3_open.sql',
      'create table public.open_table (id int primary key);',
    );
    try {
      const run = await planRun(opened);
      expect(run.exitCode).toBe(1);
      expect(run.outputs.blocking).toBe('true');
      expect(run.stdout).toContain('::error::The plan has blocking findings: rls_disabled_in_public');
      expect(api.statuses.filter((status) => status.context === 'supagate/plan').at(-1)).toMatchObject({
        state: 'failure',
      });
    } finally {
      await project.remove('supabase/migrations/3_open.sql');
    }
  });

  it('writes the full report to report_path and uploads it as an artifact of the run', async () => {
    const run = await planRun(
      opened,
      { target: 'production' },
      {
        env: {
          ACTIONS_RUNTIME_TOKEN: api.artifacts.runtimeToken(7001),
          ACTIONS_RESULTS_URL: api.url,
          GITHUB_RUN_ID: '7001',
        },
      },
    );
    expect(run.exitCode, run.stdout).toBe(0);
    const report = await readFile(run.outputs.report_path as string, 'utf8');
    expect(report).toContain('### supagate plan: 1 migration');
    const [artifact] = api.artifacts.finalized({ runId: 7001 });
    expect(artifact?.name).toBe('supagate-plan-production-attempt-1');
    expect(api.artifacts.blobOf(artifact?.id as number)?.includes(Buffer.from(report))).toBe(true);
  });

  it('never runs a fork’s migrations on pull_request_target, which has secrets', async () => {
    await project.write(
      'supabase/migrations/3_fork.sql',
      'create table public.from_fork (id int primary key);',
    );
    try {
      const writesBefore = api.requests.filter((r) => r.method !== 'GET').length;
      const before = await snapshot(db);
      const run = await planRun(fork, {}, { eventName: 'pull_request_target' });
      expect(run.exitCode, run.stdout).toBe(0);
      expect(run.stdout).toContain(
        '::notice::supagate does not plan a fork’s migrations on pull_request_target',
      );
      expect(run.outputs.plan_hash).toBeUndefined();
      expect(api.requests.filter((r) => r.method !== 'GET').length).toBe(writesBefore);
      expect(await snapshot(db)).toEqual(before);
    } finally {
      await project.remove('supabase/migrations/3_fork.sql');
    }
  });

  it('with the embedded shadow, says whether the plan started from a kept baseline (shadow_baseline)', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'supagate-action-cache-'));
    // Production on a server of its own: roles are part of the key (see baseline-production.ts).
    const productions = await baselineProductions();
    try {
      const { db: own, project: ownProject } = await productions.production();
      // A pull request of its own: another target's plan is another sticky comment.
      const other = structuredClone(opened) as typeof opened & {
        number: number;
        pull_request: { number: number };
      };
      other.number = 77;
      other.pull_request.number = 77;
      api.addPullRequest({ number: 77, user: 'alice', headSha: opened.pull_request.head.sha });
      const embedded = {
        'db-url': own.url,
        'working-directory': ownProject.dir,
        'shadow-url': '',
        'cache-dir': cacheDir,
        'shadow-cache': 'true',
      };
      const first = await planRun(other, embedded);
      expect(first.exitCode, first.stdout).toBe(0);
      expect(first.outputs.shadow_baseline).toBe('miss');
      const second = await planRun(other, embedded);
      expect(second.outputs.shadow_baseline).toBe('hit');
      expect(second.outputs.plan_hash).toBe(first.outputs.plan_hash);
      const off = await planRun(other, { ...embedded, 'shadow-cache': 'false' });
      expect(off.outputs.shadow_baseline).toBe('');
    } finally {
      await productions.stop();
      await rm(cacheDir, { recursive: true, force: true });
    }
  });

  it('refuses to apply on a pull request event, changing nothing', async () => {
    const before = await snapshot(db);
    const run = await runAction(
      { command: 'apply', 'db-url': db.url, 'working-directory': project.dir, backup: 'off' },
      { event: opened, eventName: 'pull_request', env: { GITHUB_API_URL: api.url } },
    );
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain(
      "apply does not run on pull_request events: the pull request's SQL would reach production before it is merged",
    );
    expect(await snapshot(db)).toEqual(before);
  });

  it('gives a neutral result for a pull request from a fork, which has no secrets', async () => {
    const writesBefore = api.requests.filter((r) => r.method !== 'GET').length;
    const run = await planRun(fork, { 'db-url': '' });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.stdout).toContain('::notice::This pull request comes from a fork');
    expect(api.requests.filter((r) => r.method !== 'GET').length).toBe(writesBefore);
  });

  it('says so in the same comment once nothing is pending, and starts no comment on a PR without migrations', async () => {
    await apply(project.config(db.url));
    const run = await planRun(opened);
    expect(run.exitCode, run.stdout).toBe(0);
    // The comment of this target (the artifact test above planned another target, `production`).
    const comments = api.commentsOn(12).filter((c) => !c.body.includes('target=production'));
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toContain('Nothing to apply');
    expect(api.statuses.filter((status) => status.context === 'supagate/plan').at(-1)).toMatchObject({
      state: 'success',
      description: 'No migrations: nothing pending, nothing to approve',
    });

    const other = structuredClone(opened) as { pull_request: { number: number; head: { sha: string } } };
    other.pull_request.number = 13;
    other.pull_request.head.sha = 'c'.repeat(40);
    api.addPullRequest({ number: 13, user: 'dave', headSha: other.pull_request.head.sha });
    const review = await planRun(other);
    expect(review.exitCode, review.stdout).toBe(0);
    expect(api.commentsOn(13)).toEqual([]);
    expect(api.statuses).toContainEqual(
      expect.objectContaining({ context: 'supagate/plan', state: 'success', sha: 'c'.repeat(40) }),
    );
  });
});
