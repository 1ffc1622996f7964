import { readFileSync } from 'node:fs';
import { SupagateError } from '../core/errors.js';

/**
 * What a workflow run is about, read from the runner's environment and the event payload
 * (GITHUB_EVENT_PATH). Pure: `readRunContext(env, readFile)` takes both as arguments.
 */
export type EventKind =
  | 'pull_request'
  | 'pull_request_target'
  | 'pull_request_review'
  | 'push'
  | 'workflow_dispatch'
  | 'schedule'
  | 'other';

export interface RepositoryRef {
  owner: string;
  repo: string;
  /** owner/repo */
  fullName: string;
}

export interface PullRequestContext {
  number: number;
  /** opened, synchronize, reopened, … */
  action: string | undefined;
  headSha: string;
  headRef: string;
  baseRef: string;
  baseSha: string;
  author: string;
  /** owner/repo of the head branch; null when the fork was deleted. */
  headRepoFullName: string | null;
  /** The head branch lives in another repository (or in a deleted one). */
  fork: boolean;
  draft: boolean;
  merged: boolean;
  htmlUrl: string | undefined;
}

export interface PushContext {
  ref: string;
  /** The branch name when `ref` is a branch (refs/heads/…). */
  branch: string | undefined;
  before: string;
  after: string;
  forced: boolean;
  /** The pushed branch is the repository's default branch. */
  toDefaultBranch: boolean;
}

export interface GitHubRunContext {
  eventName: string;
  kind: EventKind;
  repository: RepositoryRef;
  /** GITHUB_SHA. For pull_request events this is the test merge commit, not the PR head. */
  sha: string;
  /** The commit statuses and check runs belong on: the PR head for PR events, else GITHUB_SHA. */
  statusSha: string;
  /** GITHUB_REF (refs/heads/main, refs/pull/12/merge, …). */
  ref: string;
  defaultBranch: string | undefined;
  serverUrl: string;
  apiUrl: string;
  runId: string;
  runAttempt: number;
  /** The run's page: where a trimmed comment points for the full report. */
  runUrl: string;
  actor: string;
  workflow: string;
  job: string;
  pullRequest?: PullRequestContext;
  push?: PushContext;
  /** workflow_dispatch inputs, as strings. */
  inputs: Record<string, string>;
  /** The cron expression of a schedule event. */
  schedule?: string;
  /**
   * The token is read-only and secrets are absent: a pull_request (or pull_request_review)
   * event from a fork, or one Dependabot triggered. Writes (comments, statuses) will be refused with 403.
   */
  readOnlyToken: boolean;
}

export type ReadFile = (path: string) => string;

const KINDS: readonly EventKind[] = [
  'pull_request',
  'pull_request_target',
  'pull_request_review',
  'push',
  'workflow_dispatch',
  'schedule',
];

function invalid(message: string, hint?: string): SupagateError {
  return new SupagateError('GITHUB_CONTEXT_INVALID', message, {
    hint: hint ?? 'supagate reads the variables the GitHub runner sets; run it as a step of a workflow job.',
  });
}

type Json = Record<string, unknown>;

function object(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function readRunContext(
  env: NodeJS.ProcessEnv = process.env,
  readFile: ReadFile = (path) => readFileSync(path, 'utf8'),
): GitHubRunContext {
  const eventName = env.GITHUB_EVENT_NAME?.trim() ?? '';
  if (!eventName) throw invalid('GITHUB_EVENT_NAME is not set');
  const fullName = env.GITHUB_REPOSITORY?.trim() ?? '';
  const [owner, repo, ...rest] = fullName.split('/');
  if (!owner || !repo || rest.length > 0) {
    throw invalid(`GITHUB_REPOSITORY is ${fullName ? `"${fullName}"` : 'not set'}; expected owner/repo`);
  }
  const payload = readPayload(env.GITHUB_EVENT_PATH, readFile);
  const kind: EventKind = (KINDS as readonly string[]).includes(eventName)
    ? (eventName as EventKind)
    : 'other';
  const serverUrl = (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '');
  const apiUrl = (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, '');
  const runId = env.GITHUB_RUN_ID ?? '';
  const runAttempt = Number.parseInt(env.GITHUB_RUN_ATTEMPT ?? '1', 10) || 1;
  const actor = env.GITHUB_ACTOR ?? '';
  const payloadRepo = object(payload.repository);
  const sha = env.GITHUB_SHA ?? '';

  let pullRequest: PullRequestContext | undefined;
  // pull_request_review (submitted, dismissed) carries the pull request too: the approval
  // status is re-evaluated on it.
  if (kind === 'pull_request' || kind === 'pull_request_target' || kind === 'pull_request_review') {
    pullRequest = readPullRequest(payload, fullName);
  }
  let push: PushContext | undefined;
  const defaultBranch = text(payloadRepo?.default_branch);
  if (kind === 'push') {
    const ref = text(payload.ref) ?? env.GITHUB_REF ?? '';
    const branch = ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined;
    push = {
      ref,
      branch,
      before: text(payload.before) ?? '',
      after: text(payload.after) ?? sha,
      forced: payload.forced === true,
      toDefaultBranch: branch !== undefined && branch === defaultBranch,
    };
  }
  const inputs: Record<string, string> = {};
  const rawInputs = object(payload.inputs);
  if (kind === 'workflow_dispatch' && rawInputs) {
    for (const [name, value] of Object.entries(rawInputs)) {
      if (value !== null && value !== undefined) inputs[name] = String(value);
    }
  }
  const readOnlyToken =
    (kind === 'pull_request' || kind === 'pull_request_review') &&
    (pullRequest?.fork === true || actor === 'dependabot[bot]' || pullRequest?.author === 'dependabot[bot]');

  return {
    eventName,
    kind,
    repository: { owner, repo, fullName },
    sha,
    statusSha: pullRequest?.headSha || sha,
    ref: env.GITHUB_REF ?? '',
    defaultBranch,
    serverUrl,
    apiUrl,
    runId,
    runAttempt,
    runUrl: runUrlOf(serverUrl, fullName, runId, runAttempt),
    actor,
    workflow: env.GITHUB_WORKFLOW ?? '',
    job: env.GITHUB_JOB ?? '',
    ...(pullRequest ? { pullRequest } : {}),
    ...(push ? { push } : {}),
    inputs,
    ...(kind === 'schedule' && text(payload.schedule) ? { schedule: text(payload.schedule) } : {}),
    readOnlyToken,
  };
}

export function runUrlOf(serverUrl: string, fullName: string, runId: string, attempt = 1): string {
  if (!runId) return `${serverUrl}/${fullName}/actions`;
  return `${serverUrl}/${fullName}/actions/runs/${runId}${attempt > 1 ? `/attempts/${attempt}` : ''}`;
}

function readPayload(path: string | undefined, readFile: ReadFile): Json {
  if (!path) return {};
  let raw: string;
  try {
    raw = readFile(path);
  } catch (error) {
    throw invalid(
      `Cannot read the event payload GITHUB_EVENT_PATH=${path}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalid(`The event payload ${path} is not JSON`);
  }
  const payload = object(parsed);
  if (!payload) throw invalid(`The event payload ${path} is not a JSON object`);
  return payload;
}

function readPullRequest(payload: Json, baseFullName: string): PullRequestContext {
  const pr = object(payload.pull_request);
  const number = typeof pr?.number === 'number' ? pr.number : payload.number;
  const head = object(pr?.head);
  const base = object(pr?.base);
  const headSha = text(head?.sha);
  if (!pr || typeof number !== 'number' || !headSha) {
    throw invalid(
      'The pull_request event payload has no pull_request.number or head.sha',
      'Check GITHUB_EVENT_PATH: it should be the payload GitHub wrote for this run.',
    );
  }
  const headRepo = object(head?.repo);
  const headRepoFullName = text(headRepo?.full_name) ?? null;
  const baseRepoFullName = text(object(base?.repo)?.full_name) ?? baseFullName;
  return {
    number,
    action: text(payload.action),
    headSha,
    headRef: text(head?.ref) ?? '',
    baseRef: text(base?.ref) ?? '',
    baseSha: text(base?.sha) ?? '',
    author: text(object(pr.user)?.login) ?? '',
    headRepoFullName,
    // A deleted fork leaves head.repo null: treat it as a fork.
    fork: headRepoFullName === null || headRepoFullName.toLowerCase() !== baseRepoFullName.toLowerCase(),
    draft: pr.draft === true,
    merged: pr.merged === true,
    htmlUrl: text(pr.html_url),
  };
}
