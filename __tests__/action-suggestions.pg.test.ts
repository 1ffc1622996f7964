import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runAction } from './harness/action.js';
import { appliedProduction } from './harness/applied-production.js';
import type { TestDatabase } from './harness/db.js';
import { FakeGitHubApi } from './harness/github-api.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

/**
 * `command: plan` posts the plan's safe rewrites as one review (event COMMENT) on the
 * statements' lines: a ```suggestion where the rewrite replaces the statement, its SQL
 * otherwise. Once per rewrite; never failing the job; off with `suggest-fixes: false`.
 */
const PRODUCTION = `create table public.profiles (id uuid primary key, username text, bio text);
alter table public.profiles enable row level security;
`;
const RENAME =
  '-- the app calls it handle now\nalter table public.profiles\n  rename column username to handle;\n';
const DEFINER =
  "create function public.profile_count() returns bigint\nlanguage sql security definer set search_path = public\nas $$ select count(*) from public.profiles $$;\ncomment on function public.profile_count() is 'x';\n";
const DEFINER_UNPINNED =
  'create function public.bio_count() returns bigint\nlanguage sql security definer\nas $$ select count(bio) from public.profiles $$;\n';

let db: TestDatabase;
let project: TestProject;
let api: FakeGitHubApi;
let opened: { number: number; pull_request: { number: number; head: { sha: string } } };

/** A unified diff that adds every line of `text`. */
function added(text: string): string {
  const lines = text.replace(/\n$/, '').split('\n');
  return `@@ -0,0 +1,${lines.length} @@\n${lines.map((l) => `+${l}`).join('\n')}`;
}

beforeAll(async () => {
  db = await appliedProduction(PRODUCTION);
  project = await createProject(
    migrations({
      '1_production': PRODUCTION,
      '2_rename': RENAME,
      '3_functions': `${DEFINER}${DEFINER_UNPINNED}`,
    }),
  );
  api = await FakeGitHubApi.start({ repository: 'acme/app' });
  opened = JSON.parse(await readFile('__fixtures__/github/pull_request.opened.json', 'utf8'));
});
afterAll(async () => {
  await api.close();
  await project.cleanup();
  await db.drop();
});

/** Pull request `number`, whose diff adds the two pending files (only the first lines of 3_functions when `partial`). */
function openPull(number: number, options: { partial?: boolean } = {}) {
  const event = structuredClone(opened);
  event.number = number;
  event.pull_request.number = number;
  api.addPullRequest({ number, user: 'alice', headSha: event.pull_request.head.sha });
  api.setPullFiles(number, [
    { filename: 'supabase/migrations/2_rename.sql', status: 'added', patch: added(RENAME) },
    {
      filename: 'supabase/migrations/3_functions.sql',
      status: 'added',
      patch: options.partial ? '@@ -1,2 +1,3 @@\n x\n+y\n x' : added(`${DEFINER}${DEFINER_UNPINNED}`),
    },
  ]);
  return event;
}

function planRun(event: object, inputs: Record<string, string> = {}) {
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
      eventName: 'pull_request',
      env: {
        GITHUB_API_URL: api.url,
        GITHUB_SERVER_URL: 'https://github.com',
        GITHUB_WORKSPACE: project.dir,
      },
    },
  );
}

const reviewPosts = (number: number) => api.requestsTo('POST', `/repos/acme/app/pulls/${number}/reviews`);

describe('the Action: safe rewrites as review suggestions', () => {
  it('posts one COMMENT review with a suggestion on the RENAME’s lines and SQL after the function, once', async () => {
    const event = openPull(31);
    const run = await planRun(event);
    expect(run.exitCode, run.stdout).toBe(0);
    expect(reviewPosts(31)).toHaveLength(1);
    const sent = reviewPosts(31)[0]?.body as {
      event: string;
      commit_id: string;
      body: string;
      comments: { path: string; line: number; start_line?: number; side: string; body: string }[];
    };
    expect(sent.event).toBe('COMMENT');
    expect(sent.commit_id).toBe(event.pull_request.head.sha);
    expect(sent.comments.map(({ body: _body, ...where }) => where)).toEqual([
      { path: 'supabase/migrations/2_rename.sql', start_line: 2, line: 3, side: 'RIGHT' },
      { path: 'supabase/migrations/3_functions.sql', start_line: 5, line: 7, side: 'RIGHT' },
    ]);
    const [rename, definer] = sent.comments.map((c) => c.body);
    expect(rename).toMatch(
      /^<!-- supagate:suggestion [0-9a-f]{16} -->\n\*\*supagate\*\* `rename-breaks-clients`/,
    );
    expect(rename).toContain('```suggestion\nALTER TABLE public.profiles ADD COLUMN handle text;\n');
    expect(rename).toContain('```sql\nDROP TRIGGER profiles_handle_sync ON public.profiles;');
    expect(definer).toContain(
      "Add this right after the statement:\n```sql\nALTER FUNCTION public.bio_count() SET search_path = '';\n```",
    );
    // The plan comment still shows every rewrite.
    expect(api.commentsOn(31)[0]?.body).toContain('Safe rewrites (2)');

    const again = await planRun(event);
    expect(again.exitCode, again.stdout).toBe(0);
    expect(reviewPosts(31)).toHaveLength(1);
    expect(api.reviewCommentsOn(31)).toHaveLength(2);
  });

  it('comments only on statements whose lines are in the diff', async () => {
    const run = await planRun(openPull(32, { partial: true }));
    expect(run.exitCode, run.stdout).toBe(0);
    expect(api.reviewCommentsOn(32).map((c) => c.path)).toEqual(['supabase/migrations/2_rename.sql']);
  });

  it('posts nothing with suggest-fixes: false', async () => {
    const run = await planRun(openPull(33), { 'suggest-fixes': 'false' });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(api.requestsTo('GET', /\/pulls\/33\/(files|comments)$/)).toEqual([]);
    expect(reviewPosts(33)).toEqual([]);
    expect(api.commentsOn(33)).toHaveLength(1);
  });

  it('leaves a notice and a green job when GitHub refuses the lines (422: the head moved since)', async () => {
    api.fail({
      method: 'POST',
      path: '/repos/acme/app/pulls/35/reviews',
      status: 422,
      message: 'Pull request review thread line must be part of the diff',
    });
    const run = await planRun(openPull(35));
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.stdout).toContain('::notice::The safe rewrites were not posted as review suggestions');
    expect(run.stdout).toContain('line must be part of the diff');
    expect(api.statuses.filter((s) => s.context === 'supagate/plan').at(-1)?.state).toBe('success');
  });

  it('leaves a notice and a green job when the token may not post reviews (403)', async () => {
    api.fail({
      method: 'POST',
      path: '/repos/acme/app/pulls/34/reviews',
      status: 403,
      message: 'Resource not accessible by integration',
    });
    const run = await planRun(openPull(34));
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.stdout).toContain('::notice::The safe rewrites were not posted as review suggestions');
    expect(run.stdout).toContain('HTTP 403');
    expect(api.reviewCommentsOn(34)).toEqual([]);
    expect(api.commentsOn(34)[0]?.body).toContain('Safe rewrites (2)');
  });
});
