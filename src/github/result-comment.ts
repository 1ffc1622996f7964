import type { Octokit } from './client.js';
import { github } from './errors.js';
import { COMMENT_BODY_LIMIT } from './sticky-comment.js';
import { fitMarkdown } from './trim.js';

/**
 * A one-off comment with the result of an apply on the pull request it came from. Unlike the
 * plan comment it is not updated in place: each apply is its own event in the PR's history.
 */
export interface ResultCommentOptions {
  owner: string;
  repo: string;
  issueNumber: number;
  body: string;
}

export async function postResultComment(
  octokit: Octokit,
  options: ResultCommentOptions,
): Promise<{ id: number; url: string }> {
  const { data } = await github(
    {
      what: `comment the result on pull request #${options.issueNumber}`,
      permission: 'pull-requests: write',
      write: true,
    },
    () =>
      octokit.rest.issues.createComment({
        owner: options.owner,
        repo: options.repo,
        issue_number: options.issueNumber,
        body: fitMarkdown(options.body, {
          maxChars: COMMENT_BODY_LIMIT,
          note: 'The result was cut to fit a comment; the run has all of it.',
        }).text,
      }),
  );
  return { id: data.id, url: data.html_url };
}
