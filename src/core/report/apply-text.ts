import type { ApplyResult, Recovery, VerificationOutcome } from '../commands/apply.js';
import type { RollbackResult } from '../commands/rollback.js';
import type { BackupOutcome } from '../commands/safety.js';
import { plural } from './describe.js';
import { formatBytes, formatMs, type PhaseTiming, timingsLine } from './progress.js';
import { restoreLines } from './restore-text.js';
import { indent, renderProblems } from './text-blocks.js';

/** Apply and rollback in the terminal: what ran, the backup taken first, and what verification found. */

export function applyText(result: ApplyResult, timings?: PhaseTiming[]): string {
  const lines = [`Target: ${result.target}`];
  if (result.status !== 'blocked') lines.push(...backupLines(result.backup));
  if (result.blockingReasons.length > 0) lines.push(...blockedLines(result));
  if (result.status === 'blocked') {
    // blockedLines said it all: nothing ran.
  } else if (result.status === 'dry-run') {
    lines.push(
      `Dry run: nothing was changed. ${plural(result.plan.length, 'pending migration')} would run, in this order:`,
    );
    for (const migration of result.plan) {
      lines.push('', `${migration.path}  [${modeLabel(migration.mode)}]`);
      if (migration.strippedTransactionWrapper) lines.push('  (the file’s own BEGIN/COMMIT are removed)');
      for (const statement of migration.statements) {
        const note = statement.nonTransactional
          ? `  -- outside a transaction: ${statement.nonTransactional}`
          : '';
        lines.push(`  -- line ${statement.line}${note}`, indent(`${statement.sql};`, '  '));
      }
    }
  } else if (result.status === 'up-to-date') {
    lines.push('Up to date: no pending migrations.');
  } else {
    for (const migration of result.applied) {
      const retries = migration.attempts > 1 ? `, ${migration.attempts} attempts` : '';
      lines.push(`✓ ${migration.path}  ${migration.durationMs} ms  [${modeLabel(migration.mode)}${retries}]`);
    }
    if (result.failure) {
      const failure = result.failure;
      lines.push(
        `✗ ${failure.path}:${failure.line}:${failure.column}  ${failure.message}${failure.sqlstate ? ` [SQLSTATE ${failure.sqlstate}]` : ''}`,
      );
      if (failure.detail) lines.push(`  detail: ${failure.detail}`);
      if (failure.statement) lines.push(indent(failure.statement, '  │ '));
      if (failure.committedStatements > 0) {
        lines.push(
          `  ${failure.committedStatements} statement(s) of this non-atomic migration stayed applied; its version is not recorded.`,
        );
      } else {
        lines.push('  Nothing of this migration was applied.');
      }
      if (result.notApplied.length > 0) lines.push(`  Not run: ${result.notApplied.join(', ')}`);
      if (failure.hint) lines.push(`  hint: ${failure.hint}`);
    }
    lines.push(
      '',
      result.failure
        ? `Failed after applying ${plural(result.applied.length, 'migration')}.`
        : `Applied ${plural(result.applied.length, 'migration')} in ${formatMs(migrationsMs(result.applied))}.`,
    );
    lines.push(timingsLine(result.durationMs, timings ?? []));
    if (result.notifiedPostgrest) lines.push(`PostgREST was told to reload its schema cache.`);
    lines.push(...verificationLines(result));
  }
  if (result.lockWaitMs > 1000)
    lines.push(`Waited ${Math.round(result.lockWaitMs / 1000)} s for another run's lock.`);
  lines.push(...renderProblems(result.problems));
  return lines.join('\n');
}

/** Why the plan blocks, and that nothing was (or would be) applied. */
function blockedLines(result: ApplyResult): string[] {
  const verdict =
    result.status === 'dry-run'
      ? 'The plan blocks: apply would refuse, before any backup or change, because of:'
      : 'Refused: the plan blocks. No backup was taken and nothing was changed, because of:';
  return [verdict, ...result.blockingReasons.map((reason) => `  ✗ ${reason}`), ''];
}

function backupLines(backup: BackupOutcome): string[] {
  switch (backup.status) {
    case 'off':
      return ['!! BACKUP OFF: no backup was taken before applying (--backup off).'];
    case 'not-needed':
      return [];
    case 'planned':
      return [
        `A verified ${backup.encrypted ? 'encrypted' : 'UNENCRYPTED'} backup goes to the ${backup.store} store first.`,
      ];
    case 'taken':
      return [
        `Backup ${backup.id}: ${backup.tables} tables, ${formatBytes(backup.sizeBytes)}, ${backup.encrypted ? 'encrypted (AES-256-GCM)' : 'not encrypted'}, verified; ${backup.location}`,
      ];
  }
}

function verificationLines(result: {
  verification?: VerificationOutcome;
  recovery?: Recovery;
  backup: BackupOutcome;
}): string[] {
  const v = result.verification;
  if (!v) return [];
  if (v.status === 'off')
    return [
      '',
      '!! VERIFICATION OFF: counts, RLS and the schema were not checked afterwards (--verify off).',
    ];
  if (v.status === 'not-run') return [];
  const counted = v.counts.tables.length;
  const lines = [
    '',
    `Verification ${v.status === 'passed' ? 'passed' : 'FAILED'}: ${plural(counted, 'table')} counted (${v.counts.mode}), ` +
      `${plural(v.probes.results.length, 'RLS probe')}, schema ${v.schema.checked ? (v.schema.differences.length === 0 ? 'matches the plan' : `differs from the plan in ${v.schema.differences.length} place(s)`) : 'not checked'}, ` +
      `${plural(v.scripts.length, 'verify script')}.`,
  ];
  for (const table of v.counts.tables.filter((t) => t.status !== 'ok' && t.status !== 'grew')) {
    lines.push(
      `  rows  ${table.table}: ${table.before ?? '—'} → ${table.after ?? '—'} (${table.status}${table.allowed ? `, ${table.allowed}` : ''})`,
    );
  }
  for (const change of v.probes.changes) {
    lines.push(
      `  rls   ${change.identity} sees ${change.delta >= 0 ? '+' : ''}${change.delta} rows of ${change.table}${change.planned ? ' (planned)' : ''}`,
    );
  }
  for (const failure of v.failures) lines.push(`  ✗ ${failure}`);
  for (const warning of v.warnings) lines.push(`  ! ${warning}`);
  if (result.recovery) {
    if (result.recovery.rolledBack.length > 0) {
      lines.push(`Rolled back with down files: ${result.recovery.rolledBack.join(', ')}.`);
    }
    if (result.recovery.rollbackFailure) {
      lines.push(
        `✗ The automatic rollback failed at ${result.recovery.rollbackFailure.path}:${result.recovery.rollbackFailure.line}: ${result.recovery.rollbackFailure.message}`,
      );
    }
    if (result.recovery.rolledBack.length === 0 || result.recovery.rollbackFailure) {
      lines.push(
        `To undo this apply: ${result.recovery.command}${result.backup.status === 'taken' ? ` (the backup ${result.backup.id} is kept)` : ''}`,
      );
    }
  }
  return lines;
}

/** `timings`: the phases' durations, when the run was watched (the CLI's progress). */

export function rollbackText(result: RollbackResult, timings?: PhaseTiming[]): string {
  const lines = [`Target: ${result.target}`, ...backupLines(result.backup)];
  const took = timings && result.status !== 'dry-run' ? [timingsLine(result.durationMs, timings)] : [];
  if (result.mode === 'backup') return [...lines, ...restoreLines(result), ...took].join('\n');
  if (result.status === 'nothing-to-roll-back') {
    lines.push(`Nothing to roll back: no migration newer than ${result.to} is applied.`);
    return lines.join('\n');
  }
  if (result.status === 'dry-run') {
    lines.push(
      `Dry run: nothing was changed. These down migrations would run, newest first, to get back to ${result.to}:`,
    );
    for (const down of result.plan) {
      lines.push('', `${down.path}  [${modeLabel(down.mode)}]`);
      for (const statement of down.statements)
        lines.push(`  -- line ${statement.line}`, indent(`${statement.sql};`, '  '));
    }
    return lines.join('\n');
  }
  for (const down of result.reverted)
    lines.push(`✓ ${down.path}  ${down.durationMs} ms  [${modeLabel(down.mode)}]`);
  if (result.failure) {
    const f = result.failure;
    lines.push(
      `✗ ${f.path}:${f.line}:${f.column}  ${f.message}${f.sqlstate ? ` [SQLSTATE ${f.sqlstate}]` : ''}`,
    );
    if (result.notReverted.length > 0) lines.push(`  Still applied: ${result.notReverted.join(', ')}`);
  }
  lines.push(
    '',
    result.failure
      ? `Rollback stopped after ${plural(result.reverted.length, 'down migration')}.`
      : `Rolled back ${plural(result.reverted.length, 'migration')} to ${result.to}.`,
  );
  lines.push(...took);
  lines.push(...verificationLines(result));
  return lines.join('\n');
}

function migrationsMs(migrations: { durationMs: number }[]): number {
  return migrations.reduce((sum, migration) => sum + migration.durationMs, 0);
}

function modeLabel(mode: string): string {
  return mode === 'non-atomic'
    ? 'not atomic: has statements that cannot run in a transaction'
    : mode === 'batch'
      ? 'one transaction for all'
      : 'one transaction';
}
