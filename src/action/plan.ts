import * as core from '@actions/core';
import { plan } from '../core/commands/plan.js';
import { renderPlanMarkdown } from '../core/report/markdown.js';
import { checkApproval } from '../github/approval.js';
import { createOctokit, type Octokit } from '../github/client.js';
import { type GitHubRunContext, readRunContext } from '../github/context.js';
import { publishPlan } from '../github/publish-plan.js';
import { APPROVAL_CONTEXT, setCommitStatus } from '../github/status.js';
import { writeJobSummary } from '../github/summary.js';
import {
  approvalSettings,
  configFromInputs,
  optionalInput,
  targetIdFromInputs,
  textSummary,
} from './inputs.js';
import { publishReportFile } from './report-file.js';

/**
 * plan on a pull request: the sticky comment, the `supagate/plan` and `supagate/approval`
 * statuses, the job summary and the full report. From a fork the token is read-only and there
 * are no secrets: a neutral result that says why.
 */
export async function runPlan(): Promise<void> {
  const context = readRunContext();
  const config = configFromInputs({ readOnly: true });
  if (context.readOnlyToken && !config.dbUrl) {
    core.notice(
      'This pull request comes from a fork: GitHub gives its workflows no secrets and a read-only token, so supagate ' +
        'cannot read production or comment. A maintainer can run the plan from a branch of this repository.',
    );
    core.setOutput('blocking', 'false');
    await textSummary(
      'supagate plan',
      'Skipped: pull requests from forks get no secrets and a read-only token.',
    );
    return;
  }
  if (context.kind === 'pull_request_target' && context.pullRequest?.fork) {
    // This event runs with the base repository's secrets and a write token: a fork's SQL must
    // not run anywhere from it, not even on the shadow server.
    core.notice(
      'supagate does not plan a fork’s migrations on pull_request_target: the job has this repository’s secrets, and ' +
        'the fork’s SQL would run with them. Plan on pull_request (forks get a neutral result there), or push the ' +
        'branch to this repository.',
    );
    core.setOutput('blocking', 'false');
    await textSummary('supagate plan', 'Skipped: a fork’s migrations are not run on pull_request_target.');
    return;
  }
  const target = targetIdFromInputs();
  const result = await plan(config);
  core.setOutput('pending_count', result.pending.length);
  core.setOutput('plan_hash', result.planHash);
  core.setOutput('blocking', String(result.blocking));
  const full = renderPlanMarkdown(result, { limit: Number.POSITIVE_INFINITY });
  await writeJobSummary(full);
  await publishReportFile(`supagate-plan-${target}`, full);
  if (context.pullRequest && !context.readOnlyToken) {
    const octokit = createOctokit(core.getInput('github-token'), { baseUrl: context.apiUrl });
    const author = optionalInput('comment-author');
    const published = await publishPlan(octokit, context, result, { target, ...(author ? { author } : {}) });
    core.setOutput('comment_url', published.comment.url ?? '');
    await publishApprovalStatus(
      octokit,
      context,
      approvalSettings(config, context, context.pullRequest.number, target),
      result.planHash,
    );
  }
  if (result.failure?.kind === 'environment') {
    core.setFailed(
      `supagate could not plan: ${result.failure.message}${result.failure.hint ? ` Hint: ${result.failure.hint}` : ''}`,
    );
  } else if (result.blocking) {
    core.setFailed(`The plan has blocking findings: ${result.blockingReasons.slice(0, 3).join('; ')}`);
  }
}

/**
 * The `supagate/approval` status on the pull request: green only when the same conditions the
 * apply gate checks hold, so branch protection can require it.
 */
async function publishApprovalStatus(
  octokit: Octokit,
  context: GitHubRunContext,
  settings: ReturnType<typeof approvalSettings>,
  planHash: string,
): Promise<void> {
  const approval = await checkApproval(octokit, { ...settings, currentPlanHash: planHash });
  await setCommitStatus(octokit, {
    owner: context.repository.owner,
    repo: context.repository.repo,
    sha: context.statusSha,
    context: APPROVAL_CONTEXT,
    state: approval.approved ? 'success' : 'pending',
    description: approval.approved
      ? `Approved by ${approval.approvals.map((a) => a.login).join(', ')}`
      : approval.missing.join('; '),
    targetUrl: context.runUrl,
  });
}
