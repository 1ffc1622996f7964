import { type AppliedRow, textDigest } from './history.js';
import type { Migration } from './model.js';

/**
 * History rows and local files matched by content, where their versions do not match them: the
 * statements the Supabase CLI stores in each row (compared by textDigest, white space and
 * semicolons aside) say which file a row holds. Pure: no I/O.
 */
export type HistoryMismatch =
  /** A version in history with no file, whose statements are exactly a pending file's. */
  | { kind: 'applied-as-other-version'; historyVersion: string; file: { version: string; path: string } }
  /** A pending file whose statements are exactly those of a version applied with its own file. */
  | { kind: 'duplicate-of-applied'; appliedVersion: string }
  /** An applied version whose file's name part differs from the name history holds. */
  | { kind: 'renamed'; historyName: string }
  /** A version in history with no file whose statements match none: another app's, or a deleted file. */
  | { kind: 'no-file'; statementsStored: boolean };

export interface ContentMatches {
  /** History versions without a file of their version, by version. */
  unmatchedRows: Map<string, Extract<HistoryMismatch, { kind: 'applied-as-other-version' | 'no-file' }>>;
  /** Pending files whose content is already in history under a version that has its file, by version. */
  duplicates: Map<string, Extract<HistoryMismatch, { kind: 'duplicate-of-applied' }>>;
}

/**
 * Matches what versions cannot: each history row with no file of its version against the
 * pending files, and each pending file against the rows applied with files. A pending file is
 * claimed by one row at most (the first in numeric order), so a repair moves it once.
 */
export function matchByContent(
  rows: AppliedRow[],
  local: ReadonlyMap<string, Migration>,
  pending: Migration[],
): ContentMatches {
  const pendingByText = new Map<string, Migration>();
  for (const migration of pending) {
    if (migration.statements.length === 0) continue;
    const digest = textDigest([migration.sql]);
    if (!pendingByText.has(digest)) pendingByText.set(digest, migration);
  }
  const unmatchedRows: ContentMatches['unmatchedRows'] = new Map();
  const claimed = new Set<string>();
  for (const row of rows) {
    if (local.has(row.version)) continue;
    const file = row.textDigest ? pendingByText.get(row.textDigest) : undefined;
    if (file && !claimed.has(file.version)) {
      claimed.add(file.version);
      unmatchedRows.set(row.version, {
        kind: 'applied-as-other-version',
        historyVersion: row.version,
        file: { version: file.version, path: file.path },
      });
    } else {
      unmatchedRows.set(row.version, { kind: 'no-file', statementsStored: row.textDigest !== null });
    }
  }
  const duplicates: ContentMatches['duplicates'] = new Map();
  const appliedWithFile = new Map<string, string>();
  for (const row of rows)
    if (row.textDigest && local.has(row.version) && !appliedWithFile.has(row.textDigest))
      appliedWithFile.set(row.textDigest, row.version);
  for (const [digest, file] of pendingByText) {
    const appliedVersion = appliedWithFile.get(digest);
    if (appliedVersion && !claimed.has(file.version))
      duplicates.set(file.version, { kind: 'duplicate-of-applied', appliedVersion });
  }
  return { unmatchedRows, duplicates };
}

/** The name history holds for an applied file differs from the file's: renamed after applying. */
export function renamedSince(
  migration: Migration,
  row: AppliedRow,
): Extract<HistoryMismatch, { kind: 'renamed' }> | undefined {
  // Tools that store no name leave it empty: nothing to compare.
  if (row.name === '' || row.name === migration.name) return undefined;
  return { kind: 'renamed', historyName: row.name };
}
