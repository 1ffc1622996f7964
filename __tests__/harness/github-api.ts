import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeArtifactService } from './fake-artifact-service.js';

/**
 * A local HTTP server (127.0.0.1, a free port) that plays the GitHub REST API routes
 * supagate calls, for one repository, and records every request it was sent. Point Octokit
 * (baseUrl) or the Action (GITHUB_API_URL) at `api.url`.
 *
 * It is strict where GitHub is: pagination by per_page/page with Link headers (a caller
 * that does not follow rel="next" misses items), 401 for an unknown token, 403 for writes
 * with a read-only token (a fork's), 422 for a body over GitHub's limits and for a review
 * comment on lines outside the pull request's diff (`setPullFiles`). It is stricter
 * where supagate should never get close: a status description over 140 characters is 422.
 *
 * It also plays GitHub Actions artifacts (`api.artifacts`, see fake-artifact-service.ts): the
 * results service and blob storage @actions/artifact uploads to (ACTIONS_RESULTS_URL =
 * `api.url`, ACTIONS_RUNTIME_TOKEN = `api.artifacts.runtimeToken(runId)`), and the REST routes
 * that list and download a repository's artifacts.
 */

export type TokenKind = 'github-actions' | 'app' | 'user';

export interface TokenIdentity {
  /** The login comments and issues written with this token get. */
  login: string;
  /** `user` tokens (PATs) can call GET /user; installation tokens (GITHUB_TOKEN, an App's) cannot. */
  kind: TokenKind;
  /** A fork's pull_request token: every write is 403. */
  readOnly?: boolean;
  /** Can read organization team memberships (GITHUB_TOKEN cannot). Default: true for `user`, else false. */
  orgRead?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Lower-case names; the authorization value is replaced by its scheme and `***`. */
  headers: Record<string, string>;
  body: unknown;
  /** The token used (which seeded identity), never its value. */
  identity: string | undefined;
  status: number;
}

export interface FailureRule {
  method?: string;
  /** Matched against the path without the query. */
  path: string | RegExp;
  status: number;
  message?: string;
  headers?: Record<string, string>;
  /** How many matching requests fail; default all. */
  times?: number;
}

export interface FakeGitHubOptions {
  repository?: string;
  /** token value → identity. Default: `test-token` → github-actions[bot]. */
  tokens?: Record<string, TokenIdentity>;
  serverUrl?: string;
  /** The clock used for created_at/updated_at of what is written through the API. */
  now?: () => Date;
}

interface GhUser {
  login: string;
  id: number;
  type: 'User' | 'Bot' | 'Organization';
}

export interface Comment {
  id: number;
  node_id: string;
  url: string;
  html_url: string;
  issue_url: string;
  body: string;
  user: GhUser;
  created_at: string;
  updated_at: string;
  author_association: string;
  performed_via_github_app: null;
}

export interface PullRequest {
  number: number;
  url: string;
  html_url: string;
  title: string;
  state: 'open' | 'closed';
  user: GhUser;
  head: { sha: string; ref: string; label: string; repo: { full_name: string; fork: boolean } | null };
  base: { sha: string; ref: string; label: string; repo: { full_name: string; fork: boolean } };
  merged_at: string | null;
  merge_commit_sha: string | null;
  draft: boolean;
  labels: { name: string }[];
  created_at: string;
  updated_at: string;
}

export interface Review {
  id: number;
  node_id: string;
  user: GhUser;
  body: string;
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED' | 'PENDING';
  submitted_at: string | undefined;
  commit_id: string;
  html_url: string;
  author_association: string;
}

/** A file of a pull request as GET …/pulls/{n}/files lists it: its unified diff in `patch`. */
export interface PullFile {
  filename: string;
  status: 'added' | 'modified' | 'removed' | 'renamed';
  patch?: string;
}

/** A comment of a pull request review, on a file's line(s). */
export interface ReviewComment {
  id: number;
  pull_request_review_id: number;
  commit_id: string;
  path: string;
  line: number;
  start_line: number | null;
  side: 'LEFT' | 'RIGHT';
  body: string;
  user: GhUser;
  created_at: string;
}

export interface CommitFile {
  filename: string;
  status: 'added' | 'modified' | 'removed' | 'renamed';
  previous_filename?: string;
  additions: number;
  deletions: number;
  changes: number;
}

export interface Commit {
  sha: string;
  node_id: string;
  html_url: string;
  commit: {
    message: string;
    author: { name: string; email: string; date: string };
    committer: { name: string; email: string; date: string };
  };
  author: GhUser | null;
  committer: GhUser | null;
  parents: { sha: string }[];
  files: CommitFile[];
}

export interface Issue {
  id: number;
  node_id: string;
  number: number;
  url: string;
  html_url: string;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  state_reason: string | null;
  labels: { id: number; name: string }[];
  user: GhUser;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
}

export interface CommitStatus {
  id: number;
  sha: string;
  state: string;
  context: string;
  description: string | null;
  target_url: string | null;
  created_at: string;
  creator: GhUser;
}

export interface CheckRun {
  id: number;
  name: string;
  head_sha: string;
  status: string;
  conclusion: string | null;
  details_url: string | null;
  html_url: string;
  external_id: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
  /** Every annotation sent, across the create and its updates (GitHub appends them). */
  annotations: CheckAnnotation[];
  started_at: string;
  completed_at: string | null;
}

export interface CheckAnnotation {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: 'notice' | 'warning' | 'failure';
  message: string;
  title?: string;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const DOCS = 'https://docs.github.com/rest';
const FORBIDDEN = 'Resource not accessible by integration';

export class FakeGitHubApi {
  readonly requests: RecordedRequest[] = [];
  readonly owner: string;
  readonly repo: string;
  readonly serverUrl: string;
  url = '';
  /** listPullRequestsAssociatedWithCommit answers [] to the first `pullsForCommitLag` calls per sha. */
  pullsForCommitLag = 0;

  private readonly server: Server;
  private readonly tokens: Record<string, TokenIdentity>;
  private readonly now: () => Date;
  private nextId = 1000;
  private failures: (FailureRule & { remaining: number })[] = [];
  private readonly comments = new Map<number, Comment[]>();
  private readonly pulls = new Map<number, PullRequest>();
  private readonly reviews = new Map<number, Review[]>();
  private readonly pullFiles = new Map<number, PullFile[]>();
  private readonly reviewComments = new Map<number, ReviewComment[]>();
  private readonly pullCommits = new Map<number, string[]>();
  private readonly commits = new Map<string, Commit>();
  private readonly commitPulls = new Map<string, number[]>();
  private readonly pullsForCommitCalls = new Map<string, number>();
  private readonly teams = new Map<string, Map<string, 'active' | 'pending'>>();
  private readonly issueList: Issue[] = [];
  readonly statuses: CommitStatus[] = [];
  readonly checkRuns: CheckRun[] = [];
  readonly artifacts: FakeArtifactService;

  private constructor(options: FakeGitHubOptions) {
    const [owner, repo] = (options.repository ?? 'acme/app').split('/');
    this.owner = owner ?? 'acme';
    this.repo = repo ?? 'app';
    this.serverUrl = options.serverUrl ?? 'https://github.com';
    this.tokens = options.tokens ?? {
      'test-token': { login: 'github-actions[bot]', kind: 'github-actions' },
    };
    this.now = options.now ?? (() => new Date());
    this.artifacts = new FakeArtifactService(
      () => this.url,
      () => this.now(),
    );
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
  }

  static async start(options: FakeGitHubOptions = {}): Promise<FakeGitHubApi> {
    const api = new FakeGitHubApi(options);
    await new Promise<void>((resolve, reject) => {
      api.server.once('error', reject);
      api.server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = api.server.address() as AddressInfo;
    api.url = `http://127.0.0.1:${address.port}`;
    return api;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  get address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  /** Forgets requests, state and failures (tokens and options stay). */
  reset(): void {
    this.requests.length = 0;
    this.failures = [];
    this.pullsForCommitLag = 0;
    for (const map of [
      this.comments,
      this.pulls,
      this.reviews,
      this.pullFiles,
      this.reviewComments,
      this.pullCommits,
      this.commits,
      this.commitPulls,
      this.pullsForCommitCalls,
      this.teams,
    ]) {
      map.clear();
    }
    this.issueList.length = 0;
    this.statuses.length = 0;
    this.checkRuns.length = 0;
    this.artifacts.reset();
  }

  // ── seeding ────────────────────────────────────────────────────────────────────────────

  addPullRequest(seed: {
    number: number;
    user: string;
    headSha: string;
    headRef?: string;
    baseRef?: string;
    baseSha?: string;
    /** owner/repo of the head; default this repository. */
    headRepo?: string | null;
    state?: 'open' | 'closed';
    mergedAt?: string;
    mergeCommitSha?: string;
    title?: string;
    labels?: string[];
  }): PullRequest {
    const full = `${this.owner}/${this.repo}`;
    const headRepo = seed.headRepo === undefined ? full : seed.headRepo;
    const at = this.now().toISOString();
    const pull: PullRequest = {
      number: seed.number,
      url: `${this.url}/repos/${full}/pulls/${seed.number}`,
      html_url: `${this.serverUrl}/${full}/pull/${seed.number}`,
      title: seed.title ?? `Pull request ${seed.number}`,
      state: seed.state ?? (seed.mergedAt ? 'closed' : 'open'),
      user: user(seed.user),
      head: {
        sha: seed.headSha,
        ref: seed.headRef ?? `branch-${seed.number}`,
        label: `${headRepo?.split('/')[0] ?? 'unknown'}:${seed.headRef ?? `branch-${seed.number}`}`,
        repo: headRepo === null ? null : { full_name: headRepo, fork: headRepo !== full },
      },
      base: {
        sha: seed.baseSha ?? '0'.repeat(40),
        ref: seed.baseRef ?? 'main',
        label: `${this.owner}:${seed.baseRef ?? 'main'}`,
        repo: { full_name: full, fork: false },
      },
      merged_at: seed.mergedAt ?? null,
      merge_commit_sha: seed.mergeCommitSha ?? null,
      draft: false,
      labels: (seed.labels ?? []).map((name) => ({ name })),
      created_at: at,
      updated_at: at,
    };
    this.pulls.set(seed.number, pull);
    return pull;
  }

  addComment(
    issueNumber: number,
    seed: { user: string; body: string; createdAt?: string; id?: number },
  ): Comment {
    const id = seed.id ?? this.id();
    const at = seed.createdAt ?? this.now().toISOString();
    const full = `${this.owner}/${this.repo}`;
    const comment: Comment = {
      id,
      node_id: `IC_${id}`,
      url: `${this.url}/repos/${full}/issues/comments/${id}`,
      html_url: `${this.serverUrl}/${full}/${this.pulls.has(issueNumber) ? 'pull' : 'issues'}/${issueNumber}#issuecomment-${id}`,
      issue_url: `${this.url}/repos/${full}/issues/${issueNumber}`,
      body: seed.body,
      user: user(seed.user),
      created_at: at,
      updated_at: at,
      author_association: seed.user.endsWith('[bot]') ? 'NONE' : 'MEMBER',
      performed_via_github_app: null,
    };
    const list = this.comments.get(issueNumber) ?? [];
    list.push(comment);
    list.sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id - b.id);
    this.comments.set(issueNumber, list);
    return comment;
  }

  addReview(
    pull: number,
    seed: { user: string; state: Review['state']; submittedAt?: string; commitId: string; id?: number },
  ): Review {
    const id = seed.id ?? this.id();
    const review: Review = {
      id,
      node_id: `PRR_${id}`,
      user: user(seed.user),
      body: '',
      state: seed.state,
      submitted_at: seed.state === 'PENDING' ? undefined : (seed.submittedAt ?? this.now().toISOString()),
      commit_id: seed.commitId,
      html_url: `${this.serverUrl}/${this.owner}/${this.repo}/pull/${pull}#pullrequestreview-${id}`,
      author_association: 'MEMBER',
    };
    const list = this.reviews.get(pull) ?? [];
    list.push(review);
    this.reviews.set(pull, list);
    return review;
  }

  /** The files the pull request changes, with their diffs (what review comments may be on). */
  setPullFiles(pull: number, files: PullFile[]): void {
    this.pullFiles.set(pull, files);
  }

  reviewCommentsOn(pull: number): ReviewComment[] {
    return [...(this.reviewComments.get(pull) ?? [])];
  }

  reviewsOn(pull: number): Review[] {
    return [...(this.reviews.get(pull) ?? [])];
  }

  /** A commit on the pull request (appended: seed oldest first), with the files it touched. */
  addCommit(
    pull: number | undefined,
    seed: {
      sha: string;
      date: string;
      files: (string | (Partial<CommitFile> & { filename: string }))[];
      message?: string;
      author?: string;
    },
  ): Commit {
    const full = `${this.owner}/${this.repo}`;
    const previous = pull === undefined ? undefined : this.pullCommits.get(pull)?.at(-1);
    const commit: Commit = {
      sha: seed.sha,
      node_id: `C_${seed.sha.slice(0, 10)}`,
      html_url: `${this.serverUrl}/${full}/commit/${seed.sha}`,
      commit: {
        message: seed.message ?? `commit ${seed.sha.slice(0, 7)}`,
        author: { name: seed.author ?? 'Alice', email: 'alice@example.com', date: seed.date },
        committer: { name: seed.author ?? 'Alice', email: 'alice@example.com', date: seed.date },
      },
      author: seed.author ? user(seed.author) : null,
      committer: seed.author ? user(seed.author) : null,
      parents: previous ? [{ sha: previous }] : [],
      files: seed.files.map((file) => {
        const entry = typeof file === 'string' ? { filename: file } : file;
        return {
          filename: entry.filename,
          status: entry.status ?? 'modified',
          ...(entry.previous_filename ? { previous_filename: entry.previous_filename } : {}),
          additions: entry.additions ?? 1,
          deletions: entry.deletions ?? 0,
          changes: entry.changes ?? 1,
        };
      }),
    };
    this.commits.set(seed.sha, commit);
    if (pull !== undefined) {
      const list = this.pullCommits.get(pull) ?? [];
      list.push(seed.sha);
      this.pullCommits.set(pull, list);
    }
    return commit;
  }

  /** What GET /commits/{sha}/pulls answers for `sha` (besides PRs whose head or merge commit it is). */
  associateCommit(sha: string, pulls: number[]): void {
    this.commitPulls.set(sha, pulls);
  }

  addTeamMember(org: string, team: string, login: string, state: 'active' | 'pending' = 'active'): void {
    const key = `${org}/${team}`.toLowerCase();
    const members = this.teams.get(key) ?? new Map<string, 'active' | 'pending'>();
    members.set(login.toLowerCase(), state);
    this.teams.set(key, members);
  }

  addIssue(seed: {
    title: string;
    body?: string;
    user: string;
    labels?: string[];
    state?: 'open' | 'closed';
    createdAt?: string;
  }): Issue {
    return this.createIssue(
      seed.title,
      seed.body ?? null,
      seed.labels ?? [],
      user(seed.user),
      seed.state,
      seed.createdAt,
    );
  }

  /** Makes matching requests fail (checked before anything else). */
  fail(rule: FailureRule): void {
    this.failures.push({ ...rule, remaining: rule.times ?? Number.POSITIVE_INFINITY });
  }

  // ── reading state ──────────────────────────────────────────────────────────────────────

  commentsOn(issueNumber: number): Comment[] {
    return [...(this.comments.get(issueNumber) ?? [])];
  }

  get issues(): Issue[] {
    return [...this.issueList];
  }

  requestsTo(method: string, path: RegExp | string): RecordedRequest[] {
    return this.requests.filter(
      (r) => r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path)),
    );
  }

  // ── the server ─────────────────────────────────────────────────────────────────────────

  private id(): number {
    this.nextId += 1;
    return this.nextId;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const parsed = new URL(req.url ?? '/', this.url);
    const method = (req.method ?? 'GET').toUpperCase();
    const bytes = await readBody(req);
    if (this.handleArtifactService(req, res, method, parsed, bytes)) return;
    const raw = bytes.toString('utf8');
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = raw;
    }
    const record: RecordedRequest = {
      method,
      path: parsed.pathname,
      query: Object.fromEntries(parsed.searchParams),
      headers: recordedHeaders(req),
      body,
      identity: undefined,
      status: 0,
    };
    this.requests.push(record);
    let status = 200;
    let payload: unknown;
    let extraHeaders: Record<string, string> = {};
    try {
      const identity = this.authenticate(req.headers.authorization);
      record.identity = identity.login;
      this.checkFailures(method, parsed.pathname);
      if (method !== 'GET' && method !== 'HEAD' && identity.readOnly) {
        throw new HttpError(403, FORBIDDEN);
      }
      const result = this.route(method, parsed, body, identity);
      status = result.status ?? 200;
      payload = result.body;
      extraHeaders = result.headers ?? {};
    } catch (error) {
      if (error instanceof HttpError) {
        status = error.status;
        payload = { message: error.message, documentation_url: DOCS, status: String(status), ...error.extra };
        extraHeaders = error.headers;
      } else {
        status = 500;
        payload = { message: error instanceof Error ? error.message : String(error) };
      }
    }
    record.status = status;
    const text = status === 204 || status === 302 ? '' : JSON.stringify(payload ?? {});
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'x-github-media-type': 'github.v3; format=json',
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '4999',
      'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
      ...extraHeaders,
    });
    res.end(text);
  }

  /** Twirp and blob requests: their own credentials (runtime token, signed URL) and error formats. */
  private handleArtifactService(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    url: URL,
    bytes: Buffer,
  ): boolean {
    if (!this.artifacts.serves(url)) return false;
    const query = Object.fromEntries(url.searchParams);
    if (query.sig !== undefined) query.sig = '***';
    const record: RecordedRequest = {
      method,
      path: url.pathname,
      query,
      headers: recordedHeaders(req),
      body: describeServiceBody(req, bytes),
      identity: undefined,
      status: 0,
    };
    this.requests.push(record);
    let answer: ReturnType<FakeArtifactService['handle']>;
    try {
      this.checkFailures(method, url.pathname);
      answer = this.artifacts.handle(method, url, req.headers, bytes);
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      answer = { response: this.artifacts.failure(url, error.status, error.message), identity: undefined };
    }
    record.identity = answer.identity;
    record.status = answer.response.status;
    res.writeHead(answer.response.status, answer.response.headers);
    res.end(answer.response.body);
    return true;
  }

  private authenticate(header: string | undefined): TokenIdentity {
    if (!header) throw new HttpError(401, 'Requires authentication');
    const [scheme, token] = header.split(' ');
    const identity = token && /^(token|bearer)$/i.test(scheme ?? '') ? this.tokens[token] : undefined;
    if (!identity) throw new HttpError(401, 'Bad credentials');
    return identity;
  }

  private checkFailures(method: string, path: string): void {
    for (const rule of this.failures) {
      if (rule.remaining <= 0) continue;
      if (rule.method && rule.method.toUpperCase() !== method) continue;
      if (typeof rule.path === 'string' ? rule.path !== path : !rule.path.test(path)) continue;
      rule.remaining -= 1;
      throw new HttpError(
        rule.status,
        rule.message ?? `Injected failure ${rule.status}`,
        {},
        rule.headers ?? {},
      );
    }
  }

  private route(
    method: string,
    url: URL,
    body: unknown,
    identity: TokenIdentity,
  ): { status?: number; body: unknown; headers?: Record<string, string> } {
    const path = url.pathname.replace(/\/+$/, '');
    const query = url.searchParams;
    const input = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;

    if (method === 'GET' && path === '/rate_limit') {
      // GitHub's clock is the Date header: this server's is `now`.
      const rate = { limit: 5000, remaining: 5000, reset: 0, used: 0 };
      return { body: { resources: { core: rate }, rate }, headers: { date: this.now().toUTCString() } };
    }
    if (method === 'GET' && path === '/user') {
      if (identity.kind !== 'user') throw new HttpError(403, FORBIDDEN);
      return { body: user(identity.login) };
    }
    const team = /^\/orgs\/([^/]+)\/teams\/([^/]+)\/memberships\/([^/]+)$/.exec(path);
    if (team && method === 'GET') {
      const canRead = identity.orgRead ?? identity.kind === 'user';
      if (!canRead) throw new HttpError(403, FORBIDDEN);
      const [, org, slug, login] = team as unknown as [string, string, string, string];
      const state = this.teams
        .get(`${org}/${slug}`.toLowerCase())
        ?.get(decodeURIComponent(login).toLowerCase());
      if (!state) throw new HttpError(404, 'Not Found');
      return { body: { url: `${this.url}${path}`, role: 'member', state } };
    }

    const repoMatch = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path);
    if (!repoMatch) throw new HttpError(404, 'Not Found');
    if (
      repoMatch[1]?.toLowerCase() !== this.owner.toLowerCase() ||
      repoMatch[2]?.toLowerCase() !== this.repo.toLowerCase()
    ) {
      throw new HttpError(404, 'Not Found');
    }
    const rest = repoMatch[3] ?? '';
    let m: RegExpExecArray | null;

    // Actions artifacts (finalized ones; uploads go through the results service).
    const full = `${this.owner}/${this.repo}`;
    const artifactList = (list: ReturnType<FakeArtifactService['finalized']>) => {
      const paged = this.page(url, list);
      return {
        body: {
          total_count: list.length,
          artifacts: paged.body.map((a) => this.artifacts.toRest(a, this.url, full)),
        },
        headers: paged.headers,
      };
    };
    if (rest === '/actions/artifacts' && method === 'GET') {
      const name = query.get('name') ?? undefined;
      return artifactList(this.artifacts.finalized(name === undefined ? {} : { name }));
    }
    m = /^\/actions\/runs\/(\d+)\/artifacts$/.exec(rest);
    if (m && method === 'GET') {
      const name = query.get('name') ?? undefined;
      return artifactList(
        this.artifacts.finalized({ runId: Number(m[1]), ...(name === undefined ? {} : { name }) }),
      );
    }
    m = /^\/actions\/artifacts\/(\d+)(\/zip)?$/.exec(rest);
    if (m) {
      const artifact = this.artifacts.finalized().find((a) => a.id === Number(m?.[1]));
      if (!artifact) throw new HttpError(404, 'Not Found');
      if (!m[2] && method === 'GET') return { body: this.artifacts.toRest(artifact, this.url, full) };
      if (!m[2] && method === 'DELETE') {
        if (identity.readOnly) throw new HttpError(403, FORBIDDEN);
        this.artifacts.remove(artifact.id);
        return { status: 204, body: undefined };
      }
      if (m[2] && method === 'GET') {
        if (this.artifacts.isExpired(artifact)) throw new HttpError(410, 'Artifact has expired');
        return {
          status: 302,
          body: undefined,
          headers: { location: this.artifacts.signedDownloadUrl(artifact) },
        };
      }
    }

    // Issue comments (pull requests are issues here).
    m = /^\/issues\/(\d+)\/comments$/.exec(rest);
    if (m) {
      const number = Number(m[1]);
      if (!this.pulls.has(number) && !this.issueList.some((i) => i.number === number)) {
        throw new HttpError(404, 'Not Found');
      }
      if (method === 'GET') return this.page(url, this.commentsOn(number));
      if (method === 'POST') {
        const text = requireBody(input.body, 'IssueComment');
        const created = this.addComment(number, { user: identity.login, body: text });
        return { status: 201, body: created };
      }
    }
    m = /^\/issues\/comments\/(\d+)$/.exec(rest);
    if (m) {
      const id = Number(m[1]);
      const found = [...this.comments.entries()].find(([, list]) => list.some((c) => c.id === id));
      if (!found) throw new HttpError(404, 'Not Found');
      const [number, list] = found;
      const comment = list.find((c) => c.id === id) as Comment;
      if (method === 'GET') return { body: comment };
      if (method === 'PATCH') {
        comment.body = requireBody(input.body, 'IssueComment');
        comment.updated_at = this.now().toISOString();
        return { body: comment };
      }
      if (method === 'DELETE') {
        this.comments.set(
          number,
          list.filter((c) => c.id !== id),
        );
        return { status: 204, body: undefined };
      }
    }

    // Pull requests.
    m = /^\/pulls\/(\d+)$/.exec(rest);
    if (m && method === 'GET') {
      const pull = this.pulls.get(Number(m[1]));
      if (!pull) throw new HttpError(404, 'Not Found');
      return { body: pull };
    }
    m = /^\/pulls\/(\d+)\/reviews$/.exec(rest);
    if (m && method === 'GET') {
      const number = Number(m[1]);
      if (!this.pulls.has(number)) throw new HttpError(404, 'Not Found');
      return this.page(url, this.reviews.get(number) ?? []);
    }
    m = /^\/pulls\/(\d+)\/reviews$/.exec(rest);
    if (m && method === 'POST') {
      const number = Number(m[1]);
      if (!this.pulls.has(number)) throw new HttpError(404, 'Not Found');
      return { status: 200, body: this.createReview(number, input, identity) };
    }
    m = /^\/pulls\/(\d+)\/files$/.exec(rest);
    if (m && method === 'GET') {
      const number = Number(m[1]);
      if (!this.pulls.has(number)) throw new HttpError(404, 'Not Found');
      return this.page(url, this.pullFiles.get(number) ?? []);
    }
    m = /^\/pulls\/(\d+)\/comments$/.exec(rest);
    if (m && method === 'GET') {
      const number = Number(m[1]);
      if (!this.pulls.has(number)) throw new HttpError(404, 'Not Found');
      return this.page(url, this.reviewCommentsOn(number));
    }
    m = /^\/pulls\/(\d+)\/commits$/.exec(rest);
    if (m && method === 'GET') {
      const number = Number(m[1]);
      if (!this.pulls.has(number)) throw new HttpError(404, 'Not Found');
      const list = (this.pullCommits.get(number) ?? []).map((sha) => {
        const { files: _files, ...commit } = this.commits.get(sha) as Commit;
        return commit;
      });
      // GitHub lists at most 250 commits of a pull request.
      return this.page(url, list.slice(0, 250));
    }

    // Commits.
    if (rest === '/commits' && method === 'GET') {
      // The history from `sha` (first parents), newest first; with `path`, only commits touching it.
      const path = (url.searchParams.get('path') ?? '').replace(/\/+$/, '');
      const list: Omit<Commit, 'files'>[] = [];
      const seen = new Set<string>();
      for (let sha = url.searchParams.get('sha') ?? undefined; sha && !seen.has(sha); ) {
        seen.add(sha);
        const commit = this.commits.get(sha);
        if (!commit) break;
        const { files, ...listed } = commit;
        if (!path || files.some((f) => f.filename === path || f.filename.startsWith(`${path}/`)))
          list.push(listed);
        sha = commit.parents[0]?.sha;
      }
      return this.page(url, list);
    }
    m = /^\/commits\/([^/]+)\/pulls$/.exec(rest);
    if (m && method === 'GET') {
      const sha = m[1] as string;
      const calls = (this.pullsForCommitCalls.get(sha) ?? 0) + 1;
      this.pullsForCommitCalls.set(sha, calls);
      if (calls <= this.pullsForCommitLag) return this.page(url, []);
      const numbers = new Set(this.commitPulls.get(sha) ?? []);
      for (const pull of this.pulls.values()) {
        if (pull.merge_commit_sha === sha || pull.head.sha === sha) numbers.add(pull.number);
      }
      const list = [...numbers]
        .map((n) => this.pulls.get(n))
        .filter((p): p is PullRequest => p !== undefined);
      return this.page(url, list);
    }
    m = /^\/commits\/([^/]+)$/.exec(rest);
    if (m && method === 'GET') {
      const commit = this.commits.get(m[1] as string);
      if (!commit) throw new HttpError(422, `No commit found for SHA: ${m[1]}`);
      // The files of a commit are paginated too (300 per page by default).
      const paged = this.page(url, commit.files, 300, 300);
      return { body: { ...commit, files: paged.body }, headers: paged.headers };
    }

    // Statuses and check runs.
    m = /^\/statuses\/([0-9a-f]{40})$/.exec(rest);
    if (m && method === 'POST') {
      const state = String(input.state ?? '');
      if (!['error', 'failure', 'pending', 'success'].includes(state)) {
        throw validation('Status', 'state', `state is not included in the list`);
      }
      const description = input.description === undefined ? null : String(input.description);
      if (description !== null && description.length > 140) {
        throw validation('Status', 'description', 'description is too long (maximum is 140 characters)');
      }
      const status: CommitStatus = {
        id: this.id(),
        sha: m[1] as string,
        state,
        context: input.context === undefined ? 'default' : String(input.context),
        description,
        target_url: input.target_url === undefined ? null : String(input.target_url),
        created_at: this.now().toISOString(),
        creator: user(identity.login),
      };
      this.statuses.push(status);
      return { status: 201, body: status };
    }
    if (rest === '/check-runs' && method === 'POST') {
      const run = this.writeCheckRun(undefined, input);
      return { status: 201, body: run };
    }
    m = /^\/check-runs\/(\d+)$/.exec(rest);
    if (m && method === 'PATCH') {
      const run = this.checkRuns.find((r) => r.id === Number(m?.[1]));
      if (!run) throw new HttpError(404, 'Not Found');
      return { body: this.writeCheckRun(run, input) };
    }

    // Issues.
    if (rest === '/issues' && method === 'GET') {
      const state = query.get('state') ?? 'open';
      const labels = (query.get('labels') ?? '')
        .split(',')
        .map((l) => l.trim().toLowerCase())
        .filter(Boolean);
      const creator = query.get('creator')?.toLowerCase();
      const fromPulls = [...this.pulls.values()].map((pull) => ({
        id: pull.number + 500_000,
        number: pull.number,
        title: pull.title,
        body: null,
        state: pull.state,
        labels: pull.labels,
        user: pull.user,
        html_url: pull.html_url,
        created_at: pull.created_at,
        updated_at: pull.updated_at,
        pull_request: { url: pull.url, html_url: pull.html_url },
      }));
      const all = [...this.issueList, ...fromPulls]
        .filter((i) => state === 'all' || i.state === state)
        .filter((i) => labels.every((l) => i.labels.some((x) => x.name.toLowerCase() === l)))
        .filter((i) => !creator || i.user.login.toLowerCase() === creator)
        .sort((a, b) => b.created_at.localeCompare(a.created_at) || b.number - a.number);
      return this.page(url, all);
    }
    if (rest === '/issues' && method === 'POST') {
      const title = typeof input.title === 'string' ? input.title.trim() : '';
      if (!title) throw validation('Issue', 'title', 'title is missing');
      const text = input.body === undefined ? null : requireBody(input.body, 'Issue');
      const labels = Array.isArray(input.labels) ? input.labels.map(String) : [];
      return { status: 201, body: this.createIssue(title, text, labels, user(identity.login)) };
    }
    m = /^\/issues\/(\d+)$/.exec(rest);
    if (m) {
      const issue = this.issueList.find((i) => i.number === Number(m?.[1]));
      if (!issue) throw new HttpError(404, 'Not Found');
      if (method === 'GET') return { body: issue };
      if (method === 'PATCH') {
        if (input.title !== undefined) issue.title = String(input.title);
        if (input.body !== undefined) issue.body = requireBody(input.body, 'Issue');
        if (Array.isArray(input.labels)) issue.labels = input.labels.map((name) => this.label(String(name)));
        if (input.state === 'open' || input.state === 'closed') {
          if (issue.state !== input.state)
            issue.closed_at = input.state === 'closed' ? this.now().toISOString() : null;
          issue.state = input.state;
          issue.state_reason =
            input.state === 'closed'
              ? String(input.state_reason ?? 'completed')
              : input.state_reason
                ? 'reopened'
                : null;
        }
        issue.updated_at = this.now().toISOString();
        return { body: issue };
      }
    }
    throw new HttpError(404, 'Not Found');
  }

  /**
   * POST …/pulls/{n}/reviews as GitHub checks it: a known event, a body for COMMENT and
   * REQUEST_CHANGES, and every comment on lines of one hunk of a file the pull request
   * changes (else 422, and nothing is created: a review is all or nothing).
   */
  private createReview(pull: number, input: Record<string, unknown>, identity: TokenIdentity): Review {
    const event = input.event === undefined ? 'PENDING' : String(input.event);
    if (!['APPROVE', 'REQUEST_CHANGES', 'COMMENT', 'PENDING'].includes(event))
      throw validation('PullRequestReview', 'event', 'event is not included in the list');
    const body = input.body === undefined ? '' : requireBody(input.body, 'PullRequestReview');
    if ((event === 'COMMENT' || event === 'REQUEST_CHANGES') && body === '')
      throw validation('PullRequestReview', 'body', 'body is required for this event');
    const sent = input.comments ?? [];
    if (!Array.isArray(sent)) throw validation('PullRequestReview', 'comments', 'must be an array');
    const files = this.pullFiles.get(pull) ?? [];
    const errors: string[] = [];
    for (const c of sent as Record<string, unknown>[]) {
      const line = c.line;
      const start = c.start_line ?? line;
      const side = c.side ?? 'RIGHT';
      if (typeof c.path !== 'string' || typeof c.body !== 'string' || !Number.isInteger(line))
        throw validation('PullRequestReviewComment', 'comments', `invalid comment ${JSON.stringify(c)}`);
      if (side !== 'RIGHT' && side !== 'LEFT')
        throw validation('PullRequestReviewComment', 'side', 'side is invalid');
      if (c.start_line !== undefined && !((c.start_line as number) < (line as number)))
        errors.push('Pull request review thread start line must precede the end line.');
      const hunks = [
        ...(files.find((f) => f.filename === c.path)?.patch ?? '').matchAll(
          /^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@/gm,
        ),
      ].map((h) => ({
        start: Number(h[1]),
        end: Number(h[1]) + (h[2] === undefined ? 1 : Number(h[2])) - 1,
      }));
      const inHunk = (n: number) => hunks.find((h) => h.start <= n && n <= h.end);
      if (!inHunk(line as number)) errors.push('Pull request review thread line must be part of the diff');
      else if (inHunk(start as number) !== inHunk(line as number))
        errors.push('Pull request review thread start line must be part of the same hunk as the line.');
    }
    if (errors.length > 0) throw new HttpError(422, 'Unprocessable Entity', { errors: [errors.join(', ')] });
    const pullRequest = this.pulls.get(pull) as PullRequest;
    const commitId = typeof input.commit_id === 'string' ? input.commit_id : pullRequest.head.sha;
    const review = this.addReview(pull, {
      user: identity.login,
      state:
        event === 'COMMENT' ? 'COMMENTED' : event === 'APPROVE' ? 'APPROVED' : (event as Review['state']),
      commitId,
    });
    review.body = body;
    const list = this.reviewComments.get(pull) ?? [];
    for (const c of sent as Record<string, unknown>[]) {
      list.push({
        id: this.id(),
        pull_request_review_id: review.id,
        commit_id: commitId,
        path: c.path as string,
        line: c.line as number,
        start_line: (c.start_line as number | undefined) ?? null,
        side: (c.side as 'LEFT' | 'RIGHT' | undefined) ?? 'RIGHT',
        body: c.body as string,
        user: user(identity.login),
        created_at: this.now().toISOString(),
      });
    }
    this.reviewComments.set(pull, list);
    return review;
  }

  private writeCheckRun(existing: CheckRun | undefined, input: Record<string, unknown>): CheckRun {
    const name = input.name === undefined ? existing?.name : String(input.name);
    if (!name) throw validation('CheckRun', 'name', 'name is missing');
    const headSha = input.head_sha === undefined ? existing?.head_sha : String(input.head_sha);
    if (!headSha) throw validation('CheckRun', 'head_sha', 'head_sha is missing');
    const conclusion =
      input.conclusion === undefined ? (existing?.conclusion ?? null) : String(input.conclusion);
    const allowed = [
      'action_required',
      'cancelled',
      'failure',
      'neutral',
      'success',
      'skipped',
      'stale',
      'timed_out',
    ];
    if (conclusion !== null && !allowed.includes(conclusion)) {
      throw validation('CheckRun', 'conclusion', 'conclusion is not included in the list');
    }
    const output = (input.output ?? {}) as Record<string, unknown>;
    if (
      input.output !== undefined &&
      (typeof output.title !== 'string' || typeof output.summary !== 'string')
    ) {
      throw validation('CheckRun', 'output', 'output needs a title and a summary');
    }
    for (const field of ['summary', 'text'] as const) {
      const value = output[field];
      if (typeof value === 'string' && value.length > 65_535) {
        throw validation(
          'CheckRun',
          `output.${field}`,
          `Only 65535 characters are allowed; ${value.length} were supplied.`,
        );
      }
    }
    const sent = output.annotations;
    if (sent !== undefined && !Array.isArray(sent))
      throw validation('CheckRun', 'output.annotations', 'must be an array');
    const annotations = (sent ?? []) as CheckAnnotation[];
    if (annotations.length > 50) {
      throw validation('CheckRun', 'output.annotations', 'Only 50 annotations are allowed per request');
    }
    for (const a of annotations) {
      if (
        typeof a.path !== 'string' ||
        !a.path ||
        a.path.startsWith('/') ||
        !Number.isInteger(a.start_line) ||
        !Number.isInteger(a.end_line) ||
        !['notice', 'warning', 'failure'].includes(a.annotation_level) ||
        typeof a.message !== 'string'
      ) {
        throw validation('CheckRun', 'output.annotations', `invalid annotation ${JSON.stringify(a)}`);
      }
    }
    const at = this.now().toISOString();
    const status = conclusion ? 'completed' : String(input.status ?? existing?.status ?? 'queued');
    const id = existing?.id ?? this.id();
    const run: CheckRun = {
      id,
      name,
      head_sha: headSha,
      status,
      conclusion,
      details_url:
        input.details_url === undefined ? (existing?.details_url ?? null) : String(input.details_url),
      html_url: `${this.serverUrl}/${this.owner}/${this.repo}/runs/${id}`,
      external_id:
        input.external_id === undefined ? (existing?.external_id ?? null) : String(input.external_id),
      output: {
        title: typeof output.title === 'string' ? output.title : (existing?.output.title ?? null),
        summary: typeof output.summary === 'string' ? output.summary : (existing?.output.summary ?? null),
        text: typeof output.text === 'string' ? output.text : (existing?.output.text ?? null),
      },
      annotations: [...(existing?.annotations ?? []), ...annotations],
      started_at: existing?.started_at ?? at,
      completed_at: conclusion ? at : null,
    };
    if (existing) Object.assign(existing, run);
    else this.checkRuns.push(run);
    return existing ?? run;
  }

  private createIssue(
    title: string,
    body: string | null,
    labels: string[],
    author: GhUser,
    state: 'open' | 'closed' = 'open',
    createdAt?: string,
  ): Issue {
    const number = Math.max(0, ...this.pulls.keys(), ...this.issueList.map((i) => i.number)) + 1;
    const id = this.id();
    const at = createdAt ?? this.now().toISOString();
    const full = `${this.owner}/${this.repo}`;
    const issue: Issue = {
      id,
      node_id: `I_${id}`,
      number,
      url: `${this.url}/repos/${full}/issues/${number}`,
      html_url: `${this.serverUrl}/${full}/issues/${number}`,
      title,
      body,
      state,
      state_reason: state === 'closed' ? 'completed' : null,
      labels: labels.map((name) => this.label(name)),
      user: author,
      created_at: at,
      updated_at: at,
      closed_at: state === 'closed' ? at : null,
    };
    this.issueList.push(issue);
    return issue;
  }

  private label(name: string): { id: number; name: string } {
    return { id: hash(name), name };
  }

  /** GitHub's pagination: per_page (default 30, at most 100) and page, with a Link header. */
  private page<T>(
    url: URL,
    items: T[],
    defaultPerPage = 30,
    maxPerPage = 100,
  ): { body: T[]; headers: Record<string, string> } {
    const perPage = Math.min(
      maxPerPage,
      Math.max(1, Number(url.searchParams.get('per_page')) || defaultPerPage),
    );
    const page = Math.max(1, Number(url.searchParams.get('page')) || 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const link = (n: number, rel: string): string => {
      const next = new URL(url.toString());
      next.searchParams.set('per_page', String(perPage));
      next.searchParams.set('page', String(n));
      return `<${this.url}${next.pathname}${next.search}>; rel="${rel}"`;
    };
    const links: string[] = [];
    if (page > 1) links.push(link(page - 1, 'prev'), link(1, 'first'));
    if (page < last) links.push(link(page + 1, 'next'), link(last, 'last'));
    return {
      body: items.slice((page - 1) * perPage, page * perPage),
      headers: links.length > 0 ? { link: links.join(', ') } : {},
    };
  }
}

function user(login: string): GhUser {
  return { login, id: hash(login), type: login.endsWith('[bot]') ? 'Bot' : 'User' };
}

function hash(text: string): number {
  let h = 7;
  for (const char of text) h = (h * 31 + char.charCodeAt(0)) % 1_000_000_007;
  return h;
}

function validation(resource: string, field: string, message: string): HttpError {
  return new HttpError(422, 'Validation Failed', {
    errors: [{ resource, code: 'custom', field, message }],
  });
}

function requireBody(value: unknown, resource: string): string {
  if (typeof value !== 'string') throw validation(resource, 'body', 'body is missing');
  if (value.length > 65_536)
    throw validation(resource, 'body', 'body is too long (maximum is 65536 characters)');
  return value;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Lower-case names; the authorization value is replaced by its scheme and `***`. */
function recordedHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    const joined = Array.isArray(value) ? value.join(', ') : value;
    headers[name] = name === 'authorization' ? `${joined.split(' ')[0] ?? ''} ***` : joined;
  }
  return headers;
}

/** JSON bodies parsed; anything else (blob bytes, block lists) as its size. */
function describeServiceBody(req: IncomingMessage, bytes: Buffer): unknown {
  if (bytes.length === 0) return undefined;
  if (String(req.headers['content-type'] ?? '').startsWith('application/json')) {
    try {
      return JSON.parse(bytes.toString('utf8'));
    } catch {
      // recorded as bytes below
    }
  }
  return { bytes: bytes.length };
}
