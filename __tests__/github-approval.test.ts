import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { actionWording, fencedText } from '../src/action/inputs.js';
import { appliedSince, historyDigestOf } from '../src/core/commands/gate.js';
import { isSupagateError, type SupagateError } from '../src/core/errors.js';
import {
  type ApprovalInput,
  assertApproved,
  checkApproval,
  evaluateApproval,
  findMigrationChangeTime,
  findPullRequestForCommit,
  PLAN_CHANGED,
  type ReviewLike,
  teamMembershipViaApi,
} from '../src/github/approval.js';
import { createOctokit } from '../src/github/client.js';
import { commentHeader } from '../src/github/sticky-comment.js';
import { FakeGitHubApi } from './harness/github-api.js';

const HASH = 'd'.repeat(64);
const OTHER_HASH = 'e'.repeat(64);
const CHANGED_AT = new Date('2024-05-02T12:00:00Z');

function review(
  login: string,
  state: string,
  submittedAt: string,
  extra: Partial<ReviewLike> = {},
): ReviewLike {
  return { user: { login }, state, submitted_at: submittedAt, commit_id: 'head', ...extra };
}

function input(reviews: ReviewLike[], extra: Partial<ApprovalInput> = {}): ApprovalInput {
  return {
    reviews,
    prAuthor: 'alice',
    requiredApprovals: 1,
    lastMigrationChangeAt: CHANGED_AT,
    recordedPlanHash: HASH,
    currentPlanHash: HASH,
    ...extra,
  };
}

describe('evaluateApproval', () => {
  it('counts approvals against the required number', async () => {
    const reviews = [review('bob', 'APPROVED', '2024-05-02T13:00:00Z')];
    const short = await evaluateApproval(input(reviews, { requiredApprovals: 2 }));
    expect(short).toMatchObject({ approved: false, missing: ['1 more approval needed'], required: 2 });
    expect(short.approvals).toEqual([{ login: 'bob', at: '2024-05-02T13:00:00.000Z' }]);
    const none = await evaluateApproval(input([], { requiredApprovals: 2 }));
    expect(none.missing).toEqual(['2 more approvals needed']);
    const enough = await evaluateApproval(
      input([...reviews, review('carol', 'APPROVED', '2024-05-02T13:05:00Z')], { requiredApprovals: 2 }),
    );
    expect(enough).toMatchObject({ approved: true, missing: [] });
    expect(enough.approvals.map((a) => a.login)).toEqual(['bob', 'carol']);
  });

  it("takes each reviewer's latest verdict: a later CHANGES_REQUESTED or DISMISSED cancels, COMMENTED does not", async () => {
    const approved = review('bob', 'APPROVED', '2024-05-02T13:00:00Z');
    const changes = await evaluateApproval(
      input([approved, review('bob', 'CHANGES_REQUESTED', '2024-05-02T14:00:00Z')]),
    );
    expect(changes).toMatchObject({ approved: false, missing: ['1 more approval needed'] });
    const dismissed = await evaluateApproval(
      input([approved, review('bob', 'DISMISSED', '2024-05-02T14:00:00Z')]),
    );
    expect(dismissed.approved).toBe(false);
    const commented = await evaluateApproval(
      input([approved, review('bob', 'COMMENTED', '2024-05-02T14:00:00Z')]),
    );
    expect(commented).toMatchObject({ approved: true, missing: [] });
    // Order by submission time, not by list order; logins compare case-insensitively.
    const reapproved = await evaluateApproval(
      input([
        review('Bob', 'APPROVED', '2024-05-02T15:00:00Z'),
        review('bob', 'CHANGES_REQUESTED', '2024-05-02T14:00:00Z'),
      ]),
    );
    expect(reapproved.approved).toBe(true);
    // A pending (unsubmitted) review is nobody's verdict.
    const pending = await evaluateApproval(
      input([approved, { user: { login: 'bob' }, state: 'PENDING', submitted_at: null }]),
    );
    expect(pending.approved).toBe(true);
  });

  it("never counts the pull request author's approval", async () => {
    const own = await evaluateApproval(input([review('Alice', 'APPROVED', '2024-05-02T13:00:00Z')]));
    expect(own.approved).toBe(false);
    expect(own.missing).toEqual([
      '1 more approval needed',
      "Alice opened the pull request: the author's approval does not count",
    ]);
    const other = await evaluateApproval(input([review('bob', 'APPROVED', '2024-05-02T13:00:00Z')]));
    expect(other.approved).toBe(true);
  });

  it('does not count an approval older than the last migration change', async () => {
    const stale = await evaluateApproval(
      input([review('bob', 'APPROVED', '2024-05-02T11:59:59Z')], {
        lastMigrationChangeSha: 'f00dfeed'.repeat(5),
      }),
    );
    expect(stale.approved).toBe(false);
    expect(stale.missing).toEqual([
      '1 more approval needed',
      'approval by bob is older than the last migration change (approved at 2024-05-02T11:59:59.000Z on head; the migrations changed at 2024-05-02T12:00:00.000Z in f00dfee)',
    ]);
    const fresh = await evaluateApproval(input([review('bob', 'APPROVED', '2024-05-02T12:00:01Z')]));
    expect(fresh.approved).toBe(true);
  });

  it('does not count an approval given on a commit before the last migration change, whatever the dates say', async () => {
    // A back-dated commit makes the approval look newer than the change; the commit it was given on does not lie.
    const onOld = review('bob', 'APPROVED', '2024-05-02T13:00:00Z', { commit_id: 'old1111' });
    const result = await evaluateApproval(input([onOld], { approvableCommits: ['mig2222', 'head3333'] }));
    expect(result.approved).toBe(false);
    expect(result.missing[1]).toMatch(
      /^approval by bob is older than the last migration change \(approved at .* on old1111;/,
    );
    const onNew = review('bob', 'APPROVED', '2024-05-02T13:00:00Z', { commit_id: 'head3333' });
    expect(
      (await evaluateApproval(input([onNew], { approvableCommits: ['mig2222', 'head3333'] }))).approved,
    ).toBe(true);
  });

  it('counts only configured approvers when there are any', async () => {
    const reviews = [review('bob', 'APPROVED', '2024-05-02T13:00:00Z')];
    const outsider = await evaluateApproval(input(reviews, { approvers: ['carol', 'dave'] }));
    expect(outsider.approved).toBe(false);
    expect(outsider.missing).toEqual([
      '1 more approval needed',
      'approval by bob does not count: not one of the configured approvers (carol, dave)',
    ]);
    const listed = await evaluateApproval(input(reviews, { approvers: ['carol', 'BOB'] }));
    expect(listed.approved).toBe(true);
  });

  it('without configured approvers, ignores approvals from people without access to the repository', async () => {
    const drive = review('stranger', 'APPROVED', '2024-05-02T13:00:00Z', {
      author_association: 'CONTRIBUTOR',
    });
    const result = await evaluateApproval(input([drive]));
    expect(result.approved).toBe(false);
    expect(result.missing[1]).toBe(
      'approval by stranger does not count: stranger is not a member or collaborator of the repository (contributor)',
    );
    const member = review('bob', 'APPROVED', '2024-05-02T13:00:00Z', { author_association: 'COLLABORATOR' });
    expect((await evaluateApproval(input([member]))).approved).toBe(true);
  });

  it('requires the recorded plan hash to equal the current one', async () => {
    const reviews = [review('bob', 'APPROVED', '2024-05-02T13:00:00Z')];
    const changed = await evaluateApproval(input(reviews, { recordedPlanHash: OTHER_HASH }));
    expect(changed).toMatchObject({ approved: false, missing: [PLAN_CHANGED] });
    expect(PLAN_CHANGED).toBe('the plan changed since it was approved: production or the migrations differ');
    const missing = await evaluateApproval(input(reviews, { recordedPlanHash: undefined }));
    expect(missing.approved).toBe(false);
    expect(missing.missing[0]).toMatch(/^no approved plan is recorded/);
    expect((await evaluateApproval(input(reviews))).approved).toBe(true);
  });

  it('does not count an approval given before the current plan was recorded', async () => {
    const since = new Date('2024-05-02T14:00:00Z');
    const early = await evaluateApproval(
      input([review('bob', 'APPROVED', '2024-05-02T13:00:00Z')], { recordedPlanSince: since }),
    );
    expect(early.approved).toBe(false);
    expect(early.missing).toEqual([
      '1 more approval needed',
      'approval by bob was given before the current plan was posted (approved at 2024-05-02T13:00:00.000Z; the plan changed at 2024-05-02T14:00:00.000Z, because production or the migrations changed): approve again',
    ]);
    const after = await evaluateApproval(
      input([review('bob', 'APPROVED', '2024-05-02T14:00:01Z')], { recordedPlanSince: since }),
    );
    expect(after.approved).toBe(true);
  });

  it('does not count an approval in the same second as the plan was posted, nor as the last migration change', async () => {
    // GitHub's clock counts seconds: an approval stamped in the plan's second cannot be told to
    // come after it, even when the plan's own record time carries milliseconds.
    const since = new Date('2024-05-02T14:00:00.400Z');
    for (const at of ['2024-05-02T14:00:00Z', '2024-05-02T14:00:00.900Z']) {
      const same = await evaluateApproval(
        input([review('bob', 'APPROVED', at)], { recordedPlanSince: since }),
      );
      expect(same.approved).toBe(false);
      expect(same.missing[1]).toMatch(
        /^approval by bob was given in the same second as the current plan was posted/,
      );
    }
    const sameAsChange = await evaluateApproval(input([review('bob', 'APPROVED', '2024-05-02T12:00:00Z')]));
    expect(sameAsChange.approved).toBe(false);
    expect(sameAsChange.missing[1]).toMatch(/^approval by bob is older than the last migration change/);
    const nextSecond = await evaluateApproval(input([review('bob', 'APPROVED', '2024-05-02T12:00:01Z')]));
    expect(nextSecond.approved).toBe(true);
  });

  it('lists every missing piece at once', async () => {
    const result = await evaluateApproval(
      input([review('bob', 'APPROVED', '2024-05-02T11:00:00Z')], { recordedPlanHash: OTHER_HASH }),
    );
    expect(result.missing).toHaveLength(3);
    expect(result.missing[0]).toBe('1 more approval needed');
    expect(result.missing[2]).toBe(PLAN_CHANGED);
    const error = (() => {
      try {
        assertApproved(result, 12);
      } catch (e) {
        return e as SupagateError;
      }
    })();
    expect(error?.code).toBe('APPROVAL_MISSING');
    expect(error?.message).toContain(
      'Pull request #12 is not approved for this plan: 1 more approval needed; ',
    );
  });
});

describe('against the GitHub API', () => {
  let api: FakeGitHubApi;
  beforeAll(async () => {
    api = await FakeGitHubApi.start({
      tokens: {
        'gha-token': { login: 'github-actions[bot]', kind: 'github-actions' },
        'app-token': { login: 'supagate-app[bot]', kind: 'app', orgRead: true },
      },
    });
  });
  afterAll(async () => {
    await api.close();
  });
  beforeEach(() => api.reset());
  const octokit = (token = 'gha-token') => createOctokit(token, { baseUrl: api.url });

  it('counts members of approver teams, checked through the API', async () => {
    api.addTeamMember('acme', 'db-admins', 'carol');
    api.addTeamMember('acme', 'db-admins', 'erin', 'pending');
    const isTeamMember = teamMembershipViaApi(octokit('app-token'));
    const team = { approverTeams: ['acme/db-admins'], isTeamMember };
    const member = await evaluateApproval(input([review('carol', 'APPROVED', '2024-05-02T13:00:00Z')], team));
    expect(member.approved).toBe(true);
    const invited = await evaluateApproval(input([review('erin', 'APPROVED', '2024-05-02T13:00:00Z')], team));
    expect(invited.approved).toBe(false);
    const outsider = await evaluateApproval(input([review('bob', 'APPROVED', '2024-05-02T13:00:00Z')], team));
    expect(outsider.missing).toEqual([
      '1 more approval needed',
      'approval by bob does not count: not one of the configured approvers (team acme/db-admins)',
    ]);
    expect(api.requestsTo('GET', '/orgs/acme/teams/db-admins/memberships/bob')[0]?.status).toBe(404);
    // A login listed directly counts without a team lookup.
    const both = await evaluateApproval(
      input([review('bob', 'APPROVED', '2024-05-02T13:00:00Z')], { ...team, approvers: ['bob'] }),
    );
    expect(both.approved).toBe(true);
  });

  it('says GITHUB_TOKEN cannot read teams', async () => {
    const error = await evaluateApproval(
      input([review('carol', 'APPROVED', '2024-05-02T13:00:00Z')], {
        approverTeams: ['acme/db-admins'],
        isTeamMember: teamMembershipViaApi(octokit()),
      }),
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isSupagateError(error) && error.code).toBe('GITHUB_FORBIDDEN');
    expect((error as SupagateError).hint).toMatch(/GITHUB_TOKEN cannot read organization teams/);
  });

  it('finds the last commit that changed the migrations, paging through commits and files', async () => {
    api.addPullRequest({ number: 7, user: 'alice', headSha: 'f'.repeat(40) });
    const sha = (n: number) => n.toString(16).padStart(40, '0');
    api.addCommit(7, { sha: sha(1), date: '2024-05-01T09:00:00Z', files: ['supabase/migrations/1_a.sql'] });
    // The migration change of commit 2 is on the second page of its files.
    api.addCommit(7, {
      sha: sha(2),
      date: '2024-05-01T10:00:00Z',
      files: [...Array.from({ length: 300 }, (_, i) => `src/file${i}.ts`), 'supabase/migrations/2_b.sql'],
    });
    for (let n = 3; n <= 120; n += 1) {
      api.addCommit(7, {
        sha: sha(n),
        date: '2024-05-01T11:00:00Z',
        files: ['src/app.ts', 'supabase/seed.sql'],
      });
    }
    const change = await findMigrationChangeTime(octokit(), {
      owner: 'acme',
      repo: 'app',
      pull: 7,
      migrationsDir: './supabase/migrations/',
    });
    expect(change?.sha).toBe(sha(2));
    expect(change?.at.toISOString()).toBe('2024-05-01T10:00:00.000Z');
    expect(change?.approvableCommits).toHaveLength(119);
    expect(change?.approvableCommits?.[0]).toBe(sha(2));
    expect(change?.truncated).toBe(false);
    expect(api.requestsTo('GET', '/repos/acme/app/pulls/7/commits')).toHaveLength(2);
    expect(api.requestsTo('GET', `/repos/acme/app/commits/${sha(2)}`).map((r) => r.query.page)).toEqual([
      '1',
      '2',
    ]);
  });

  it('finds a migration change beyond the 250 commits GitHub lists, from the history of the head', async () => {
    const sha = (n: number) => `9${n.toString(16).padStart(39, '0')}`;
    for (let n = 1; n <= 300; n += 1) {
      api.addCommit(9, {
        sha: sha(n),
        date: `2024-06-01T${String(Math.floor(n / 60)).padStart(2, '0')}:${String(n % 60).padStart(2, '0')}:00Z`,
        files: n === 280 ? ['supabase/migrations/3_late.sql'] : ['src/app.ts'],
      });
    }
    api.addPullRequest({ number: 9, user: 'alice', headSha: sha(300) });
    const change = await findMigrationChangeTime(octokit(), {
      owner: 'acme',
      repo: 'app',
      pull: 9,
      migrationsDir: 'supabase/migrations',
      headSha: sha(300),
    });
    // Commit 280 is not among the 250 listed: without the history it would have been missed.
    expect(change).toEqual({ sha: sha(280), at: new Date('2024-06-01T04:40:00Z'), truncated: true });
    const late = await evaluateApproval(
      input([review('bob', 'APPROVED', '2024-06-01T04:00:00Z')], {
        lastMigrationChangeAt: change?.at,
        lastMigrationChangeSha: change?.sha,
      }),
    );
    expect(late.approved).toBe(false);
    expect(late.missing[1]).toMatch(/older than the last migration change/);
  });

  it('counts a rename out of the migrations directory, and finds nothing when no commit touched it', async () => {
    api.addPullRequest({ number: 8, user: 'alice', headSha: 'f'.repeat(40) });
    api.addCommit(8, {
      sha: '1'.repeat(40),
      date: '2024-05-01T09:00:00Z',
      files: [
        { filename: 'old/1_a.sql', previous_filename: 'supabase/migrations/1_a.sql', status: 'renamed' },
      ],
    });
    api.addCommit(8, {
      sha: '2'.repeat(40),
      date: '2024-05-01T10:00:00Z',
      files: ['supabase/migrations-notes.md'],
    });
    const where = { owner: 'acme', repo: 'app', pull: 8 };
    expect(
      (await findMigrationChangeTime(octokit(), { ...where, migrationsDir: 'supabase/migrations' }))?.sha,
    ).toBe('1'.repeat(40));
    expect(
      await findMigrationChangeTime(octokit(), { ...where, migrationsDir: 'db/migrations' }),
    ).toBeUndefined();
  });

  it('retries the pull request of a just-merged commit until GitHub has it', async () => {
    const merge = 'a'.repeat(40);
    api.addPullRequest({
      number: 3,
      user: 'alice',
      headSha: '3'.repeat(40),
      mergedAt: '2024-05-03T08:00:00Z',
      mergeCommitSha: 'b'.repeat(40),
    });
    api.addPullRequest({
      number: 4,
      user: 'dave',
      headSha: '4'.repeat(40),
      mergedAt: '2024-05-03T08:30:00Z',
      mergeCommitSha: merge,
    });
    api.associateCommit(merge, [3, 4]);
    api.pullsForCommitLag = 2;
    const sleeps: number[] = [];
    const sleep = async (ms: number) => {
      sleeps.push(ms);
    };
    const found = await findPullRequestForCommit(octokit(), {
      owner: 'acme',
      repo: 'app',
      sha: merge,
      retries: 3,
      delayMs: 2_000,
      sleep,
    });
    expect(found).toMatchObject({ number: 4, author: 'dave', mergeCommitSha: merge, attempts: 3 });
    expect(sleeps).toEqual([2_000, 2_000]);
    expect(api.requestsTo('GET', `/repos/acme/app/commits/${merge}/pulls`)).toHaveLength(3);
  });

  it('gives up after the retries, and takes the first pull request when none was merged as this commit', async () => {
    const sha = 'c'.repeat(40);
    api.pullsForCommitLag = 10;
    const none = await findPullRequestForCommit(octokit(), {
      owner: 'acme',
      repo: 'app',
      sha,
      retries: 2,
      delayMs: 0,
      sleep: async () => {},
    });
    expect(none).toBeUndefined();
    expect(api.requestsTo('GET', `/repos/acme/app/commits/${sha}/pulls`)).toHaveLength(3);

    api.reset();
    api.addPullRequest({ number: 5, user: 'alice', headSha: sha });
    const open = await findPullRequestForCommit(octokit(), { owner: 'acme', repo: 'app', sha, retries: 0 });
    expect(open).toMatchObject({ number: 5, mergedAt: null, attempts: 1 });
  });

  it('checkApproval reads the pull request, reviews, commits and plan comment', async () => {
    const target = 'abcdef012345';
    const head = '9'.repeat(40);
    const mig = '8'.repeat(40);
    api.addPullRequest({ number: 12, user: 'alice', headSha: head });
    api.addCommit(12, {
      sha: '7'.repeat(40),
      date: '2024-05-02T09:00:00Z',
      files: ['supabase/migrations/1_a.sql'],
    });
    api.addCommit(12, { sha: mig, date: '2024-05-02T12:00:00Z', files: ['supabase/migrations/1_a.sql'] });
    api.addCommit(12, { sha: head, date: '2024-05-02T12:30:00Z', files: ['README.md'] });
    api.addReview(12, {
      user: 'bob',
      state: 'APPROVED',
      submittedAt: '2024-05-02T10:00:00Z',
      commitId: '7'.repeat(40),
    });
    api.addReview(12, {
      user: 'carol',
      state: 'APPROVED',
      submittedAt: '2024-05-02T13:00:00Z',
      commitId: head,
    });
    api.addComment(12, {
      user: 'mallory',
      body: `${commentHeader({ target, planHash: OTHER_HASH })}\nforged`,
    });
    api.addComment(12, {
      user: 'github-actions[bot]',
      body: `${commentHeader({ target, planHash: HASH })}\nplan`,
    });
    const options = {
      owner: 'acme',
      repo: 'app',
      pull: 12,
      migrationsDir: 'supabase/migrations',
      requiredApprovals: 1,
      target,
    };
    const ok = await checkApproval(octokit(), { ...options, currentPlanHash: HASH });
    expect(ok).toMatchObject({ approved: true, prAuthor: 'alice', approvals: [{ login: 'carol' }] });
    expect(ok.ignored[0]?.reason).toMatch(/^approval by bob is older than the last migration change/);
    expect(ok.migrationChange?.sha).toBe(mig);

    const two = await checkApproval(octokit(), { ...options, requiredApprovals: 2, currentPlanHash: HASH });
    expect(two.approved).toBe(false);
    expect(two.missing[0]).toBe('1 more approval needed');

    const moved = await checkApproval(octokit(), { ...options, currentPlanHash: OTHER_HASH });
    expect(moved.missing).toEqual([PLAN_CHANGED]);
    expect(() => assertApproved(moved, 12)).toThrow(/not approved for this plan: the plan changed/);
  });
});

describe('an approval carried over migrations of other pull requests applied since', () => {
  const E = 'e'.repeat(64);
  const bob = [review('bob', 'APPROVED', '2024-05-02T13:00:00Z')];
  const moved = { currentPlanHash: 'f'.repeat(64) };

  it('holds when only other migrations were applied and the own effect is the same', async () => {
    const result = await evaluateApproval(
      input(bob, { ...moved, recordedEffect: E, currentEffect: E, appliedSincePlan: ['20240502'] }),
    );
    expect(result).toMatchObject({ approved: true, carriedOver: ['20240502'] });
  });

  it('does not hold when the own effect changed, or production changed otherwise', async () => {
    const changed = await evaluateApproval(
      input(bob, {
        ...moved,
        recordedEffect: E,
        currentEffect: 'd'.repeat(64),
        appliedSincePlan: ['20240502'],
      }),
    );
    expect(changed).toMatchObject({ approved: false, planChanged: true });
    expect(changed.missing[0]).toContain(
      "this pull request's own changes or findings are not what was approved",
    );
    const otherwise = await evaluateApproval(input(bob, { ...moved, recordedEffect: E, currentEffect: E }));
    expect(otherwise.missing[0]).toContain('production changed otherwise than by migrations applied since');
  });

  it('finds the versions applied since the recorded history, newest applications first', () => {
    const before = [{ version: '1' }, { version: '2', appliedAt: '2024-05-01T00:00:00Z' }];
    const recorded = historyDigestOf(before.map((a) => a.version));
    const now = [...before, { version: '3', appliedAt: '2024-05-03T00:00:00Z' }];
    expect(appliedSince(now, recorded)).toEqual(['3']);
    expect(appliedSince(before, recorded)).toEqual([]);
    expect(appliedSince([{ version: '1' }], recorded)).toBeUndefined();
  });
});

describe('the Action’s words', () => {
  it('fences any text so that nothing in it renders as markdown or HTML', () => {
    const hostile = 'a\n\n</code></pre><script>x</script> & ```\nselect 1;';
    const fenced = fencedText(hostile);
    expect(fenced.startsWith('````text\n')).toBe(true);
    expect(fenced.endsWith('\n````')).toBe(true);
    expect(fenced).toContain(hostile);
  });

  it('speaks the inputs, not CLI flags', () => {
    expect(actionWording('run again with `--confirm`')).toBe('run again with the `confirm` input');
    expect(actionWording('pass --backup <id>')).toBe('pass the `backup-id` input');
    expect(actionWording('pg_dump --schema-only')).toBe('pg_dump --schema-only');
  });
});
