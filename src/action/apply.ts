import * as core from '@actions/core';
import { type ApplyContext, type ApplyResult, apply } from '../core/commands/apply.js';
import { appliedVersionsOf, effectDigestOf, historyDigestOf } from '../core/commands/gate.js';
import type { SupagateConfig } from '../core/config.js';
import { redact } from '../core/db/redact.js';
import { SupagateError } from '../core/errors.js';
import { renderApplyMarkdown } from '../core/report/markdown.js';
import { countProgressPrinter } from '../core/report/progress.js';
import { renderApply, renderError } from '../core/report/text.js';
import { assertApproved, checkApproval, findPullRequestForCommit } from '../github/approval.js';
import { createOctokit, type Octokit } from '../github/client.js';
import { type GitHubRunContext, readRunContext } from '../github/context.js';
import { publishPlan } from '../github/publish-plan.js';
import { postResultComment } from '../github/result-comment.js';
import { APPLY_CONTEXT, type StatusState, setCommitStatus } from '../github/status.js';
import {
  actionWording,
  approvalSettings,
  backupStoreFromInputs,
  booleanInput,
  configFromInputs,
  escapeMarkdownLine,
  fencedText,
  optionalInput,
  targetIdFromInputs,
  targetLabelFromInputs,
  textSummary,
} from './inputs.js';

const PULL_REQUEST_EVENTS = new Set(['pull_request', 'pull_request_target', 'pull_request_review']);

/** Errors that refuse before anything changed: the approval gate, a plan that fails on the shadow, history problems. */
const REFUSALS = new Set([
  'APPROVAL_MISSING',
  'PLAN_FAILED',
  'CONFIG_INVALID',
  'ATOMIC_ALL_REFUSED',
  'HISTORY_OUT_OF_ORDER',
  'HISTORY_MISSING_LOCAL',
  'HISTORY_APPLIED_AS_OTHER_VERSION',
  'HISTORY_EDITED',
  'HISTORY_MISSING',
  'MIGRATION_FILE_INVALID',
  'MIGRATION_DUPLICATE_VERSION',
  'MIGRATION_PARSE_ERROR',
  'MIGRATION_TRANSACTION_CONTROL',
]);

/** What an apply run ended with, for the traces it leaves. */
type Outcome =
  | { kind: 'result'; result: ApplyResult }
  | { kind: 'error'; status: 'refused' | 'failed'; error: unknown };

/**
 * apply on a push to the default branch: the approval gate, then the core's plan on a shadow,
 * verified backup, apply and verification. Every outcome leaves a trace: the `status` output,
 * the job summary, the `supagate/apply` status on the pushed commit and a comment on the
 * merged pull request, whether it applied, refused or failed.
 */
export async function runApply(): Promise<void> {
  const run = readRunContext();
  const config = configFromInputs();
  const target = targetIdFromInputs();
  const label = targetLabelFromInputs();
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
  const traces = run.kind === 'push' && !dryRun;
  const gate: GateState = {};
  let outcome: Outcome;
  try {
    const store = backupStoreFromInputs(config, run);
    const result = await apply(config, {
      dryRun,
      onProgress: countProgressPrinter((line) => core.info(line.trimEnd())),
      ...(store ? { store } : {}),
      ...(dryRun
        ? {}
        : {
            hooks: {
              beforeApply: async (context) => {
                await approvalGate(config, run, target, context, gate);
              },
            },
          }),
    });
    outcome = { kind: 'result', result: { ...result, target: label } };
  } catch (error) {
    const code = error instanceof SupagateError ? error.code : undefined;
    outcome = { kind: 'error', status: code && REFUSALS.has(code) ? 'refused' : 'failed', error };
  }

  if (outcome.kind === 'result') {
    const { result } = outcome;
    core.setOutput('pending_count', result.plan.length);
    core.setOutput('applied_versions', result.applied.map((m) => m.version).join(','));
    core.setOutput('status', result.status);
    core.setOutput('backup_id', result.backup.status === 'taken' ? result.backup.id : '');
    core.setOutput('verification', result.verification.status);
    await textSummary('supagate apply', actionWording(renderApply(result)));
  } else {
    core.setOutput('status', outcome.status);
    core.setOutput('applied_versions', '');
    core.setOutput('backup_id', '');
    await textSummary(
      `supagate apply: ${outcome.status === 'refused' ? 'refused, nothing was applied' : 'failed'}`,
      actionWording(renderError(outcome.error)),
    );
  }

  if (traces) await leaveTraces(run, outcome, gate, label);

  if (outcome.kind === 'error') {
    core.setFailed(actionWording(renderError(outcome.error)));
    return;
  }
  const { result } = outcome;
  if (result.status === 'blocked' || (result.status === 'dry-run' && result.blockingReasons.length > 0)) {
    core.setFailed(
      `The plan blocks${result.status === 'dry-run' ? ' (dry run)' : ''}; nothing was applied:\n${result.blockingReasons.map((r) => `- ${r}`).join('\n')}`,
    );
  }
  if (result.status === 'failed') {
    core.setFailed(`Migration failed: ${result.failure?.path ?? ''}; see the job summary.`);
  }
  if (result.status === 'verify-failed') {
    core.setFailed(`Verification after apply failed; ${undoHint(result)}`);
  }
}

/** The undo of a failed verification, in the Action's words. */
function undoHint(result: ApplyResult): string {
  if (result.recovery && result.recovery.rolledBack.length > 0 && !result.recovery.rollbackFailure) {
    return `the down files of ${result.recovery.rolledBack.join(', ')} ran (on-verify-failure: rollback).`;
  }
  const to = /--to[ =](\S+)/.exec(result.recovery?.command ?? '')?.[1];
  const backup = result.backup.status === 'taken' ? result.backup.id : undefined;
  return [
    to ? `undo with the rollback job: to-version: ${to}` : undefined,
    backup ? `or restore the backup: backup-id: ${backup}` : undefined,
  ]
    .filter(Boolean)
    .join(', ')
    .concat('; see the job summary.');
}

interface GateState {
  pull?: number;
  /** The approval gate refused because the plan changed under the approval. */
  planChanged?: boolean;
  context?: ApplyContext;
}

/**
 * On a push (the merge), apply only what was approved: the pull request of the pushed commit
 * has the required approvals, given after its last migration change, for the plan that is
 * about to be applied, or for a plan with the same own effect when production changed only
 * by migrations applied since. Runs before the backup; a refusal changes nothing.
 */
async function approvalGate(
  config: SupagateConfig,
  run: GitHubRunContext,
  target: string,
  context: ApplyContext,
  state: GateState,
): Promise<void> {
  state.context = context;
  if (!booleanInput('require-approval', true)) {
    core.warning('require-approval is false: applying without checking the pull request approvals.');
    return;
  }
  if (run.kind !== 'push') return;
  const octokit = octokitFor(run);
  const { owner, repo } = run.repository;
  const pull = await findPullRequestForCommit(octokit, { owner, repo, sha: run.sha });
  if (!pull) {
    throw new SupagateError('APPROVAL_MISSING', `No pull request is associated with commit ${run.sha}`, {
      hint: 'Merge migrations through a reviewed pull request, or set require-approval: false for direct pushes.',
    });
  }
  state.pull = pull.number;
  const approval = await checkApproval(octokit, {
    ...approvalSettings(config, run, pull.number, target),
    currentPlanHash: context.planHash,
    currentEffect: effectDigestOf(context.plan),
    currentApplied: appliedVersionsOf(context.status),
  });
  if (approval.planChanged) state.planChanged = true;
  assertApproved(approval, pull.number);
  if (approval.carriedOver) {
    core.info(
      `Production changed since the approval only by ${approval.carriedOver.join(', ')} (applied since), and this pull request's own changes and findings are the same: the approval holds.`,
    );
  }
  core.info(
    `Approved by ${approval.approvals.map((a) => a.login).join(', ')} on pull request #${pull.number}.`,
  );
}

function octokitFor(run: GitHubRunContext): Octokit {
  return createOctokit(core.getInput('github-token'), { baseUrl: run.apiUrl });
}

/**
 * The outcome where people look: the `supagate/apply` status on the pushed commit, a comment on
 * the merged pull request and, when the plan changed under the approval, a fresh plan comment
 * that asks for approval again. Each that cannot be written is a warning: the outcome stands.
 */
async function leaveTraces(
  run: GitHubRunContext,
  outcome: Outcome,
  gate: GateState,
  label: string,
): Promise<void> {
  const octokit = octokitFor(run);
  const { owner, repo } = run.repository;
  const status = statusOf(outcome);
  await warnOnFailure('The supagate/apply status was not set', () =>
    setCommitStatus(octokit, {
      owner,
      repo,
      sha: run.sha,
      context: APPLY_CONTEXT,
      state: status.state,
      description: status.description,
      targetUrl: run.runUrl,
    }),
  );
  if (!booleanInput('comment-on-merge', true)) return;
  if (outcome.kind === 'result' && outcome.result.status === 'up-to-date') return;
  let pull = gate.pull;
  if (pull === undefined) {
    pull = await warnOnFailure(
      'The merged pull request was not found',
      async () =>
        (await findPullRequestForCommit(octokit, { owner, repo, sha: run.sha, retries: 1, delayMs: 1_000 }))
          ?.number,
    );
  }
  if (pull === undefined) return;
  const issueNumber = pull;
  if (gate.planChanged && gate.context)
    await refreshPlanComment(octokit, run, issueNumber, gate.context, label);
  const body =
    outcome.kind === 'result'
      ? actionWording(renderApplyMarkdown(outcome.result, { fullReportUrl: run.runUrl }))
      : errorComment(outcome, run, gate);
  const comment = await warnOnFailure('The result was not commented on the pull request', () =>
    postResultComment(octokit, { owner, repo, issueNumber, body }),
  );
  if (comment) core.setOutput('comment_url', comment.url);
}

function statusOf(outcome: Outcome): { state: StatusState; description: string } {
  if (outcome.kind === 'error') {
    const message = redact(outcome.error instanceof Error ? outcome.error.message : String(outcome.error));
    return outcome.status === 'refused'
      ? { state: 'failure', description: `Refused, nothing applied: ${message}` }
      : { state: 'error', description: `Failed: ${message}` };
  }
  const { result } = outcome;
  switch (result.status) {
    case 'applied':
      return {
        state: 'success',
        description: `Applied ${result.applied.map((m) => m.version).join(', ')}; verification ${result.verification.status}`,
      };
    case 'up-to-date':
      return { state: 'success', description: 'No migrations: nothing pending' };
    case 'blocked':
      return {
        state: 'failure',
        description: `Refused, the plan blocks: ${result.blockingReasons[0] ?? 'see the run'}`,
      };
    case 'verify-failed':
      return { state: 'failure', description: 'Applied, but verification failed: see the run' };
    case 'failed':
      return {
        state: 'error',
        description: `Migration failed: ${result.failure?.path ?? ''}${result.applied.length > 0 ? `; applied before it: ${result.applied.map((m) => m.version).join(', ')}` : ''}`,
      };
    default:
      return { state: 'success', description: result.status };
  }
}

/** A refusal or failure as a comment: the message and hint as text, whatever they hold. */
function errorComment(
  outcome: Extract<Outcome, { kind: 'error' }>,
  run: GitHubRunContext,
  gate: GateState,
): string {
  const error = outcome.error;
  const message = redact(error instanceof Error ? error.message : String(error));
  const hint = error instanceof SupagateError && error.hint ? actionWording(redact(error.hint)) : undefined;
  const title =
    outcome.status === 'refused'
      ? gate.planChanged
        ? '### ⛔ supagate apply refused: the plan changed since it was approved'
        : '### ⛔ supagate apply refused: nothing was applied'
      : '### ❌ supagate apply failed';
  return [
    title,
    '',
    fencedText(message),
    ...(hint ? ['', `**What to do:** ${escapeMarkdownLine(hint)}`] : []),
    ...(gate.planChanged
      ? [
          '',
          'The plan comment above now shows the plan as it is: review it, approve the pull request again, then re-run the apply job.',
        ]
      : []),
    '',
    `[The run](${run.runUrl})`,
  ].join('\n');
}

/** The plan apply computed, in the pull request's plan comment, with a new record: approval is asked again. */
async function refreshPlanComment(
  octokit: Octokit,
  run: GitHubRunContext,
  pull: number,
  context: ApplyContext,
  label: string,
): Promise<void> {
  const planned = context.plan;
  const author = optionalInput('comment-author');
  const applied = appliedVersionsOf(context.status);
  await warnOnFailure('The plan comment was not refreshed', async () => {
    await publishPlan(octokit, { ...run, pullRequest: pullContext(pull) }, planned, {
      target: targetIdFromInputs(),
      label,
      ...(author ? { author } : {}),
      effect: effectDigestOf(planned),
      history: historyDigestOf(applied.map((a) => a.version)),
      commentOnly: true,
    });
    core.info(
      `The plan comment on pull request #${pull} shows the plan as it is now; it needs approval again.`,
    );
  });
}

function pullContext(number: number): NonNullable<GitHubRunContext['pullRequest']> {
  return {
    number,
    action: undefined,
    headSha: '',
    headRef: '',
    baseRef: '',
    baseSha: '',
    author: '',
    headRepoFullName: null,
    fork: false,
    draft: false,
    merged: true,
    htmlUrl: undefined,
  };
}

async function warnOnFailure<T>(what: string, step: () => Promise<T>): Promise<T | undefined> {
  try {
    return await step();
  } catch (error) {
    core.warning(`${what}: ${renderError(error)}`);
    return undefined;
  }
}
