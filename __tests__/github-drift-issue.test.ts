import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isSupagateError } from '../src/core/errors.js';
import { createOctokit } from '../src/github/client.js';
import { DRIFT_LABEL, driftMarker, ISSUE_BODY_LIMIT, syncDriftIssue } from '../src/github/drift-issue.js';
import { FakeGitHubApi } from './harness/github-api.js';

const BOT = 'github-actions[bot]';
const RUN = 'https://github.com/acme/app/actions/runs/555';
const target = '0123456789ab';

let api: FakeGitHubApi;
beforeAll(async () => {
  api = await FakeGitHubApi.start({
    tokens: {
      'gha-token': { login: BOT, kind: 'github-actions' },
      'read-token': { login: BOT, kind: 'github-actions', readOnly: true },
    },
  });
});
afterAll(async () => {
  await api.close();
});
beforeEach(() => api.reset());
const octokit = (token = 'gha-token') => createOctokit(token, { baseUrl: api.url });
const where = { owner: 'acme', repo: 'app', target, runUrl: RUN };

describe('syncDriftIssue', () => {
  it('opens one labelled issue, updates it while the drift lasts, closes it when it is gone', async () => {
    api.addIssue({ title: 'Unrelated bug', user: 'bob', labels: ['bug'] });
    const created = await syncDriftIssue(octokit(), {
      ...where,
      drift: true,
      body: '### Drift\n- public.x: column added',
    });
    expect(created).toMatchObject({ action: 'created', trimmed: false });
    const [post] = api.requestsTo('POST', '/repos/acme/app/issues');
    expect(post?.body).toMatchObject({
      title: 'supagate: production schema drifted from the migrations',
      labels: [DRIFT_LABEL],
    });
    const issue = api.issues.find((i) => i.number === created.number);
    expect(
      issue?.body?.startsWith(
        `${driftMarker(target)}\n### Drift\n- public.x: column added\n\n---\nLast checked by ${RUN}`,
      ),
    ).toBe(true);
    expect(created.url).toBe(`https://github.com/acme/app/issues/${created.number}`);

    const updated = await syncDriftIssue(octokit(), {
      ...where,
      drift: true,
      body: '### Drift\n- public.y: table added',
    });
    expect(updated).toMatchObject({ action: 'updated', number: created.number });
    expect(api.issues.filter((i) => i.labels.some((l) => l.name === DRIFT_LABEL))).toHaveLength(1);
    expect(api.issues.find((i) => i.number === created.number)?.body).toContain('public.y: table added');
    const list = api.requestsTo('GET', '/repos/acme/app/issues')[0];
    expect(list?.query).toMatchObject({ labels: DRIFT_LABEL, state: 'open', per_page: '100' });

    const closed = await syncDriftIssue(octokit(), { ...where, drift: false, body: '' });
    expect(closed).toMatchObject({ action: 'closed', number: created.number });
    expect(api.issues.find((i) => i.number === created.number)).toMatchObject({
      state: 'closed',
      state_reason: 'completed',
    });
    expect(api.commentsOn(created.number ?? 0)[0]?.body).toContain(
      `No drift any more: production matches the migrations (checked by ${RUN})`,
    );

    expect(await syncDriftIssue(octokit(), { ...where, drift: false, body: '' })).toEqual({
      action: 'none',
      trimmed: false,
    });
    // Drift again after that: a new issue, the closed one stays closed.
    const again = await syncDriftIssue(octokit(), { ...where, drift: true, body: 'drift' });
    expect(again.action).toBe('created');
    expect(again.number).not.toBe(created.number);
  });

  it("ignores pull requests, other targets' issues and issues opened by someone else", async () => {
    api.addPullRequest({ number: 1, user: BOT, headSha: '1'.repeat(40), labels: [DRIFT_LABEL] });
    api.addIssue({
      title: 'forged',
      user: 'mallory',
      labels: [DRIFT_LABEL],
      body: `${driftMarker(target)}\nfake`,
    });
    const other = api.addIssue({
      title: 'staging drift',
      user: BOT,
      labels: [DRIFT_LABEL],
      body: `${driftMarker('ffffffffffff')}\nstaging`,
    });
    const result = await syncDriftIssue(octokit(), { ...where, drift: true, body: 'production drift' });
    expect(result.action).toBe('created');
    expect(api.issues.find((i) => i.number === other.number)?.body).toContain('staging');
    expect(api.requestsTo('PATCH', /.*/)).toHaveLength(0);
  });

  it('finds its issue beyond the first page of labelled issues', async () => {
    for (let i = 0; i < 120; i += 1) {
      api.addIssue({
        title: `noise ${i}`,
        user: 'bob',
        labels: [DRIFT_LABEL],
        createdAt: new Date(Date.UTC(2024, 4, 2) + i * 1000).toISOString(),
      });
    }
    const mine = api.addIssue({
      title: 'drift',
      user: BOT,
      labels: [DRIFT_LABEL],
      body: `${driftMarker(target)}\nold`,
      createdAt: '2024-01-01T00:00:00Z',
    });
    const result = await syncDriftIssue(octokit(), { ...where, drift: true, body: 'new' });
    expect(result).toMatchObject({ action: 'updated', number: mine.number });
    expect(api.requestsTo('GET', '/repos/acme/app/issues')).toHaveLength(2);
  });

  it('cuts a report over 65,536 characters', async () => {
    const result = await syncDriftIssue(octokit(), {
      ...where,
      drift: true,
      body: 'line of drift\n'.repeat(6_000),
    });
    expect(result).toMatchObject({ action: 'created', trimmed: true });
    const body = api.issues.find((i) => i.number === result.number)?.body ?? '';
    expect(body.length).toBeLessThanOrEqual(ISSUE_BODY_LIMIT);
    expect(body.startsWith(driftMarker(target))).toBe(true);
    expect(body).toContain("Cut to GitHub's limit of 65,536 characters");
  });

  it('a token without issues: write gets a typed error', async () => {
    const error = await syncDriftIssue(octokit('read-token'), { ...where, drift: true, body: 'x' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isSupagateError(error) && error.code).toBe('GITHUB_FORBIDDEN');
    expect(isSupagateError(error) && error.hint).toContain('issues: write');
  });
});
