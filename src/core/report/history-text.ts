import type { RepairResult } from '../commands/repair.js';
import type { StatusResult } from '../commands/status.js';
import type { MigrationStatusEntry } from '../migrations/pending.js';
import type { RepairAction } from '../migrations/repair-plan.js';
import { renderProblems, table } from './text-blocks.js';

/** status and repair in the terminal: files against history, and the change that makes them agree. */
export function statusText(result: StatusResult): string {
  const lines = [`Target: ${result.target}`];
  if (!result.historyExists)
    lines.push('No migration history in this database yet: every migration is pending.');
  lines.push('');
  const rows = result.entries.map((entry) => [
    entry.version,
    entry.name,
    entry.state,
    entry.applied
      ? `${entry.applied.appliedAt}${entry.applied.appliedBy ? ` by ${entry.applied.appliedBy}` : ''}`
      : '',
    entry.hasRollback ? 'yes' : '',
    mismatchNote(entry),
  ]);
  lines.push(...table(['VERSION', 'NAME', 'STATE', 'APPLIED (supagate)', 'ROLLBACK', 'NOTE'], rows));
  lines.push('', `${result.pending.length} pending`);
  lines.push(...renderProblems(result.problems));
  if (result.problems.some((problem) => REPAIRABLE.has(problem.code)))
    lines.push('', '`supagate repair` proposes the history change that makes files and history agree.');
  return lines.join('\n');
}

const REPAIRABLE = new Set(['HISTORY_APPLIED_AS_OTHER_VERSION', 'HISTORY_NAME_DIFFERS']);

/** What matching by content found, in a few words for the status table. */
export function mismatchNote(entry: MigrationStatusEntry): string {
  const mismatch = entry.mismatch;
  if (!mismatch) return '';
  switch (mismatch.kind) {
    case 'applied-as-other-version':
      return entry.state === 'missing-local'
        ? `holds ${mismatch.file.path}`
        : `already applied as ${mismatch.historyVersion}`;
    case 'duplicate-of-applied':
      return `same statements as ${mismatch.appliedVersion}`;
    case 'renamed':
      return `history names it "${mismatch.historyName}"`;
    case 'no-file':
      return mismatch.statementsStored ? 'no file has its statements' : 'no statements stored';
  }
}

export function repairText(result: RepairResult): string {
  const lines = [`Target: ${result.target}`, ''];
  switch (result.status) {
    case 'clean':
      lines.push('History and files agree: nothing to repair.');
      break;
    case 'nothing-to-repair':
      lines.push('Nothing that a change to history can repair.');
      break;
    case 'proposed':
      lines.push(
        `Proposed change to supabase_migrations.schema_migrations (${result.actions.length} ${result.actions.length === 1 ? 'row' : 'rows'}; the schema is not touched):`,
        '',
        ...actionLines(result),
        '',
        `Fingerprint of this database and its history: ${result.fingerprint}`,
        `To apply it (one transaction, history rows backed up first): supagate repair --confirm ${result.fingerprint}`,
      );
      break;
    case 'repaired':
      lines.push(
        `Repaired (${result.actions.length} history ${result.actions.length === 1 ? 'row' : 'rows'}):`,
        '',
        ...actionLines(result),
        '',
        `History as it was is kept in supabase_migrations.supagate_history_backups, id ${result.backupId}.`,
      );
      break;
  }
  if (result.leftAlone.length > 0) {
    lines.push('', 'Left alone:');
    for (const item of result.leftAlone) lines.push(`  ${item.version}: ${item.reason}`);
  }
  lines.push(...renderProblems(result.problems));
  return lines.join('\n');
}

function actionLines(result: RepairResult): string[] {
  return result.actions.flatMap((action, index) => [
    `  ${describeAction(action)}`,
    `    ${result.sql[index] ?? ''}`,
  ]);
}

function describeAction(action: RepairAction): string {
  switch (action.kind) {
    case 'move':
      return `${action.from} → ${action.to}: ${action.path} was applied as version ${action.from}`;
    case 'rename':
      return `${action.version}: name "${action.from}" → "${action.to}" (${action.path})`;
    case 'revert':
      return `${action.version}${action.name ? ` (${action.name})` : ''}: removed from history (no file; --strict-history)`;
  }
}
