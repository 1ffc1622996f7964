import { SupagateError } from '../core/errors.js';
import type { Octokit } from './client.js';
import { github } from './errors.js';
import { DEFAULT_COMMENT_AUTHOR } from './sticky-comment.js';
import { fitMarkdown } from './trim.js';

/**
 * ONE open issue per target database while production drifts from what the migrations
 * produce: labelled `supagate-drift`, found by its label, a hidden marker and its author,
 * updated on every scheduled run that still sees drift, closed (with a comment) by the
 * first run that sees none. A new drift after that opens a new issue.
 */
export const DRIFT_LABEL = 'supagate-drift';
export const ISSUE_BODY_LIMIT = 65_536;

export function driftMarker(target: string): string {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(target)) {
    throw new SupagateError('INTERNAL', `A drift target id must be a short id, got "${target.slice(0, 80)}"`);
  }
  return `<!-- supagate:drift target=${target} -->`;
}

export interface DriftIssueOptions {
  owner: string;
  repo: string;
  /** stickyTargetId(dbUrl). */
  target: string;
  drift: boolean;
  /** Markdown report of the drift (used when drift is true). */
  body: string;
  /** Default: "supagate: production schema drifted from the migrations". */
  title?: string;
  /** The run that saw it. */
  runUrl?: string;
  /** The login the token writes as (resolveCommentAuthor); default github-actions[bot]. */
  author?: string;
}

export interface DriftIssueResult {
  action: 'created' | 'updated' | 'closed' | 'none';
  number?: number;
  url?: string;
  trimmed: boolean;
}

const DEFAULT_TITLE = 'supagate: production schema drifted from the migrations';

export async function syncDriftIssue(
  octokit: Octokit,
  options: DriftIssueOptions,
): Promise<DriftIssueResult> {
  const marker = driftMarker(options.target);
  const author = (options.author ?? DEFAULT_COMMENT_AUTHOR).toLowerCase();
  const { owner, repo } = options;
  const listed = await github(
    { what: `list the open ${DRIFT_LABEL} issues`, permission: 'issues: read' },
    () =>
      octokit.paginate(octokit.rest.issues.listForRepo, {
        owner,
        repo,
        labels: DRIFT_LABEL,
        state: 'open',
        per_page: 100,
      }),
  );
  const existing = listed
    .filter(
      (issue) =>
        !issue.pull_request &&
        issue.user?.login.toLowerCase() === author &&
        (issue.body ?? '').split('\n', 1)[0]?.trim() === marker,
    )
    .sort((a, b) => b.created_at.localeCompare(a.created_at) || b.number - a.number)[0];

  if (!options.drift) {
    if (!existing) return { action: 'none', trimmed: false };
    await github(
      { what: `comment on drift issue #${existing.number}`, permission: 'issues: write', write: true },
      () =>
        octokit.rest.issues.createComment({
          owner,
          repo,
          issue_number: existing.number,
          body: `No drift any more: production matches the migrations${options.runUrl ? ` (checked by ${options.runUrl})` : ''}. Closing.`,
        }),
    );
    const { data } = await github(
      { what: `close drift issue #${existing.number}`, permission: 'issues: write', write: true },
      () =>
        octokit.rest.issues.update({
          owner,
          repo,
          issue_number: existing.number,
          state: 'closed',
          state_reason: 'completed',
        }),
    );
    return { action: 'closed', number: data.number, url: data.html_url, trimmed: false };
  }

  const footer = options.runUrl
    ? `\n\n---\nLast checked by ${options.runUrl} at ${new Date().toISOString()}.\n`
    : '\n';
  const fitted = fitMarkdown(`${marker}\n${options.body.trimEnd()}${footer}`, {
    maxChars: ISSUE_BODY_LIMIT,
    note: `Cut to GitHub's limit of 65,536 characters; the full report is in the job summary${options.runUrl ? ` of ${options.runUrl}` : ''}.`,
  });
  const title = options.title ?? DEFAULT_TITLE;
  if (existing) {
    const { data } = await github(
      { what: `update drift issue #${existing.number}`, permission: 'issues: write', write: true },
      () =>
        octokit.rest.issues.update({ owner, repo, issue_number: existing.number, title, body: fitted.text }),
    );
    return { action: 'updated', number: data.number, url: data.html_url, trimmed: fitted.trimmed };
  }
  const { data } = await github(
    { what: 'open the drift issue', permission: 'issues: write', write: true },
    () => octokit.rest.issues.create({ owner, repo, title, body: fitted.text, labels: [DRIFT_LABEL] }),
  );
  return { action: 'created', number: data.number, url: data.html_url, trimmed: fitted.trimmed };
}
