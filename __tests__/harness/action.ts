import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { readPlanRecord } from '../../src/github/sticky-comment.js';
import type { FakeGitHubApi } from './github-api.js';

/**
 * Runs the built Action (dist/index.js) the way the GitHub runner does: inputs as INPUT_*
 * variables, an event payload file, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files.
 */
export interface ActionRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
}

export async function runAction(
  inputs: Record<string, string>,
  options: { event?: object; eventName?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ActionRun> {
  const dir = await mkdtemp(join(tmpdir(), 'supagate-action-'));
  try {
    const files = {
      output: join(dir, 'output'),
      summary: join(dir, 'summary'),
      event: join(dir, 'event.json'),
    };
    await writeFile(files.output, '');
    await writeFile(files.summary, '');
    await writeFile(files.event, JSON.stringify(options.event ?? {}));
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      XDG_CACHE_HOME: process.env.XDG_CACHE_HOME,
      GITHUB_ACTIONS: 'true',
      GITHUB_OUTPUT: files.output,
      GITHUB_STEP_SUMMARY: files.summary,
      GITHUB_EVENT_PATH: files.event,
      GITHUB_EVENT_NAME: options.eventName ?? 'push',
      GITHUB_REPOSITORY: 'acme/app',
      GITHUB_ACTOR: 'octocat',
      GITHUB_RUN_ID: '4242',
      ...options.env,
    };
    // The runner sets every input, the defaults of action.yml included, and keeps the
    // name's dashes: `db-url` → INPUT_DB-URL. No shadow baselines on the tests' shared shadow
    // server unless a test asks (see project.ts).
    const defaults = { ...(await actionDefaults()), 'shadow-cache': 'false' };
    for (const [name, value] of Object.entries({ ...defaults, ...inputs })) {
      env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
    }
    const { exitCode, stdout, stderr } = await new Promise<{
      exitCode: number;
      stdout: string;
      stderr: string;
    }>((resolve) => {
      execFile(process.execPath, [actionEntry()], { env }, (error, stdout, stderr) => {
        resolve({ exitCode: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });
    return {
      exitCode,
      stdout,
      stderr,
      outputs: parseOutputs(await readFile(files.output, 'utf8')),
      summary: await readFile(files.summary, 'utf8'),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The bundle to run: dist/index.js, or SUPAGATE_ACTION_DIST (a folder from
 * `node scripts/bundle.mjs --outdir DIR`) to test a change without rewriting dist/.
 */
function actionEntry(): string {
  const dir = process.env.SUPAGATE_ACTION_DIST;
  return dir ? join(dir, 'index.js') : join(process.cwd(), 'dist/index.js');
}

async function actionDefaults(): Promise<Record<string, string>> {
  const action = parse(await readFile(join(process.cwd(), 'action.yml'), 'utf8')) as {
    inputs: Record<string, { default?: string }>;
  };
  return Object.fromEntries(
    Object.entries(action.inputs).map(([name, input]) => [
      name,
      input.default === undefined ? '' : String(input.default),
    ]),
  );
}

/** GITHUB_OUTPUT holds `name<<DELIMITER\nvalue\nDELIMITER` blocks. */
function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const pattern = /^(.+?)<<(.+)\n([\s\S]*?)\n\2$/gm;
  for (const match of text.matchAll(pattern)) outputs[match[1] as string] = match[3] as string;
  return outputs;
}

/** The pull_request (opened) event of the fixture, for pull request `number` at `headSha`. */
export async function pullRequestEvent(number: number, headSha: string, author = 'alice'): Promise<object> {
  const event = JSON.parse(await readFile('__fixtures__/github/pull_request.opened.json', 'utf8')) as {
    number: number;
    pull_request: { number: number; head: { sha: string }; user: { login: string } };
  };
  event.number = number;
  event.pull_request.number = number;
  event.pull_request.head.sha = headSha;
  event.pull_request.user.login = author;
  return event;
}

/** The push to main of the fixture, whose head (`after`, GITHUB_SHA) is `after`: a merge commit. */
export async function pushEvent(after: string): Promise<object> {
  const event = JSON.parse(await readFile('__fixtures__/github/push.main.json', 'utf8')) as {
    after: string;
    head_commit?: { id: string };
  };
  event.after = after;
  if (event.head_commit) event.head_commit.id = after;
  return event;
}

/**
 * Markdown outside its fenced code blocks: what GitHub renders as markup (raw HTML included).
 * A fence closes only with a line of at least as many backticks (CommonMark); an unclosed
 * fence runs to the end.
 */
export function outsideFences(markdown: string): string {
  const outside: string[] = [];
  let fence = 0;
  for (const line of markdown.split('\n')) {
    const run = /^ {0,3}(`{3,})/.exec(line)?.[1]?.length ?? 0;
    if (fence === 0 && run > 0 && !line.slice(run).includes('`')) fence = run;
    else if (fence > 0 && run >= fence && /^ {0,3}`+\s*$/.test(line)) fence = 0;
    else if (fence === 0) outside.push(line);
  }
  return withoutCodeSpans(outside.join('\n'));
}

/**
 * Text without its inline code spans (CommonMark: a run of n backticks up to the next run of
 * exactly n), which render their content as text; an unmatched run stays as it is.
 */
function withoutCodeSpans(text: string): string {
  let out = '';
  let at = 0;
  const runs = [...text.matchAll(/`+/g)];
  for (let i = 0; i < runs.length; i += 1) {
    const open = runs[i] as RegExpMatchArray;
    if ((open.index ?? 0) < at) continue;
    const close = runs.slice(i + 1).findIndex((r) => r[0].length === open[0].length);
    if (close < 0) continue;
    const end = runs[i + 1 + close] as RegExpMatchArray;
    out += text.slice(at, open.index);
    at = (end.index ?? 0) + end[0].length;
    i += 1 + close;
  }
  return out + text.slice(at);
}

/** The fenced code blocks of markdown, each as its fence and content. */
export function fencedBlocks(markdown: string): { fence: string; content: string }[] {
  const blocks: { fence: string; content: string }[] = [];
  let open: { fence: string; lines: string[] } | undefined;
  for (const line of markdown.split('\n')) {
    const run = /^ {0,3}(`{3,})/.exec(line)?.[1] ?? '';
    if (!open && run && !line.slice(line.indexOf(run) + run.length).includes('`')) {
      open = { fence: run, lines: [] };
    } else if (open && run.length >= open.fence.length && /^ {0,3}`+\s*$/.test(line)) {
      blocks.push({ fence: open.fence, content: open.lines.join('\n') });
      open = undefined;
    } else if (open) open.lines.push(line);
  }
  if (open) blocks.push({ fence: open.fence, content: open.lines.join('\n') });
  return blocks;
}

/** A pull request of the fake API whose one commit (`head`) changed `files`; `merge` is its merge commit. */
export interface SeededPullRequest {
  number: number;
  author: string;
  head: string;
  merge: string;
  /** Its pull_request (opened) event. */
  event: object;
  /** The push to main of its merge. */
  push: object;
}

/** 40 hex digits from a letter and a number: `sha('a', 21)` → a21000…0. */
export function fakeSha(prefix: string, n: number): string {
  return `${prefix}${n}`.padEnd(40, '0');
}

export async function seedPullRequest(
  api: FakeGitHubApi,
  number: number,
  files: string[],
  author = 'alice',
): Promise<SeededPullRequest> {
  const head = fakeSha('a', number);
  const merge = fakeSha('b', number);
  api.addPullRequest({ number, user: author, headSha: head });
  api.addCommit(number, { sha: head, date: '2024-05-02T10:00:00Z', files });
  return {
    number,
    author,
    head,
    merge,
    event: await pullRequestEvent(number, head, author),
    push: await pushEvent(merge),
  };
}

/** The pull request as merged (GitHub associates its merge commit with it). */
export function mergePullRequest(api: FakeGitHubApi, pull: SeededPullRequest): void {
  api.addPullRequest({
    number: pull.number,
    user: pull.author,
    headSha: pull.head,
    state: 'closed',
    mergedAt: new Date().toISOString(),
    mergeCommitSha: pull.merge,
  });
}

/** Since when the pull request's plan comments show their plans (the latest of their record times). */
export function planRecordedSince(api: FakeGitHubApi, pull: number): Date | undefined {
  const times = api
    .commentsOn(pull)
    .map((comment) => readPlanRecord(comment.body)?.since)
    .filter((since): since is string => since !== undefined)
    .map((since) => Date.parse(since));
  return times.length > 0 ? new Date(Math.max(...times)) : undefined;
}

/** Waits until the clock is in a later second than `moment` (GitHub's clock counts seconds). */
export async function afterSecondOf(moment: Date | undefined): Promise<void> {
  if (!moment) return;
  const second = Math.floor(moment.getTime() / 1_000);
  while (Math.floor(Date.now() / 1_000) <= second) {
    await new Promise((resolve) => setTimeout(resolve, 1_000 - (Date.now() % 1_000) + 10));
  }
}

/**
 * An approving review of the pull request's head, as a reviewer gives it after reading the plan
 * comment: in a later second than the comment records (GitHub's clock counts seconds, and an
 * approval in the plan's own second does not count).
 */
export async function approvePullRequest(
  api: FakeGitHubApi,
  pull: SeededPullRequest,
  reviewer = 'bob',
): Promise<void> {
  await afterSecondOf(planRecordedSince(api, pull.number));
  api.addReview(pull.number, {
    user: reviewer,
    state: 'APPROVED',
    commitId: pull.head,
    submittedAt: new Date().toISOString(),
  });
}
