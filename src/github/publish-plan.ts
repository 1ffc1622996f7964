import { appliedSince } from '../core/commands/gate.js';
import type { PlanResult } from '../core/commands/plan.js';
import { githubFileUrl, renderPlanMarkdown } from '../core/report/markdown.js';
import { githubNow, type Octokit } from './client.js';
import type { GitHubRunContext } from './context.js';
import { NO_MIGRATIONS, PLAN_CONTEXT, setCommitStatus } from './status.js';
import {
  commentHeader,
  findStickyComments,
  type PlanEffectRecord,
  readPlanRecord,
  type StickyCommentResult,
  upsertStickyComment,
} from './sticky-comment.js';

/**
 * Puts a plan where reviewers see it: the sticky PR comment (one per target database, with the
 * plan hash recorded for the approval gate) and the `supagate/plan` commit status.
 */
export interface PublishedPlan {
  comment: StickyCommentResult;
  statusState: 'success' | 'failure' | 'error';
}

export function planCommentMarkdown(
  result: PlanResult,
  target: string,
  runUrl: string | undefined,
  planSince?: string,
  record: PlanEffectRecord & {
    label?: string;
    /** Links findings' files to the pull request's head commit. */
    fileUrl?: (path: string, line?: number) => string | undefined;
  } = {},
): string {
  const approvable = result.status === 'planned' || result.status === 'no-pending';
  return renderPlanMarkdown(record.label ? { ...result, target: record.label } : result, {
    header: commentHeader({
      target,
      planHash: approvable ? result.planHash : undefined,
      planSince: approvable ? planSince : undefined,
      effect: approvable ? record.effect : undefined,
      history: approvable ? record.history : undefined,
    }),
    ...(runUrl ? { fullReportUrl: runUrl } : {}),
    ...(record.fileUrl ? { fileUrl: record.fileUrl } : {}),
  });
}

export async function publishPlan(
  octokit: Octokit,
  context: GitHubRunContext,
  result: PlanResult,
  /** target: the target's id (stickyTargetId of its URL, or a name). */
  options: {
    target: string;
    author?: string;
    now?: Date;
    /** How the comment names the target (never its host). */
    label?: string;
    /** effectDigestOf the plan. */
    effect?: string;
    /** historyDigestOf production's applied versions. */
    history?: string;
    /** Production's applied versions with their application times, to tell a carried-over approval. */
    applied?: { version: string; appliedAt?: string }[];
    /** Post no supagate/plan status (apply refreshing the comment of a merged pull request). */
    commentOnly?: boolean;
    /** A migration's path (relative to the project) as a path in the repository: links findings to their file. */
    repositoryPath?: (path: string) => string;
  },
): Promise<PublishedPlan> {
  const pull = context.pullRequest;
  if (!pull) throw new Error('publishPlan needs a pull request event');
  const { owner, repo } = context.repository;
  // Since when this exact plan is on the pull request: kept while the hash stays the same, so
  // the approval gate can tell approvals of this plan from approvals of an earlier one.
  const existing = await findStickyComments(octokit, {
    owner,
    repo,
    issueNumber: pull.number,
    target: options.target,
    ...(options.author ? { author: options.author } : {}),
  });
  const record = existing[0] ? readPlanRecord(existing[0].body) : undefined;
  // Also kept when only other pull requests' migrations were applied since and this pull
  // request's own changes and findings are the same: the approval of it still holds.
  const carriedOver =
    record?.effect !== undefined &&
    record.effect === options.effect &&
    record.history !== undefined &&
    options.applied !== undefined &&
    (appliedSince(options.applied, record.history)?.length ?? 0) > 0;
  const since =
    (record?.hash === result.planHash || carriedOver) && record?.since
      ? record.since
      : (options.now ?? (await githubNow(octokit))).toISOString();
  const comment = await upsertStickyComment(octokit, {
    owner,
    repo,
    issueNumber: pull.number,
    target: options.target,
    ...(options.author ? { author: options.author } : {}),
    body: planCommentMarkdown(result, options.target, context.runUrl, since, {
      effect: options.effect,
      history: options.history,
      ...(options.label ? { label: options.label } : {}),
      ...(options.repositoryPath
        ? { fileUrl: fileLinks(context, pull.headSha, options.repositoryPath) }
        : {}),
    }),
    fullReportUrl: context.runUrl,
    // A pull request that never had pending migrations (a review of a PR without any) gets
    // no comment; one that had them is told when nothing is pending any more.
    updateOnly: result.status === 'no-pending',
    existing,
  });
  // A shadow that lacks what production has is an error of the setup, not a finding that blocks.
  const environment = result.failure?.kind === 'environment' ? result.failure : undefined;
  const statusState = environment ? 'error' : result.blocking ? 'failure' : 'success';
  if (options.commentOnly) return { comment, statusState };
  await setCommitStatus(octokit, {
    owner,
    repo,
    sha: context.statusSha,
    context: PLAN_CONTEXT,
    state: statusState,
    description: environment
      ? `Error: ${environment.message}`
      : result.blocking
        ? `Blocking: ${result.blockingReasons[0] ?? 'see the plan'}`
        : result.status === 'no-pending'
          ? NO_MIGRATIONS
          : `${result.pending.length} migration(s), ${result.diff.changes.length} object(s) changed, nothing blocking`,
    targetUrl: comment.url ?? context.runUrl,
  });
  return { comment, statusState };
}

/** Links to a finding's file at the pull request's head commit. */
function fileLinks(
  context: GitHubRunContext,
  headSha: string,
  repositoryPath: (path: string) => string,
): (path: string, line?: number) => string | undefined {
  const link = githubFileUrl(context.serverUrl, context.repository, headSha);
  return (path, line) => link(repositoryPath(path), line);
}
