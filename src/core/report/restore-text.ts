import type { RollbackResult } from '../commands/rollback.js';
import type { RestoreResult } from '../restore/index.js';
import { plural } from './describe.js';

/* The lines of `rollback --backup`: what the restore did (or would do), proved, and discarded. */

export function restoreLines(result: RollbackResult): string[] {
  const restore = result.restore;
  if (!restore) return [];
  if (result.status === 'dry-run') {
    return [
      `Dry run: nothing was changed. Restoring backup ${restore.backupId} would:`,
      ...restore.steps.map((s) => `  - ${s}`),
      ...writesLines(restore.writesSinceBackup, 'would discard'),
    ];
  }
  const badCounts = restore.counts.filter((c) => !c.ok);
  const badRls = restore.rls.filter((r) => !r.ok);
  return [
    `${restore.ok ? '✓' : '✗'} Restored backup ${restore.backupId} (${restore.durationMs} ms): ${restoredWhat(restore)}.`,
    `  Row counts: ${badCounts.length === 0 ? `all ${restore.counts.length} match the backup` : `${badCounts.length} differ`}; RLS: ${badRls.length === 0 ? `all ${restore.rls.length} tables match` : `${badRls.length} differ`}; schema: ${SCHEMA_PROOF[restore.schema]}.`,
    ...badCounts.map((c) => `  ✗ ${c.table}: ${c.actual} rows, the backup has ${c.expected}`),
    ...badRls.map((r) => `  ✗ ${r.table}: ${r.differences.join('; ')}`),
    ...writesLines(restore.writesSinceBackup, 'discarded'),
    ...keptInSafetyBackup(result),
  ];
}

const SCHEMA_PROOF: Record<RestoreResult['schema'], string> = {
  matches: "matches the backup's fingerprint",
  differs: "DIFFERS from the backup's fingerprint",
  'not-recorded': 'not checked (the backup recorded no fingerprint)',
  'not-checked': 'not checked',
};

/** What a restore gave back, exactly: each whole schema with its tables, the tables restored on their own. */
function restoredWhat(restore: RestoreResult): string {
  const schemaOf = (table: string) => table.slice(0, table.indexOf('.'));
  const whole = restore.schemas.filter((schema) => schema !== 'supabase_migrations');
  const parts = whole.map((schema) => {
    const tables = restore.tables.filter((table) => schemaOf(table) === schema);
    return `schema ${schema} (${plural(tables.length, 'table')})`;
  });
  const own = restore.tables.filter(
    (table) => !restore.schemas.includes(schemaOf(table)) && schemaOf(table) !== 'supabase_migrations',
  );
  if (own.length > 0) parts.push(`the rows and policies of ${own.join(', ')}`);
  if (restore.historyRestored)
    parts.push('the migration history (the audit trail kept, the restore added to it)');
  if (restore.schemasDropped.length > 0)
    parts.push(
      `dropped schema${restore.schemasDropped.length === 1 ? '' : 's'} ${restore.schemasDropped.join(', ')} (created after the backup)`,
    );
  if (restore.revertedVersions.length > 0)
    parts.push(
      `migration${restore.revertedVersions.length === 1 ? '' : 's'} ${restore.revertedVersions.join(', ')} pending again`,
    );
  return parts.join('; ') || 'nothing';
}

function writesLines(writes: RestoreResult['writesSinceBackup'], verb: string): string[] {
  if (writes.length === 0) return [];
  return [
    `Rows written after the backup, which the restore ${verb}:`,
    ...writes.map(
      (w) =>
        `  ${w.table}: ${w.by === 'count' ? 'at least ' : ''}${plural(w.newRows, 'row')}${w.by === 'new table' ? ' (table created after the backup)' : w.by === 'key' ? ` (above the backup's highest key; ${w.rows} now, ${w.backupRows} in the backup)` : ` (${w.rows} now, ${w.backupRows} in the backup)`}`,
    ),
  ];
}

function keptInSafetyBackup(result: RollbackResult): string[] {
  if (!result.restore || result.restore.writesSinceBackup.length === 0) return [];
  if (result.backup.status !== 'taken') return ['  No safety backup was taken: those rows are gone.'];
  const id = result.backup.id;
  return [
    `  They are kept in safety backup ${id}. To get them back: \`supagate rollback --backup ${id}\` returns the database to just before this restore; or take single tables from its dump with pg_restore --data-only --table <name>.`,
  ];
}
