import type { Hazard } from '../core/schema/hazards.js';
import type { Octokit } from './client.js';
import { github } from './errors.js';
import { DEFAULT_COMMENT_AUTHOR } from './sticky-comment.js';
import { hunkRanges, isSuggestionComment, type LineRange, suggestionComments } from './suggestions.js';

/**
 * Posts the plan's safe rewrites on the pull request's lines: one review (event COMMENT, never
 * REQUEST_CHANGES) holding a comment per rewrite not posted before. What goes where is
 * decided by suggestions.ts; this reads the diff and supagate's earlier comments, and posts.
 */
export interface SuggestionTarget {
  owner: string;
  repo: string;
  pullNumber: number;
  /** The pull request's head commit: the lines are those of the files there. */
  headSha: string;
  hazards: Hazard[];
  toRepoPath: (path: string) => string;
  fileText: (path: string) => string | undefined;
  /** The login supagate comments as; default github-actions[bot]. */
  author?: string;
}

export interface PostedSuggestions {
  /** Comments in the review posted now (0: no review was posted). */
  posted: number;
}

export async function publishSuggestions(
  octokit: Octokit,
  target: SuggestionTarget,
): Promise<PostedSuggestions> {
  if (!target.hazards.some((h) => h.fix && h.location)) return { posted: 0 };
  const { owner, repo, pullNumber } = target;
  const [hunks, posted] = await Promise.all([diffHunks(octokit, target), postedComments(octokit, target)]);
  const comments = suggestionComments({
    hazards: target.hazards,
    toRepoPath: target.toRepoPath,
    fileText: target.fileText,
    hunks,
    posted,
  });
  if (comments.length === 0) return { posted: 0 };
  await github(
    {
      what: `post safe rewrites as a review of pull request #${pullNumber}`,
      permission: 'pull-requests: write',
      write: true,
    },
    () =>
      octokit.rest.pulls.createReview({
        owner,
        repo,
        pull_number: pullNumber,
        commit_id: target.headSha,
        event: 'COMMENT',
        body: `<!-- supagate:suggestions -->\nsupagate: ${comments.length === 1 ? 'a safe rewrite' : `${comments.length} safe rewrites`} of what the plan found, on the statements' lines.`,
        comments,
      }),
  );
  return { posted: comments.length };
}

async function diffHunks(octokit: Octokit, target: SuggestionTarget): Promise<Map<string, LineRange[]>> {
  const files = await github(
    { what: `list the files of pull request #${target.pullNumber}`, permission: 'pull-requests: read' },
    () =>
      octokit.paginate(octokit.rest.pulls.listFiles, {
        owner: target.owner,
        repo: target.repo,
        pull_number: target.pullNumber,
        per_page: 100,
      }),
  );
  return new Map(files.map((file) => [file.filename, hunkRanges(file.patch)]));
}

async function postedComments(octokit: Octokit, target: SuggestionTarget): Promise<{ body: string }[]> {
  const author = (target.author ?? DEFAULT_COMMENT_AUTHOR).toLowerCase();
  const comments = await github(
    {
      what: `list the review comments of pull request #${target.pullNumber}`,
      permission: 'pull-requests: read',
    },
    () =>
      octokit.paginate(octokit.rest.pulls.listReviewComments, {
        owner: target.owner,
        repo: target.repo,
        pull_number: target.pullNumber,
        per_page: 100,
      }),
  );
  return comments
    .filter((c) => c.user?.login.toLowerCase() === author && isSuggestionComment(c.body))
    .map((c) => ({ body: c.body }));
}
