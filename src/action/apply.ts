import * as core from '@actions/core';
import { type ApplyContext, type ApplyResult, apply } from '../core/commands/apply.js';
import type { SupagateConfig } from '../core/config.js';
import { SupagateError } from '../core/errors.js';
import { renderApplyMarkdown } from '../core/report/markdown.js';
import { countProgressPrinter } from '../core/report/progress.js';
import { renderApply, renderError } from '../core/report/text.js';
import { assertApproved, checkApproval, findPullRequestForCommit } from '../github/approval.js';
import { createOctokit } from '../github/client.js';
import { type GitHubRunContext, readRunContext } from '../github/context.js';
import { postResultComment } from '../github/result-comment.js';
import {
  approvalSettings,
  backupStoreFromInputs,
  booleanInput,
  configFromInputs,
  targetIdFromInputs,
  textSummary,
} from './inputs.js';

const PULL_REQUEST_EVENTS = new Set(['pull_request', 'pull_request_target', 'pull_request_review']);

/**
 * apply on a push to the default branch: the approval gate, then the core's plan on a shadow,
 * verified backup, apply and verification; the result goes to the job summary, the outputs
 * and a comment on the merged pull request.
 */
export async function runApply(): Promise<void> {
  const run = readRunContext();
  const config = configFromInputs();
  const target = targetIdFromInputs();
  const dryRun = booleanInput('dry-run', false);
  if (!dryRun && PULL_REQUEST_EVENTS.has(run.kind)) {
    throw new SupagateError(
      'CONFIG_INVALID',
      `apply does not run on ${run.eventName} events: the pull request's SQL would reach production before it is merged`,
      {
        hint: 'Run command: plan on pull requests, and apply on the push to the default branch (or dry-run: true here).',
        details: { setting: 'command' },
      },
    );
  }
  if (run.kind !== 'push' && booleanInput('require-approval', true)) {
    core.notice(
      `The approval gate checks the pull request of a push; this ${run.eventName} run relies on the environment's required reviewers.`,
    );
  }
  const store = backupStoreFromInputs(config, run);
  let pull: number | undefined;
  const result = await apply(config, {
    dryRun,
    onProgress: countProgressPrinter((line) => core.info(line.trimEnd())),
    ...(store ? { store } : {}),
    ...(dryRun
      ? {}
      : {
          hooks: {
            beforeApply: async (context) => {
              pull = await approvalGate(config, run, target, context);
            },
          },
        }),
  });
  core.setOutput('pending_count', result.plan.length);
  core.setOutput('applied_versions', result.applied.map((m) => m.version).join(','));
  core.setOutput('status', result.status);
  core.setOutput('backup_id', result.backup.status === 'taken' ? result.backup.id : '');
  core.setOutput('verification', result.verification.status);
  await textSummary('supagate apply', renderApply(result));
  if (
    run.kind === 'push' &&
    !dryRun &&
    result.status !== 'up-to-date' &&
    booleanInput('comment-on-merge', true)
  ) {
    await commentOnMergedPull(run, result, pull);
  }
  if (result.status === 'blocked' || (result.status === 'dry-run' && result.blockingReasons.length > 0)) {
    core.setFailed(
      `The plan blocks${result.status === 'dry-run' ? ' (dry run)' : ''}; nothing was applied:\n${result.blockingReasons.map((r) => `- ${r}`).join('\n')}`,
    );
  }
  if (result.status === 'failed') {
    core.setFailed(`Migration failed: ${result.failure?.path ?? ''}; see the job summary.`);
  }
  if (result.status === 'verify-failed') {
    core.setFailed(
      `Verification after apply failed; undo with: ${result.recovery?.command ?? 'see the job summary'}`,
    );
  }
}

/**
 * On a push (the merge), apply only what was approved: the pull request of the pushed commit
 * has the required approvals, given after its last migration change, for the plan that is
 * about to be applied (the plan hash recorded in the sticky comment equals the one computed
 * now). Runs before the backup; a refusal changes nothing. Returns the pull request.
 */
async function approvalGate(
  config: SupagateConfig,
  run: GitHubRunContext,
  target: string,
  context: ApplyContext,
): Promise<number | undefined> {
  if (!booleanInput('require-approval', true)) {
    core.warning('require-approval is false: applying without checking the pull request approvals.');
    return undefined;
  }
  if (run.kind !== 'push') return undefined;
  const octokit = createOctokit(core.getInput('github-token'), { baseUrl: run.apiUrl });
  const { owner, repo } = run.repository;
  const pull = await findPullRequestForCommit(octokit, { owner, repo, sha: run.sha });
  if (!pull) {
    throw new SupagateError('APPROVAL_MISSING', `No pull request is associated with commit ${run.sha}`, {
      hint: 'Merge migrations through a reviewed pull request, or set require-approval: false for direct pushes.',
    });
  }
  const approval = await checkApproval(octokit, {
    ...approvalSettings(config, run, pull.number, target),
    currentPlanHash: context.planHash,
  });
  assertApproved(approval, pull.number);
  core.info(
    `Approved by ${approval.approvals.map((a) => a.login).join(', ')} on pull request #${pull.number}.`,
  );
  return pull.number;
}

/** The result on the merged pull request. A comment that cannot be posted is a warning: the apply happened. */
async function commentOnMergedPull(
  run: GitHubRunContext,
  result: ApplyResult,
  knownPull: number | undefined,
): Promise<void> {
  try {
    const octokit = createOctokit(core.getInput('github-token'), { baseUrl: run.apiUrl });
    const { owner, repo } = run.repository;
    const pull =
      knownPull ?? (await findPullRequestForCommit(octokit, { owner, repo, sha: run.sha }))?.number;
    if (!pull) return;
    const comment = await postResultComment(octokit, {
      owner,
      repo,
      issueNumber: pull,
      body: renderApplyMarkdown(result, { fullReportUrl: run.runUrl }),
    });
    core.setOutput('comment_url', comment.url);
  } catch (error) {
    core.warning(`The result was not commented on the pull request: ${renderError(error)}`);
  }
}
