import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isSupagateError } from '../src/core/errors.js';
import { readRunContext } from '../src/github/context.js';

const FIXTURES = join(process.cwd(), '__fixtures__/github');

function contextFor(eventName: string, fixture: string | undefined, env: NodeJS.ProcessEnv = {}) {
  return readRunContext(
    {
      GITHUB_EVENT_NAME: eventName,
      GITHUB_REPOSITORY: 'acme/app',
      GITHUB_SHA: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
      GITHUB_REF: 'refs/heads/main',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_API_URL: 'https://api.github.com',
      GITHUB_RUN_ID: '9876543210',
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_ACTOR: 'alice',
      GITHUB_WORKFLOW: 'supagate',
      GITHUB_JOB: 'plan',
      ...(fixture ? { GITHUB_EVENT_PATH: join(FIXTURES, fixture) } : {}),
      ...env,
    },
    (path) => readFileSync(path, 'utf8'),
  );
}

describe('readRunContext', () => {
  it('reads a pull_request opened from a branch of the same repository', () => {
    const context = contextFor('pull_request', 'pull_request.opened.json', {
      GITHUB_REF: 'refs/pull/12/merge',
      GITHUB_SHA: 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
    });
    expect(context.kind).toBe('pull_request');
    expect(context.repository).toEqual({ owner: 'acme', repo: 'app', fullName: 'acme/app' });
    expect(context.pullRequest).toMatchObject({
      number: 12,
      action: 'opened',
      headSha: '9f2c1e4b7a6d5c3b2a1908f7e6d5c4b3a2910f8e',
      headRef: 'add-profiles',
      baseRef: 'main',
      author: 'alice',
      headRepoFullName: 'acme/app',
      fork: false,
      draft: false,
    });
    // Statuses go on the PR head, not on the test merge commit in GITHUB_SHA.
    expect(context.sha).toBe('bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb');
    expect(context.statusSha).toBe('9f2c1e4b7a6d5c3b2a1908f7e6d5c4b3a2910f8e');
    expect(context.readOnlyToken).toBe(false);
    expect(context.runUrl).toBe('https://github.com/acme/app/actions/runs/9876543210');
    expect(context.defaultBranch).toBe('main');
  });

  it('marks a pull_request from a fork as a fork with a read-only token', () => {
    const context = contextFor('pull_request', 'pull_request.fork.json', { GITHUB_ACTOR: 'mallory' });
    expect(context.pullRequest).toMatchObject({
      number: 13,
      action: 'synchronize',
      author: 'mallory',
      headRepoFullName: 'mallory/app',
      fork: true,
    });
    expect(context.readOnlyToken).toBe(true);
    expect(context.statusSha).toBe('c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00');
  });

  it('a fork under pull_request_target is still a fork, but its token can write', () => {
    const context = contextFor('pull_request_target', 'pull_request.fork.json');
    expect(context.kind).toBe('pull_request_target');
    expect(context.pullRequest?.fork).toBe(true);
    expect(context.readOnlyToken).toBe(false);
  });

  it('treats a pull request whose fork was deleted (head.repo null) as a fork', () => {
    const payload = JSON.parse(readFileSync(join(FIXTURES, 'pull_request.fork.json'), 'utf8'));
    payload.pull_request.head.repo = null;
    const context = readRunContext(
      { GITHUB_EVENT_NAME: 'pull_request', GITHUB_REPOSITORY: 'acme/app', GITHUB_EVENT_PATH: '/event.json' },
      () => JSON.stringify(payload),
    );
    expect(context.pullRequest?.fork).toBe(true);
    expect(context.pullRequest?.headRepoFullName).toBeNull();
  });

  it('reads the pull request of a pull_request_review event (approval status re-evaluation)', () => {
    for (const [fixture, fork] of [
      ['pull_request.opened.json', false],
      ['pull_request.fork.json', true],
    ] as const) {
      const payload = JSON.parse(readFileSync(join(FIXTURES, fixture), 'utf8'));
      payload.action = 'submitted';
      payload.review = {
        id: 1,
        state: 'approved',
        user: { login: 'bob' },
        submitted_at: '2024-05-02T13:00:00Z',
      };
      const context = readRunContext(
        {
          GITHUB_EVENT_NAME: 'pull_request_review',
          GITHUB_REPOSITORY: 'acme/app',
          GITHUB_EVENT_PATH: '/e.json',
        },
        () => JSON.stringify(payload),
      );
      expect(context.kind).toBe('pull_request_review');
      expect(context.pullRequest?.action).toBe('submitted');
      expect(context.pullRequest?.fork).toBe(fork);
      expect(context.readOnlyToken).toBe(fork);
    }
  });

  it('a Dependabot pull_request gets a read-only token too', () => {
    const context = contextFor('pull_request', 'pull_request.opened.json', {
      GITHUB_ACTOR: 'dependabot[bot]',
    });
    expect(context.pullRequest?.fork).toBe(false);
    expect(context.readOnlyToken).toBe(true);
  });

  it('reads a push to the default branch', () => {
    const context = contextFor('push', 'push.main.json', {
      GITHUB_SHA: 'e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4',
      GITHUB_RUN_ATTEMPT: '2',
    });
    expect(context.kind).toBe('push');
    expect(context.pullRequest).toBeUndefined();
    expect(context.push).toEqual({
      ref: 'refs/heads/main',
      branch: 'main',
      before: '5d1c0a0e8d7f4b1e2a3c4d5e6f708192a3b4c5d6',
      after: 'e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4',
      forced: false,
      toDefaultBranch: true,
    });
    expect(context.statusSha).toBe('e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4');
    expect(context.runUrl).toBe('https://github.com/acme/app/actions/runs/9876543210/attempts/2');
    expect(context.readOnlyToken).toBe(false);
  });

  it('reads workflow_dispatch inputs as strings', () => {
    const context = contextFor('workflow_dispatch', 'workflow_dispatch.json');
    expect(context.kind).toBe('workflow_dispatch');
    expect(context.inputs).toEqual({
      command: 'rollback',
      'to-version': '20240401000000',
      'dry-run': 'true',
      confirm: 'postgres',
    });
  });

  it('reads a schedule event', () => {
    const context = contextFor('schedule', 'schedule.json');
    expect(context.kind).toBe('schedule');
    expect(context.schedule).toBe('17 3 * * *');
    expect(context.inputs).toEqual({});
  });

  it('uses GitHub Enterprise Server URLs as given', () => {
    const context = contextFor('schedule', 'schedule.json', {
      GITHUB_SERVER_URL: 'https://ghe.example.com/',
      GITHUB_API_URL: 'https://ghe.example.com/api/v3',
    });
    expect(context.runUrl).toBe('https://ghe.example.com/acme/app/actions/runs/9876543210');
    expect(context.apiUrl).toBe('https://ghe.example.com/api/v3');
  });

  it('calls other events "other"', () => {
    expect(contextFor('merge_group', undefined).kind).toBe('other');
  });

  it('fails with GITHUB_CONTEXT_INVALID on a missing repository, a broken payload or a PR payload without a PR', () => {
    const attempts: [NodeJS.ProcessEnv, (path: string) => string, RegExp][] = [
      [{ GITHUB_EVENT_NAME: 'push' }, () => '{}', /GITHUB_REPOSITORY is not set/],
      [
        { GITHUB_EVENT_NAME: 'push', GITHUB_REPOSITORY: 'acme/app', GITHUB_EVENT_PATH: '/x' },
        () => '{not json',
        /not JSON/,
      ],
      [
        { GITHUB_EVENT_NAME: 'push', GITHUB_REPOSITORY: 'acme/app', GITHUB_EVENT_PATH: '/x' },
        () => {
          throw new Error('ENOENT');
        },
        /Cannot read the event payload/,
      ],
      [
        { GITHUB_EVENT_NAME: 'pull_request', GITHUB_REPOSITORY: 'acme/app', GITHUB_EVENT_PATH: '/x' },
        () => '{"action":"opened"}',
        /no pull_request.number/,
      ],
    ];
    for (const [env, read, message] of attempts) {
      let caught: unknown;
      try {
        readRunContext(env, read);
      } catch (error) {
        caught = error;
      }
      expect(isSupagateError(caught) && caught.code).toBe('GITHUB_CONTEXT_INVALID');
      expect((caught as Error).message).toMatch(message);
    }
  });
});
