import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isSupagateError } from '../src/core/errors.js';
import { createOctokit } from '../src/github/client.js';
import {
  APPROVAL_CONTEXT,
  CHECK_OUTPUT_LIMIT,
  completeCheckRun,
  createCheckRun,
  PLAN_CONTEXT,
  setCommitStatus,
  statusDescription,
} from '../src/github/status.js';
import { STEP_SUMMARY_LIMIT_BYTES, writeJobSummary } from '../src/github/summary.js';
import { FakeGitHubApi } from './harness/github-api.js';

const SHA = '9f2c1e4b7a6d5c3b2a1908f7e6d5c4b3a2910f8e';
const RUN = 'https://github.com/acme/app/actions/runs/9876543210';

let api: FakeGitHubApi;
beforeAll(async () => {
  api = await FakeGitHubApi.start({
    tokens: {
      'gha-token': { login: 'github-actions[bot]', kind: 'github-actions' },
      'fork-token': { login: 'github-actions[bot]', kind: 'github-actions', readOnly: true },
    },
  });
});
afterAll(async () => {
  await api.close();
});
beforeEach(() => api.reset());
const octokit = (token = 'gha-token') => createOctokit(token, { baseUrl: api.url });

describe('commit statuses', () => {
  it('posts supagate/plan and supagate/approval with the run as target', async () => {
    await setCommitStatus(octokit(), {
      owner: 'acme',
      repo: 'app',
      sha: SHA,
      context: PLAN_CONTEXT,
      state: 'failure',
      description: '2 blocking hazards: drop-column on public.posts.body, rls-disabled on public.notes',
      targetUrl: RUN,
    });
    await setCommitStatus(octokit(), {
      owner: 'acme',
      repo: 'app',
      sha: SHA,
      context: APPROVAL_CONTEXT,
      state: 'pending',
      description: '1 more approval needed',
      targetUrl: RUN,
    });
    const posted = api.requestsTo('POST', `/repos/acme/app/statuses/${SHA}`).map((r) => r.body);
    expect(posted).toEqual([
      {
        state: 'failure',
        context: 'supagate/plan',
        description: '2 blocking hazards: drop-column on public.posts.body, rls-disabled on public.notes',
        target_url: RUN,
      },
      {
        state: 'pending',
        context: 'supagate/approval',
        description: '1 more approval needed',
        target_url: RUN,
      },
    ]);
    expect(api.statuses.map((s) => `${s.context}=${s.state}`)).toEqual([
      'supagate/plan=failure',
      'supagate/approval=pending',
    ]);
  });

  it('cuts the description to 140 characters on one line', async () => {
    const long = `approval by alice is older than the last migration change\n(approved at 2024-05-02T11:59:59.000Z; the migrations changed at 2024-05-02T12:00:00.000Z in f00dfee)`;
    const result = await setCommitStatus(octokit(), {
      owner: 'acme',
      repo: 'app',
      sha: SHA,
      context: APPROVAL_CONTEXT,
      state: 'failure',
      description: long,
    });
    expect(result.description).toHaveLength(140);
    expect(result.description.endsWith('…')).toBe(true);
    expect(result.description).not.toContain('\n');
    expect(api.statuses[0]?.description).toBe(result.description);
    expect(api.statuses[0]?.target_url).toBeNull();
    expect(statusDescription('  short  ')).toBe('short');
    // A surrogate pair is never split.
    expect(statusDescription(`${'x'.repeat(138)}😀😀`).length).toBeLessThanOrEqual(140);
    expect(statusDescription(`${'x'.repeat(138)}😀😀`)).toBe(`${'x'.repeat(138)}…`);
  });

  it('a read-only token is refused with a typed error naming the permission', async () => {
    const error = await setCommitStatus(octokit('fork-token'), {
      owner: 'acme',
      repo: 'app',
      sha: SHA,
      context: PLAN_CONTEXT,
      state: 'success',
      description: 'ok',
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isSupagateError(error) && error.code).toBe('GITHUB_FORBIDDEN');
    expect(isSupagateError(error) && error.hint).toMatch(/fork.*statuses: write/s);
  });
});

describe('check runs', () => {
  it('creates a completed supagate/plan check run', async () => {
    const run = await createCheckRun(octokit(), {
      owner: 'acme',
      repo: 'app',
      headSha: SHA,
      conclusion: 'success',
      output: { title: 'Nothing blocking', summary: '### supagate plan\n✅ Nothing blocking.' },
      detailsUrl: RUN,
    });
    expect(run.trimmed).toBe(false);
    const [request] = api.requestsTo('POST', '/repos/acme/app/check-runs');
    expect(request?.body).toMatchObject({
      head_sha: SHA,
      name: 'supagate/plan',
      status: 'completed',
      conclusion: 'success',
      details_url: RUN,
      output: { title: 'Nothing blocking', summary: '### supagate plan\n✅ Nothing blocking.' },
    });
    expect(api.checkRuns[0]).toMatchObject({ id: run.id, status: 'completed', conclusion: 'success' });
  });

  it('starts a check run in progress and completes it as neutral (a fork) with a trimmed summary', async () => {
    const started = await createCheckRun(octokit(), {
      owner: 'acme',
      repo: 'app',
      headSha: SHA,
      output: { title: 'Planning…', summary: 'Running plan on a shadow database.' },
    });
    expect(api.checkRuns[0]).toMatchObject({ status: 'in_progress', conclusion: null });
    const huge = `### supagate plan\n<details><summary>SQL</summary>\n\n\`\`\`diff\n${'+ alter table x add column y int;\n'.repeat(5_000)}\`\`\`\n</details>\n`;
    const done = await completeCheckRun(octokit(), {
      owner: 'acme',
      repo: 'app',
      checkRunId: started.id,
      conclusion: 'neutral',
      output: { title: 'Not planned: pull request from a fork', summary: huge, text: huge },
      fullReportUrl: RUN,
    });
    expect(done).toMatchObject({ id: started.id, trimmed: true });
    const [request] = api.requestsTo('PATCH', `/repos/acme/app/check-runs/${started.id}`);
    const output = (request?.body as { output: { summary: string; text: string } }).output;
    for (const text of [output.summary, output.text]) {
      expect(text.length).toBeLessThanOrEqual(CHECK_OUTPUT_LIMIT);
      expect(text).toMatch(/```\n\n<\/details>\n\n> \[!NOTE\]\n> Cut to GitHub's limit of 65,535 characters/);
      expect(text).toContain(RUN);
    }
    expect(api.checkRuns[0]).toMatchObject({ status: 'completed', conclusion: 'neutral' });
  });
});

describe('job summary', () => {
  let dir: string;
  let file: string;
  let previous: string | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'supagate-summary-'));
    file = join(dir, 'summary.md');
    previous = process.env.GITHUB_STEP_SUMMARY;
    process.env.GITHUB_STEP_SUMMARY = file;
  });
  afterAll(async () => {
    if (previous === undefined) delete process.env.GITHUB_STEP_SUMMARY;
    else process.env.GITHUB_STEP_SUMMARY = previous;
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await writeFile(file, '');
  });

  it('writes the report as it is when it fits', async () => {
    const result = await writeJobSummary('### supagate plan\nAll good.');
    expect(result).toEqual({ written: true, trimmed: false, bytes: 28 });
    expect(await readFile(file, 'utf8')).toBe('### supagate plan\nAll good.\n');
  });

  it('cuts a report over 1 MiB on purpose, counting bytes and what the step wrote already', async () => {
    await writeFile(file, 'x'.repeat(100_000));
    const line = '| public.tëst | ✅ all rows | ⛔ no access |\n';
    const report = `### supagate plan\n${line.repeat(40_000)}`;
    expect(Buffer.byteLength(report)).toBeGreaterThan(STEP_SUMMARY_LIMIT_BYTES);
    const result = await writeJobSummary(report, { fullReportHint: 'the supagate-report artifact' });
    expect(result.trimmed).toBe(true);
    const written = await readFile(file);
    expect(written.length).toBeLessThanOrEqual(STEP_SUMMARY_LIMIT_BYTES);
    const text = written.toString('utf8');
    expect(text).not.toContain('\uFFFD');
    expect(
      text.endsWith(
        "> This summary was cut to stay under GitHub's 1 MiB limit for a step's job summary. The full report: the supagate-report artifact\n",
      ),
    ).toBe(true);
    // Cut at a line: the last table row is whole.
    expect(text).toContain(`${line}\n> [!NOTE]`);
  });

  it('writes nothing outside a runner', async () => {
    const saved = process.env.GITHUB_STEP_SUMMARY;
    delete process.env.GITHUB_STEP_SUMMARY;
    try {
      expect(await writeJobSummary('report')).toEqual({ written: false, trimmed: false, bytes: 0 });
    } finally {
      process.env.GITHUB_STEP_SUMMARY = saved;
    }
  });
});
