import type { SupagateConfig } from '../config.js';
import type { MigrationStatusEntry, Problem } from '../migrations/pending.js';
import { discover, loadStatus, requireDbUrl, withReadOnlyConnection } from './load.js';

export interface StatusResult {
  command: 'status';
  target: string;
  /** False when the database has no history table yet. */
  historyExists: boolean;
  entries: MigrationStatusEntry[];
  pending: string[];
  problems: Problem[];
  /** No error-level problem: apply would proceed. */
  ok: boolean;
}

/** Local migrations against the database's history. Read-only. */
export async function status(config: SupagateConfig): Promise<StatusResult> {
  const url = requireDbUrl(config);
  const discovered = await discover(config);
  return withReadOnlyConnection(url, async (connection) => {
    const { status, historyExists } = await loadStatus(connection, discovered, config);
    return {
      command: 'status',
      target: connection.target.label,
      historyExists,
      entries: status.entries,
      pending: status.pending.map((migration) => migration.version),
      problems: status.problems,
      ok: status.ok,
    };
  });
}
