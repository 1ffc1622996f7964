import { targetFingerprint } from '../core/backup/manifest.js';
import { SupagateError } from '../core/errors.js';
import type { Octokit } from './client.js';
import { github, statusOf } from './errors.js';
import { fitMarkdown } from './trim.js';

/**
 * ONE plan comment per pull request and target database, found again by a hidden marker
 * and by its author. Comments are read page by page to the end: on a busy pull request the
 * comment may be on page 3, and a caller that reads one page would post a duplicate.
 *
 *     <!-- supagate:plan target=3f2a9c1b0d4e -->
 *     <!-- supagate:plan-hash 9f86d08188…(64 hex) -->
 *     ### supagate plan: …
 */

/** GitHub's limit for a comment body, in characters. */
export const COMMENT_BODY_LIMIT = 65_536;

/** Who writes the comment with the workflow's GITHUB_TOKEN. */
export const DEFAULT_COMMENT_AUTHOR = 'github-actions[bot]';

const TARGET_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const MARKER_LINE = /^<!-- supagate:[^\n]*-->$/;
const PLAN_HASH_LINE =
  /^<!-- supagate:plan-hash ([0-9a-f]{16,128})(?: since=([0-9T:.Z-]{20,30}))?(?: effect=([0-9a-f]{64}))?(?: history=([0-9a-f]{64}))? -->$/;

/**
 * The short id of a target database in markers: 12 hex characters of the sha256 over its
 * host, port and database name. No host, user or password appears in a comment.
 */
export function stickyTargetId(dbUrl: string): string {
  return targetFingerprint(dbUrl).slice(0, 12);
}

export function planMarker(target: string): string {
  checkTarget(target);
  return `<!-- supagate:plan target=${target} -->`;
}

/**
 * The pull request's own effect (effectDigestOf) and the migration history the plan saw
 * (historyDigestOf): with them, apply can tell production changed only by migrations applied
 * since, while this pull request's changes and findings stayed the same.
 */
export interface PlanEffectRecord {
  effect?: string | undefined;
  history?: string | undefined;
}

export function planHashMarker(planHash: string, since?: string, record: PlanEffectRecord = {}): string {
  if (!/^[0-9a-f]{16,128}$/.test(planHash)) {
    throw new SupagateError('INTERNAL', `A plan hash must be lower-case hex, got "${planHash.slice(0, 80)}"`);
  }
  if (since !== undefined && (!/^[0-9T:.Z-]{20,30}$/.test(since) || Number.isNaN(Date.parse(since)))) {
    throw new SupagateError(
      'INTERNAL',
      `A plan record time must be ISO 8601 UTC, got "${since.slice(0, 80)}"`,
    );
  }
  for (const digest of [record.effect, record.history]) {
    if (digest !== undefined && !/^[0-9a-f]{64}$/.test(digest)) {
      throw new SupagateError(
        'INTERNAL',
        `A plan digest must be 64 hex characters, got "${digest.slice(0, 80)}"`,
      );
    }
  }
  const extra = `${record.effect ? ` effect=${record.effect}` : ''}${record.history ? ` history=${record.history}` : ''}`;
  return `<!-- supagate:plan-hash ${planHash}${since ? ` since=${since}` : ''}${extra} -->`;
}

/**
 * The hidden lines that start the comment: pass as `header` to renderPlanMarkdown. Without a
 * plan hash (nothing pending, the plan failed) nothing can be approved from the comment.
 * `planSince`: when this hash was first recorded; approvals given before it do not count.
 */
export function commentHeader(options: {
  target: string;
  planHash?: string | undefined;
  planSince?: string | undefined;
  effect?: string | undefined;
  history?: string | undefined;
}): string {
  return [
    planMarker(options.target),
    ...(options.planHash
      ? [
          planHashMarker(options.planHash, options.planSince, {
            effect: options.effect,
            history: options.history,
          }),
        ]
      : []),
  ].join('\n');
}

/** The plan a comment records: its hash and, when written by this version, since when. */
export interface PlanRecord {
  hash: string;
  /** ISO 8601: when a plan with this hash was first recorded in the comment. */
  since?: string;
  /** effectDigestOf the plan: the pull request's own changes and findings. */
  effect?: string;
  /** historyDigestOf the applied versions the plan saw. */
  history?: string;
}

/**
 * The plan hash the comment records. Only the leading block of supagate marker lines is
 * read, so text further down (a migration's name, SQL, anything the renderer shows) can
 * never pose as the recorded hash.
 */
export function readPlanRecord(body: string): PlanRecord | undefined {
  for (const line of body.replace(/\r\n/g, '\n').split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    if (!MARKER_LINE.test(trimmed)) return undefined;
    const match = PLAN_HASH_LINE.exec(trimmed);
    if (match) {
      return {
        hash: match[1] as string,
        ...(match[2] ? { since: match[2] } : {}),
        ...(match[3] ? { effect: match[3] } : {}),
        ...(match[4] ? { history: match[4] } : {}),
      };
    }
  }
  return undefined;
}

export function readPlanHashFromComment(body: string): string | undefined {
  return readPlanRecord(body)?.hash;
}

/** Whether `body` is a plan comment for `target` (the marker is in its leading block). */
export function hasPlanMarker(body: string, target: string): boolean {
  const marker = planMarker(target);
  for (const line of body.replace(/\r\n/g, '\n').split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    if (!MARKER_LINE.test(trimmed)) return false;
    if (trimmed === marker) return true;
  }
  return false;
}

export interface StickyComment {
  id: number;
  body: string;
  url: string;
  author: string;
  createdAt: string;
  updatedAt: string;
}

export interface StickyTarget {
  owner: string;
  repo: string;
  /** The pull request (or issue) number. */
  issueNumber: number;
  /** stickyTargetId(dbUrl). */
  target: string;
  /** The login the token writes as; comments by anyone else are ignored. Default github-actions[bot]. */
  author?: string;
}

/** Every plan comment for the target by the author, newest first. */
export async function findStickyComments(octokit: Octokit, options: StickyTarget): Promise<StickyComment[]> {
  checkTarget(options.target);
  const author = (options.author ?? DEFAULT_COMMENT_AUTHOR).toLowerCase();
  const comments = await github(
    { what: `read the comments of pull request #${options.issueNumber}`, permission: 'pull-requests: read' },
    () =>
      octokit.paginate(octokit.rest.issues.listComments, {
        owner: options.owner,
        repo: options.repo,
        issue_number: options.issueNumber,
        per_page: 100,
      }),
  );
  return comments
    .filter(
      (comment) =>
        comment.user?.login.toLowerCase() === author &&
        typeof comment.body === 'string' &&
        hasPlanMarker(comment.body, options.target),
    )
    .map((comment) => ({
      id: comment.id,
      body: comment.body ?? '',
      url: comment.html_url,
      author: comment.user?.login ?? '',
      createdAt: comment.created_at,
      updatedAt: comment.updated_at,
    }))
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id - a.id);
}

export async function findStickyComment(
  octokit: Octokit,
  options: StickyTarget,
): Promise<StickyComment | undefined> {
  return (await findStickyComments(octokit, options))[0];
}

export interface StickyCommentResult {
  /** none: `updateOnly` and there was no comment to update. */
  action: 'created' | 'updated' | 'none';
  commentId?: number;
  url?: string;
  /** The body was over 65,536 characters and was cut (the renderer should have fitted it). */
  trimmed: boolean;
  /** Older plan comments for the same target (from a race between two runs); left as they are. */
  duplicates: number[];
  note?: string;
}

export interface UpsertOptions extends StickyTarget {
  /** The comment markdown; the markers are added at the top when it does not start with them. */
  body: string;
  /** Recorded in the comment when given and the body does not record one already. */
  planHash?: string;
  /** Where the full report is, said when the body had to be cut. */
  fullReportUrl?: string;
  /** Update the comment when there is one, but do not start one. */
  updateOnly?: boolean;
  /** The plan comments for the target, newest first, when the caller has just listed them. */
  existing?: StickyComment[];
}

/**
 * Updates the plan comment for the target, or creates it. When several exist (two runs
 * raced), the newest is updated and none is deleted: the result says so.
 */
export async function upsertStickyComment(
  octokit: Octokit,
  options: UpsertOptions,
): Promise<StickyCommentResult> {
  const body = prepareBody(options);
  const existing = options.existing ?? (await findStickyComments(octokit, options));
  const [newest, ...older] = existing;
  const duplicates = older.map((c) => c.id);
  const note =
    duplicates.length > 0
      ? `Found ${existing.length} supagate plan comments for this target (two runs raced); updated the newest (${newest?.id}) and left ${duplicates.length === 1 ? 'the other' : 'the others'} (${duplicates.join(', ')}).`
      : undefined;
  if (newest) {
    const { data } = await github(
      {
        what: `update the plan comment on pull request #${options.issueNumber}`,
        permission: 'pull-requests: write',
        write: true,
      },
      () =>
        octokit.rest.issues.updateComment({
          owner: options.owner,
          repo: options.repo,
          comment_id: newest.id,
          body: body.text,
        }),
    );
    return {
      action: 'updated',
      commentId: data.id,
      url: data.html_url,
      trimmed: body.trimmed,
      duplicates,
      ...(note ? { note } : {}),
    };
  }
  if (options.updateOnly) return { action: 'none', trimmed: false, duplicates: [] };
  const { data } = await github(
    {
      what: `comment on pull request #${options.issueNumber}`,
      permission: 'pull-requests: write',
      write: true,
    },
    () =>
      octokit.rest.issues.createComment({
        owner: options.owner,
        repo: options.repo,
        issue_number: options.issueNumber,
        body: body.text,
      }),
  );
  return { action: 'created', commentId: data.id, url: data.html_url, trimmed: body.trimmed, duplicates: [] };
}

/**
 * The login comments written with this token carry. A given login wins (a GitHub App's
 * token writes as `<app-slug>[bot]`); else GET /user for a personal token; GITHUB_TOKEN and
 * App tokens cannot call /user (403), which means github-actions[bot].
 */
export async function resolveCommentAuthor(octokit: Octokit, configured?: string): Promise<string> {
  if (configured?.trim()) return configured.trim();
  try {
    const { data } = await octokit.rest.users.getAuthenticated();
    return data.login;
  } catch (error) {
    const status = statusOf(error);
    if (status === 403 || status === 401 || status === 404) return DEFAULT_COMMENT_AUTHOR;
    throw error;
  }
}

function prepareBody(options: UpsertOptions): { text: string; trimmed: boolean } {
  const header: string[] = [];
  if (!hasPlanMarker(options.body, options.target)) header.push(planMarker(options.target));
  if (options.planHash && readPlanHashFromComment(options.body) === undefined) {
    header.push(planHashMarker(options.planHash));
  }
  // The markers must stay in the leading block: put them before anything else.
  const text = header.length > 0 ? `${header.join('\n')}\n${options.body}` : options.body;
  const fitted = fitMarkdown(text, {
    maxChars: COMMENT_BODY_LIMIT,
    note: `This comment was cut to GitHub's limit of 65,536 characters.${
      options.fullReportUrl
        ? ` The full report is in the job summary of ${options.fullReportUrl}`
        : ' The full report is in the job summary of the run.'
    }`,
  });
  return fitted;
}

function checkTarget(target: string): void {
  if (!TARGET_ID.test(target)) {
    throw new SupagateError(
      'INTERNAL',
      `A comment target id must match ${TARGET_ID}, got "${target.slice(0, 80)}"`,
    );
  }
}
