import { relative, resolve, sep } from 'node:path';
import * as core from '@actions/core';
import { type ApplyContext, apply } from './core/commands/apply.js';
import { plan } from './core/commands/plan.js';
import { status } from './core/commands/status.js';
import { flag, resolveConfig, type SupagateConfig } from './core/config.js';
import { describeTarget } from './core/db/redact.js';
import { SupagateError } from './core/errors.js';
import { renderPlanMarkdown } from './core/report/markdown.js';
import { renderApply, renderError, renderStatus } from './core/report/text.js';
import { assertApproved, checkApproval, findPullRequestForCommit } from './github/approval.js';
import { createOctokit, type Octokit } from './github/client.js';
import { type GitHubRunContext, readRunContext } from './github/context.js';
import { publishPlan } from './github/publish-plan.js';
import { APPROVAL_CONTEXT, setCommitStatus } from './github/status.js';
import { stickyTargetId } from './github/sticky-comment.js';
import { writeJobSummary } from './github/summary.js';

/**
 * The Action glue: inputs → a core command → outputs and job summary. Decisions a CLI user
 * would also need live in core/, not here.
 */
const COMMANDS = ['status', 'plan', 'apply'] as const;
const LATER = ['rollback', 'drift', 'verify'];

export async function run(): Promise<void> {
  try {
    const command = core.getInput('command', { required: true }).trim();
    const config = configFromInputs();
    switch (command) {
      case 'status': {
        const result = await status(config);
        core.setOutput('pending_count', result.pending.length);
        core.setOutput('pending_versions', result.pending.join(','));
        await summary('supagate status', renderStatus(result));
        if (!result.ok) core.setFailed('Migration history and files disagree; see the job summary.');
        return;
      }
      case 'plan': {
        await runPlan(config);
        return;
      }
      case 'apply': {
        const dryRun = flag('dry-run', core.getInput('dry-run') || undefined, false);
        const result = await apply(config, {
          dryRun,
          ...(dryRun ? {} : { hooks: { beforeApply: (context) => approvalGate(config, context) } }),
        });
        core.setOutput('pending_count', result.plan.length);
        core.setOutput('applied_versions', result.applied.map((m) => m.version).join(','));
        core.setOutput('status', result.status);
        core.setOutput('backup_id', result.backup.status === 'taken' ? result.backup.id : '');
        await summary('supagate apply', renderApply(result));
        core.setOutput('verification', result.verification.status);
        if (result.status === 'failed') {
          core.setFailed(`Migration failed: ${result.failure?.path ?? ''}; see the job summary.`);
        }
        if (result.status === 'verify-failed') {
          core.setFailed(
            `Verification after apply failed; undo with: ${result.recovery?.command ?? 'see the job summary'}`,
          );
        }
        return;
      }
      default:
        core.setFailed(
          LATER.includes(command)
            ? `command "${command}" is not available in this version of supagate (available: ${COMMANDS.join(', ')})`
            : `Unknown command "${command}". Use one of: ${COMMANDS.join(', ')}.`,
        );
    }
  } catch (error) {
    core.setFailed(renderError(error));
  }
}

/**
 * plan on a pull request: the sticky comment and the `supagate/plan` status. From a fork the
 * token is read-only and there are no secrets: a neutral result that says why.
 */
async function runPlan(config: SupagateConfig): Promise<void> {
  const context = readRunContext();
  if (context.readOnlyToken && !config.dbUrl) {
    core.notice(
      'This pull request comes from a fork: GitHub gives its workflows no secrets and a read-only token, so supagate ' +
        'cannot read production or comment. A maintainer can run the plan from a branch of this repository.',
    );
    core.setOutput('blocking', 'false');
    await summary('supagate plan', 'Skipped: pull requests from forks get no secrets and a read-only token.');
    return;
  }
  const result = await plan(config);
  core.setOutput('pending_count', result.pending.length);
  core.setOutput('plan_hash', result.planHash);
  core.setOutput('blocking', String(result.blocking));
  await writeJobSummary(renderPlanMarkdown(result, { limit: Number.POSITIVE_INFINITY }));
  if (context.pullRequest && !context.readOnlyToken) {
    const octokit = createOctokit(core.getInput('github-token'), { baseUrl: context.apiUrl });
    const author = core.getInput('comment-author');
    const published = await publishPlan(octokit, context, result, {
      dbUrl: config.dbUrl ?? '',
      ...(author ? { author } : {}),
    });
    core.setOutput('comment_url', published.comment.url);
    await publishApprovalStatus(octokit, context, config, result.planHash);
  }
  if (result.blocking) {
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
  config: SupagateConfig,
  planHash: string,
): Promise<void> {
  const pull = context.pullRequest;
  if (!pull) return;
  const approval = await checkApproval(octokit, {
    ...approvalSettings(config, context, pull.number),
    currentPlanHash: planHash,
  });
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

/** The approval rules from the inputs, for one pull request. */
function approvalSettings(config: SupagateConfig, context: GitHubRunContext, pull: number) {
  const list = (name: string) =>
    core
      .getInput(name)
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
  const author = core.getInput('comment-author');
  const approvers = list('approvers');
  const approverTeams = list('approver-teams');
  return {
    owner: context.repository.owner,
    repo: context.repository.repo,
    pull,
    migrationsDir: repositoryPath(config.projectDir, config.migrationsDir),
    requiredApprovals: Number(core.getInput('required-approvals') || '1'),
    ...(approvers.length > 0 ? { approvers } : {}),
    ...(approverTeams.length > 0 ? { approverTeams } : {}),
    target: stickyTargetId(config.dbUrl ?? ''),
    ...(author ? { commentAuthor: author } : {}),
  };
}

/**
 * On a push (the merge), apply only what was approved: the pull request of the pushed commit
 * has the required approvals, given after its last migration change, for the plan that is
 * about to be applied (the plan hash recorded in the sticky comment equals the one computed
 * now). Runs before the backup; a refusal changes nothing.
 */
async function approvalGate(config: SupagateConfig, context: ApplyContext): Promise<void> {
  if (!flag('require-approval', core.getInput('require-approval') || undefined, true)) {
    core.warning('require-approval is false: applying without checking the pull request approvals.');
    return;
  }
  const run = readRunContext();
  if (run.kind !== 'push') return;
  if (!context.planHash) {
    throw new SupagateError('APPROVAL_MISSING', 'The approval gate compares plan hashes, and verify is off', {
      hint: 'Keep verify on (it computes the plan), or set require-approval: false to apply without the gate.',
    });
  }
  const octokit = createOctokit(core.getInput('github-token'), { baseUrl: run.apiUrl });
  const { owner, repo } = run.repository;
  const pull = await findPullRequestForCommit(octokit, { owner, repo, sha: run.sha });
  if (!pull) {
    throw new SupagateError('APPROVAL_MISSING', `No pull request is associated with commit ${run.sha}`, {
      hint: 'Merge migrations through a reviewed pull request, or set require-approval: false for direct pushes.',
    });
  }
  const approval = await checkApproval(octokit, {
    ...approvalSettings(config, run, pull.number),
    currentPlanHash: context.planHash,
  });
  assertApproved(approval, pull.number);
  core.info(
    `Approved by ${approval.approvals.map((a) => a.login).join(', ')} on pull request #${pull.number}.`,
  );
}

/** A folder as the repository names it (what commit file lists show): relative to the workspace. */
function repositoryPath(projectDir: string, folder: string): string {
  const root = process.env.GITHUB_WORKSPACE ?? process.cwd();
  return relative(root, resolve(root, projectDir, folder))
    .split(sep)
    .join('/');
}

function configFromInputs(): SupagateConfig {
  const dbUrl = core.getInput('db-url');
  if (dbUrl) {
    core.setSecret(dbUrl);
    const password = describeTarget(dbUrl).password;
    for (const secret of new Set(password ? [password, encodeURIComponent(password)] : []))
      core.setSecret(secret);
  }
  for (const secret of [
    core.getInput('backup-key'),
    core.getInput('supabase-service-key'),
    core.getInput('shadow-url'),
  ]) {
    if (secret) core.setSecret(secret);
  }
  return resolveConfig({
    projectDir: core.getInput('working-directory'),
    migrationsDir: core.getInput('migrations-dir'),
    rollbacksDir: core.getInput('rollbacks-dir'),
    dbUrl,
    atomic: core.getInput('atomic'),
    lockWaitMs: core.getInput('lock-wait'),
    lockTimeoutMs: core.getInput('lock-timeout'),
    statementTimeoutMs: core.getInput('statement-timeout'),
    includeAll: core.getInput('include-all'),
    strictHistory: core.getInput('strict-history'),
    allowEdited: core.getInput('allow-edited'),
    verify: core.getInput('verify'),
    onVerifyFailure: core.getInput('on-verify-failure'),
    shadowUrl: core.getInput('shadow-url'),
    backup: core.getInput('backup'),
    backupStore: core.getInput('backup-store'),
    backupDir: core.getInput('backup-dir'),
    backupKey: core.getInput('backup-key'),
    supabaseUrl: core.getInput('supabase-url'),
    supabaseServiceKey: core.getInput('supabase-service-key'),
    backupBucket: core.getInput('backup-bucket'),
    actor: process.env.GITHUB_ACTOR,
    runId: process.env.GITHUB_RUN_ID,
  });
}

async function summary(title: string, text: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  await core.summary.addHeading(title, 2).addCodeBlock(text).write();
}
