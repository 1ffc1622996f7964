import type { Table } from '../model.js';

/**
 * How long a statement that rewrites or scans a table holds its lock, estimated from the
 * table's size in production (pg_class.relpages, as of its last ANALYZE or VACUUM). The rates
 * are a range, not a measurement of the target: a rewrite writes the table and its WAL and
 * rebuilds its indexes, an index build reads and sorts, a scan only reads. The lower bound is a
 * fast machine with the table cached; the upper one a small instance reading from disk.
 */
export type LockMode = 'ACCESS EXCLUSIVE' | 'SHARE' | 'SHARE ROW EXCLUSIVE';
export type LockedWork = 'rewrite' | 'index build' | 'scan';

export interface LockEstimate {
  lock: LockMode;
  /** What the lock blocks for other sessions. */
  blocks: 'reads and writes' | 'writes';
  work: LockedWork;
  table: string;
  /** pages × 8 KiB of the table (its indexes and TOAST not included). */
  tableBytes: number;
  /** Seconds the work takes at the fast and at the slow rate. */
  seconds: { low: number; high: number };
}

/** MB/s: [fast, slow]. */
const RATES: Record<LockedWork, [number, number]> = {
  scan: [400, 60],
  'index build': [120, 20],
  rewrite: [150, 25],
};

const PAGE = 8192;
const MB = 1024 * 1024;

export function lockEstimate(table: Table, id: string, work: LockedWork, lock: LockMode): LockEstimate {
  const tableBytes = Math.max(0, table.stats.pages) * PAGE;
  const [fast, slow] = RATES[work];
  return {
    lock,
    blocks: lock === 'ACCESS EXCLUSIVE' ? 'reads and writes' : 'writes',
    work,
    table: id,
    tableBytes,
    seconds: { low: tableBytes / MB / fast, high: tableBytes / MB / slow },
  };
}
