import type { PlanResult } from '../core/commands/plan.js';
import { renderPlanMarkdown } from '../core/report/markdown.js';
import type { Octokit } from './client.js';
import type { GitHubRunContext } from './context.js';
import { PLAN_CONTEXT, setCommitStatus } from './status.js';
import {
  commentHeader,
  type StickyCommentResult,
  stickyTargetId,
  upsertStickyComment,
} from './sticky-comment.js';

/**
 * Puts a plan where reviewers see it: the sticky PR comment (one per target database, with the
 * plan hash recorded for the approval gate) and the `supagate/plan` commit status.
 */
export interface PublishedPlan {
  comment: StickyCommentResult;
  statusState: 'success' | 'failure';
}

export function planCommentMarkdown(result: PlanResult, dbUrl: string, runUrl: string | undefined): string {
  return renderPlanMarkdown(result, {
    header: commentHeader({
      target: stickyTargetId(dbUrl),
      planHash: result.status === 'planned' || result.status === 'no-pending' ? result.planHash : undefined,
    }),
    ...(runUrl ? { fullReportUrl: runUrl } : {}),
  });
}

export async function publishPlan(
  octokit: Octokit,
  context: GitHubRunContext,
  result: PlanResult,
  options: { dbUrl: string; author?: string },
): Promise<PublishedPlan> {
  const pull = context.pullRequest;
  if (!pull) throw new Error('publishPlan needs a pull request event');
  const { owner, repo } = context.repository;
  const comment = await upsertStickyComment(octokit, {
    owner,
    repo,
    issueNumber: pull.number,
    target: stickyTargetId(options.dbUrl),
    ...(options.author ? { author: options.author } : {}),
    body: planCommentMarkdown(result, options.dbUrl, context.runUrl),
    fullReportUrl: context.runUrl,
  });
  const statusState = result.blocking ? 'failure' : 'success';
  await setCommitStatus(octokit, {
    owner,
    repo,
    sha: context.statusSha,
    context: PLAN_CONTEXT,
    state: statusState,
    description: result.blocking
      ? `Blocking: ${result.blockingReasons[0] ?? 'see the plan'}`
      : result.status === 'no-pending'
        ? 'No pending migrations'
        : `${result.pending.length} migration(s), ${result.diff.changes.length} object(s) changed, nothing blocking`,
    targetUrl: comment.url ?? context.runUrl,
  });
  return { comment, statusState };
}
