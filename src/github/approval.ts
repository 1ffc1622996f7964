import { appliedSince } from '../core/commands/gate.js';
import { SupagateError } from '../core/errors.js';
import type { Octokit } from './client.js';
import { github, statusOf, toGitHubError } from './errors.js';
import { findStickyComment, type PlanRecord, readPlanRecord } from './sticky-comment.js';

/**
 * The approval gate: are there enough approvals of THIS plan? The latest review of each
 * reviewer counts; the PR author never counts; an approval older than the last change to
 * the migrations does not count; configured approvers (logins or org teams) narrow who
 * counts; and the plan hash recorded in the plan comment must equal the plan computed now,
 * so a change of production underneath the approved plan also needs a new look, and the
 * approval must be younger than that plan (re-running plan after such a change records the
 * new hash, and with it the time it changed).
 */
export interface ReviewLike {
  id?: number;
  user: { login: string } | null;
  state: string;
  submitted_at?: string | null;
  commit_id?: string | null;
  /** OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR, NONE, … (as the API returns it). */
  author_association?: string;
}

export type TeamMembershipLookup = (org: string, team: string, login: string) => Promise<boolean>;

export interface ApprovalInput {
  reviews: ReviewLike[];
  prAuthor: string;
  requiredApprovals: number;
  /** Logins whose approvals count. With approverTeams: either. Neither: anyone with access. */
  approvers?: string[];
  /** `org/team-slug`; members (state active) count. Needs isTeamMember. */
  approverTeams?: string[];
  isTeamMember?: TeamMembershipLookup;
  /** Committer date of the last PR commit that touched the migrations; undefined: none did. */
  lastMigrationChangeAt: Date | undefined;
  /** That commit's sha, for the message. */
  lastMigrationChangeSha?: string;
  /**
   * The PR's commits from the last migration change to the head. When given, an approval
   * must also have been given on one of them: committer dates are written by the committer
   * and can be back-dated, the commit a review was given on cannot.
   */
  approvableCommits?: string[];
  /** The hash in the plan comment (readPlanRecord); undefined: no comment or none recorded. */
  recordedPlanHash?: string;
  /**
   * Since when the comment shows a plan with that hash; approvals given earlier, or in the same
   * second, were of another plan.
   */
  recordedPlanSince?: Date;
  currentPlanHash: string;
  /** The pull request's own effect as recorded with the plan (PlanRecord.effect). */
  recordedEffect?: string;
  /** …and as computed now (effectDigestOf). */
  currentEffect?: string;
  /**
   * The versions applied to production since the recorded plan (appliedSince), when the
   * history now is the recorded one plus them; undefined when it is not.
   */
  appliedSincePlan?: string[];
}

export interface Approval {
  login: string;
  /** submitted_at, ISO 8601. */
  at: string;
}

export interface ApprovalResult {
  approved: boolean;
  /** The approvals that count. */
  approvals: Approval[];
  /** Why it is not approved, one exact reason each; empty when approved. */
  missing: string[];
  /** Approvals that do not count, and why (also when approved anyway). */
  ignored: (Approval & { reason: string })[];
  required: number;
  /**
   * The plan hash differs only because these versions (other pull requests') were applied since
   * the approval, and this pull request's own changes and findings are the same: still approved.
   */
  carriedOver?: string[];
  /** The plan changed under the approval (the plan hash differs and the carry-over does not hold). */
  planChanged?: boolean;
}

export const PLAN_CHANGED = 'the plan changed since it was approved: production or the migrations differ';

/** Associations of people with access to the repository; anyone else's review is only an opinion. */
const TRUSTED_ASSOCIATIONS = new Set(['OWNER', 'MEMBER', 'COLLABORATOR']);

/**
 * Whether `at` falls in a later second than `moment`. GitHub's clock counts whole seconds, so
 * an approval in the same second as the plan was posted (or the migrations changed) cannot be
 * told to come after it, and does not count.
 */
function inLaterSecond(at: string, moment: Date): boolean {
  return Math.floor(Date.parse(at) / 1000) > Math.floor(moment.getTime() / 1000);
}

/** Review states that replace a reviewer's earlier verdict. COMMENTED does not; PENDING is unsent. */
const VERDICTS = new Set(['APPROVED', 'CHANGES_REQUESTED', 'DISMISSED']);

export async function evaluateApproval(input: ApprovalInput): Promise<ApprovalResult> {
  const required = Math.max(0, Math.floor(input.requiredApprovals));
  const author = input.prAuthor.toLowerCase();
  const approvers = new Set((input.approvers ?? []).map((l) => l.trim().toLowerCase()).filter(Boolean));
  const teams = (input.approverTeams ?? []).map((t) => t.trim()).filter(Boolean);
  const restricted = approvers.size > 0 || teams.length > 0;
  if (teams.length > 0 && !input.isTeamMember) {
    throw new SupagateError(
      'CONFIG_INVALID',
      'Approver teams are configured but team membership cannot be checked',
      {
        hint: 'Pass isTeamMember (teamMembershipViaApi(octokit)).',
      },
    );
  }

  // The latest verdict of each reviewer, in the order the reviews were submitted.
  const latest = new Map<string, { review: ReviewLike; index: number }>();
  input.reviews
    .map((review, index) => ({ review, index }))
    .filter(
      ({ review }) => review.user?.login && VERDICTS.has(review.state.toUpperCase()) && review.submitted_at,
    )
    .sort(
      (a, b) =>
        Date.parse(a.review.submitted_at as string) - Date.parse(b.review.submitted_at as string) ||
        a.index - b.index,
    )
    .forEach((entry) => {
      latest.set((entry.review.user as { login: string }).login.toLowerCase(), entry);
    });

  const approvals: Approval[] = [];
  const ignored: (Approval & { reason: string })[] = [];
  const approvable = input.approvableCommits ? new Set(input.approvableCommits) : undefined;
  const changedAt = input.lastMigrationChangeAt;
  for (const { review } of latest.values()) {
    if (review.state.toUpperCase() !== 'APPROVED') continue;
    const login = (review.user as { login: string }).login;
    const at = new Date(review.submitted_at as string).toISOString();
    const approval = { login, at };
    if (login.toLowerCase() === author) {
      ignored.push({
        ...approval,
        reason: `${login} opened the pull request: the author's approval does not count`,
      });
      continue;
    }
    if (!restricted && review.author_association && !TRUSTED_ASSOCIATIONS.has(review.author_association)) {
      ignored.push({
        ...approval,
        reason: `approval by ${login} does not count: ${login} is not a member or collaborator of the repository (${review.author_association.toLowerCase()})`,
      });
      continue;
    }
    const tooOld = changedAt !== undefined && !inLaterSecond(at, changedAt);
    const onOldCommit = approvable !== undefined && (!review.commit_id || !approvable.has(review.commit_id));
    if (tooOld || onOldCommit) {
      const where = input.lastMigrationChangeSha ? ` in ${input.lastMigrationChangeSha.slice(0, 7)}` : '';
      const when = changedAt ? ` at ${changedAt.toISOString()}` : '';
      const given = review.commit_id ? ` on ${review.commit_id.slice(0, 7)}` : '';
      ignored.push({
        ...approval,
        reason: `approval by ${login} is older than the last migration change (approved at ${at}${given}; the migrations changed${when}${where})`,
      });
      continue;
    }
    const since = input.recordedPlanSince;
    if (since !== undefined && !inLaterSecond(at, since)) {
      const when = inLaterSecond(since.toISOString(), new Date(at)) ? 'before' : 'in the same second as';
      ignored.push({
        ...approval,
        reason: `approval by ${login} was given ${when} the current plan was posted (approved at ${at}; the plan changed at ${since.toISOString()}, because production or the migrations changed): approve again`,
      });
      continue;
    }
    if (restricted && !(await isApprover(login, approvers, teams, input.isTeamMember))) {
      const allowed = [...(input.approvers ?? []), ...teams.map((t) => `team ${t}`)].join(', ');
      ignored.push({
        ...approval,
        reason: `approval by ${login} does not count: not one of the configured approvers (${allowed})`,
      });
      continue;
    }
    approvals.push(approval);
  }

  const missing: string[] = [];
  const short = required - approvals.length;
  if (short > 0) {
    missing.push(`${short} more approval${short === 1 ? '' : 's'} needed`);
    missing.push(...ignored.map((i) => i.reason));
  }
  if (input.recordedPlanHash === undefined) {
    missing.push(
      'no approved plan is recorded: the supagate plan comment on the pull request is missing or has no plan hash',
    );
  }
  let carriedOver: string[] | undefined;
  let planChanged = false;
  if (input.recordedPlanHash !== undefined && input.recordedPlanHash !== input.currentPlanHash) {
    const sameEffect =
      input.recordedEffect !== undefined &&
      input.currentEffect !== undefined &&
      input.recordedEffect === input.currentEffect;
    const applied = input.appliedSincePlan;
    if (sameEffect && applied !== undefined && applied.length > 0) {
      carriedOver = applied;
    } else {
      planChanged = true;
      missing.push(
        input.recordedEffect === undefined || input.currentEffect === undefined
          ? PLAN_CHANGED
          : `${PLAN_CHANGED} (${
              sameEffect
                ? 'production changed otherwise than by migrations applied since'
                : "this pull request's own changes or findings are not what was approved"
            })`,
      );
    }
  }
  return {
    approved: missing.length === 0,
    approvals,
    missing,
    ignored,
    required,
    ...(carriedOver ? { carriedOver } : {}),
    ...(planChanged ? { planChanged } : {}),
  };
}

async function isApprover(
  login: string,
  approvers: Set<string>,
  teams: string[],
  isTeamMember: TeamMembershipLookup | undefined,
): Promise<boolean> {
  if (approvers.has(login.toLowerCase())) return true;
  for (const team of teams) {
    const [org, slug] = team.split('/');
    if (!org || !slug) {
      throw new SupagateError('CONFIG_INVALID', `Approver team "${team}" is not org/team-slug`, {
        hint: 'Write teams as org/team-slug, e.g. acme/db-admins.',
      });
    }
    if (await isTeamMember?.(org, slug, login)) return true;
  }
  return false;
}

/** Team membership through GET /orgs/{org}/teams/{team}/memberships/{user}: active members only. */
export function teamMembershipViaApi(octokit: Octokit): TeamMembershipLookup {
  const cache = new Map<string, boolean>();
  return async (org, team, login) => {
    const key = `${org}/${team}/${login}`.toLowerCase();
    const known = cache.get(key);
    if (known !== undefined) return known;
    let member: boolean;
    try {
      const { data } = await octokit.rest.teams.getMembershipForUserInOrg({
        org,
        team_slug: team,
        username: login,
      });
      member = data.state === 'active';
    } catch (error) {
      if (statusOf(error) !== 404) {
        const converted = toGitHubError(error, {
          what: `check whether ${login} is in team ${org}/${team}`,
          permission: 'members: read (organization)',
        });
        if (converted.code === 'GITHUB_FORBIDDEN') {
          throw new SupagateError(converted.code, converted.message, {
            hint: 'GITHUB_TOKEN cannot read organization teams. Use a GitHub App token or a token with read:org for `github-token`, or list approvers by login instead of by team.',
            details: converted.details,
            cause: error,
          });
        }
        throw converted;
      }
      member = false;
    }
    cache.set(key, member);
    return member;
  };
}

export interface MigrationChange {
  /** The last PR commit that touched the migrations directory. */
  sha: string;
  /** Its committer date. */
  at: Date;
  /**
   * That commit and every later commit of the PR (approvals given on these are fresh).
   * Undefined when the PR has more commits than GitHub lists: the later ones are unknown.
   */
  approvableCommits?: string[];
  /** GitHub lists at most 250 commits of a pull request; more were not seen. */
  truncated: boolean;
}

/**
 * The last commit of the pull request that changed anything under `migrationsDir` (a path
 * from the repository root), newest first, reading each commit's files page by page.
 */
export async function findMigrationChangeTime(
  octokit: Octokit,
  options: { owner: string; repo: string; pull: number; migrationsDir: string; headSha?: string },
): Promise<MigrationChange | undefined> {
  const dir = options.migrationsDir.replace(/^\.\/+/, '').replace(/\/+$/, '');
  const commits = await github(
    { what: `list the commits of pull request #${options.pull}`, permission: 'pull-requests: read' },
    () =>
      octokit.paginate(octokit.rest.pulls.listCommits, {
        owner: options.owner,
        repo: options.repo,
        pull_number: options.pull,
        per_page: 100,
      }),
  );
  if (commits.length >= PR_COMMIT_LIST_LIMIT && options.headSha) {
    return lastChangeInHistory(octokit, { ...options, headSha: options.headSha, dir });
  }
  const touches = (path: string | undefined): boolean =>
    path !== undefined && (dir === '' || path === dir || path.startsWith(`${dir}/`));
  for (let index = commits.length - 1; index >= 0; index -= 1) {
    const commit = commits[index];
    if (!commit) continue;
    const files = await commitFiles(octokit, options.owner, options.repo, commit.sha);
    if (files.some((file) => touches(file.filename) || touches(file.previous_filename))) {
      const date = commit.commit.committer?.date ?? commit.commit.author?.date;
      return {
        sha: commit.sha,
        at: new Date(date ?? 0),
        approvableCommits: commits.slice(index).map((c) => c.sha),
        truncated: commits.length >= PR_COMMIT_LIST_LIMIT,
      };
    }
  }
  return undefined;
}

/** GitHub lists at most this many commits of a pull request. */
const PR_COMMIT_LIST_LIMIT = 250;

/**
 * For pull requests longer than GitHub lists: the newest commit reachable from the head that
 * touched the migrations, from the repository's history filtered by path. It may be a commit
 * of the base branch merged in, which only makes approvals need to be newer.
 */
async function lastChangeInHistory(
  octokit: Octokit,
  options: { owner: string; repo: string; pull: number; headSha: string; dir: string },
): Promise<MigrationChange | undefined> {
  const { data } = await github(
    {
      what: `find the last change to ${options.dir} before ${options.headSha.slice(0, 7)}`,
      permission: 'contents: read',
    },
    () =>
      octokit.rest.repos.listCommits({
        owner: options.owner,
        repo: options.repo,
        sha: options.headSha,
        ...(options.dir ? { path: options.dir } : {}),
        per_page: 1,
      }),
  );
  const last = data[0];
  if (!last) return undefined;
  const date = last.commit.committer?.date ?? last.commit.author?.date;
  return { sha: last.sha, at: new Date(date ?? 0), truncated: true };
}

async function commitFiles(
  octokit: Octokit,
  owner: string,
  repo: string,
  sha: string,
): Promise<{ filename: string; previous_filename?: string }[]> {
  const files: { filename: string; previous_filename?: string }[] = [];
  // GET /commits/{sha} is an object whose `files` are paginated (Link header): octokit.paginate
  // does not page through it, so follow rel="next" here.
  for (let page = 1; page <= 100; page += 1) {
    const response = await github(
      { what: `read the files of commit ${sha.slice(0, 7)}`, permission: 'contents: read' },
      () => octokit.rest.repos.getCommit({ owner, repo, ref: sha, per_page: 300, page }),
    );
    for (const file of response.data.files ?? []) {
      files.push({
        filename: file.filename,
        ...(file.previous_filename ? { previous_filename: file.previous_filename } : {}),
      });
    }
    if (!/rel="next"/.test(String(response.headers.link ?? ''))) break;
  }
  return files;
}

export interface AssociatedPull {
  number: number;
  author: string;
  headSha: string;
  baseRef: string;
  mergedAt: string | null;
  mergeCommitSha: string | null;
  url: string;
}

/**
 * The pull request a pushed commit came from. GitHub's association lags right after a merge
 * (the list is empty for a few seconds), so it asks again, `retries` more times.
 */
export async function findPullRequestForCommit(
  octokit: Octokit,
  options: {
    owner: string;
    repo: string;
    sha: string;
    retries?: number;
    delayMs?: number;
    sleep?: (ms: number) => Promise<void>;
  },
): Promise<(AssociatedPull & { attempts: number }) | undefined> {
  const retries = Math.max(0, options.retries ?? 5);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 1; attempt <= retries + 1; attempt += 1) {
    const { data } = await github(
      {
        what: `find the pull request of commit ${options.sha.slice(0, 7)}`,
        permission: 'pull-requests: read',
      },
      () =>
        octokit.rest.repos.listPullRequestsAssociatedWithCommit({
          owner: options.owner,
          repo: options.repo,
          commit_sha: options.sha,
          per_page: 100,
        }),
    );
    const pick =
      data.find((pull) => pull.merged_at && pull.merge_commit_sha === options.sha) ??
      data.find((pull) => pull.merged_at) ??
      data[0];
    if (pick) {
      return {
        number: pick.number,
        author: pick.user?.login ?? '',
        headSha: pick.head.sha,
        baseRef: pick.base.ref,
        mergedAt: pick.merged_at,
        mergeCommitSha: pick.merge_commit_sha ?? null,
        url: pick.html_url,
        attempts: attempt,
      };
    }
    if (attempt <= retries) await sleep(options.delayMs ?? 3_000);
  }
  return undefined;
}

export interface CheckApprovalOptions {
  owner: string;
  repo: string;
  pull: number;
  /** From the repository root, e.g. supabase/migrations. */
  migrationsDir: string;
  requiredApprovals: number;
  approvers?: string[];
  approverTeams?: string[];
  currentPlanHash: string;
  /** effectDigestOf the plan computed now (apply). */
  currentEffect?: string;
  /** The applied versions of production now, with supagate's application times (apply). */
  currentApplied?: { version: string; appliedAt?: string }[];
  /** stickyTargetId(dbUrl): which plan comment records the approved hash. */
  target: string;
  /** The login the plan comment was written by (resolveCommentAuthor). */
  commentAuthor?: string;
}

/** Everything the gate needs, read from GitHub, then evaluateApproval. */
export async function checkApproval(
  octokit: Octokit,
  options: CheckApprovalOptions,
): Promise<
  ApprovalResult & { pull: number; prAuthor: string; migrationChange?: MigrationChange; record?: PlanRecord }
> {
  const { owner, repo, pull } = options;
  const { data: pr } = await github(
    { what: `read pull request #${pull}`, permission: 'pull-requests: read' },
    () => octokit.rest.pulls.get({ owner, repo, pull_number: pull }),
  );
  const reviews = await github(
    { what: `read the reviews of pull request #${pull}`, permission: 'pull-requests: read' },
    () => octokit.paginate(octokit.rest.pulls.listReviews, { owner, repo, pull_number: pull, per_page: 100 }),
  );
  const migrationChange = await findMigrationChangeTime(octokit, {
    owner,
    repo,
    pull,
    migrationsDir: options.migrationsDir,
    headSha: pr.head.sha,
  });
  const comment = await findStickyComment(octokit, {
    owner,
    repo,
    issueNumber: pull,
    target: options.target,
    ...(options.commentAuthor ? { author: options.commentAuthor } : {}),
  });
  const record = comment ? readPlanRecord(comment.body) : undefined;
  const recordedPlanHash = record?.hash;
  const result = await evaluateApproval({
    reviews: reviews.map((r) => ({
      id: r.id,
      user: r.user ? { login: r.user.login } : null,
      state: r.state,
      submitted_at: r.submitted_at ?? null,
      commit_id: r.commit_id,
      author_association: r.author_association,
    })),
    prAuthor: pr.user.login,
    requiredApprovals: options.requiredApprovals,
    ...(options.approvers ? { approvers: options.approvers } : {}),
    ...(options.approverTeams ? { approverTeams: options.approverTeams } : {}),
    isTeamMember: teamMembershipViaApi(octokit),
    lastMigrationChangeAt: migrationChange?.at,
    ...(migrationChange
      ? {
          lastMigrationChangeSha: migrationChange.sha,
          ...(migrationChange.approvableCommits
            ? { approvableCommits: migrationChange.approvableCommits }
            : {}),
        }
      : {}),
    ...(recordedPlanHash ? { recordedPlanHash } : {}),
    ...(record?.since ? { recordedPlanSince: new Date(record.since) } : {}),
    currentPlanHash: options.currentPlanHash,
    ...(record?.effect ? { recordedEffect: record.effect } : {}),
    ...(options.currentEffect ? { currentEffect: options.currentEffect } : {}),
    ...(record?.history && options.currentApplied
      ? (() => {
          const since = appliedSince(options.currentApplied, record.history as string);
          return since ? { appliedSincePlan: since } : {};
        })()
      : {}),
  });
  return {
    ...result,
    pull,
    prAuthor: pr.user.login,
    ...(migrationChange ? { migrationChange } : {}),
    ...(record ? { record } : {}),
  };
}

/** Refuses with APPROVAL_MISSING, naming every missing piece. */
export function assertApproved(result: ApprovalResult, pull: number): void {
  if (result.approved) return;
  throw new SupagateError(
    'APPROVAL_MISSING',
    `Pull request #${pull} is not approved for this plan: ${result.missing.join('; ')}`,
    {
      hint: result.planChanged
        ? 'Nothing was applied. The plan comment on the pull request shows the plan as it is now: review it, approve the pull request again, then re-run this job.'
        : 'Nothing was applied. Get the missing approvals on the pull request (after its last migration change), then re-run this job.',
      details: {
        missing: result.missing,
        approvals: result.approvals,
        planChanged: result.planChanged === true,
      },
    },
  );
}
