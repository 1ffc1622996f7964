import { quoteLiteral as quote } from '../sql/quote.js';
import type { MigrationStatus } from './pending.js';

/**
 * The smallest change to the history table that makes it agree with the local files, as far
 * as history alone can: rows are moved, renamed or removed; the schema is never touched, and
 * nothing that needs the schema changed (an edited file, a pending one) is "repaired". Pure.
 */
export type RepairAction =
  /** A file applied under another version (dashboard, agent, rebase): its row takes the file's version and name. */
  | { kind: 'move'; from: string; to: string; name: string; path: string }
  /** An applied file renamed since: history takes the file's name. */
  | { kind: 'rename'; version: string; from: string; to: string; path: string }
  /** A version with no file, removed from history (only when --strict-history says there are no other apps). */
  | { kind: 'revert'; version: string; name: string };

/** What repair does not change, and why: said beside the proposal so that nothing looks repaired that is not. */
export interface LeftAlone {
  version: string;
  reason: string;
}

export interface RepairProposal {
  actions: RepairAction[];
  leftAlone: LeftAlone[];
}

export function proposeRepair(status: MigrationStatus, options: { strictHistory: boolean }): RepairProposal {
  const actions: RepairAction[] = [];
  const leftAlone: LeftAlone[] = [];
  const byVersion = new Map(status.entries.map((entry) => [entry.version, entry]));
  for (const entry of status.entries) {
    const mismatch = entry.mismatch;
    if (entry.state === 'missing-local' && mismatch?.kind === 'applied-as-other-version') {
      const file = byVersion.get(mismatch.file.version);
      actions.push({
        kind: 'move',
        from: entry.version,
        to: mismatch.file.version,
        name: file?.name ?? '',
        path: mismatch.file.path,
      });
    } else if (entry.state === 'missing-local') {
      if (options.strictHistory) actions.push({ kind: 'revert', version: entry.version, name: entry.name });
      else
        leftAlone.push({
          version: entry.version,
          reason:
            'applied with no local file: another app’s on a shared database, or a deleted file. --strict-history removes it from history.',
        });
    } else if (mismatch?.kind === 'renamed' && entry.path) {
      actions.push({
        kind: 'rename',
        version: entry.version,
        from: mismatch.historyName,
        to: entry.name,
        path: entry.path,
      });
    }
    if (entry.state === 'edited')
      leftAlone.push({
        version: entry.version,
        reason: `${entry.path} changed after it was applied: the change never ran, and writing it into history would hide that. Revert the edit and put the change in a new migration.`,
      });
    if (mismatch?.kind === 'duplicate-of-applied')
      leftAlone.push({
        version: entry.version,
        reason: `${entry.path} repeats applied version ${mismatch.appliedVersion}: delete the file if it is a copy (a file, not history).`,
      });
    if (entry.state === 'out-of-order' && mismatch?.kind !== 'applied-as-other-version')
      leftAlone.push({
        version: entry.version,
        reason: `${entry.path} is pending and older than the newest applied version: it has not run, so history is right. Rename it to a newer version, or apply with --include-all.`,
      });
  }
  return { actions, leftAlone };
}

/** One action as a parameterized statement on the Supabase CLI's history table. */
export function actionStatement(
  action: RepairAction,
  table: string,
  hasName: boolean,
): { text: string; values: string[] } {
  switch (action.kind) {
    case 'move':
      return hasName
        ? {
            text: `UPDATE ${table} SET version = $1, name = $2 WHERE version = $3`,
            values: [action.to, action.name, action.from],
          }
        : { text: `UPDATE ${table} SET version = $1 WHERE version = $2`, values: [action.to, action.from] };
    case 'rename':
      return {
        text: `UPDATE ${table} SET name = $1 WHERE version = $2`,
        values: [action.to, action.version],
      };
    case 'revert':
      return { text: `DELETE FROM ${table} WHERE version = $1`, values: [action.version] };
  }
}

/** The statement as a reviewer reads it (its values inlined as literals), for the proposal. */
export function actionSql(action: RepairAction, table: string): string {
  const { text, values } = actionStatement(action, table, true);
  return `${text.replace(/\$(\d+)/g, (_, n: string) => quote(values[Number(n) - 1] as string))};`;
}
