import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isSupagateError, type SupagateError } from '../src/core/errors.js';
import { createOctokit } from '../src/github/client.js';
import {
  COMMENT_BODY_LIMIT,
  commentHeader,
  findStickyComment,
  planMarker,
  readPlanHashFromComment,
  readPlanRecord,
  resolveCommentAuthor,
  stickyTargetId,
  upsertStickyComment,
} from '../src/github/sticky-comment.js';
import { FakeGitHubApi } from './harness/github-api.js';

const BOT = 'github-actions[bot]';
const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);
const PR = 12;

let api: FakeGitHubApi;
const target = stickyTargetId('postgresql://postgres:s3cret-pass@db.abcdefgh.supabase.co:5432/postgres');

beforeAll(async () => {
  api = await FakeGitHubApi.start({
    tokens: {
      'gha-token': { login: BOT, kind: 'github-actions' },
      'fork-token': { login: BOT, kind: 'github-actions', readOnly: true },
      'pat-token': { login: 'release-bot', kind: 'user' },
    },
  });
});
afterAll(async () => {
  await api.close();
});
beforeEach(() => {
  api.reset();
  api.addPullRequest({ number: PR, user: 'alice', headSha: 'c'.repeat(40) });
});

const octokit = (token = 'gha-token') => createOctokit(token, { baseUrl: api.url });
const where = { owner: 'acme', repo: 'app', issueNumber: PR, target };

function caught(promise: Promise<unknown>): Promise<SupagateError> {
  return promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => {
      if (!isSupagateError(error)) throw error;
      return error;
    },
  );
}

describe('the fake GitHub API', () => {
  it('listens on 127.0.0.1 only and records requests without the token', async () => {
    expect(api.address.address).toBe('127.0.0.1');
    await octokit().rest.issues.listComments({ owner: 'acme', repo: 'app', issue_number: PR });
    const [request] = api.requests;
    expect(request?.method).toBe('GET');
    expect(request?.path).toBe('/repos/acme/app/issues/12/comments');
    expect(request?.headers.authorization).toBe('token ***');
    expect(JSON.stringify(api.requests)).not.toContain('gha-token');
    expect(request?.identity).toBe(BOT);
  });

  it('pages like GitHub: a caller that reads one page misses comments', async () => {
    for (let i = 0; i < 75; i += 1) api.addComment(PR, { user: 'bob', body: `comment ${i}` });
    const first = await octokit().rest.issues.listComments({ owner: 'acme', repo: 'app', issue_number: PR });
    expect(first.data).toHaveLength(30);
    expect(first.headers.link).toContain('rel="next"');
    const all = await octokit().paginate(octokit().rest.issues.listComments, {
      owner: 'acme',
      repo: 'app',
      issue_number: PR,
      per_page: 20,
    });
    expect(all).toHaveLength(75);
  });

  it('answers 401 to an unknown token', async () => {
    const error = await caught(upsertStickyComment(octokit('nope'), { ...where, body: 'x' }));
    expect(error.code).toBe('GITHUB_FORBIDDEN');
    expect(error.message).toContain('HTTP 401');
    expect(error.hint).toMatch(/github-token/);
  });
});

describe('markers', () => {
  it('identifies the target by a short hash without host or password', () => {
    expect(target).toMatch(/^[0-9a-f]{12}$/);
    expect(planMarker(target)).toBe(`<!-- supagate:plan target=${target} -->`);
    expect(planMarker(target)).not.toContain('supabase.co');
    expect(stickyTargetId('postgresql://postgres:other-password@db.abcdefgh.supabase.co:5432/postgres')).toBe(
      target,
    );
    expect(stickyTargetId('postgresql://postgres:s3cret-pass@db.other.supabase.co:5432/postgres')).not.toBe(
      target,
    );
  });

  it('reads the plan hash from the leading marker block only', () => {
    const header = commentHeader({ target, planHash: HASH_A });
    expect(header).toBe(`<!-- supagate:plan target=${target} -->\n<!-- supagate:plan-hash ${HASH_A} -->`);
    expect(readPlanHashFromComment(`${header}\n### supagate plan\n`)).toBe(HASH_A);
    expect(readPlanHashFromComment(`<!-- supagate:plan target=${target} -->\n### no hash\n`)).toBeUndefined();
    // A hash further down (from a migration's text, a quoted comment…) is not the recorded one.
    expect(
      readPlanHashFromComment(
        `<!-- supagate:plan target=${target} -->\n### plan\n<!-- supagate:plan-hash ${HASH_B} -->\n`,
      ),
    ).toBeUndefined();
    expect(readPlanHashFromComment(`someone wrote\n<!-- supagate:plan-hash ${HASH_B} -->`)).toBeUndefined();
    const stamped = commentHeader({ target, planHash: HASH_A, planSince: '2024-05-02T14:00:00.000Z' });
    expect(readPlanRecord(`${stamped}\n### plan\n`)).toEqual({
      hash: HASH_A,
      since: '2024-05-02T14:00:00.000Z',
    });
    expect(readPlanRecord(`${header}\n`)).toEqual({ hash: HASH_A });
    expect(() => commentHeader({ target, planHash: HASH_A, planSince: 'yesterday -->' })).toThrow(/ISO 8601/);
  });
});

describe('upsertStickyComment', () => {
  it('creates the comment, then a second run updates it instead of adding one', async () => {
    api.addComment(PR, { user: 'bob', body: 'LGTM' });
    const first = await upsertStickyComment(octokit(), { ...where, body: '### plan 1\n', planHash: HASH_A });
    expect(first.action).toBe('created');
    expect(first.url).toBe(`https://github.com/acme/app/pull/12#issuecomment-${first.commentId}`);
    const created = api.commentsOn(PR).find((c) => c.id === first.commentId);
    expect(created?.user.login).toBe(BOT);
    expect(created?.body).toBe(`${planMarker(target)}\n<!-- supagate:plan-hash ${HASH_A} -->\n### plan 1\n`);

    const second = await upsertStickyComment(octokit(), { ...where, body: '### plan 2\n', planHash: HASH_B });
    expect(second).toMatchObject({ action: 'updated', commentId: first.commentId, duplicates: [] });
    expect(api.commentsOn(PR)).toHaveLength(2);
    expect(api.requestsTo('POST', /\/comments$/)).toHaveLength(1);
    const patch = api.requestsTo('PATCH', `/repos/acme/app/issues/comments/${first.commentId}`);
    expect(patch).toHaveLength(1);
    expect(patch[0]?.body).toEqual({
      body: `${planMarker(target)}\n<!-- supagate:plan-hash ${HASH_B} -->\n### plan 2\n`,
    });

    const found = await findStickyComment(octokit(), where);
    expect(found && readPlanHashFromComment(found.body)).toBe(HASH_B);
  });

  it('keeps a body that already starts with the markers as it is (renderPlanMarkdown header)', async () => {
    const body = `${commentHeader({ target, planHash: HASH_A })}\n### plan\n`;
    const result = await upsertStickyComment(octokit(), { ...where, body, planHash: HASH_B });
    expect(api.commentsOn(PR).find((c) => c.id === result.commentId)?.body).toBe(body);
  });

  it('finds its comment on page 3 of the comments', async () => {
    for (let i = 0; i < 230; i += 1) {
      api.addComment(PR, { user: i % 2 ? 'bob' : 'carol', body: `comment ${i}`, createdAt: at(i) });
    }
    const mine = api.addComment(PR, {
      user: BOT,
      body: `${planMarker(target)}\nold plan`,
      createdAt: at(230),
    });
    for (let i = 231; i < 260; i += 1)
      api.addComment(PR, { user: 'bob', body: `later ${i}`, createdAt: at(i) });
    const result = await upsertStickyComment(octokit(), { ...where, body: 'new plan' });
    expect(result).toMatchObject({ action: 'updated', commentId: mine.id });
    const pages = api.requestsTo('GET', '/repos/acme/app/issues/12/comments').map((r) => r.query.page ?? '1');
    expect(pages).toEqual(['1', '2', '3']);
    expect(api.commentsOn(PR)).toHaveLength(260);
  });

  it('ignores comments with the marker written by someone else', async () => {
    const forged = api.addComment(PR, {
      user: 'mallory',
      body: `${commentHeader({ target, planHash: HASH_B })}\nlooks approved to me`,
    });
    expect(await findStickyComment(octokit(), where)).toBeUndefined();
    const result = await upsertStickyComment(octokit(), { ...where, body: 'plan', planHash: HASH_A });
    expect(result.action).toBe('created');
    expect(result.commentId).not.toBe(forged.id);
    expect(api.commentsOn(PR).find((c) => c.id === forged.id)?.body).toContain(HASH_B);
    expect(readPlanHashFromComment((await findStickyComment(octokit(), where))?.body ?? '')).toBe(HASH_A);
  });

  it('keeps one comment per target: another database gets its own', async () => {
    const other = stickyTargetId('postgresql://postgres:x@db.staging.example.com:5432/postgres');
    const a = await upsertStickyComment(octokit(), { ...where, body: 'production plan' });
    const b = await upsertStickyComment(octokit(), { ...where, target: other, body: 'staging plan' });
    expect(b.action).toBe('created');
    expect(b.commentId).not.toBe(a.commentId);
    const again = await upsertStickyComment(octokit(), { ...where, target: other, body: 'staging plan 2' });
    expect(again).toMatchObject({ action: 'updated', commentId: b.commentId });
  });

  it('after a race leaves two comments, updates the newest and deletes none', async () => {
    const older = api.addComment(PR, {
      user: BOT,
      body: `${planMarker(target)}\nrun 1`,
      createdAt: '2024-05-02T10:00:00Z',
    });
    const newer = api.addComment(PR, {
      user: BOT,
      body: `${planMarker(target)}\nrun 2`,
      createdAt: '2024-05-02T10:00:05Z',
    });
    const result = await upsertStickyComment(octokit(), { ...where, body: 'run 3' });
    expect(result).toMatchObject({ action: 'updated', commentId: newer.id, duplicates: [older.id] });
    expect(result.note).toMatch(/two runs raced/);
    expect(api.requestsTo('DELETE', /.*/)).toHaveLength(0);
    expect(api.commentsOn(PR).find((c) => c.id === older.id)?.body).toContain('run 1');
  });

  it('matches the author given for a token that is not GITHUB_TOKEN', async () => {
    api.addComment(PR, { user: BOT, body: `${planMarker(target)}\nby the bot` });
    const author = await resolveCommentAuthor(octokit('pat-token'));
    expect(author).toBe('release-bot');
    const result = await upsertStickyComment(octokit('pat-token'), { ...where, author, body: 'by the PAT' });
    expect(result.action).toBe('created');
    expect(api.commentsOn(PR).find((c) => c.id === result.commentId)?.user.login).toBe('release-bot');
  });

  it('resolves the author of GITHUB_TOKEN (no access to /user) as github-actions[bot], a configured one as given', async () => {
    expect(await resolveCommentAuthor(octokit())).toBe(BOT);
    expect(api.requestsTo('GET', '/user')[0]?.status).toBe(403);
    expect(await resolveCommentAuthor(octokit(), 'my-app[bot]')).toBe('my-app[bot]');
  });

  it('cuts a body over 65,536 characters, keeping the markers and closing the code block', async () => {
    const body = `${commentHeader({ target, planHash: HASH_A })}\n### plan\n\`\`\`sql\n${'select 1;\n'.repeat(10_000)}\`\`\`\n`;
    const result = await upsertStickyComment(octokit(), {
      ...where,
      body,
      fullReportUrl: 'https://github.com/acme/app/actions/runs/1',
    });
    expect(result.trimmed).toBe(true);
    const posted = api.commentsOn(PR).find((c) => c.id === result.commentId)?.body ?? '';
    expect(posted.length).toBeLessThanOrEqual(COMMENT_BODY_LIMIT);
    expect(readPlanHashFromComment(posted)).toBe(HASH_A);
    expect(posted).toMatch(/select 1;\n```\n\n> \[!NOTE\]\n> This comment was cut/);
    expect(posted).toContain('https://github.com/acme/app/actions/runs/1');
  });

  it("a fork's read-only token gets GITHUB_FORBIDDEN with a hint about forks", async () => {
    const error = await caught(upsertStickyComment(octokit('fork-token'), { ...where, body: 'plan' }));
    expect(error.code).toBe('GITHUB_FORBIDDEN');
    expect(error.message).toBe(
      'GitHub refused to let supagate comment on pull request #12 (HTTP 403: Resource not accessible by integration)',
    );
    expect(error.hint).toMatch(/fork/);
    expect(error.hint).toContain('pull-requests: write');
    expect(error.details).toMatchObject({ status: 403, method: 'POST', permission: 'pull-requests: write' });
    // The read went through; only the write was refused.
    expect(api.requestsTo('GET', '/repos/acme/app/issues/12/comments')[0]?.status).toBe(200);
  });

  it('maps a rate limit and a server error to their own codes', async () => {
    api.fail({
      method: 'GET',
      path: '/repos/acme/app/issues/12/comments',
      status: 403,
      message: 'API rate limit exceeded',
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1714650000' },
      times: 1,
    });
    const limited = await caught(upsertStickyComment(octokit(), { ...where, body: 'plan' }));
    expect(limited.code).toBe('GITHUB_RATE_LIMITED');
    expect(limited.hint).toContain('2024-05-02T11:40:00.000Z');
    api.fail({ method: 'POST', path: /comments$/, status: 502, message: 'Bad Gateway', times: 1 });
    const failed = await caught(upsertStickyComment(octokit(), { ...where, body: 'plan' }));
    expect(failed.code).toBe('GITHUB_API_FAILED');
  });
});

function at(i: number): string {
  return new Date(Date.UTC(2024, 4, 1) + i * 60_000).toISOString();
}
