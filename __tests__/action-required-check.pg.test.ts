import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { apply } from '../src/core/commands/apply.js';
import {
  approvePullRequest,
  fencedBlocks,
  mergePullRequest,
  outsideFences,
  runAction,
  type SeededPullRequest,
  seedPullRequest,
} from './harness/action.js';
import { createTestDatabase, snapshot, type TestDatabase } from './harness/db.js';
import { FAILS_IN_PRODUCTION } from './harness/gate.js';
import { FakeGitHubApi } from './harness/github-api.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

/**
 * What branch protection can require and reviewers read on a pull request: supagate/plan and
 * supagate/approval statuses (green when there is nothing to approve), the supagate/findings
 * check run with its annotations at the migrations' lines, and summaries that render hostile
 * SQL as text.
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
        'create table public.notes (id int primary key, body text);',
        'alter table public.notes enable row level security;',
        'create table public.legacy (id int primary key);',
        'alter table public.legacy enable row level security;',
        'create table public.production_rows (id int primary key);',
        'alter table public.production_rows enable row level security;',
      ].join('\n'),
    }),
  );
  await apply(project.config(db.url));
  // A row only production has (the plan's shadow has the schema only): FAILS_IN_PRODUCTION fails.
  await db.query('insert into public.production_rows values (1)');
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

function plan(pull: SeededPullRequest) {
  return runAction(
    { command: 'plan', ...inputs() },
    { event: pull.event, eventName: 'pull_request', env: env() },
  );
}

function latest(context: string, sha: string) {
  return api.statuses.filter((s) => s.context === context && s.sha === sha).at(-1);
}

describe('the Action: required checks on a pull request', () => {
  it('a pull request that changes no migration: supagate/plan and supagate/approval succeed, no plan comment', async () => {
    const pull = await seedPullRequest(api, 41, ['src/app.ts']);
    const run = await plan(pull);
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.outputs.pending_count).toBe('0');
    expect(run.outputs.blocking).toBe('false');
    for (const context of ['supagate/plan', 'supagate/approval']) {
      expect(latest(context, pull.head)).toMatchObject({
        state: 'success',
        description: 'No migrations: nothing pending, nothing to approve',
      });
    }
    expect(api.commentsOn(pull.number)).toEqual([]);
    expect(api.requestsTo('POST', '/repos/acme/app/issues/41/comments')).toEqual([]);
    expect(api.checkRuns.filter((r) => r.head_sha === pull.head)).toEqual([]);
  });

  it('annotates each finding of the supagate/findings check run at its path and line: blocking as failure, a warning as warning', async () => {
    const path = `${MIGRATIONS}/2_findings.sql`;
    const pull = await seedPullRequest(api, 42, [path]);
    await project.write(
      path,
      [
        '-- Cleanup of the legacy table.',
        'alter table public.notes add column title text;',
        '',
        "update public.notes set title = 'untitled';",
        '',
        'drop table public.legacy;',
      ].join('\n'),
    );
    try {
      const run = await plan(pull);
      expect(run.exitCode).toBe(1);
      expect(run.outputs.blocking).toBe('true');
      const checks = api.checkRuns.filter((r) => r.name === 'supagate/findings' && r.head_sha === pull.head);
      expect(checks).toHaveLength(1);
      const check = checks[0];
      expect(check).toMatchObject({ status: 'completed', conclusion: 'failure' });
      expect(check?.annotations).toContainEqual(
        expect.objectContaining({
          path,
          start_line: 6,
          end_line: 6,
          annotation_level: 'failure',
          title: 'drop-table (blocking)',
        }),
      );
      expect(check?.annotations).toContainEqual(
        expect.objectContaining({
          path,
          start_line: 4,
          end_line: 4,
          annotation_level: 'warning',
          title: 'update-without-where',
        }),
      );
      expect(check?.output.title).toMatch(/^1 blocking, \d+ warning\(s\)/);
      expect(latest('supagate/plan', pull.head)).toMatchObject({ state: 'failure' });
      // The plan comment links each finding to its line in the file at the pull request's head.
      const comment = api.commentsOn(pull.number)[0]?.body ?? '';
      expect(comment).toContain(
        `(https://github.com/acme/app/blob/${pull.head}/${MIGRATIONS}/2%5Ffindings.sql#L6 "${path}")`,
      );
    } finally {
      await project.remove(path);
    }
  });

  it('renders hostile SQL as text in the job summaries of plan and apply', async () => {
    const path = `${MIGRATIONS}/2_hostile.sql`;
    const hostile = '</code></pre><img src=x onerror=alert(1)>';
    // The comment changes the table on the plan's shadow (the plan shows it); the select fails
    // in production, with its text in the failure report: nothing of the file is applied.
    const sql = [
      `comment on table public.notes is '${hostile}\n\n&amp; \`\`\`\` \`x\`';`,
      `${FAILS_IN_PRODUCTION},`,
      '',
      `  '${hostile}' as "a&amp;b", '\`\`\`\`\`' as ticks, '\`x\`' as tick;`,
    ].join('\n');
    const pull = await seedPullRequest(api, 43, [path]);
    await project.write(path, sql);
    try {
      const planned = await plan(pull);
      await approvePullRequest(api, pull);
      mergePullRequest(api, pull);
      const before = await snapshot(db);
      const run = await runAction(
        { command: 'apply', ...inputs() },
        { event: pull.push, eventName: 'push', env: { ...env(), GITHUB_SHA: pull.merge } },
      );
      expect(run.outputs.status).toBe('failed');
      expect(await snapshot(db)).toEqual(before);
      // The statement that failed is in the apply summary, as text: in a fence nothing inside closes.
      const failure = fencedBlocks(run.summary).find((b) => b.content.includes('division by zero'));
      expect(failure?.content).toContain(`'${hostile}' as "a&amp;b"`);
      expect(failure?.content).toMatch(/│ \n/);
      expect(planned.summary).toContain(hostile);
      const comment = api.commentsOn(pull.number).at(-1)?.body ?? '';
      const planComment = api.commentsOn(pull.number)[0]?.body ?? '';
      for (const summary of [planned.summary, run.summary, comment, planComment]) {
        const markup = outsideFences(summary);
        expect(markup).not.toContain('<img');
        expect(markup).not.toContain('</pre>');
        for (const block of fencedBlocks(summary)) {
          const longest = Math.max(0, ...[...block.content.matchAll(/`+/g)].map((m) => m[0].length));
          expect(block.fence.length).toBeGreaterThan(longest);
        }
      }
    } finally {
      await project.remove(path);
    }
  });
});
