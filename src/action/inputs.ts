import { isAbsolute, relative, resolve, sep } from 'node:path';
import * as core from '@actions/core';
import type { BackupStore } from '../core/backup/stores.js';
import { flag, resolveConfig, type SupagateConfig } from '../core/config.js';
import { describeTarget, registerSecret } from '../core/db/redact.js';
import { SupagateError } from '../core/errors.js';
import type { CheckApprovalOptions } from '../github/approval.js';
import { GitHubArtifactStore } from '../github/artifacts.js';
import type { GitHubRunContext } from '../github/context.js';
import { stickyTargetId } from '../github/sticky-comment.js';
import { writeJobSummary } from '../github/summary.js';

/**
 * The Action's inputs as the core's types: the configuration, the target's short id, the
 * approval rules, the backup store. Every secret is masked before anything is logged.
 */

export function booleanInput(name: string, fallback: boolean): boolean {
  return flag(name, core.getInput(name) || undefined, fallback);
}

export function listInput(name: string): string[] {
  return core
    .getInput(name)
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

export function optionalInput(name: string): string | undefined {
  return core.getInput(name).trim() || undefined;
}

/**
 * Passwords everyone knows: the supabase/postgres service container's default. Masking them
 * hides nothing and turns every "postgres" in the logs into `***`.
 */
const WELL_KNOWN_PASSWORDS = new Set(['postgres', 'password', 'supabase']);

/** Masks a connection string and its password (as written and URL-encoded) in logs and reports. */
function maskUrl(url: string, options: { shadow?: boolean } = {}): void {
  core.setSecret(url);
  const password = describeTarget(url).password;
  if (!password || (options.shadow && WELL_KNOWN_PASSWORDS.has(password))) return;
  for (const secret of new Set([password, encodeURIComponent(password)])) core.setSecret(secret);
}

/**
 * The configuration from the inputs. `readOnly` (plan, drift): connect with read-only-db-url
 * when one is given.
 */
export function configFromInputs(options: { readOnly?: boolean } = {}): SupagateConfig {
  const dbUrl = optionalInput('db-url');
  const readOnlyUrl = optionalInput('read-only-db-url');
  for (const url of [dbUrl, readOnlyUrl]) if (url) maskUrl(url);
  const shadowUrl = optionalInput('shadow-url');
  if (shadowUrl) maskUrl(shadowUrl, { shadow: true });
  for (const secret of [
    core.getInput('backup-key'),
    core.getInput('supabase-service-key'),
    core.getInput('github-token'),
  ]) {
    if (!secret) continue;
    core.setSecret(secret);
    registerSecret(secret);
  }
  return resolveConfig({
    projectDir: core.getInput('working-directory'),
    migrationsDir: core.getInput('migrations-dir'),
    rollbacksDir: core.getInput('rollbacks-dir'),
    dbUrl: (options.readOnly ? readOnlyUrl : undefined) ?? dbUrl,
    atomic: core.getInput('atomic'),
    lockWaitMs: core.getInput('lock-wait'),
    stallTimeoutMs: core.getInput('stall-timeout'),
    lockTimeoutMs: core.getInput('lock-timeout'),
    statementTimeoutMs: core.getInput('statement-timeout'),
    lockRetries: core.getInput('lock-retries'),
    schemas: core.getInput('schemas'),
    apiSchemas: core.getInput('api-schemas'),
    extraRoles: core.getInput('roles'),
    largeTableRows: core.getInput('large-table-rows'),
    dataChecks: core.getInput('data-checks'),
    dataCheckTimeoutMs: core.getInput('data-check-timeout'),
    dataCheckSampleAboveRows: core.getInput('data-check-sample-above-rows'),
    dataCheckKeyValues: core.getInput('data-check-key-values'),
    declaredSchema: core.getInput('declared-schema'),
    includeAll: core.getInput('include-all'),
    strictHistory: core.getInput('strict-history'),
    allowEdited: core.getInput('allow-edited'),
    verify: core.getInput('verify'),
    onVerifyFailure: core.getInput('on-verify-failure'),
    shadowUrl: core.getInput('shadow-url'),
    shadowDisposable: core.getInput('shadow-disposable'),
    shadowCache: core.getInput('shadow-cache'),
    cacheDir: core.getInput('cache-dir'),
    backup: core.getInput('backup'),
    backupStore: core.getInput('backup-store'),
    backupScope: core.getInput('backup-scope'),
    backupDir: core.getInput('backup-dir'),
    backupKey: core.getInput('backup-key'),
    supabaseUrl: core.getInput('supabase-url'),
    supabaseServiceKey: core.getInput('supabase-service-key'),
    backupBucket: core.getInput('backup-bucket'),
    actor: process.env.GITHUB_ACTOR,
    runId: process.env.GITHUB_RUN_ID,
  });
}

const TARGET_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * The target's id in comment markers, approvals and the drift issue: the `target` input, else
 * a hash of db-url's (or read-only-db-url's) host, port and database. Plan and apply must
 * agree on it for the approval gate to find the plan.
 */
export function targetIdFromInputs(): string {
  const named = optionalInput('target');
  if (named) {
    if (!TARGET_NAME.test(named)) {
      throw new SupagateError(
        'CONFIG_INVALID',
        `The target input "${named.slice(0, 80)}" is not a short name`,
        {
          hint: 'Use letters, digits, ".", "_" and "-" (at most 64), e.g. production.',
          details: { setting: 'target' },
        },
      );
    }
    return named;
  }
  const url = optionalInput('db-url') ?? optionalInput('read-only-db-url');
  if (!url) {
    throw new SupagateError('CONFIG_INVALID', 'No target database given', {
      hint: 'Pass db-url (or read-only-db-url for plan and drift) from a secret.',
      details: { setting: 'db-url' },
    });
  }
  return stickyTargetId(url);
}

/**
 * How the target is named in comments, summaries and the drift issue: the `target` input, else
 * the database's name. Never its host or port.
 */
export function targetLabelFromInputs(): string {
  const named = optionalInput('target');
  if (named) return named;
  const url = optionalInput('db-url') ?? optionalInput('read-only-db-url');
  const database = url ? describeTarget(url).database : '';
  return database ? `database "${database}"` : 'the target database';
}

/**
 * The backup store: the github-artifact store is GitHub's, so the Action makes it; the others
 * the core opens from the configuration (undefined here). A directory store must outlive the
 * job: one inside the workspace (which checkout cleans), the runner's temp folder, or on a
 * GitHub-hosted runner is refused unless `backup-dir-persistent` says it is kept.
 */
export function backupStoreFromInputs(
  config: SupagateConfig,
  run: GitHubRunContext,
  options: { usesStore?: boolean } = {},
): BackupStore | undefined {
  if (config.backupStore === 'directory' && (options.usesStore ?? config.backup === 'on')) {
    assertPersistentDirectory(config);
  }
  if (config.backupStore !== 'github-artifact') return undefined;
  const retention = optionalInput('backup-retention-days');
  return new GitHubArtifactStore({
    token: core.getInput('github-token'),
    owner: run.repository.owner,
    repo: run.repository.repo,
    apiUrl: run.apiUrl,
    allowUnencrypted: booleanInput('allow-unencrypted-artifacts', false),
    ...(retention ? { retentionDays: Number(retention) } : {}),
  });
}

/** The approval rules from the inputs, for one pull request. */
export function approvalSettings(
  config: SupagateConfig,
  run: GitHubRunContext,
  pull: number,
  target: string,
): Omit<CheckApprovalOptions, 'currentPlanHash'> {
  const author = optionalInput('comment-author');
  const approvers = listInput('approvers');
  const approverTeams = listInput('approver-teams');
  return {
    owner: run.repository.owner,
    repo: run.repository.repo,
    pull,
    migrationsDir: repositoryPath(config.projectDir, config.migrationsDir),
    requiredApprovals: Number(core.getInput('required-approvals') || '1'),
    ...(approvers.length > 0 ? { approvers } : {}),
    ...(approverTeams.length > 0 ? { approverTeams } : {}),
    target,
    ...(author ? { commentAuthor: author } : {}),
  };
}

function assertPersistentDirectory(config: SupagateConfig): void {
  if (booleanInput('backup-dir-persistent', false)) return;
  const dir = isAbsolute(config.backupDir) ? config.backupDir : resolve(config.projectDir, config.backupDir);
  const inside = (root: string | undefined): boolean => {
    if (!root) return false;
    const path = relative(resolve(root), resolve(dir));
    return path === '' || (!path.startsWith('..') && !isAbsolute(path));
  };
  const where = inside(process.env.GITHUB_WORKSPACE)
    ? 'inside the workspace, which actions/checkout cleans at the start of every job'
    : inside(process.env.RUNNER_TEMP)
      ? "in the runner's temp folder, which is emptied after every job"
      : process.env.RUNNER_ENVIRONMENT === 'github-hosted'
        ? 'on a GitHub-hosted runner, whose disk is discarded after the job'
        : undefined;
  if (!where) return;
  throw new SupagateError(
    'CONFIG_INVALID',
    `The directory backup store (backup-dir: ${config.backupDir}) is ${where}: a backup written there cannot be restored later`,
    {
      hint: 'Use backup-store: github-artifact (with backup-key) or supabase-storage, or point backup-dir at a folder of a self-hosted runner that outlives jobs (an absolute path outside the workspace) and set backup-dir-persistent: true.',
      details: { setting: 'backup-dir' },
    },
  );
}

/** A folder as the repository names it (what commit file lists show): relative to the workspace. */
export function repositoryPath(projectDir: string, folder: string): string {
  const root = process.env.GITHUB_WORKSPACE ?? process.cwd();
  return relative(root, resolve(root, projectDir, folder))
    .split(sep)
    .join('/');
}

/**
 * A plain-text report in the job summary, under a heading, as a fenced code block whose fence
 * is longer than any run of backticks in the text: whatever the text holds (blank lines, `<`,
 * `&`, HTML, backticks) renders as that text.
 */
export async function textSummary(title: string, text: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  await writeJobSummary(`## ${escapeMarkdownLine(title)}\n\n${fencedText(text)}\n`);
}

/** Text as a fenced code block that nothing inside can close. */
export function fencedText(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}text\n${text.replace(/\r\n?/g, '\n').replace(/\n+$/, '')}\n${fence}`;
}

/** One line of text where markdown is read: HTML and markdown punctuation escaped. */
export function escapeMarkdownLine(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]#|~!])/g, '\\$1');
}

/** CLI flags in core messages, as the Action's inputs. */
const FLAG_INPUTS: Record<string, string> = {
  'shadow-url': 'shadow-url',
  'shadow-disposable': 'shadow-disposable',
  to: 'to-version',
  confirm: 'confirm',
  'dry-run': 'dry-run',
  backup: 'backup',
  'backup-dir': 'backup-dir',
  'backup-store': 'backup-store',
  'backup-key': 'backup-key',
  'backup-scope': 'backup-scope',
  'include-all': 'include-all',
  'strict-history': 'strict-history',
  'allow-edited': 'allow-edited',
  'on-verify-failure': 'on-verify-failure',
  'discard-writes-since-backup': 'discard-writes-since-backup',
  'allow-other-target': 'allow-other-target',
  'lock-wait-timeout': 'lock-wait',
  'lock-wait': 'lock-wait',
  'lock-timeout': 'lock-timeout',
  'statement-timeout': 'statement-timeout',
  'stall-timeout': 'stall-timeout',
  atomic: 'atomic',
  verify: 'verify',
  'db-url': 'db-url',
  'read-only-db-url': 'read-only-db-url',
};

/**
 * A core message in the Action's words: `--confirm` is the `confirm` input, `--backup <id>` the
 * `backup-id` input, "run again" a re-run of the job. Flags of other tools (pg_dump's) stay.
 */
export function actionWording(text: string): string {
  return text.replace(
    /`?--([a-z][a-z-]*)(?:(?:[ =])(<[^>\n]{1,40}>|[^\s`,;)]+))?`?/g,
    (whole, flag: string, value?: string) => {
      if (flag === 'backup' && value && (value === '<id>' || /^\d{8}T/.test(value))) {
        return `the \`backup-id\` input${value === '<id>' ? '' : ` (${value})`}`;
      }
      const input = FLAG_INPUTS[flag];
      if (!input) return whole;
      if (
        value &&
        !value.startsWith('<') &&
        /^(?:on|off|true|false|all|per-migration|report|rollback)$/.test(value)
      )
        return `\`${input}: ${value}\``;
      if (value && !value.startsWith('<')) return `the \`${input}\` input (${value})`;
      return `the \`${input}\` input`;
    },
  );
}
