import { relative, resolve, sep } from 'node:path';
import * as core from '@actions/core';
import type { BackupStore } from '../core/backup/stores.js';
import { flag, resolveConfig, type SupagateConfig } from '../core/config.js';
import { describeTarget, registerSecret } from '../core/db/redact.js';
import { SupagateError } from '../core/errors.js';
import type { CheckApprovalOptions } from '../github/approval.js';
import { GitHubArtifactStore } from '../github/artifacts.js';
import type { GitHubRunContext } from '../github/context.js';
import { stickyTargetId } from '../github/sticky-comment.js';

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

/** Masks a connection string and its password (as written and URL-encoded) in logs and reports. */
function maskUrl(url: string): void {
  core.setSecret(url);
  const password = describeTarget(url).password;
  for (const secret of new Set(password ? [password, encodeURIComponent(password)] : []))
    core.setSecret(secret);
}

/**
 * The configuration from the inputs. `readOnly` (plan, drift): connect with read-only-db-url
 * when one is given.
 */
export function configFromInputs(options: { readOnly?: boolean } = {}): SupagateConfig {
  const dbUrl = optionalInput('db-url');
  const readOnlyUrl = optionalInput('read-only-db-url');
  for (const url of [dbUrl, readOnlyUrl, optionalInput('shadow-url')]) if (url) maskUrl(url);
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
    includeAll: core.getInput('include-all'),
    strictHistory: core.getInput('strict-history'),
    allowEdited: core.getInput('allow-edited'),
    verify: core.getInput('verify'),
    onVerifyFailure: core.getInput('on-verify-failure'),
    shadowUrl: core.getInput('shadow-url'),
    shadowDisposable: core.getInput('shadow-disposable'),
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
 * The backup store: the github-artifact store is GitHub's, so the Action makes it; the others
 * the core opens from the configuration (undefined here).
 */
export function backupStoreFromInputs(
  config: SupagateConfig,
  run: GitHubRunContext,
): BackupStore | undefined {
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

/** A folder as the repository names it (what commit file lists show): relative to the workspace. */
function repositoryPath(projectDir: string, folder: string): string {
  const root = process.env.GITHUB_WORKSPACE ?? process.cwd();
  return relative(root, resolve(root, projectDir, folder))
    .split(sep)
    .join('/');
}

/** A plain-text report in the job summary, under a heading. */
export async function textSummary(title: string, text: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  await core.summary.addHeading(title, 2).addCodeBlock(text).write();
}
