import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as core from '@actions/core';
import { appliedVersionsOf, effectDigestOf, historyDigestOf } from '../core/commands/gate.js';
import { type PlanResult, plan } from '../core/commands/plan.js';
import { status } from '../core/commands/status.js';
import type { SupagateConfig } from '../core/config.js';
import { renderPlanMarkdown } from '../core/report/markdown.js';
import { renderError } from '../core/report/text.js';
import { checkApproval } from '../github/approval.js';
import { createOctokit, type Octokit } from '../github/client.js';
import { type GitHubRunContext, readRunContext } from '../github/context.js';
import { FINDINGS_CHECK, publishFindingsCheck } from '../github/findings-check.js';
import { publishPlan } from '../github/publish-plan.js';
import { publishSuggestions } from '../github/publish-suggestions.js';
import { APPROVAL_CONTEXT, NO_MIGRATIONS, setCommitStatus } from '../github/status.js';
import { writeJobSummary } from '../github/summary.js';
import {
  approvalSettings,
  booleanInput,
  configFromInputs,
  optionalInput,
  repositoryPath,
  targetIdFromInputs,
  targetLabelFromInputs,
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
  const label = targetLabelFromInputs();
  const result = await plan(config);
  core.setOutput('pending_count', result.pending.length);
  core.setOutput('plan_hash', result.planHash);
  core.setOutput('blocking', String(result.blocking));
  core.setOutput('shadow_baseline', result.shadow?.baseline ?? '');
  const full = renderPlanMarkdown({ ...result, target: label }, { limit: Number.POSITIVE_INFINITY });
  await writeJobSummary(full);
  await publishReportFile(`supagate-plan-${target}`, full);
  if (context.pullRequest && !context.readOnlyToken) {
    const octokit = createOctokit(core.getInput('github-token'), { baseUrl: context.apiUrl });
    const author = optionalInput('comment-author');
    const record = result.status === 'planned' ? await effectRecord(config, result) : {};
    const published = await publishPlan(octokit, context, result, {
      target,
      label,
      ...(author ? { author } : {}),
      ...record,
      repositoryPath: (path) => repositoryPath(config.projectDir, path),
    });
    core.setOutput('comment_url', published.comment.url ?? '');
    await publishApprovalStatus(
      octokit,
      context,
      approvalSettings(config, context, context.pullRequest.number, target),
      result,
    );
    if (result.status === 'planned') {
      await publishFindings(octokit, context, config, result);
      if (booleanInput('suggest-fixes', true))
        await postSuggestions(octokit, context, config, result, author);
    }
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
  result: PlanResult,
): Promise<void> {
  if (result.status === 'no-pending') {
    // Nothing to apply, so nothing to approve: a required supagate/approval must not block
    // every pull request that changes no migration.
    await setCommitStatus(octokit, {
      owner: context.repository.owner,
      repo: context.repository.repo,
      sha: context.statusSha,
      context: APPROVAL_CONTEXT,
      state: 'success',
      description: NO_MIGRATIONS,
      targetUrl: context.runUrl,
    });
    return;
  }
  const approval = await checkApproval(octokit, { ...settings, currentPlanHash: result.planHash });
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

/**
 * What the plan comment records beside the plan hash: the pull request's own effect and the
 * migration history production had, so apply can carry an approval over migrations of other
 * pull requests applied since. Without the history (it could not be read) only the effect.
 */
async function effectRecord(
  config: SupagateConfig,
  result: PlanResult,
): Promise<{ effect: string; history?: string; applied?: { version: string; appliedAt?: string }[] }> {
  const effect = effectDigestOf(result);
  try {
    const applied = appliedVersionsOf(await status(config));
    return { effect, history: historyDigestOf(applied.map((a) => a.version)), applied };
  } catch (error) {
    core.warning(`The migration history was not recorded with the plan: ${renderError(error)}`);
    return { effect };
  }
}

/**
 * The safe rewrites as review comments on the statements' lines. Never fails the job: the
 * plan comment shows every rewrite anyway.
 */
async function postSuggestions(
  octokit: Octokit,
  context: GitHubRunContext,
  config: SupagateConfig,
  result: PlanResult,
  author: string | undefined,
): Promise<void> {
  const pull = context.pullRequest;
  if (!pull) return;
  try {
    const { posted } = await publishSuggestions(octokit, {
      owner: context.repository.owner,
      repo: context.repository.repo,
      pullNumber: pull.number,
      headSha: pull.headSha,
      hazards: result.hazards,
      toRepoPath: (path) => repositoryPath(config.projectDir, path),
      fileText: (path) => readMigrationText(config.projectDir, path),
      ...(author ? { author } : {}),
    });
    if (posted > 0) core.info(`Posted ${posted} safe rewrite(s) as review comments.`);
  } catch (error) {
    core.notice(
      `The safe rewrites were not posted as review suggestions: ${renderError(error)} They are in the plan comment.`,
    );
  }
}

function readMigrationText(projectDir: string, path: string): string | undefined {
  try {
    return readFileSync(resolve(projectDir, path), 'utf8');
  } catch {
    return undefined;
  }
}

/** The findings as annotations at their file:line. Without checks: write it is a warning. */
async function publishFindings(
  octokit: Octokit,
  context: GitHubRunContext,
  config: SupagateConfig,
  result: PlanResult,
): Promise<void> {
  try {
    const check = await publishFindingsCheck(octokit, {
      owner: context.repository.owner,
      repo: context.repository.repo,
      headSha: context.statusSha,
      result,
      toRepoPath: (path) => repositoryPath(config.projectDir, path),
      detailsUrl: context.runUrl,
    });
    core.info(`${FINDINGS_CHECK}: ${check.annotations} annotation(s), ${check.conclusion}.`);
  } catch (error) {
    core.warning(
      `The findings were not annotated (${FINDINGS_CHECK} check run): ${renderError(error)} Give the job checks: write.`,
    );
  }
}
