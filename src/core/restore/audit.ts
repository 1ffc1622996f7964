import type { Client } from '../db/connect.js';
import { AUDIT_TABLE, HISTORY_TABLE, insertAuditRecord } from '../migrations/history.js';
import { VERSION } from '../version.js';

/** A history row as it was before the restore. */
export interface HistoryEntry {
  version: string;
  name: string;
}

/** The history rows now; none when there is no history table. */
export async function readHistoryEntries(client: Client): Promise<HistoryEntry[]> {
  const { rows: present } = await client.query<{ found: boolean }>(
    'SELECT to_regclass($1) IS NOT NULL AS found',
    [HISTORY_TABLE],
  );
  if (!present[0]?.found) return [];
  const { rows } = await client.query<HistoryEntry>(
    `SELECT version, coalesce(name, '') AS name FROM ${HISTORY_TABLE} ORDER BY version`,
  );
  return rows;
}

export interface RestoreAudit {
  backupId: string;
  actor: string | null;
  runId: string | null;
  startedAt: number;
}

/**
 * Records the restore in the audit trail (which it never rewrites): one `rolled_back` row per
 * migration whose history row the restore took away, or one row for the restore itself when it
 * took none. Returns the versions reverted. Nothing when there is no audit table.
 */
export async function recordRestore(
  client: Client,
  before: HistoryEntry[],
  audit: RestoreAudit,
): Promise<string[]> {
  const after = new Set((await readHistoryEntries(client)).map((entry) => entry.version));
  const reverted = before.filter((entry) => !after.has(entry.version));
  const { rows: present } = await client.query<{ found: boolean }>(
    'SELECT to_regclass($1) IS NOT NULL AS found',
    [AUDIT_TABLE],
  );
  if (!present[0]?.found) return reverted.map((entry) => entry.version);
  const checksums = await latestChecksums(client);
  const entries =
    reverted.length > 0 ? reverted : [{ version: '', name: `restore of backup ${audit.backupId}` }];
  for (const entry of entries) {
    await insertAuditRecord(client, {
      version: entry.version,
      name: entry.name,
      checksum: checksums.get(entry.version) ?? '',
      outcome: 'rolled_back',
      transactionMode: 'restore',
      durationMs: Math.round(performance.now() - audit.startedAt),
      appliedBy: audit.actor,
      runId: audit.runId,
      backupId: audit.backupId,
      toolVersion: VERSION,
    });
  }
  return reverted.map((entry) => entry.version);
}

async function latestChecksums(client: Client): Promise<Map<string, string>> {
  const { rows } = await client.query<{ version: string; checksum: string }>(
    `SELECT DISTINCT ON (version) version, checksum FROM ${AUDIT_TABLE} ORDER BY version, id DESC`,
  );
  return new Map(rows.map((row) => [row.version, row.checksum]));
}
