import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSupagateError } from '../src/core/errors.js';
import { createOctokit, githubNow } from '../src/github/client.js';
import { FakeGitHubApi } from './harness/github-api.js';

let api: FakeGitHubApi;
beforeAll(async () => {
  api = await FakeGitHubApi.start({ tokens: { 'pat-token': { login: 'octocat', kind: 'user' } } });
});
afterAll(async () => {
  await api.close();
});

describe('createOctokit', () => {
  it('talks to GITHUB_API_URL', async () => {
    const octokit = createOctokit('pat-token', { env: { GITHUB_API_URL: `${api.url}/` } });
    const { data } = await octokit.rest.users.getAuthenticated();
    expect(data.login).toBe('octocat');
    const [request] = api.requestsTo('GET', '/user');
    expect(request?.headers.authorization).toBe('token ***');
    expect(request?.headers['user-agent']).toMatch(/^supagate/);
  });

  it('an explicit baseUrl wins over the environment', async () => {
    const octokit = createOctokit('pat-token', {
      baseUrl: api.url,
      env: { GITHUB_API_URL: 'http://127.0.0.1:1' },
    });
    expect((await octokit.rest.users.getAuthenticated()).data.login).toBe('octocat');
  });

  it('refuses an empty token with a hint', () => {
    for (const token of [undefined, '', '   ']) {
      let caught: unknown;
      try {
        createOctokit(token, { baseUrl: api.url });
      } catch (error) {
        caught = error;
      }
      expect(isSupagateError(caught) && caught.code).toBe('GITHUB_TOKEN_MISSING');
      expect(isSupagateError(caught) && caught.hint).toContain('github-token');
    }
  });
});

describe('githubNow', () => {
  it("reads GitHub's clock from the Date header, and this machine's when GitHub does not answer", async () => {
    const skewed = await FakeGitHubApi.start({ now: () => new Date('2031-03-04T05:06:07.890Z') });
    try {
      const octokit = createOctokit('test-token', { baseUrl: skewed.url });
      expect((await githubNow(octokit)).toISOString()).toBe('2031-03-04T05:06:07.000Z');
      skewed.fail({ path: '/rate_limit', status: 404 });
      const local = await githubNow(octokit);
      expect(Math.abs(local.getTime() - Date.now())).toBeLessThan(60_000);
    } finally {
      await skewed.close();
    }
  });
});
