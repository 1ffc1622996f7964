import { createRequire as __createRequire } from 'node:module';
import { fileURLToPath as __fileURLToPath } from 'node:url';
import { dirname as __pathDirname } from 'node:path';
const require = __createRequire(import.meta.url);
var __filename = __fileURLToPath(import.meta.url);
var __dirname = __pathDirname(__filename);
import {
  ArtifactStore,
  COMMENT_LIMIT,
  SupagateError,
  appliedSince,
  appliedVersionsOf,
  apply,
  assertStoreKey,
  codeBlock,
  countProgressPrinter,
  describeTarget,
  drift,
  effectDigestOf,
  flag,
  githubFileUrl,
  historyDigestOf,
  inline,
  installInterruptHandler,
  isSupagateError,
  plan,
  redact,
  registerSecret,
  renderApply,
  renderApplyMarkdown,
  renderDriftMarkdown,
  renderError,
  renderPlanMarkdown,
  renderRepair,
  renderRollback,
  renderStatus,
  renderVerify,
  repair,
  resolveConfig,
  rollback,
  rollbackToBackup,
  status,
  targetFingerprint,
  verify
} from "./chunk-JPHX5FAB.js";
import {
  HttpClient,
  getInput,
  getOctokit,
  info,
  notice,
  require_unzip,
  setFailed,
  setOutput,
  setSecret,
  summary,
  warning
} from "./chunk-25WEWH7P.js";
import {
  __toESM
} from "./chunk-SXXRVWWZ.js";

// src/github/errors.ts
function isRequestError(error) {
  return typeof error === "object" && error !== null && typeof error.status === "number" && typeof error.message === "string";
}
function statusOf(error) {
  return isRequestError(error) ? error.status : void 0;
}
function apiMessage(error) {
  const data = error.response?.data;
  if (data && typeof data === "object" && typeof data.message === "string") {
    return data.message;
  }
  return error.message.split(" - ")[0] ?? error.message;
}
var FORK_HINT = "A pull_request from a fork (and one opened by Dependabot) runs with a read-only GITHUB_TOKEN and no secrets, so supagate cannot comment or post statuses there; the plan result is still in the job summary.";
function toGitHubError(error, call) {
  if (error instanceof SupagateError) return error;
  if (!isRequestError(error)) {
    const message2 = error instanceof Error ? error.message : String(error);
    return new SupagateError("GITHUB_API_FAILED", `Could not ${call.what}: ${message2}`, {
      hint: "GitHub could not be reached; check GITHUB_API_URL and the runner network.",
      cause: error
    });
  }
  const status2 = error.status;
  const message = apiMessage(error);
  const details = {
    status: status2,
    ...error.request?.method ? { method: error.request.method } : {},
    ...error.request?.url ? { url: stripQuery(error.request.url) } : {},
    ...call.permission ? { permission: call.permission } : {}
  };
  const headers = error.response?.headers ?? {};
  const limited = status2 === 429 || status2 === 403 && (String(headers["x-ratelimit-remaining"]) === "0" || headers["retry-after"] !== void 0 || /rate limit/i.test(message));
  if (limited) {
    const retryAfter = Number(headers["retry-after"]);
    const reset = headers["retry-after"] !== void 0 && Number.isFinite(retryAfter) ? Math.floor(Date.now() / 1e3) + retryAfter : Number(headers["x-ratelimit-reset"]);
    return new SupagateError(
      "GITHUB_RATE_LIMITED",
      `GitHub rate-limited supagate while trying to ${call.what} (HTTP ${status2}: ${message})`,
      {
        hint: Number.isFinite(reset) ? `The limit resets at ${new Date(reset * 1e3).toISOString()}; re-run the job after that.` : "Re-run the job in a few minutes.",
        details,
        cause: error
      }
    );
  }
  if (status2 === 401 || status2 === 403) {
    const permission = call.permission ? ` Give the job \`permissions: { ${call.permission} }\`.` : "";
    return new SupagateError(
      "GITHUB_FORBIDDEN",
      `GitHub refused to let supagate ${call.what} (HTTP ${status2}: ${message})`,
      {
        hint: status2 === 401 ? "The token is invalid or expired: check the `github-token` input." : call.write ? `${FORK_HINT}${permission}` : `The token cannot read this.${permission}`,
        details,
        cause: error
      }
    );
  }
  if (status2 === 404) {
    return new SupagateError("GITHUB_NOT_FOUND", `GitHub found nothing when supagate tried to ${call.what}`, {
      hint: "Check the repository and number; a private repository also answers 404 to a token that cannot see it.",
      details,
      cause: error
    });
  }
  return new SupagateError(
    "GITHUB_API_FAILED",
    `GitHub failed when supagate tried to ${call.what} (HTTP ${status2}: ${message})`,
    {
      hint: status2 >= 500 ? "GitHub had an error; re-run the job." : "GitHub rejected the request as sent.",
      details,
      cause: error
    }
  );
}
async function github(call, run2) {
  try {
    return await run2();
  } catch (error) {
    throw toGitHubError(error, call);
  }
}
function stripQuery(url) {
  const index = url.indexOf("?");
  return index === -1 ? url : url.slice(0, index);
}

// src/github/trim.ts
function fitMarkdown(text2, options) {
  const size = measure(options);
  const max = Math.min(
    options.maxChars ?? Number.POSITIVE_INFINITY,
    options.maxBytes ?? Number.POSITIVE_INFINITY
  );
  if (size(text2) <= max) return { text: text2, trimmed: false };
  const note = `

> [!NOTE]
> ${options.note.replace(/\s*\n\s*/g, " ")}
`;
  let budget = max - size(note) - 64;
  for (let attempt = 0; attempt < 8 && budget > 0; attempt += 1) {
    let head = cutTo(text2, budget, options.maxBytes !== void 0);
    const newline = head.lastIndexOf("\n");
    if (newline > 0) head = head.slice(0, newline);
    const result = `${head}${closers(head)}${note}`;
    if (size(result) <= max) return { text: result, trimmed: true };
    budget -= size(result) - max + 16;
  }
  return { text: cutTo(note.trim(), max, options.maxBytes !== void 0), trimmed: true };
}
function measure(options) {
  return options.maxBytes !== void 0 ? (text2) => Buffer.byteLength(text2, "utf8") : (text2) => text2.length;
}
function cutTo(text2, limit, bytes) {
  if (!bytes) {
    let end = Math.min(text2.length, Math.max(0, limit));
    const last = text2.charCodeAt(end - 1);
    if (end > 0 && last >= 55296 && last <= 56319) end -= 1;
    return text2.slice(0, end);
  }
  if (Buffer.byteLength(text2, "utf8") <= limit) return text2;
  let low = 0;
  let high = text2.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (Buffer.byteLength(text2.slice(0, mid), "utf8") <= limit) low = mid;
    else high = mid - 1;
  }
  const code = text2.charCodeAt(low - 1);
  return text2.slice(0, low > 0 && code >= 55296 && code <= 56319 ? low - 1 : low);
}
function closers(head) {
  let fence;
  let details = 0;
  for (const line of head.split("\n")) {
    const match = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (match) {
      const run2 = match[1];
      if (!fence) fence = { char: run2[0], length: run2.length };
      else if (run2[0] === fence.char && run2.length >= fence.length && line.trim() === run2) fence = void 0;
      continue;
    }
    if (fence) continue;
    details += (line.match(/<details[\s>]/gi) ?? []).length;
    details -= (line.match(/<\/details>/gi) ?? []).length;
  }
  let out = "";
  if (fence) out += `
${fence.char.repeat(fence.length)}`;
  if (details > 0) out += "\n\n</details>".repeat(details);
  return out;
}

// src/github/sticky-comment.ts
var COMMENT_BODY_LIMIT = 65536;
var DEFAULT_COMMENT_AUTHOR = "github-actions[bot]";
var TARGET_ID = /^[A-Za-z0-9_.-]{1,64}$/;
var MARKER_LINE = /^<!-- supagate:[^\n]*-->$/;
var PLAN_HASH_LINE = /^<!-- supagate:plan-hash ([0-9a-f]{16,128})(?: since=([0-9T:.Z-]{20,30}))?(?: effect=([0-9a-f]{64}))?(?: history=([0-9a-f]{64}))? -->$/;
function stickyTargetId(dbUrl) {
  return targetFingerprint(dbUrl).slice(0, 12);
}
function planMarker(target) {
  checkTarget(target);
  return `<!-- supagate:plan target=${target} -->`;
}
function planHashMarker(planHash, since, record = {}) {
  if (!/^[0-9a-f]{16,128}$/.test(planHash)) {
    throw new SupagateError("INTERNAL", `A plan hash must be lower-case hex, got "${planHash.slice(0, 80)}"`);
  }
  if (since !== void 0 && (!/^[0-9T:.Z-]{20,30}$/.test(since) || Number.isNaN(Date.parse(since)))) {
    throw new SupagateError(
      "INTERNAL",
      `A plan record time must be ISO 8601 UTC, got "${since.slice(0, 80)}"`
    );
  }
  for (const digest of [record.effect, record.history]) {
    if (digest !== void 0 && !/^[0-9a-f]{64}$/.test(digest)) {
      throw new SupagateError(
        "INTERNAL",
        `A plan digest must be 64 hex characters, got "${digest.slice(0, 80)}"`
      );
    }
  }
  const extra = `${record.effect ? ` effect=${record.effect}` : ""}${record.history ? ` history=${record.history}` : ""}`;
  return `<!-- supagate:plan-hash ${planHash}${since ? ` since=${since}` : ""}${extra} -->`;
}
function commentHeader(options) {
  return [
    planMarker(options.target),
    ...options.planHash ? [
      planHashMarker(options.planHash, options.planSince, {
        effect: options.effect,
        history: options.history
      })
    ] : []
  ].join("\n");
}
function readPlanRecord(body) {
  for (const line of body.replace(/\r\n/g, "\n").split("\n")) {
    const trimmed = line.trim();
    if (trimmed === "") continue;
    if (!MARKER_LINE.test(trimmed)) return void 0;
    const match = PLAN_HASH_LINE.exec(trimmed);
    if (match) {
      return {
        hash: match[1],
        ...match[2] ? { since: match[2] } : {},
        ...match[3] ? { effect: match[3] } : {},
        ...match[4] ? { history: match[4] } : {}
      };
    }
  }
  return void 0;
}
function readPlanHashFromComment(body) {
  return readPlanRecord(body)?.hash;
}
function hasPlanMarker(body, target) {
  const marker = planMarker(target);
  for (const line of body.replace(/\r\n/g, "\n").split("\n")) {
    const trimmed = line.trim();
    if (trimmed === "") continue;
    if (!MARKER_LINE.test(trimmed)) return false;
    if (trimmed === marker) return true;
  }
  return false;
}
async function findStickyComments(octokit, options) {
  checkTarget(options.target);
  const author = (options.author ?? DEFAULT_COMMENT_AUTHOR).toLowerCase();
  const comments = await github(
    { what: `read the comments of pull request #${options.issueNumber}`, permission: "pull-requests: read" },
    () => octokit.paginate(octokit.rest.issues.listComments, {
      owner: options.owner,
      repo: options.repo,
      issue_number: options.issueNumber,
      per_page: 100
    })
  );
  return comments.filter(
    (comment) => comment.user?.login.toLowerCase() === author && typeof comment.body === "string" && hasPlanMarker(comment.body, options.target)
  ).map((comment) => ({
    id: comment.id,
    body: comment.body ?? "",
    url: comment.html_url,
    author: comment.user?.login ?? "",
    createdAt: comment.created_at,
    updatedAt: comment.updated_at
  })).sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id - a.id);
}
async function findStickyComment(octokit, options) {
  return (await findStickyComments(octokit, options))[0];
}
async function upsertStickyComment(octokit, options) {
  const body = prepareBody(options);
  const existing = options.existing ?? await findStickyComments(octokit, options);
  const [newest, ...older] = existing;
  const duplicates = older.map((c) => c.id);
  const note = duplicates.length > 0 ? `Found ${existing.length} supagate plan comments for this target (two runs raced); updated the newest (${newest?.id}) and left ${duplicates.length === 1 ? "the other" : "the others"} (${duplicates.join(", ")}).` : void 0;
  if (newest) {
    const { data: data2 } = await github(
      {
        what: `update the plan comment on pull request #${options.issueNumber}`,
        permission: "pull-requests: write",
        write: true
      },
      () => octokit.rest.issues.updateComment({
        owner: options.owner,
        repo: options.repo,
        comment_id: newest.id,
        body: body.text
      })
    );
    return {
      action: "updated",
      commentId: data2.id,
      url: data2.html_url,
      trimmed: body.trimmed,
      duplicates,
      ...note ? { note } : {}
    };
  }
  if (options.updateOnly) return { action: "none", trimmed: false, duplicates: [] };
  const { data } = await github(
    {
      what: `comment on pull request #${options.issueNumber}`,
      permission: "pull-requests: write",
      write: true
    },
    () => octokit.rest.issues.createComment({
      owner: options.owner,
      repo: options.repo,
      issue_number: options.issueNumber,
      body: body.text
    })
  );
  return { action: "created", commentId: data.id, url: data.html_url, trimmed: body.trimmed, duplicates: [] };
}
function prepareBody(options) {
  const header = [];
  if (!hasPlanMarker(options.body, options.target)) header.push(planMarker(options.target));
  if (options.planHash && readPlanHashFromComment(options.body) === void 0) {
    header.push(planHashMarker(options.planHash));
  }
  const text2 = header.length > 0 ? `${header.join("\n")}
${options.body}` : options.body;
  const fitted = fitMarkdown(text2, {
    maxChars: COMMENT_BODY_LIMIT,
    note: `This comment was cut to GitHub's limit of 65,536 characters.${options.fullReportUrl ? ` The full report is in the job summary of ${options.fullReportUrl}` : " The full report is in the job summary of the run."}`
  });
  return fitted;
}
function checkTarget(target) {
  if (!TARGET_ID.test(target)) {
    throw new SupagateError(
      "INTERNAL",
      `A comment target id must match ${TARGET_ID}, got "${target.slice(0, 80)}"`
    );
  }
}

// src/github/approval.ts
var PLAN_CHANGED = "the plan changed since it was approved: production or the migrations differ";
var TRUSTED_ASSOCIATIONS = /* @__PURE__ */ new Set(["OWNER", "MEMBER", "COLLABORATOR"]);
function inLaterSecond(at, moment) {
  return Math.floor(Date.parse(at) / 1e3) > Math.floor(moment.getTime() / 1e3);
}
var VERDICTS = /* @__PURE__ */ new Set(["APPROVED", "CHANGES_REQUESTED", "DISMISSED"]);
async function evaluateApproval(input) {
  const required = Math.max(0, Math.floor(input.requiredApprovals));
  const author = input.prAuthor.toLowerCase();
  const approvers = new Set((input.approvers ?? []).map((l) => l.trim().toLowerCase()).filter(Boolean));
  const teams = (input.approverTeams ?? []).map((t) => t.trim()).filter(Boolean);
  const restricted = approvers.size > 0 || teams.length > 0;
  if (teams.length > 0 && !input.isTeamMember) {
    throw new SupagateError(
      "CONFIG_INVALID",
      "Approver teams are configured but team membership cannot be checked",
      {
        hint: "Pass isTeamMember (teamMembershipViaApi(octokit))."
      }
    );
  }
  const latest = /* @__PURE__ */ new Map();
  input.reviews.map((review, index) => ({ review, index })).filter(
    ({ review }) => review.user?.login && VERDICTS.has(review.state.toUpperCase()) && review.submitted_at
  ).sort(
    (a, b) => Date.parse(a.review.submitted_at) - Date.parse(b.review.submitted_at) || a.index - b.index
  ).forEach((entry) => {
    latest.set(entry.review.user.login.toLowerCase(), entry);
  });
  const approvals = [];
  const ignored = [];
  const approvable = input.approvableCommits ? new Set(input.approvableCommits) : void 0;
  const changedAt = input.lastMigrationChangeAt;
  for (const { review } of latest.values()) {
    if (review.state.toUpperCase() !== "APPROVED") continue;
    const login = review.user.login;
    const at = new Date(review.submitted_at).toISOString();
    const approval = { login, at };
    if (login.toLowerCase() === author) {
      ignored.push({
        ...approval,
        reason: `${login} opened the pull request: the author's approval does not count`
      });
      continue;
    }
    if (!restricted && review.author_association && !TRUSTED_ASSOCIATIONS.has(review.author_association)) {
      ignored.push({
        ...approval,
        reason: `approval by ${login} does not count: ${login} is not a member or collaborator of the repository (${review.author_association.toLowerCase()})`
      });
      continue;
    }
    const tooOld = changedAt !== void 0 && !inLaterSecond(at, changedAt);
    const onOldCommit = approvable !== void 0 && (!review.commit_id || !approvable.has(review.commit_id));
    if (tooOld || onOldCommit) {
      const where = input.lastMigrationChangeSha ? ` in ${input.lastMigrationChangeSha.slice(0, 7)}` : "";
      const when = changedAt ? ` at ${changedAt.toISOString()}` : "";
      const given = review.commit_id ? ` on ${review.commit_id.slice(0, 7)}` : "";
      ignored.push({
        ...approval,
        reason: `approval by ${login} is older than the last migration change (approved at ${at}${given}; the migrations changed${when}${where})`
      });
      continue;
    }
    const since = input.recordedPlanSince;
    if (since !== void 0 && !inLaterSecond(at, since)) {
      const when = inLaterSecond(since.toISOString(), new Date(at)) ? "before" : "in the same second as";
      ignored.push({
        ...approval,
        reason: `approval by ${login} was given ${when} the current plan was posted (approved at ${at}; the plan changed at ${since.toISOString()}, because production or the migrations changed): approve again`
      });
      continue;
    }
    if (restricted && !await isApprover(login, approvers, teams, input.isTeamMember)) {
      const allowed = [...input.approvers ?? [], ...teams.map((t) => `team ${t}`)].join(", ");
      ignored.push({
        ...approval,
        reason: `approval by ${login} does not count: not one of the configured approvers (${allowed})`
      });
      continue;
    }
    approvals.push(approval);
  }
  const missing = [];
  const short = required - approvals.length;
  if (short > 0) {
    missing.push(`${short} more approval${short === 1 ? "" : "s"} needed`);
    missing.push(...ignored.map((i) => i.reason));
  }
  if (input.recordedPlanHash === void 0) {
    missing.push(
      "no approved plan is recorded: the supagate plan comment on the pull request is missing or has no plan hash"
    );
  }
  let carriedOver;
  let planChanged = false;
  if (input.recordedPlanHash !== void 0 && input.recordedPlanHash !== input.currentPlanHash) {
    const sameEffect = input.recordedEffect !== void 0 && input.currentEffect !== void 0 && input.recordedEffect === input.currentEffect;
    const applied = input.appliedSincePlan;
    if (sameEffect && applied !== void 0 && applied.length > 0) {
      carriedOver = applied;
    } else {
      planChanged = true;
      missing.push(
        input.recordedEffect === void 0 || input.currentEffect === void 0 ? PLAN_CHANGED : `${PLAN_CHANGED} (${sameEffect ? "production changed otherwise than by migrations applied since" : "this pull request's own changes or findings are not what was approved"})`
      );
    }
  }
  return {
    approved: missing.length === 0,
    approvals,
    missing,
    ignored,
    required,
    ...carriedOver ? { carriedOver } : {},
    ...planChanged ? { planChanged } : {}
  };
}
async function isApprover(login, approvers, teams, isTeamMember) {
  if (approvers.has(login.toLowerCase())) return true;
  for (const team of teams) {
    const [org, slug] = team.split("/");
    if (!org || !slug) {
      throw new SupagateError("CONFIG_INVALID", `Approver team "${team}" is not org/team-slug`, {
        hint: "Write teams as org/team-slug, e.g. acme/db-admins."
      });
    }
    if (await isTeamMember?.(org, slug, login)) return true;
  }
  return false;
}
function teamMembershipViaApi(octokit) {
  const cache = /* @__PURE__ */ new Map();
  return async (org, team, login) => {
    const key = `${org}/${team}/${login}`.toLowerCase();
    const known = cache.get(key);
    if (known !== void 0) return known;
    let member;
    try {
      const { data } = await octokit.rest.teams.getMembershipForUserInOrg({
        org,
        team_slug: team,
        username: login
      });
      member = data.state === "active";
    } catch (error) {
      if (statusOf(error) !== 404) {
        const converted = toGitHubError(error, {
          what: `check whether ${login} is in team ${org}/${team}`,
          permission: "members: read (organization)"
        });
        if (converted.code === "GITHUB_FORBIDDEN") {
          throw new SupagateError(converted.code, converted.message, {
            hint: "GITHUB_TOKEN cannot read organization teams. Use a GitHub App token or a token with read:org for `github-token`, or list approvers by login instead of by team.",
            details: converted.details,
            cause: error
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
async function findMigrationChangeTime(octokit, options) {
  const dir = options.migrationsDir.replace(/^\.\/+/, "").replace(/\/+$/, "");
  const commits = await github(
    { what: `list the commits of pull request #${options.pull}`, permission: "pull-requests: read" },
    () => octokit.paginate(octokit.rest.pulls.listCommits, {
      owner: options.owner,
      repo: options.repo,
      pull_number: options.pull,
      per_page: 100
    })
  );
  if (commits.length >= PR_COMMIT_LIST_LIMIT && options.headSha) {
    return lastChangeInHistory(octokit, { ...options, headSha: options.headSha, dir });
  }
  const touches = (path) => path !== void 0 && (dir === "" || path === dir || path.startsWith(`${dir}/`));
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
        truncated: commits.length >= PR_COMMIT_LIST_LIMIT
      };
    }
  }
  return void 0;
}
var PR_COMMIT_LIST_LIMIT = 250;
async function lastChangeInHistory(octokit, options) {
  const { data } = await github(
    {
      what: `find the last change to ${options.dir} before ${options.headSha.slice(0, 7)}`,
      permission: "contents: read"
    },
    () => octokit.rest.repos.listCommits({
      owner: options.owner,
      repo: options.repo,
      sha: options.headSha,
      ...options.dir ? { path: options.dir } : {},
      per_page: 1
    })
  );
  const last = data[0];
  if (!last) return void 0;
  const date = last.commit.committer?.date ?? last.commit.author?.date;
  return { sha: last.sha, at: new Date(date ?? 0), truncated: true };
}
async function commitFiles(octokit, owner, repo, sha) {
  const files = [];
  for (let page = 1; page <= 100; page += 1) {
    const response = await github(
      { what: `read the files of commit ${sha.slice(0, 7)}`, permission: "contents: read" },
      () => octokit.rest.repos.getCommit({ owner, repo, ref: sha, per_page: 300, page })
    );
    for (const file of response.data.files ?? []) {
      files.push({
        filename: file.filename,
        ...file.previous_filename ? { previous_filename: file.previous_filename } : {}
      });
    }
    if (!/rel="next"/.test(String(response.headers.link ?? ""))) break;
  }
  return files;
}
async function findPullRequestForCommit(octokit, options) {
  const retries = Math.max(0, options.retries ?? 5);
  const sleep = options.sleep ?? ((ms) => new Promise((resolve3) => setTimeout(resolve3, ms)));
  for (let attempt = 1; attempt <= retries + 1; attempt += 1) {
    const { data } = await github(
      {
        what: `find the pull request of commit ${options.sha.slice(0, 7)}`,
        permission: "pull-requests: read"
      },
      () => octokit.rest.repos.listPullRequestsAssociatedWithCommit({
        owner: options.owner,
        repo: options.repo,
        commit_sha: options.sha,
        per_page: 100
      })
    );
    const pick = data.find((pull) => pull.merged_at && pull.merge_commit_sha === options.sha) ?? data.find((pull) => pull.merged_at) ?? data[0];
    if (pick) {
      return {
        number: pick.number,
        author: pick.user?.login ?? "",
        headSha: pick.head.sha,
        baseRef: pick.base.ref,
        mergedAt: pick.merged_at,
        mergeCommitSha: pick.merge_commit_sha ?? null,
        url: pick.html_url,
        attempts: attempt
      };
    }
    if (attempt <= retries) await sleep(options.delayMs ?? 3e3);
  }
  return void 0;
}
async function checkApproval(octokit, options) {
  const { owner, repo, pull } = options;
  const { data: pr } = await github(
    { what: `read pull request #${pull}`, permission: "pull-requests: read" },
    () => octokit.rest.pulls.get({ owner, repo, pull_number: pull })
  );
  const reviews = await github(
    { what: `read the reviews of pull request #${pull}`, permission: "pull-requests: read" },
    () => octokit.paginate(octokit.rest.pulls.listReviews, { owner, repo, pull_number: pull, per_page: 100 })
  );
  const migrationChange = await findMigrationChangeTime(octokit, {
    owner,
    repo,
    pull,
    migrationsDir: options.migrationsDir,
    headSha: pr.head.sha
  });
  const comment = await findStickyComment(octokit, {
    owner,
    repo,
    issueNumber: pull,
    target: options.target,
    ...options.commentAuthor ? { author: options.commentAuthor } : {}
  });
  const record = comment ? readPlanRecord(comment.body) : void 0;
  const recordedPlanHash = record?.hash;
  const result = await evaluateApproval({
    reviews: reviews.map((r) => ({
      id: r.id,
      user: r.user ? { login: r.user.login } : null,
      state: r.state,
      submitted_at: r.submitted_at ?? null,
      commit_id: r.commit_id,
      author_association: r.author_association
    })),
    prAuthor: pr.user.login,
    requiredApprovals: options.requiredApprovals,
    ...options.approvers ? { approvers: options.approvers } : {},
    ...options.approverTeams ? { approverTeams: options.approverTeams } : {},
    isTeamMember: teamMembershipViaApi(octokit),
    lastMigrationChangeAt: migrationChange?.at,
    ...migrationChange ? {
      lastMigrationChangeSha: migrationChange.sha,
      ...migrationChange.approvableCommits ? { approvableCommits: migrationChange.approvableCommits } : {}
    } : {},
    ...recordedPlanHash ? { recordedPlanHash } : {},
    ...record?.since ? { recordedPlanSince: new Date(record.since) } : {},
    currentPlanHash: options.currentPlanHash,
    ...record?.effect ? { recordedEffect: record.effect } : {},
    ...options.currentEffect ? { currentEffect: options.currentEffect } : {},
    ...record?.history && options.currentApplied ? (() => {
      const since = appliedSince(options.currentApplied, record.history);
      return since ? { appliedSincePlan: since } : {};
    })() : {}
  });
  return {
    ...result,
    pull,
    prAuthor: pr.user.login,
    ...migrationChange ? { migrationChange } : {},
    ...record ? { record } : {}
  };
}
function assertApproved(result, pull) {
  if (result.approved) return;
  throw new SupagateError(
    "APPROVAL_MISSING",
    `Pull request #${pull} is not approved for this plan: ${result.missing.join("; ")}`,
    {
      hint: result.planChanged ? "Nothing was applied. The plan comment on the pull request shows the plan as it is now: review it, approve the pull request again, then re-run this job." : "Nothing was applied. Get the missing approvals on the pull request (after its last migration change), then re-run this job.",
      details: {
        missing: result.missing,
        approvals: result.approvals,
        planChanged: result.planChanged === true
      }
    }
  );
}

// src/github/client.ts
var DEFAULT_API_URL = "https://api.github.com";
function createOctokit(token, options = {}) {
  const trimmed = token?.trim();
  if (!trimmed) {
    throw new SupagateError("GITHUB_TOKEN_MISSING", "No GitHub token was given", {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not a template
      hint: "Pass `github-token: ${{ github.token }}` (the default) and grant the job the permissions it needs, e.g. `permissions: { contents: read, pull-requests: write, statuses: write }`."
    });
  }
  const env = options.env ?? process.env;
  const baseUrl = (options.baseUrl ?? env.GITHUB_API_URL ?? DEFAULT_API_URL).replace(/\/+$/, "");
  return getOctokit(trimmed, {
    baseUrl,
    userAgent: options.userAgent ?? "supagate"
  });
}
async function githubNow(octokit) {
  try {
    const { headers } = await octokit.request("GET /rate_limit");
    const parsed = Date.parse(String(headers.date ?? ""));
    if (!Number.isNaN(parsed)) return new Date(parsed);
  } catch {
  }
  return /* @__PURE__ */ new Date();
}

// src/github/context.ts
import { readFileSync } from "node:fs";
var KINDS = [
  "pull_request",
  "pull_request_target",
  "pull_request_review",
  "push",
  "workflow_dispatch",
  "schedule"
];
function invalid(message, hint) {
  return new SupagateError("GITHUB_CONTEXT_INVALID", message, {
    hint: hint ?? "supagate reads the variables the GitHub runner sets; run it as a step of a workflow job."
  });
}
function object(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? value : void 0;
}
function text(value) {
  return typeof value === "string" ? value : void 0;
}
function readRunContext(env = process.env, readFile = (path) => readFileSync(path, "utf8")) {
  const eventName = env.GITHUB_EVENT_NAME?.trim() ?? "";
  if (!eventName) throw invalid("GITHUB_EVENT_NAME is not set");
  const fullName = env.GITHUB_REPOSITORY?.trim() ?? "";
  const [owner, repo, ...rest] = fullName.split("/");
  if (!owner || !repo || rest.length > 0) {
    throw invalid(`GITHUB_REPOSITORY is ${fullName ? `"${fullName}"` : "not set"}; expected owner/repo`);
  }
  const payload = readPayload(env.GITHUB_EVENT_PATH, readFile);
  const kind = KINDS.includes(eventName) ? eventName : "other";
  const serverUrl = (env.GITHUB_SERVER_URL || "https://github.com").replace(/\/+$/, "");
  const apiUrl = (env.GITHUB_API_URL || "https://api.github.com").replace(/\/+$/, "");
  const runId = env.GITHUB_RUN_ID ?? "";
  const runAttempt = Number.parseInt(env.GITHUB_RUN_ATTEMPT ?? "1", 10) || 1;
  const actor = env.GITHUB_ACTOR ?? "";
  const payloadRepo = object(payload.repository);
  const sha = env.GITHUB_SHA ?? "";
  let pullRequest;
  if (kind === "pull_request" || kind === "pull_request_target" || kind === "pull_request_review") {
    pullRequest = readPullRequest(payload, fullName);
  }
  let push;
  const defaultBranch = text(payloadRepo?.default_branch);
  if (kind === "push") {
    const ref = text(payload.ref) ?? env.GITHUB_REF ?? "";
    const branch = ref.startsWith("refs/heads/") ? ref.slice("refs/heads/".length) : void 0;
    push = {
      ref,
      branch,
      before: text(payload.before) ?? "",
      after: text(payload.after) ?? sha,
      forced: payload.forced === true,
      toDefaultBranch: branch !== void 0 && branch === defaultBranch
    };
  }
  const inputs = {};
  const rawInputs = object(payload.inputs);
  if (kind === "workflow_dispatch" && rawInputs) {
    for (const [name, value] of Object.entries(rawInputs)) {
      if (value !== null && value !== void 0) inputs[name] = String(value);
    }
  }
  const readOnlyToken = (kind === "pull_request" || kind === "pull_request_review") && (pullRequest?.fork === true || actor === "dependabot[bot]" || pullRequest?.author === "dependabot[bot]");
  return {
    eventName,
    kind,
    repository: { owner, repo, fullName },
    sha,
    statusSha: pullRequest?.headSha || sha,
    ref: env.GITHUB_REF ?? "",
    defaultBranch,
    serverUrl,
    apiUrl,
    runId,
    runAttempt,
    runUrl: runUrlOf(serverUrl, fullName, runId, runAttempt),
    actor,
    workflow: env.GITHUB_WORKFLOW ?? "",
    job: env.GITHUB_JOB ?? "",
    ...pullRequest ? { pullRequest } : {},
    ...push ? { push } : {},
    inputs,
    ...kind === "schedule" && text(payload.schedule) ? { schedule: text(payload.schedule) } : {},
    readOnlyToken
  };
}
function runUrlOf(serverUrl, fullName, runId, attempt = 1) {
  if (!runId) return `${serverUrl}/${fullName}/actions`;
  return `${serverUrl}/${fullName}/actions/runs/${runId}${attempt > 1 ? `/attempts/${attempt}` : ""}`;
}
function readPayload(path, readFile) {
  if (!path) return {};
  let raw;
  try {
    raw = readFile(path);
  } catch (error) {
    throw invalid(
      `Cannot read the event payload GITHUB_EVENT_PATH=${path}: ${error instanceof Error ? error.message : String(error)}`
    );
  }
  let parsed;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalid(`The event payload ${path} is not JSON`);
  }
  const payload = object(parsed);
  if (!payload) throw invalid(`The event payload ${path} is not a JSON object`);
  return payload;
}
function readPullRequest(payload, baseFullName) {
  const pr = object(payload.pull_request);
  const number = typeof pr?.number === "number" ? pr.number : payload.number;
  const head = object(pr?.head);
  const base = object(pr?.base);
  const headSha = text(head?.sha);
  if (!pr || typeof number !== "number" || !headSha) {
    throw invalid(
      "The pull_request event payload has no pull_request.number or head.sha",
      "Check GITHUB_EVENT_PATH: it should be the payload GitHub wrote for this run."
    );
  }
  const headRepo = object(head?.repo);
  const headRepoFullName = text(headRepo?.full_name) ?? null;
  const baseRepoFullName = text(object(base?.repo)?.full_name) ?? baseFullName;
  return {
    number,
    action: text(payload.action),
    headSha,
    headRef: text(head?.ref) ?? "",
    baseRef: text(base?.ref) ?? "",
    baseSha: text(base?.sha) ?? "",
    author: text(object(pr.user)?.login) ?? "",
    headRepoFullName,
    // A deleted fork leaves head.repo null: treat it as a fork.
    fork: headRepoFullName === null || headRepoFullName.toLowerCase() !== baseRepoFullName.toLowerCase(),
    draft: pr.draft === true,
    merged: pr.merged === true,
    htmlUrl: text(pr.html_url)
  };
}

// src/github/status.ts
var PLAN_CONTEXT = "supagate/plan";
var APPROVAL_CONTEXT = "supagate/approval";
var APPLY_CONTEXT = "supagate/apply";
var NO_MIGRATIONS = "No migrations: nothing pending, nothing to approve";
var STATUS_DESCRIPTION_LIMIT = 140;
var CHECK_OUTPUT_LIMIT = 65535;
function statusDescription(text2) {
  const line = text2.replace(/\s+/g, " ").trim();
  if (line.length <= STATUS_DESCRIPTION_LIMIT) return line;
  let cut = line.slice(0, STATUS_DESCRIPTION_LIMIT - 1);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 55296 && last <= 56319) cut = cut.slice(0, -1);
  return `${cut.trimEnd()}\u2026`;
}
async function setCommitStatus(octokit, options) {
  const description = statusDescription(options.description);
  const { data } = await github(
    {
      what: `set the ${options.context} status on ${options.sha.slice(0, 7)}`,
      permission: "statuses: write",
      write: true
    },
    () => octokit.rest.repos.createCommitStatus({
      owner: options.owner,
      repo: options.repo,
      sha: options.sha,
      state: options.state,
      context: options.context,
      description,
      ...options.targetUrl ? { target_url: options.targetUrl } : {}
    })
  );
  return { id: data.id, context: data.context, state: data.state, description };
}
async function createCheckRun(octokit, options) {
  const name = options.name ?? PLAN_CONTEXT;
  const output = fitOutput(options.output, options.fullReportUrl);
  const { data } = await github(
    { what: `create the ${name} check run`, permission: "checks: write", write: true },
    () => octokit.rest.checks.create({
      owner: options.owner,
      repo: options.repo,
      head_sha: options.headSha,
      name,
      ...options.detailsUrl ? { details_url: options.detailsUrl } : {},
      ...options.conclusion ? {
        status: "completed",
        conclusion: options.conclusion,
        completed_at: (/* @__PURE__ */ new Date()).toISOString()
      } : { status: "in_progress" },
      output: output.output
    })
  );
  return { id: data.id, url: data.html_url ?? "", trimmed: output.trimmed };
}
function fitOutput(output, fullReportUrl) {
  const note = `Cut to GitHub's limit of 65,535 characters; the full report is in the job summary${fullReportUrl ? ` of ${fullReportUrl}` : ""}.`;
  const summary2 = fitMarkdown(output.summary, { maxChars: CHECK_OUTPUT_LIMIT, note });
  const text2 = output.text === void 0 ? void 0 : fitMarkdown(output.text, { maxChars: CHECK_OUTPUT_LIMIT, note });
  return {
    output: {
      title: output.title.replace(/\s+/g, " ").trim().slice(0, 255) || "supagate",
      summary: summary2.text,
      ...text2 ? { text: text2.text } : {},
      ...output.annotations ? { annotations: output.annotations } : {}
    },
    trimmed: summary2.trimmed || (text2?.trimmed ?? false)
  };
}

// src/github/publish-plan.ts
function planCommentMarkdown(result, target, runUrl, planSince, record = {}) {
  const approvable = result.status === "planned" || result.status === "no-pending";
  return renderPlanMarkdown(record.label ? { ...result, target: record.label } : result, {
    header: commentHeader({
      target,
      planHash: approvable ? result.planHash : void 0,
      planSince: approvable ? planSince : void 0,
      effect: approvable ? record.effect : void 0,
      history: approvable ? record.history : void 0
    }),
    ...runUrl ? { fullReportUrl: runUrl } : {},
    ...record.fileUrl ? { fileUrl: record.fileUrl } : {}
  });
}
async function publishPlan(octokit, context, result, options) {
  const pull = context.pullRequest;
  if (!pull) throw new Error("publishPlan needs a pull request event");
  const { owner, repo } = context.repository;
  const existing = await findStickyComments(octokit, {
    owner,
    repo,
    issueNumber: pull.number,
    target: options.target,
    ...options.author ? { author: options.author } : {}
  });
  const record = existing[0] ? readPlanRecord(existing[0].body) : void 0;
  const carriedOver = record?.effect !== void 0 && record.effect === options.effect && record.history !== void 0 && options.applied !== void 0 && (appliedSince(options.applied, record.history)?.length ?? 0) > 0;
  const since = (record?.hash === result.planHash || carriedOver) && record?.since ? record.since : (options.now ?? await githubNow(octokit)).toISOString();
  const comment = await upsertStickyComment(octokit, {
    owner,
    repo,
    issueNumber: pull.number,
    target: options.target,
    ...options.author ? { author: options.author } : {},
    body: planCommentMarkdown(result, options.target, context.runUrl, since, {
      effect: options.effect,
      history: options.history,
      ...options.label ? { label: options.label } : {},
      ...options.repositoryPath ? { fileUrl: fileLinks(context, pull.headSha, options.repositoryPath) } : {}
    }),
    fullReportUrl: context.runUrl,
    // A pull request that never had pending migrations (a review of a PR without any) gets
    // no comment; one that had them is told when nothing is pending any more.
    updateOnly: result.status === "no-pending",
    existing
  });
  const environment = result.failure?.kind === "environment" ? result.failure : void 0;
  const statusState = environment ? "error" : result.blocking ? "failure" : "success";
  if (options.commentOnly) return { comment, statusState };
  await setCommitStatus(octokit, {
    owner,
    repo,
    sha: context.statusSha,
    context: PLAN_CONTEXT,
    state: statusState,
    description: environment ? `Error: ${environment.message}` : result.blocking ? `Blocking: ${result.blockingReasons[0] ?? "see the plan"}` : result.status === "no-pending" ? NO_MIGRATIONS : `${result.pending.length} migration(s), ${result.diff.changes.length} object(s) changed, nothing blocking`,
    targetUrl: comment.url ?? context.runUrl
  });
  return { comment, statusState };
}
function fileLinks(context, headSha, repositoryPath2) {
  const link = githubFileUrl(context.serverUrl, context.repository, headSha);
  return (path, line) => link(repositoryPath2(path), line);
}

// src/github/result-comment.ts
async function postResultComment(octokit, options) {
  const { data } = await github(
    {
      what: `comment the result on pull request #${options.issueNumber}`,
      permission: "pull-requests: write",
      write: true
    },
    () => octokit.rest.issues.createComment({
      owner: options.owner,
      repo: options.repo,
      issue_number: options.issueNumber,
      body: fitMarkdown(options.body, {
        maxChars: COMMENT_BODY_LIMIT,
        note: "The result was cut to fit a comment; the run has all of it."
      }).text
    })
  );
  return { id: data.id, url: data.html_url };
}

// src/action/inputs.ts
import { isAbsolute, relative, resolve, sep } from "node:path";

// src/github/artifacts.ts
import { dirname } from "node:path";
import { PassThrough } from "node:stream";
var import_unzip_stream = __toESM(require_unzip(), 1);
var ARTIFACT_PREFIX = "supagate-backup-";
function artifactName(key) {
  assertStoreKey(key);
  return `${ARTIFACT_PREFIX}${key}`;
}
function createArtifactUploader(options = {}) {
  const { retentionDays } = options;
  if (retentionDays !== void 0 && (!Number.isInteger(retentionDays) || retentionDays < 1)) {
    throw new SupagateError("CONFIG_INVALID", `Invalid artifact retention of ${retentionDays} days`, {
      hint: "Use a whole number of days, at least 1 (GitHub caps it at the repository\u2019s artifact retention)."
    });
  }
  return async (name, filePath) => {
    try {
      const { DefaultArtifactClient } = await import("./artifact-GGTIML3G.js");
      const { id } = await new DefaultArtifactClient().uploadArtifact(name, [filePath], dirname(filePath), {
        ...retentionDays === void 0 ? {} : { retentionDays },
        // Backups are encrypted before they get here: compressing ciphertext is wasted work.
        compressionLevel: 0
      });
      return { location: describeUpload(name, id) };
    } catch (error) {
      throw uploadFailed(name, error);
    }
  };
}
function describeUpload(name, id) {
  const run2 = process.env.GITHUB_RUN_ID;
  const repository = process.env.GITHUB_REPOSITORY;
  const server = (process.env.GITHUB_SERVER_URL ?? "https://github.com").replace(/\/+$/, "");
  const where = `artifact ${name}${id === void 0 ? "" : ` (id ${id})`}${run2 ? ` of run ${run2}` : ""}`;
  return run2 && repository && id !== void 0 ? `${where}: ${server}/${repository}/actions/runs/${run2}/artifacts/${id}` : where;
}
function uploadFailed(name, error) {
  if (isSupagateError(error)) return error;
  const message = scrub(error instanceof Error ? error.message : String(error));
  let hint;
  if (/ACTIONS_RUNTIME_TOKEN|ACTIONS_RESULTS_URL|JWT/.test(message)) {
    hint = "The github-artifact backup store works only inside a GitHub Actions job, run as the Action (`uses:`): the runner gives actions ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL, but not `run:` steps. Elsewhere, choose the directory or supabase-storage store.";
  } else if (/GHES|not currently supported/i.test(message)) {
    hint = "GitHub Enterprise Server does not offer the artifact service @actions/artifact 2+ needs: choose the directory or supabase-storage backup store.";
  } else if (/quota/i.test(message)) {
    hint = "The account\u2019s artifact storage quota is used up: delete old artifacts, lower retention, or store backups elsewhere.";
  } else {
    hint = "The Actions artifact service failed: re-run the job. Self-hosted runners need access to the results service and blob storage endpoints.";
  }
  return new SupagateError("BACKUP_STORE_FAILED", `Uploading artifact "${name}" failed: ${message}`, {
    hint,
    details: { artifact: name, store: "github-artifact" },
    cause: error
  });
}
function scrub(message) {
  return redact(message).replace(/([?&]sig=)[^&\s"']+/gi, "$1***");
}
var GitHubArtifactStore = class {
  kind = "github-artifact";
  requiresEncryption;
  owner;
  repo;
  #staged;
  #octokit;
  constructor(options) {
    registerSecret(options.token);
    this.owner = options.owner;
    this.repo = options.repo;
    this.#octokit = createOctokit(
      options.token,
      options.apiUrl === void 0 ? {} : { baseUrl: options.apiUrl }
    );
    const upload = options.uploader ?? createArtifactUploader(
      options.retentionDays === void 0 ? {} : { retentionDays: options.retentionDays }
    );
    this.#staged = new ArtifactStore((key, path) => upload(artifactName(key), path), {
      ...options.allowUnencrypted === void 0 ? {} : { allowUnencrypted: options.allowUnencrypted },
      ...options.stagingDir === void 0 ? {} : { stagingDir: options.stagingDir }
    });
    this.requiresEncryption = this.#staged.requiresEncryption;
  }
  put(key, stream) {
    return this.#staged.put(key, stream);
  }
  async get(key) {
    const name = artifactName(key);
    try {
      return await this.#staged.get(key);
    } catch (error) {
      if (!isSupagateError(error) || error.code !== "BACKUP_NOT_FOUND") throw error;
    }
    const found = await this.#artifacts(name);
    const artifact = found.filter((a) => a.name === name && !a.expired).sort((a, b) => (b.created_at ?? "").localeCompare(a.created_at ?? "") || b.id - a.id)[0];
    if (!artifact) throw this.#notFound(key, name, found);
    return this.#download(artifact, key);
  }
  async list() {
    const keys = new Set(await this.#staged.list());
    for (const artifact of await this.#artifacts()) {
      if (artifact.expired || !artifact.name.startsWith(ARTIFACT_PREFIX)) continue;
      const key = artifact.name.slice(ARTIFACT_PREFIX.length);
      if (isStoreKey(key)) keys.add(key);
    }
    return [...keys].sort();
  }
  /** This run's staged copy only: an uploaded artifact stays until it expires (deleting needs `actions: write`). */
  async remove(key) {
    await this.#staged.remove(key);
  }
  /** The repository's artifacts, all pages; only those named `name` when given. */
  async #artifacts(name) {
    return github(
      {
        what: name ? `find artifact "${name}" in ${this.owner}/${this.repo}` : `list the artifacts of ${this.owner}/${this.repo}`,
        permission: "actions: read"
      },
      () => this.#octokit.paginate(this.#octokit.rest.actions.listArtifactsForRepo, {
        owner: this.owner,
        repo: this.repo,
        per_page: 100,
        ...name ? { name } : {}
      })
    );
  }
  #notFound(key, name, found) {
    const expired = found.filter((a) => a.name === name && a.expired);
    const newest = expired.map((a) => a.expires_at ?? "").sort().at(-1);
    return new SupagateError(
      "BACKUP_NOT_FOUND",
      `No backup file "${key}" in the github-artifact store: ${expired.length > 0 ? `artifact "${name}" in ${this.owner}/${this.repo} has expired${newest ? ` (${newest})` : ""}` : `no artifact "${name}" in ${this.owner}/${this.repo}`}`,
      {
        hint: "Artifacts expire after their retention period (retention-days, capped by the repository\u2019s artifact retention setting), and reading artifacts of other runs needs `permissions: { actions: read }`. List the backups that exist with listBackups.",
        details: { key, artifact: name, store: this.kind }
      }
    );
  }
  async #download(artifact, key) {
    const what = `download artifact "${artifact.name}" (id ${artifact.id}) of ${this.owner}/${this.repo}`;
    let location;
    try {
      const response = await this.#octokit.rest.actions.downloadArtifact({
        owner: this.owner,
        repo: this.repo,
        artifact_id: artifact.id,
        archive_format: "zip",
        // The redirect goes to blob storage, which must not receive the GitHub token.
        request: { redirect: "manual" }
      });
      location = response.headers.location;
    } catch (error) {
      if (statusOf(error) === 410) throw this.#notFound(key, artifact.name, [{ ...artifact, expired: true }]);
      throw toGitHubError(error, { what, permission: "actions: read" });
    }
    if (!location) {
      throw new SupagateError(
        "BACKUP_STORE_FAILED",
        `GitHub did not redirect to the content when asked to ${what}`,
        {
          details: { artifact: artifact.name, store: this.kind }
        }
      );
    }
    const failed = (why, cause) => new SupagateError("BACKUP_STORE_FAILED", `Could not ${what}: ${scrub(why)}`, {
      hint: "Re-run the job; self-hosted runners need access to GitHub\u2019s artifact blob storage.",
      details: { artifact: artifact.name, store: this.kind },
      ...cause === void 0 ? {} : { cause }
    });
    let body;
    try {
      const response = await new HttpClient("supagate").get(location);
      const status2 = response.message.statusCode ?? 0;
      if (status2 !== 200) {
        response.message.resume();
        throw failed(`blob storage answered HTTP ${status2}`);
      }
      body = response.message;
    } catch (error) {
      if (isSupagateError(error)) throw error;
      throw failed(error instanceof Error ? error.message : String(error), error);
    }
    return extractFile(body, key, (why, cause) => failed(why, cause));
  }
};
function isStoreKey(key) {
  try {
    assertStoreKey(key);
    return true;
  } catch {
    return false;
  }
}
function extractFile(zip, fileName, failed) {
  return new Promise((resolve3, reject) => {
    const parser = (0, import_unzip_stream.Parse)();
    const output = new PassThrough();
    let found = false;
    const fail = (error) => {
      const wrapped = failed(error instanceof Error ? error.message : String(error), error);
      zip.destroy();
      if (found) output.destroy(wrapped);
      else reject(wrapped);
    };
    parser.on("entry", (entry) => {
      if (!found && entry.type === "File" && entry.path.replace(/^\/+/, "") === fileName) {
        found = true;
        entry.on("error", fail);
        entry.pipe(output);
        resolve3(output);
      } else {
        entry.autodrain();
      }
    });
    parser.on("error", fail);
    zip.on("error", fail);
    parser.on("finish", () => {
      if (!found) fail(new Error(`the archive holds no file "${fileName}"`));
    });
    output.on("close", () => {
      if (!output.readableEnded) zip.destroy();
    });
    zip.pipe(parser);
  });
}

// src/github/summary.ts
import { stat } from "node:fs/promises";
var STEP_SUMMARY_LIMIT_BYTES = 1024 * 1024;
var MARGIN_BYTES = 4 * 1024;
async function writeJobSummary(markdown, options = {}) {
  const path = process.env.GITHUB_STEP_SUMMARY;
  if (!path) return { written: false, trimmed: false, bytes: 0 };
  const limit = options.limitBytes ?? STEP_SUMMARY_LIMIT_BYTES;
  const already = await stat(path).then(
    (s) => s.size,
    () => 0
  );
  const room = Math.max(0, limit - already - MARGIN_BYTES);
  const fitted = fitMarkdown(markdown.endsWith("\n") ? markdown : `${markdown}
`, {
    maxBytes: room,
    note: `This summary was cut to stay under GitHub's 1 MiB limit for a step's job summary.${options.fullReportHint ? ` The full report: ${options.fullReportHint}` : ""}`
  });
  const text2 = fitted.text.endsWith("\n") ? fitted.text : `${fitted.text}
`;
  if (text2.trim() === "") return { written: false, trimmed: fitted.trimmed, bytes: 0 };
  await summary.addRaw(text2).write();
  return { written: true, trimmed: fitted.trimmed, bytes: Buffer.byteLength(text2, "utf8") };
}

// src/action/inputs.ts
function booleanInput(name, fallback) {
  return flag(name, getInput(name) || void 0, fallback);
}
function listInput(name) {
  return getInput(name).split(",").map((item) => item.trim()).filter(Boolean);
}
function optionalInput(name) {
  return getInput(name).trim() || void 0;
}
var WELL_KNOWN_PASSWORDS = /* @__PURE__ */ new Set(["postgres", "password", "supabase"]);
function maskUrl(url, options = {}) {
  setSecret(url);
  const password = describeTarget(url).password;
  if (!password || options.shadow && WELL_KNOWN_PASSWORDS.has(password)) return;
  for (const secret of /* @__PURE__ */ new Set([password, encodeURIComponent(password)])) setSecret(secret);
}
function configFromInputs(options = {}) {
  const dbUrl = optionalInput("db-url");
  const readOnlyUrl = optionalInput("read-only-db-url");
  for (const url of [dbUrl, readOnlyUrl]) if (url) maskUrl(url);
  const shadowUrl = optionalInput("shadow-url");
  if (shadowUrl) maskUrl(shadowUrl, { shadow: true });
  for (const secret of [
    getInput("backup-key"),
    getInput("supabase-service-key"),
    getInput("github-token")
  ]) {
    if (!secret) continue;
    setSecret(secret);
    registerSecret(secret);
  }
  return resolveConfig({
    projectDir: getInput("working-directory"),
    migrationsDir: getInput("migrations-dir"),
    rollbacksDir: getInput("rollbacks-dir"),
    dbUrl: (options.readOnly ? readOnlyUrl : void 0) ?? dbUrl,
    atomic: getInput("atomic"),
    lockWaitMs: getInput("lock-wait"),
    stallTimeoutMs: getInput("stall-timeout"),
    lockTimeoutMs: getInput("lock-timeout"),
    statementTimeoutMs: getInput("statement-timeout"),
    lockRetries: getInput("lock-retries"),
    schemas: getInput("schemas"),
    apiSchemas: getInput("api-schemas"),
    extraRoles: getInput("roles"),
    largeTableRows: getInput("large-table-rows"),
    dataChecks: getInput("data-checks"),
    dataCheckTimeoutMs: getInput("data-check-timeout"),
    dataCheckSampleAboveRows: getInput("data-check-sample-above-rows"),
    dataCheckKeyValues: getInput("data-check-key-values"),
    declaredSchema: getInput("declared-schema"),
    includeAll: getInput("include-all"),
    strictHistory: getInput("strict-history"),
    allowEdited: getInput("allow-edited"),
    verify: getInput("verify"),
    onVerifyFailure: getInput("on-verify-failure"),
    shadowUrl: getInput("shadow-url"),
    shadowDisposable: getInput("shadow-disposable"),
    shadowCache: getInput("shadow-cache"),
    cacheDir: getInput("cache-dir"),
    backup: getInput("backup"),
    backupStore: getInput("backup-store"),
    backupScope: getInput("backup-scope"),
    backupDir: getInput("backup-dir"),
    backupKey: getInput("backup-key"),
    supabaseUrl: getInput("supabase-url"),
    supabaseServiceKey: getInput("supabase-service-key"),
    backupBucket: getInput("backup-bucket"),
    actor: process.env.GITHUB_ACTOR,
    runId: process.env.GITHUB_RUN_ID
  });
}
var TARGET_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
function targetIdFromInputs() {
  const named = optionalInput("target");
  if (named) {
    if (!TARGET_NAME.test(named)) {
      throw new SupagateError(
        "CONFIG_INVALID",
        `The target input "${named.slice(0, 80)}" is not a short name`,
        {
          hint: 'Use letters, digits, ".", "_" and "-" (at most 64), e.g. production.',
          details: { setting: "target" }
        }
      );
    }
    return named;
  }
  const url = optionalInput("db-url") ?? optionalInput("read-only-db-url");
  if (!url) {
    throw new SupagateError("CONFIG_INVALID", "No target database given", {
      hint: "Pass db-url (or read-only-db-url for plan and drift) from a secret.",
      details: { setting: "db-url" }
    });
  }
  return stickyTargetId(url);
}
function targetLabelFromInputs() {
  const named = optionalInput("target");
  if (named) return named;
  const url = optionalInput("db-url") ?? optionalInput("read-only-db-url");
  const database = url ? describeTarget(url).database : "";
  return database ? `database "${database}"` : "the target database";
}
function backupStoreFromInputs(config, run2, options = {}) {
  if (config.backupStore === "directory" && (options.usesStore ?? config.backup === "on")) {
    assertPersistentDirectory(config);
  }
  if (config.backupStore !== "github-artifact") return void 0;
  const retention = optionalInput("backup-retention-days");
  return new GitHubArtifactStore({
    token: getInput("github-token"),
    owner: run2.repository.owner,
    repo: run2.repository.repo,
    apiUrl: run2.apiUrl,
    allowUnencrypted: booleanInput("allow-unencrypted-artifacts", false),
    ...retention ? { retentionDays: Number(retention) } : {}
  });
}
function approvalSettings(config, run2, pull, target) {
  const author = optionalInput("comment-author");
  const approvers = listInput("approvers");
  const approverTeams = listInput("approver-teams");
  return {
    owner: run2.repository.owner,
    repo: run2.repository.repo,
    pull,
    migrationsDir: repositoryPath(config.projectDir, config.migrationsDir),
    requiredApprovals: Number(getInput("required-approvals") || "1"),
    ...approvers.length > 0 ? { approvers } : {},
    ...approverTeams.length > 0 ? { approverTeams } : {},
    target,
    ...author ? { commentAuthor: author } : {}
  };
}
function assertPersistentDirectory(config) {
  if (booleanInput("backup-dir-persistent", false)) return;
  const dir = isAbsolute(config.backupDir) ? config.backupDir : resolve(config.projectDir, config.backupDir);
  const inside = (root) => {
    if (!root) return false;
    const path = relative(resolve(root), resolve(dir));
    return path === "" || !path.startsWith("..") && !isAbsolute(path);
  };
  const where = inside(process.env.GITHUB_WORKSPACE) ? "inside the workspace, which actions/checkout cleans at the start of every job" : inside(process.env.RUNNER_TEMP) ? "in the runner's temp folder, which is emptied after every job" : process.env.RUNNER_ENVIRONMENT === "github-hosted" ? "on a GitHub-hosted runner, whose disk is discarded after the job" : void 0;
  if (!where) return;
  throw new SupagateError(
    "CONFIG_INVALID",
    `The directory backup store (backup-dir: ${config.backupDir}) is ${where}: a backup written there cannot be restored later`,
    {
      hint: "Use backup-store: github-artifact (with backup-key) or supabase-storage, or point backup-dir at a folder of a self-hosted runner that outlives jobs (an absolute path outside the workspace) and set backup-dir-persistent: true.",
      details: { setting: "backup-dir" }
    }
  );
}
function repositoryPath(projectDir, folder) {
  const root = process.env.GITHUB_WORKSPACE ?? process.cwd();
  return relative(root, resolve(root, projectDir, folder)).split(sep).join("/");
}
async function textSummary(title, text2) {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  await writeJobSummary(`## ${escapeMarkdownLine(title)}

${fencedText(text2)}
`);
}
function fencedText(text2) {
  const longest = Math.max(0, ...[...text2.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(Math.max(3, longest + 1));
  return `${fence}text
${text2.replace(/\r\n?/g, "\n").replace(/\n+$/, "")}
${fence}`;
}
function escapeMarkdownLine(text2) {
  return text2.replace(/\s+/g, " ").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/([\\`*_[\]#|~!])/g, "\\$1");
}
var FLAG_INPUTS = {
  "shadow-url": "shadow-url",
  "shadow-disposable": "shadow-disposable",
  to: "to-version",
  confirm: "confirm",
  "dry-run": "dry-run",
  backup: "backup",
  "backup-dir": "backup-dir",
  "backup-store": "backup-store",
  "backup-key": "backup-key",
  "backup-scope": "backup-scope",
  "include-all": "include-all",
  "strict-history": "strict-history",
  "allow-edited": "allow-edited",
  "on-verify-failure": "on-verify-failure",
  "discard-writes-since-backup": "discard-writes-since-backup",
  "allow-other-target": "allow-other-target",
  "lock-wait-timeout": "lock-wait",
  "lock-wait": "lock-wait",
  "lock-timeout": "lock-timeout",
  "statement-timeout": "statement-timeout",
  "stall-timeout": "stall-timeout",
  atomic: "atomic",
  verify: "verify",
  "db-url": "db-url",
  "read-only-db-url": "read-only-db-url"
};
function actionWording(text2) {
  return text2.replace(
    /`?--([a-z][a-z-]*)(?:(?:[ =])(<[^>\n]{1,40}>|[^\s`,;)]+))?`?/g,
    (whole, flag2, value) => {
      if (flag2 === "backup" && value && (value === "<id>" || /^\d{8}T/.test(value))) {
        return `the \`backup-id\` input${value === "<id>" ? "" : ` (${value})`}`;
      }
      const input = FLAG_INPUTS[flag2];
      if (!input) return whole;
      if (value && !value.startsWith("<") && /^(?:on|off|true|false|all|per-migration|report|rollback)$/.test(value))
        return `\`${input}: ${value}\``;
      if (value && !value.startsWith("<")) return `the \`${input}\` input (${value})`;
      return `the \`${input}\` input`;
    }
  );
}

// src/action/apply.ts
var PULL_REQUEST_EVENTS = /* @__PURE__ */ new Set(["pull_request", "pull_request_target", "pull_request_review"]);
var REFUSALS = /* @__PURE__ */ new Set([
  "APPROVAL_MISSING",
  "PLAN_FAILED",
  "CONFIG_INVALID",
  "ATOMIC_ALL_REFUSED",
  "HISTORY_OUT_OF_ORDER",
  "HISTORY_MISSING_LOCAL",
  "HISTORY_APPLIED_AS_OTHER_VERSION",
  "HISTORY_EDITED",
  "HISTORY_MISSING",
  "MIGRATION_FILE_INVALID",
  "MIGRATION_DUPLICATE_VERSION",
  "MIGRATION_PARSE_ERROR",
  "MIGRATION_TRANSACTION_CONTROL"
]);
async function runApply() {
  const run2 = readRunContext();
  const config = configFromInputs();
  const target = targetIdFromInputs();
  const label = targetLabelFromInputs();
  const dryRun = booleanInput("dry-run", false);
  if (!dryRun && PULL_REQUEST_EVENTS.has(run2.kind)) {
    throw new SupagateError(
      "CONFIG_INVALID",
      `apply does not run on ${run2.eventName} events: the pull request's SQL would reach production before it is merged`,
      {
        hint: "Run command: plan on pull requests, and apply on the push to the default branch (or dry-run: true here).",
        details: { setting: "command" }
      }
    );
  }
  if (run2.kind !== "push" && booleanInput("require-approval", true)) {
    notice(
      `The approval gate checks the pull request of a push; this ${run2.eventName} run relies on the environment's required reviewers.`
    );
  }
  const traces = run2.kind === "push" && !dryRun;
  const gate = {};
  let outcome;
  try {
    const store = backupStoreFromInputs(config, run2);
    const result2 = await apply(config, {
      dryRun,
      onProgress: countProgressPrinter((line) => info(line.trimEnd())),
      ...store ? { store } : {},
      ...dryRun ? {} : {
        hooks: {
          beforeApply: async (context) => {
            await approvalGate(config, run2, target, context, gate);
          }
        }
      }
    });
    outcome = { kind: "result", result: { ...result2, target: label } };
  } catch (error) {
    const code = error instanceof SupagateError ? error.code : void 0;
    outcome = { kind: "error", status: code && REFUSALS.has(code) ? "refused" : "failed", error };
  }
  if (outcome.kind === "result") {
    const { result: result2 } = outcome;
    setOutput("pending_count", result2.plan.length);
    setOutput("applied_versions", result2.applied.map((m) => m.version).join(","));
    setOutput("status", result2.status);
    setOutput("backup_id", result2.backup.status === "taken" ? result2.backup.id : "");
    setOutput("verification", result2.verification.status);
    await textSummary("supagate apply", actionWording(renderApply(result2)));
  } else {
    setOutput("status", outcome.status);
    setOutput("applied_versions", "");
    setOutput("backup_id", "");
    await textSummary(
      `supagate apply: ${outcome.status === "refused" ? "refused, nothing was applied" : "failed"}`,
      actionWording(renderError(outcome.error))
    );
  }
  if (traces) await leaveTraces(run2, outcome, gate, label);
  if (outcome.kind === "error") {
    setFailed(actionWording(renderError(outcome.error)));
    return;
  }
  const { result } = outcome;
  if (result.status === "blocked" || result.status === "dry-run" && result.blockingReasons.length > 0) {
    setFailed(
      `The plan blocks${result.status === "dry-run" ? " (dry run)" : ""}; nothing was applied:
${result.blockingReasons.map((r) => `- ${r}`).join("\n")}`
    );
  }
  if (result.status === "failed") {
    setFailed(`Migration failed: ${result.failure?.path ?? ""}; see the job summary.`);
  }
  if (result.status === "verify-failed") {
    setFailed(`Verification after apply failed; ${undoHint(result)}`);
  }
}
function undoHint(result) {
  if (result.recovery && result.recovery.rolledBack.length > 0 && !result.recovery.rollbackFailure) {
    return `the down files of ${result.recovery.rolledBack.join(", ")} ran (on-verify-failure: rollback).`;
  }
  const to = /--to[ =](\S+)/.exec(result.recovery?.command ?? "")?.[1];
  const backup = result.backup.status === "taken" ? result.backup.id : void 0;
  return [
    to ? `undo with the rollback job: to-version: ${to}` : void 0,
    backup ? `or restore the backup: backup-id: ${backup}` : void 0
  ].filter(Boolean).join(", ").concat("; see the job summary.");
}
async function approvalGate(config, run2, target, context, state) {
  state.context = context;
  if (!booleanInput("require-approval", true)) {
    warning("require-approval is false: applying without checking the pull request approvals.");
    return;
  }
  if (run2.kind !== "push") return;
  const octokit = octokitFor(run2);
  const { owner, repo } = run2.repository;
  const pull = await findPullRequestForCommit(octokit, { owner, repo, sha: run2.sha });
  if (!pull) {
    throw new SupagateError("APPROVAL_MISSING", `No pull request is associated with commit ${run2.sha}`, {
      hint: "Merge migrations through a reviewed pull request, or set require-approval: false for direct pushes."
    });
  }
  state.pull = pull.number;
  const approval = await checkApproval(octokit, {
    ...approvalSettings(config, run2, pull.number, target),
    currentPlanHash: context.planHash,
    currentEffect: effectDigestOf(context.plan),
    currentApplied: appliedVersionsOf(context.status)
  });
  if (approval.planChanged) state.planChanged = true;
  assertApproved(approval, pull.number);
  if (approval.carriedOver) {
    info(
      `Production changed since the approval only by ${approval.carriedOver.join(", ")} (applied since), and this pull request's own changes and findings are the same: the approval holds.`
    );
  }
  info(
    `Approved by ${approval.approvals.map((a) => a.login).join(", ")} on pull request #${pull.number}.`
  );
}
function octokitFor(run2) {
  return createOctokit(getInput("github-token"), { baseUrl: run2.apiUrl });
}
async function leaveTraces(run2, outcome, gate, label) {
  const octokit = octokitFor(run2);
  const { owner, repo } = run2.repository;
  const status2 = statusOf2(outcome);
  await warnOnFailure(
    "The supagate/apply status was not set",
    () => setCommitStatus(octokit, {
      owner,
      repo,
      sha: run2.sha,
      context: APPLY_CONTEXT,
      state: status2.state,
      description: status2.description,
      targetUrl: run2.runUrl
    })
  );
  if (!booleanInput("comment-on-merge", true)) return;
  if (outcome.kind === "result" && outcome.result.status === "up-to-date") return;
  let pull = gate.pull;
  if (pull === void 0) {
    pull = await warnOnFailure(
      "The merged pull request was not found",
      async () => (await findPullRequestForCommit(octokit, { owner, repo, sha: run2.sha, retries: 1, delayMs: 1e3 }))?.number
    );
  }
  if (pull === void 0) return;
  const issueNumber = pull;
  if (gate.planChanged && gate.context)
    await refreshPlanComment(octokit, run2, issueNumber, gate.context, label);
  const body = outcome.kind === "result" ? actionWording(renderApplyMarkdown(outcome.result, { fullReportUrl: run2.runUrl })) : errorComment(outcome, run2, gate);
  const comment = await warnOnFailure(
    "The result was not commented on the pull request",
    () => postResultComment(octokit, { owner, repo, issueNumber, body })
  );
  if (comment) setOutput("comment_url", comment.url);
}
function statusOf2(outcome) {
  if (outcome.kind === "error") {
    const message = redact(outcome.error instanceof Error ? outcome.error.message : String(outcome.error));
    return outcome.status === "refused" ? { state: "failure", description: `Refused, nothing applied: ${message}` } : { state: "error", description: `Failed: ${message}` };
  }
  const { result } = outcome;
  switch (result.status) {
    case "applied":
      return {
        state: "success",
        description: `Applied ${result.applied.map((m) => m.version).join(", ")}; verification ${result.verification.status}`
      };
    case "up-to-date":
      return { state: "success", description: "No migrations: nothing pending" };
    case "blocked":
      return {
        state: "failure",
        description: `Refused, the plan blocks: ${result.blockingReasons[0] ?? "see the run"}`
      };
    case "verify-failed":
      return { state: "failure", description: "Applied, but verification failed: see the run" };
    case "failed":
      return {
        state: "error",
        description: `Migration failed: ${result.failure?.path ?? ""}${result.applied.length > 0 ? `; applied before it: ${result.applied.map((m) => m.version).join(", ")}` : ""}`
      };
    default:
      return { state: "success", description: result.status };
  }
}
function errorComment(outcome, run2, gate) {
  const error = outcome.error;
  const message = redact(error instanceof Error ? error.message : String(error));
  const hint = error instanceof SupagateError && error.hint ? actionWording(redact(error.hint)) : void 0;
  const title = outcome.status === "refused" ? gate.planChanged ? "### \u26D4 supagate apply refused: the plan changed since it was approved" : "### \u26D4 supagate apply refused: nothing was applied" : "### \u274C supagate apply failed";
  return [
    title,
    "",
    fencedText(message),
    ...hint ? ["", `**What to do:** ${escapeMarkdownLine(hint)}`] : [],
    ...gate.planChanged ? [
      "",
      "The plan comment above now shows the plan as it is: review it, approve the pull request again, then re-run the apply job."
    ] : [],
    "",
    `[The run](${run2.runUrl})`
  ].join("\n");
}
async function refreshPlanComment(octokit, run2, pull, context, label) {
  const planned = context.plan;
  const author = optionalInput("comment-author");
  const applied = appliedVersionsOf(context.status);
  await warnOnFailure("The plan comment was not refreshed", async () => {
    await publishPlan(octokit, { ...run2, pullRequest: pullContext(pull) }, planned, {
      target: targetIdFromInputs(),
      label,
      ...author ? { author } : {},
      effect: effectDigestOf(planned),
      history: historyDigestOf(applied.map((a) => a.version)),
      commentOnly: true
    });
    info(
      `The plan comment on pull request #${pull} shows the plan as it is now; it needs approval again.`
    );
  });
}
function pullContext(number) {
  return {
    number,
    action: void 0,
    headSha: "",
    headRef: "",
    baseRef: "",
    baseSha: "",
    author: "",
    headRepoFullName: null,
    fork: false,
    draft: false,
    merged: true,
    htmlUrl: void 0
  };
}
async function warnOnFailure(what, step) {
  try {
    return await step();
  } catch (error) {
    warning(`${what}: ${renderError(error)}`);
    return void 0;
  }
}

// src/github/drift-issue.ts
var DRIFT_LABEL = "supagate-drift";
var ISSUE_BODY_LIMIT = 65536;
function driftMarker(target) {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(target)) {
    throw new SupagateError("INTERNAL", `A drift target id must be a short id, got "${target.slice(0, 80)}"`);
  }
  return `<!-- supagate:drift target=${target} -->`;
}
var DEFAULT_TITLE = "supagate: production schema drifted from the migrations";
async function syncDriftIssue(octokit, options) {
  const marker = driftMarker(options.target);
  const author = (options.author ?? DEFAULT_COMMENT_AUTHOR).toLowerCase();
  const { owner, repo } = options;
  const listed = await github(
    { what: `list the open ${DRIFT_LABEL} issues`, permission: "issues: read" },
    () => octokit.paginate(octokit.rest.issues.listForRepo, {
      owner,
      repo,
      labels: DRIFT_LABEL,
      state: "open",
      per_page: 100
    })
  );
  const existing = listed.filter(
    (issue) => !issue.pull_request && issue.user?.login.toLowerCase() === author && (issue.body ?? "").split("\n", 1)[0]?.trim() === marker
  ).sort((a, b) => b.created_at.localeCompare(a.created_at) || b.number - a.number)[0];
  if (!options.drift) {
    if (!existing) return { action: "none", trimmed: false };
    await github(
      { what: `comment on drift issue #${existing.number}`, permission: "issues: write", write: true },
      () => octokit.rest.issues.createComment({
        owner,
        repo,
        issue_number: existing.number,
        body: `No drift any more: production matches the migrations${options.runUrl ? ` (checked by ${options.runUrl})` : ""}. Closing.`
      })
    );
    const { data: data2 } = await github(
      { what: `close drift issue #${existing.number}`, permission: "issues: write", write: true },
      () => octokit.rest.issues.update({
        owner,
        repo,
        issue_number: existing.number,
        state: "closed",
        state_reason: "completed"
      })
    );
    return { action: "closed", number: data2.number, url: data2.html_url, trimmed: false };
  }
  const footer = options.runUrl ? `

---
Last checked by ${options.runUrl} at ${(/* @__PURE__ */ new Date()).toISOString()}.
` : "\n";
  const fitted = fitMarkdown(`${marker}
${options.body.trimEnd()}${footer}`, {
    maxChars: ISSUE_BODY_LIMIT,
    note: `Cut to GitHub's limit of 65,536 characters; the full report is in the job summary${options.runUrl ? ` of ${options.runUrl}` : ""}.`
  });
  const title = options.title ?? DEFAULT_TITLE;
  if (existing) {
    const { data: data2 } = await github(
      { what: `update drift issue #${existing.number}`, permission: "issues: write", write: true },
      () => octokit.rest.issues.update({ owner, repo, issue_number: existing.number, title, body: fitted.text })
    );
    return { action: "updated", number: data2.number, url: data2.html_url, trimmed: fitted.trimmed };
  }
  const { data } = await github(
    { what: "open the drift issue", permission: "issues: write", write: true },
    () => octokit.rest.issues.create({ owner, repo, title, body: fitted.text, labels: [DRIFT_LABEL] })
  );
  return { action: "created", number: data.number, url: data.html_url, trimmed: fitted.trimmed };
}

// src/action/report-file.ts
import { mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
async function publishReportFile(name, markdown) {
  const folder = join(process.env.RUNNER_TEMP || tmpdir(), "supagate");
  await mkdir(folder, { recursive: true });
  const path = join(folder, `${name}.md`);
  await writeFile(path, markdown);
  setOutput("report_path", path);
  if (process.env.ACTIONS_RUNTIME_TOKEN && process.env.ACTIONS_RESULTS_URL) {
    const attempt = process.env.GITHUB_RUN_ATTEMPT ?? "1";
    try {
      const uploaded = await createArtifactUploader()(`${name}-attempt-${attempt}`, path);
      info(`Full report: ${uploaded.location}`);
    } catch (error) {
      warning(`The full report was not uploaded as an artifact: ${error.message}`);
    }
  }
  return path;
}

// src/action/drift.ts
async function runDrift() {
  const run2 = readRunContext();
  const config = configFromInputs({ readOnly: true });
  const target = targetIdFromInputs();
  const result = { ...await drift(config), target: targetLabelFromInputs() };
  const drifted = result.status === "drifted";
  setOutput("drift", String(drifted));
  const full = renderDriftMarkdown(result, { limit: Number.POSITIVE_INFINITY });
  await writeJobSummary(full);
  await publishReportFile(`supagate-drift-${target}`, full);
  if (result.status === "failed") {
    setFailed(`The drift check could not run: ${result.failure?.message ?? "see the job summary"}`);
    return;
  }
  if (booleanInput("drift-issue", true)) {
    const octokit = createOctokit(getInput("github-token"), { baseUrl: run2.apiUrl });
    const author = optionalInput("comment-author");
    const issue = await syncDriftIssue(octokit, {
      owner: run2.repository.owner,
      repo: run2.repository.repo,
      target,
      drift: drifted,
      // Room for the marker and the footer syncDriftIssue adds.
      body: renderDriftMarkdown(result, { limit: COMMENT_LIMIT - 2e3, fullReportUrl: run2.runUrl }),
      runUrl: run2.runUrl,
      ...author ? { author } : {}
    });
    setOutput("issue_url", drifted ? issue.url ?? "" : "");
    if (issue.action !== "none") info(`Drift issue ${issue.action}: ${issue.url ?? ""}`);
  }
  if (drifted && booleanInput("fail-on-drift", false)) {
    const what = [
      ...result.diff.changes.length > 0 ? [`${result.diff.changes.length} object(s) differ`] : [],
      ...result.edited.length > 0 ? [`applied migrations edited since: ${result.edited.join(", ")}`] : [],
      ...result.missingLocal.length > 0 ? [`applied with no local file: ${result.missingLocal.join(", ")}`] : []
    ];
    setFailed(`Production drifted from its migrations (${what.join("; ")}); see the job summary.`);
  }
}

// src/action/plan.ts
import { readFileSync as readFileSync2 } from "node:fs";
import { resolve as resolve2 } from "node:path";

// src/github/findings-check.ts
var FINDINGS_CHECK = "supagate/findings";
var MESSAGE_LIMIT = 64 * 1024 - 1;
var PER_REQUEST = 50;
function findingAnnotations(result, toRepoPath) {
  const annotations = [];
  for (const hazard of result.hazards) {
    if (!hazard.location) continue;
    const level = hazard.accepted ? "notice" : hazard.severity === "blocking" ? "failure" : "warning";
    annotations.push(
      annotation(toRepoPath(hazard.location.path), hazard.location.line, level, {
        title: `${hazard.code}${hazard.accepted ? " (accepted)" : hazard.severity === "blocking" ? " (blocking)" : ""}`,
        message: `${hazard.message}${hazard.accepted ? `
Accepted: ${hazard.accepted.reason}` : ""}`
      })
    );
  }
  for (const lint of result.lints.introduced) {
    if (!lint.location) continue;
    const level = lint.accepted ? "notice" : lint.level === "ERROR" ? "failure" : lint.level === "WARN" ? "warning" : "notice";
    annotations.push(
      annotation(toRepoPath(lint.location.path), lint.location.line, level, {
        title: `${lint.code}${lint.accepted ? " (accepted)" : level === "failure" ? " (blocking)" : ""}`,
        message: `${lint.message}
${lint.remediation}${lint.accepted ? `
Accepted: ${lint.accepted.reason}` : ""}`
      })
    );
  }
  return annotations;
}
function annotation(path, line, level, text2) {
  const at = Math.max(1, Math.floor(line) || 1);
  return {
    path,
    start_line: at,
    end_line: at,
    annotation_level: level,
    title: text2.title.slice(0, 255),
    message: text2.message.slice(0, MESSAGE_LIMIT)
  };
}
async function publishFindingsCheck(octokit, options) {
  const annotations = findingAnnotations(options.result, options.toRepoPath);
  const failures = annotations.filter((a) => a.annotation_level === "failure").length;
  const warnings = annotations.filter((a) => a.annotation_level === "warning").length;
  const conclusion = options.result.blocking ? "failure" : warnings > 0 ? "neutral" : "success";
  const title = annotations.length === 0 ? "No findings at a migration line" : `${failures} blocking, ${warnings} warning(s), ${annotations.length - failures - warnings} notice(s)`;
  const summary2 = options.result.blocking ? `The plan blocks: ${options.result.blockingReasons.length} finding(s) must be fixed or accepted. Each is annotated at its migration's line.` : "Nothing blocks. Warnings are annotated at their migration lines.";
  const output = (batch) => ({ title, summary: summary2, annotations: batch });
  const created = await createCheckRun(octokit, {
    owner: options.owner,
    repo: options.repo,
    headSha: options.headSha,
    name: FINDINGS_CHECK,
    conclusion,
    output: output(annotations.slice(0, PER_REQUEST)),
    ...options.detailsUrl ? { detailsUrl: options.detailsUrl } : {}
  });
  for (let start = PER_REQUEST; start < annotations.length; start += PER_REQUEST) {
    const batch = annotations.slice(start, start + PER_REQUEST);
    await github(
      { what: `annotate the ${FINDINGS_CHECK} check run`, permission: "checks: write", write: true },
      () => octokit.rest.checks.update({
        owner: options.owner,
        repo: options.repo,
        check_run_id: created.id,
        output: output(batch)
      })
    );
  }
  return { id: created.id, url: created.url, annotations: annotations.length, conclusion };
}

// src/github/suggestions.ts
import { createHash } from "node:crypto";
var MARKER = /<!-- supagate:suggestion ([0-9a-f]{16}) -->/;
function suggestionComments(input) {
  const posted = new Set(input.posted.map((c) => MARKER.exec(c.body)?.[1]).filter(Boolean));
  const comments = /* @__PURE__ */ new Map();
  for (const hazard of input.hazards) {
    const { fix, location } = hazard;
    if (!fix || !location) continue;
    const lines = statementLines(input.fileText(location.path), location.line, location.statement);
    if (!lines) continue;
    const path = input.toRepoPath(location.path);
    const hunks = input.hunks.get(path) ?? [];
    if (!hunks.some((h) => h.start <= lines.start && lines.end <= h.end)) continue;
    const key = suggestionKey(path, lines, fix);
    if (posted.has(key) || comments.has(key)) continue;
    comments.set(key, {
      path,
      line: lines.end,
      ...lines.start < lines.end ? { start_line: lines.start } : {},
      side: "RIGHT",
      body: commentBody(hazard.code, fix, key, lines.whole)
    });
  }
  return [...comments.values()].sort(
    (a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : a.line - b.line
  );
}
function statementLines(text2, line, statement) {
  if (text2 === void 0) return void 0;
  const fileLines = text2.split(/\r?\n/);
  const end = line + statement.split(/\r?\n/).length - 1;
  if (line < 1 || end > fileLines.length) return void 0;
  const spanned = fileLines.slice(line - 1, end).join("\n");
  const at = spanned.indexOf(statement);
  if (at < 0) return void 0;
  const whole = spanned.slice(0, at).trim() === "" && /^\s*;?\s*$/.test(spanned.slice(at + statement.length));
  return { start: line, end, whole };
}
function suggestionKey(path, lines, fix) {
  const identity = JSON.stringify([
    path,
    lines.start,
    lines.end,
    fix.placement,
    fix.sql,
    fix.later?.sql ?? ""
  ]);
  return createHash("sha256").update(identity).digest("hex").slice(0, 16);
}
function commentBody(code, fix, key, whole) {
  const intro = `**supagate** \`${code}\`: ${inline(fix.summary)}.`;
  const later = fix.later ? `

Then, in a later migration, once ${inline(fix.later.when)}:
${codeBlock(fix.later.sql, "sql")}` : "";
  let main;
  if (fix.placement === "replace" && !fix.ownFile && whole) {
    main = `Commit this suggestion to use it instead of the statement:
${codeBlock(fix.sql, "suggestion")}`;
  } else {
    const where = fix.placement === "after" ? "Add this right after the statement" : "Use this instead of the statement";
    main = `${where}${fix.ownFile ? ", in a migration file of its own" : ""}:
${codeBlock(fix.sql, "sql")}`;
  }
  return `<!-- supagate:suggestion ${key} -->
${intro} ${main}${later}`;
}
function hunkRanges(patch) {
  if (!patch) return [];
  return [...patch.matchAll(/^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@/gm)].flatMap((m) => {
    const start = Number(m[1]);
    const count = m[2] === void 0 ? 1 : Number(m[2]);
    return count > 0 ? [{ start, end: start + count - 1 }] : [];
  });
}
function isSuggestionComment(body) {
  return body !== void 0 && MARKER.test(body);
}

// src/github/publish-suggestions.ts
async function publishSuggestions(octokit, target) {
  if (!target.hazards.some((h) => h.fix && h.location)) return { posted: 0 };
  const { owner, repo, pullNumber } = target;
  const [hunks, posted] = await Promise.all([diffHunks(octokit, target), postedComments(octokit, target)]);
  const comments = suggestionComments({
    hazards: target.hazards,
    toRepoPath: target.toRepoPath,
    fileText: target.fileText,
    hunks,
    posted
  });
  if (comments.length === 0) return { posted: 0 };
  await github(
    {
      what: `post safe rewrites as a review of pull request #${pullNumber}`,
      permission: "pull-requests: write",
      write: true
    },
    () => octokit.rest.pulls.createReview({
      owner,
      repo,
      pull_number: pullNumber,
      commit_id: target.headSha,
      event: "COMMENT",
      body: `<!-- supagate:suggestions -->
supagate: ${comments.length === 1 ? "a safe rewrite" : `${comments.length} safe rewrites`} of what the plan found, on the statements' lines.`,
      comments
    })
  );
  return { posted: comments.length };
}
async function diffHunks(octokit, target) {
  const files = await github(
    { what: `list the files of pull request #${target.pullNumber}`, permission: "pull-requests: read" },
    () => octokit.paginate(octokit.rest.pulls.listFiles, {
      owner: target.owner,
      repo: target.repo,
      pull_number: target.pullNumber,
      per_page: 100
    })
  );
  return new Map(files.map((file) => [file.filename, hunkRanges(file.patch)]));
}
async function postedComments(octokit, target) {
  const author = (target.author ?? DEFAULT_COMMENT_AUTHOR).toLowerCase();
  const comments = await github(
    {
      what: `list the review comments of pull request #${target.pullNumber}`,
      permission: "pull-requests: read"
    },
    () => octokit.paginate(octokit.rest.pulls.listReviewComments, {
      owner: target.owner,
      repo: target.repo,
      pull_number: target.pullNumber,
      per_page: 100
    })
  );
  return comments.filter((c) => c.user?.login.toLowerCase() === author && isSuggestionComment(c.body)).map((c) => ({ body: c.body }));
}

// src/action/plan.ts
async function runPlan() {
  const context = readRunContext();
  const config = configFromInputs({ readOnly: true });
  if (context.readOnlyToken && !config.dbUrl) {
    notice(
      "This pull request comes from a fork: GitHub gives its workflows no secrets and a read-only token, so supagate cannot read production or comment. A maintainer can run the plan from a branch of this repository."
    );
    setOutput("blocking", "false");
    await textSummary(
      "supagate plan",
      "Skipped: pull requests from forks get no secrets and a read-only token."
    );
    return;
  }
  if (context.kind === "pull_request_target" && context.pullRequest?.fork) {
    notice(
      "supagate does not plan a fork\u2019s migrations on pull_request_target: the job has this repository\u2019s secrets, and the fork\u2019s SQL would run with them. Plan on pull_request (forks get a neutral result there), or push the branch to this repository."
    );
    setOutput("blocking", "false");
    await textSummary("supagate plan", "Skipped: a fork\u2019s migrations are not run on pull_request_target.");
    return;
  }
  const target = targetIdFromInputs();
  const label = targetLabelFromInputs();
  const result = await plan(config);
  setOutput("pending_count", result.pending.length);
  setOutput("plan_hash", result.planHash);
  setOutput("blocking", String(result.blocking));
  setOutput("shadow_baseline", result.shadow?.baseline ?? "");
  const full = renderPlanMarkdown({ ...result, target: label }, { limit: Number.POSITIVE_INFINITY });
  await writeJobSummary(full);
  await publishReportFile(`supagate-plan-${target}`, full);
  if (context.pullRequest && !context.readOnlyToken) {
    const octokit = createOctokit(getInput("github-token"), { baseUrl: context.apiUrl });
    const author = optionalInput("comment-author");
    const record = result.status === "planned" ? await effectRecord(config, result) : {};
    const published = await publishPlan(octokit, context, result, {
      target,
      label,
      ...author ? { author } : {},
      ...record,
      repositoryPath: (path) => repositoryPath(config.projectDir, path)
    });
    setOutput("comment_url", published.comment.url ?? "");
    await publishApprovalStatus(
      octokit,
      context,
      approvalSettings(config, context, context.pullRequest.number, target),
      result
    );
    if (result.status === "planned") {
      await publishFindings(octokit, context, config, result);
      if (booleanInput("suggest-fixes", true))
        await postSuggestions(octokit, context, config, result, author);
    }
  }
  if (result.failure?.kind === "environment") {
    setFailed(
      `supagate could not plan: ${result.failure.message}${result.failure.hint ? ` Hint: ${result.failure.hint}` : ""}`
    );
  } else if (result.blocking) {
    setFailed(`The plan has blocking findings: ${result.blockingReasons.slice(0, 3).join("; ")}`);
  }
}
async function publishApprovalStatus(octokit, context, settings, result) {
  if (result.status === "no-pending") {
    await setCommitStatus(octokit, {
      owner: context.repository.owner,
      repo: context.repository.repo,
      sha: context.statusSha,
      context: APPROVAL_CONTEXT,
      state: "success",
      description: NO_MIGRATIONS,
      targetUrl: context.runUrl
    });
    return;
  }
  const approval = await checkApproval(octokit, { ...settings, currentPlanHash: result.planHash });
  await setCommitStatus(octokit, {
    owner: context.repository.owner,
    repo: context.repository.repo,
    sha: context.statusSha,
    context: APPROVAL_CONTEXT,
    state: approval.approved ? "success" : "pending",
    description: approval.approved ? `Approved by ${approval.approvals.map((a) => a.login).join(", ")}` : approval.missing.join("; "),
    targetUrl: context.runUrl
  });
}
async function effectRecord(config, result) {
  const effect = effectDigestOf(result);
  try {
    const applied = appliedVersionsOf(await status(config));
    return { effect, history: historyDigestOf(applied.map((a) => a.version)), applied };
  } catch (error) {
    warning(`The migration history was not recorded with the plan: ${renderError(error)}`);
    return { effect };
  }
}
async function postSuggestions(octokit, context, config, result, author) {
  const pull = context.pullRequest;
  if (!pull) return;
  try {
    const { posted } = await publishSuggestions(octokit, {
      owner: context.repository.owner,
      repo: context.repository.repo,
      pullNumber: pull.number,
      headSha: pull.headSha,
      hazards: result.hazards,
      toRepoPath: (path) => repositoryPath(config.projectDir, path),
      fileText: (path) => readMigrationText(config.projectDir, path),
      ...author ? { author } : {}
    });
    if (posted > 0) info(`Posted ${posted} safe rewrite(s) as review comments.`);
  } catch (error) {
    notice(
      `The safe rewrites were not posted as review suggestions: ${renderError(error)} They are in the plan comment.`
    );
  }
}
function readMigrationText(projectDir, path) {
  try {
    return readFileSync2(resolve2(projectDir, path), "utf8");
  } catch {
    return void 0;
  }
}
async function publishFindings(octokit, context, config, result) {
  try {
    const check = await publishFindingsCheck(octokit, {
      owner: context.repository.owner,
      repo: context.repository.repo,
      headSha: context.statusSha,
      result,
      toRepoPath: (path) => repositoryPath(config.projectDir, path),
      detailsUrl: context.runUrl
    });
    info(`${FINDINGS_CHECK}: ${check.annotations} annotation(s), ${check.conclusion}.`);
  } catch (error) {
    warning(
      `The findings were not annotated (${FINDINGS_CHECK} check run): ${renderError(error)} Give the job checks: write.`
    );
  }
}

// src/action/repair.ts
async function runRepair() {
  const confirm = optionalInput("confirm");
  const result = await repair(configFromInputs(), confirm ? { confirm } : {});
  setOutput("repair_status", result.status);
  setOutput("fingerprint", result.fingerprint);
  await textSummary(
    "supagate repair",
    actionWording(renderRepair({ ...result, target: targetLabelFromInputs() }))
  );
  if (result.status === "proposed")
    notice(
      `Proposed ${result.actions.length} history change(s); run again with confirm: ${result.fingerprint} to apply them.`
    );
  const errors = result.problems.filter((problem) => problem.severity === "error");
  if (result.status !== "proposed" && errors.length > 0)
    setFailed(`History and files still disagree: ${errors[0]?.message}`);
}

// src/action/rollback.ts
async function runRollback() {
  const run2 = readRunContext();
  const config = configFromInputs();
  const to = optionalInput("to-version");
  const backupId = optionalInput("backup-id");
  if (Boolean(to) === Boolean(backupId)) {
    throw new SupagateError(
      "CONFIG_INVALID",
      to ? "Give either to-version or backup-id, not both" : "rollback needs to-version or backup-id",
      {
        hint: "to-version runs the down files of the migrations applied after it; backup-id restores a backup (see the apply run\u2019s backup_id output).",
        details: { setting: to ? "backup-id" : "to-version" }
      }
    );
  }
  const dryRun = booleanInput("dry-run", false);
  const confirm = optionalInput("confirm");
  const store = backupStoreFromInputs(config, run2, { usesStore: true });
  const common = { dryRun, ...confirm ? { confirm } : {}, ...store ? { store } : {} };
  const result = backupId ? await rollbackToBackup(config, {
    backupId,
    ...common,
    ...booleanInput("allow-other-target", false) ? { allowOtherTarget: true } : {},
    ...booleanInput("discard-writes-since-backup", false) ? { discardWritesSinceBackup: true } : {}
  }) : await rollback(config, { to, ...common });
  setOutput("status", result.status);
  setOutput("reverted_versions", result.reverted.map((m) => m.version).join(","));
  setOutput("backup_id", result.backup.status === "taken" ? result.backup.id : "");
  await textSummary(
    `supagate rollback${dryRun ? " (dry run)" : ""}`,
    actionWording(renderRollback({ ...result, target: targetLabelFromInputs() }))
  );
  if (result.status === "failed") setFailed("The rollback failed; see the job summary.");
}

// src/action/verify.ts
async function runVerify() {
  const result = await verify(configFromInputs({ readOnly: true }));
  setOutput("verification", result.ok ? "passed" : "failed");
  await textSummary("supagate verify", renderVerify({ ...result, target: targetLabelFromInputs() }));
  if (!result.ok) {
    setFailed(`Verification failed: ${result.failures.slice(0, 3).join("; ")}`);
  }
}

// src/main.ts
var COMMANDS = {
  plan: runPlan,
  apply: runApply,
  rollback: runRollback,
  drift: runDrift,
  verify: runVerify,
  status: runStatus,
  repair: runRepair
};
async function run() {
  try {
    const command = getInput("command", { required: true }).trim();
    const selected = COMMANDS[command];
    if (!selected) {
      setFailed(`Unknown command "${command}". Use one of: ${Object.keys(COMMANDS).join(", ")}.`);
      return;
    }
    await selected();
  } catch (error) {
    setFailed(actionWording(renderError(error)));
  }
}
async function runStatus() {
  const result = await status(configFromInputs());
  setOutput("pending_count", result.pending.length);
  setOutput("pending_versions", result.pending.join(","));
  await textSummary("supagate status", renderStatus({ ...result, target: targetLabelFromInputs() }));
  if (!result.ok) setFailed("Migration history and files disagree; see the job summary.");
}

// src/index.ts
installInterruptHandler({ write: (text2) => process.stderr.write(redact(text2)) });
await run();
