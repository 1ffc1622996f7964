import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { apply } from '../src/core/commands/apply.js';
import {
  approvePullRequest,
  mergePullRequest,
  runAction,
  type SeededPullRequest,
  seedPullRequest,
} from './harness/action.js';
import { createTestDatabase, snapshot, type TestDatabase } from './harness/db.js';
import { FakeGitHubApi } from './harness/github-api.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

/**
 * Back-to-back merges: two pull requests, each planned and approved against production as it
 * was, merged one after the other. The second's approval holds when the first's apply did not
 * change what the second does; when it did, the second is refused and asked to be approved again.
 */
const MIGRATIONS = 'supabase/migrations';
let db: TestDatabase;
let project: TestProject;
let api: FakeGitHubApi;

beforeAll(async () => {
  db = await createTestDatabase();
  project = await createProject(
    migrations({
      '1_base':
        'create table public.notes (id int primary key);\nalter table public.notes enable row level security;',
    }),
  );
  await apply(project.config(db.url));
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

/** The working tree: exactly these migrations besides 1_base (a branch's checkout). */
async function checkout(files: Record<string, string>, all: string[]): Promise<void> {
  for (const name of all) await project.remove(`${MIGRATIONS}/${name}.sql`);
  for (const [name, sql] of Object.entries(files)) await project.write(`${MIGRATIONS}/${name}.sql`, sql);
}

function plan(pull: SeededPullRequest) {
  return runAction(
    { command: 'plan', ...inputs() },
    { event: pull.event, eventName: 'pull_request', env: env() },
  );
}

function applyMerge(pull: SeededPullRequest) {
  return runAction(
    { command: 'apply', ...inputs() },
    { event: pull.push, eventName: 'push', env: { ...env(), GITHUB_SHA: pull.merge } },
  );
}

function planComment(pull: SeededPullRequest) {
  return api.commentsOn(pull.number).find((c) => c.body.includes('<!-- supagate:plan target='));
}

function planRecord(body: string | undefined): { hash: string; since: string } {
  const match = /<!-- supagate:plan-hash ([0-9a-f]+) since=(\S+Z)[ >]/.exec(body ?? '');
  if (!match) throw new Error(`no plan record in ${body}`);
  return { hash: match[1] as string, since: match[2] as string };
}

function applyStatus(sha: string) {
  return api.statuses.filter((s) => s.context === 'supagate/apply' && s.sha === sha).at(-1);
}

async function columnsOf(table: string): Promise<string[]> {
  const rows = await db.query<{ column_name: string }>(
    `select column_name from information_schema.columns where table_schema = 'public' and table_name = $1 order by ordinal_position`,
    [table],
  );
  return rows.map((row) => row.column_name);
}

describe('the Action: back-to-back merges', () => {
  const A = {
    '2_tags':
      'create table public.tags (id int primary key, name text);\nalter table public.tags enable row level security;',
  };
  const B = { '3_body': 'alter table public.notes add column body text;' };
  const C = { '4_title': 'alter table public.notes add column title text;' };
  const D = { '5_summary': 'alter table public.notes add column summary text;' };
  const ALL = ['2_tags', '3_body', '4_title', '5_summary'];

  it('applies the second merge when the first did not change what it does (other tables)', async () => {
    const a = await seedPullRequest(api, 21, [`${MIGRATIONS}/2_tags.sql`]);
    const b = await seedPullRequest(api, 22, [`${MIGRATIONS}/3_body.sql`], 'carol');
    await checkout(A, ALL);
    expect((await plan(a)).exitCode).toBe(0);
    await approvePullRequest(api, a);
    await checkout(B, ALL);
    const plannedB = await plan(b);
    expect(plannedB.exitCode, plannedB.stdout).toBe(0);
    await approvePullRequest(api, b);
    const recordedB = planRecord(planComment(b)?.body);

    // A is merged and applied.
    mergePullRequest(api, a);
    await checkout(A, ALL);
    const appliedA = await applyMerge(a);
    expect(appliedA.exitCode, appliedA.stdout).toBe(0);
    expect(appliedA.outputs.status).toBe('applied');
    expect(applyStatus(a.merge)).toMatchObject({ state: 'success' });

    // Then B, on main with both: its plan hash differs (production has A), its effect does not.
    mergePullRequest(api, b);
    await checkout({ ...A, ...B }, ALL);
    const appliedB = await applyMerge(b);
    expect(appliedB.exitCode, appliedB.stdout).toBe(0);
    expect(appliedB.outputs.status).toBe('applied');
    expect(appliedB.outputs.applied_versions).toBe('3');
    expect(appliedB.stdout).toContain('Production changed since the approval only by 2 (applied since)');
    expect(applyStatus(b.merge)).toMatchObject({
      state: 'success',
      description: expect.stringContaining('Applied 3'),
    });
    expect(api.commentsOn(b.number).at(-1)?.body).toContain('✅ supagate applied 1 migration');
    // B's plan comment was not touched: the approval held.
    expect(planRecord(planComment(b)?.body)).toEqual(recordedB);
    expect(await columnsOf('notes')).toEqual(['id', 'body']);
    expect(await columnsOf('tags')).toEqual(['id', 'name']);
  });

  it('refuses the second merge when the first changed what it does (the same table), and asks for approval again', async () => {
    const c = await seedPullRequest(api, 23, [`${MIGRATIONS}/4_title.sql`]);
    const d = await seedPullRequest(api, 24, [`${MIGRATIONS}/5_summary.sql`], 'carol');
    await checkout({ ...A, ...B, ...C }, ALL);
    expect((await plan(c)).exitCode).toBe(0);
    await approvePullRequest(api, c);
    await checkout({ ...A, ...B, ...D }, ALL);
    expect((await plan(d)).exitCode).toBe(0);
    await approvePullRequest(api, d);
    const approvedAt = Date.now();
    const recordedD = planRecord(planComment(d)?.body);

    mergePullRequest(api, c);
    await checkout({ ...A, ...B, ...C }, ALL);
    const appliedC = await applyMerge(c);
    expect(appliedC.exitCode, appliedC.stdout).toBe(0);
    expect(appliedC.outputs.status).toBe('applied');

    // D's table is not what D was planned and approved against: refused, nothing applied.
    mergePullRequest(api, d);
    await checkout({ ...A, ...B, ...C, ...D }, ALL);
    const before = await snapshot(db);
    const commentsBefore = api.commentsOn(d.number).length;
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // a new record time, to the second
    const refused = await applyMerge(d);
    expect(refused.exitCode).toBe(1);
    expect(refused.outputs.status).toBe('refused');
    expect(refused.stdout).toContain('APPROVAL_MISSING');
    expect(refused.stdout).toContain("this pull request's own changes or findings are not what was approved");
    expect(await snapshot(db)).toEqual(before);
    expect(applyStatus(d.merge)).toMatchObject({
      state: 'failure',
      description: expect.stringMatching(/^Refused, nothing applied: Pull request #24 is not approved/),
    });
    expect(refused.summary).toContain('supagate apply: refused, nothing was applied');

    // A comment on D says why; D's plan comment shows the plan as it is now, recorded anew.
    const comments = api.commentsOn(d.number);
    expect(comments.length).toBe(commentsBefore + 1);
    const why = comments.at(-1)?.body ?? '';
    expect(why).toContain('supagate apply refused: the plan changed since it was approved');
    expect(why).toContain('approve the pull request again');
    const refreshed = planRecord(planComment(d)?.body);
    expect(refreshed.hash).not.toBe(recordedD.hash);
    expect(Date.parse(refreshed.since)).toBeGreaterThan(approvedAt - 1_000);
    expect(Date.parse(refreshed.since)).toBeGreaterThan(Date.parse(recordedD.since));
    expect(refused.stdout).toContain('it needs approval again');

    // Approved again, for the plan as it is now: the re-run applies it.
    await approvePullRequest(api, d);
    const again = await applyMerge(d);
    expect(again.exitCode, again.stdout).toBe(0);
    expect(again.outputs.status).toBe('applied');
    expect(applyStatus(d.merge)).toMatchObject({ state: 'success' });
    expect(await columnsOf('notes')).toEqual(['id', 'body', 'title', 'summary']);
  });
});
