import * as core from '@actions/core';
import { type RollbackResult, rollback, rollbackToBackup } from '../core/commands/rollback.js';
import { SupagateError } from '../core/errors.js';
import { renderRollback } from '../core/report/text.js';
import { readRunContext } from '../github/context.js';
import {
  actionWording,
  backupStoreFromInputs,
  booleanInput,
  configFromInputs,
  optionalInput,
  targetLabelFromInputs,
  textSummary,
} from './inputs.js';

/**
 * rollback, dispatched by hand (workflow_dispatch): `to-version` runs the down files of every
 * migration applied after it; `backup-id` restores a backup, read from the backup store (for
 * github-artifact: an artifact of an earlier run). Both take a fresh safety backup first, need
 * `confirm` (the database's name) unless `dry-run`, and verify before they finish.
 */
export async function runRollback(): Promise<void> {
  const run = readRunContext();
  const config = configFromInputs();
  const to = optionalInput('to-version');
  const backupId = optionalInput('backup-id');
  if (Boolean(to) === Boolean(backupId)) {
    throw new SupagateError(
      'CONFIG_INVALID',
      to ? 'Give either to-version or backup-id, not both' : 'rollback needs to-version or backup-id',
      {
        hint: 'to-version runs the down files of the migrations applied after it; backup-id restores a backup (see the apply run’s backup_id output).',
        details: { setting: to ? 'backup-id' : 'to-version' },
      },
    );
  }
  const dryRun = booleanInput('dry-run', false);
  const confirm = optionalInput('confirm');
  const store = backupStoreFromInputs(config, run, { usesStore: true });
  const common = { dryRun, ...(confirm ? { confirm } : {}), ...(store ? { store } : {}) };
  const result: RollbackResult = backupId
    ? await rollbackToBackup(config, {
        backupId,
        ...common,
        ...(booleanInput('allow-other-target', false) ? { allowOtherTarget: true } : {}),
        ...(booleanInput('discard-writes-since-backup', false) ? { discardWritesSinceBackup: true } : {}),
      })
    : await rollback(config, { to: to as string, ...common });
  core.setOutput('status', result.status);
  core.setOutput('reverted_versions', result.reverted.map((m) => m.version).join(','));
  core.setOutput('backup_id', result.backup.status === 'taken' ? result.backup.id : '');
  await textSummary(
    `supagate rollback${dryRun ? ' (dry run)' : ''}`,
    actionWording(renderRollback({ ...result, target: targetLabelFromInputs() })),
  );
  if (result.status === 'failed') core.setFailed('The rollback failed; see the job summary.');
}
