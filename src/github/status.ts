import type { Octokit } from './client.js';
import { github } from './errors.js';
import { fitMarkdown } from './trim.js';

/**
 * Commit statuses and check runs with stable names, so branch protection can require them:
 * `supagate/plan` (the plan has nothing blocking) and `supagate/approval` (approved, and the
 * approval is not stale). For pull_request events post them on the PR head
 * (GitHubRunContext.statusSha), not on GITHUB_SHA, the test merge commit.
 */
export const PLAN_CONTEXT = 'supagate/plan';
export const APPROVAL_CONTEXT = 'supagate/approval';
export const APPLY_CONTEXT = 'supagate/apply';
/** The description of supagate/plan and supagate/approval on a pull request with nothing pending. */
export const NO_MIGRATIONS = 'No migrations: nothing pending, nothing to approve';

/** GitHub's limits. */
export const STATUS_DESCRIPTION_LIMIT = 140;
export const CHECK_OUTPUT_LIMIT = 65_535;

export type StatusState = 'success' | 'failure' | 'pending' | 'error';

/** One line, at most 140 characters, cut with an ellipsis. */
export function statusDescription(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  if (line.length <= STATUS_DESCRIPTION_LIMIT) return line;
  let cut = line.slice(0, STATUS_DESCRIPTION_LIMIT - 1);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return `${cut.trimEnd()}…`;
}

export interface CommitStatusOptions {
  owner: string;
  repo: string;
  sha: string;
  context: string;
  state: StatusState;
  description: string;
  /** The run URL: where "Details" leads. */
  targetUrl?: string;
}

export interface PostedStatus {
  id: number;
  context: string;
  state: string;
  description: string;
}

export async function setCommitStatus(octokit: Octokit, options: CommitStatusOptions): Promise<PostedStatus> {
  const description = statusDescription(options.description);
  const { data } = await github(
    {
      what: `set the ${options.context} status on ${options.sha.slice(0, 7)}`,
      permission: 'statuses: write',
      write: true,
    },
    () =>
      octokit.rest.repos.createCommitStatus({
        owner: options.owner,
        repo: options.repo,
        sha: options.sha,
        state: options.state,
        context: options.context,
        description,
        ...(options.targetUrl ? { target_url: options.targetUrl } : {}),
      }),
  );
  return { id: data.id, context: data.context, state: data.state, description };
}

export type CheckConclusion = 'success' | 'failure' | 'neutral';

export type AnnotationLevel = 'failure' | 'warning' | 'notice';

/** A note on a file's line in the pull request's diff (GitHub takes at most 50 per request). */
export interface Annotation {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: AnnotationLevel;
  title: string;
  message: string;
}

export interface CheckOutput {
  title: string;
  /** Markdown; cut to 65,535 characters with a note. */
  summary: string;
  /** More markdown under the summary; cut the same way. */
  text?: string;
  annotations?: Annotation[];
}

export interface CheckRunOptions {
  owner: string;
  repo: string;
  headSha: string;
  /** Default supagate/plan. */
  name?: string;
  /** Omitted: the run is created in_progress and completed later with completeCheckRun. */
  conclusion?: CheckConclusion;
  output: CheckOutput;
  detailsUrl?: string;
  /** Where a cut summary says the full report is. */
  fullReportUrl?: string;
}

export interface PostedCheckRun {
  id: number;
  url: string;
  /** The summary or text had to be cut. */
  trimmed: boolean;
}

export async function createCheckRun(octokit: Octokit, options: CheckRunOptions): Promise<PostedCheckRun> {
  const name = options.name ?? PLAN_CONTEXT;
  const output = fitOutput(options.output, options.fullReportUrl);
  const { data } = await github(
    { what: `create the ${name} check run`, permission: 'checks: write', write: true },
    () =>
      octokit.rest.checks.create({
        owner: options.owner,
        repo: options.repo,
        head_sha: options.headSha,
        name,
        ...(options.detailsUrl ? { details_url: options.detailsUrl } : {}),
        ...(options.conclusion
          ? {
              status: 'completed' as const,
              conclusion: options.conclusion,
              completed_at: new Date().toISOString(),
            }
          : { status: 'in_progress' as const }),
        output: output.output,
      }),
  );
  return { id: data.id, url: data.html_url ?? '', trimmed: output.trimmed };
}

export async function completeCheckRun(
  octokit: Octokit,
  options: {
    owner: string;
    repo: string;
    checkRunId: number;
    conclusion: CheckConclusion;
    output: CheckOutput;
    fullReportUrl?: string;
  },
): Promise<PostedCheckRun> {
  const output = fitOutput(options.output, options.fullReportUrl);
  const { data } = await github(
    { what: `complete check run ${options.checkRunId}`, permission: 'checks: write', write: true },
    () =>
      octokit.rest.checks.update({
        owner: options.owner,
        repo: options.repo,
        check_run_id: options.checkRunId,
        status: 'completed',
        conclusion: options.conclusion,
        completed_at: new Date().toISOString(),
        output: output.output,
      }),
  );
  return { id: data.id, url: data.html_url ?? '', trimmed: output.trimmed };
}

function fitOutput(
  output: CheckOutput,
  fullReportUrl: string | undefined,
): {
  output: { title: string; summary: string; text?: string; annotations?: Annotation[] };
  trimmed: boolean;
} {
  const note = `Cut to GitHub's limit of 65,535 characters; the full report is in the job summary${fullReportUrl ? ` of ${fullReportUrl}` : ''}.`;
  const summary = fitMarkdown(output.summary, { maxChars: CHECK_OUTPUT_LIMIT, note });
  const text =
    output.text === undefined ? undefined : fitMarkdown(output.text, { maxChars: CHECK_OUTPUT_LIMIT, note });
  return {
    output: {
      title: output.title.replace(/\s+/g, ' ').trim().slice(0, 255) || 'supagate',
      summary: summary.text,
      ...(text ? { text: text.text } : {}),
      ...(output.annotations ? { annotations: output.annotations } : {}),
    },
    trimmed: summary.trimmed || (text?.trimmed ?? false),
  };
}
