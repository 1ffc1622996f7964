import { describe, expect, it } from 'vitest';
import { describeLockEstimate } from '../src/core/report/describe.js';
import { lockEstimate } from '../src/core/schema/findings/lock-estimate.js';
import type { Table } from '../src/core/schema/model.js';

/** The lock a rewrite or scan holds, and for about how long, from production's size. */
function tableOf(pages: number): Table {
  return { stats: { estimatedRows: pages * 50, pages } } as Table;
}

describe('lock estimates', () => {
  it('sizes the work from the table pages and gives a range of durations', () => {
    const gib = lockEstimate(tableOf(131_072), 'public.events', 'rewrite', 'ACCESS EXCLUSIVE');
    expect(gib).toMatchObject({ tableBytes: 1024 ** 3, blocks: 'reads and writes' });
    expect(describeLockEstimate(gib)).toBe(
      'holds ACCESS EXCLUSIVE (blocks reads and writes) for about 7 s to 41 s (a rewrite of 1.0 GB)',
    );
    const index = lockEstimate(tableOf(131_072 * 20), 'public.events', 'index build', 'SHARE');
    expect(describeLockEstimate(index)).toBe(
      'holds SHARE (blocks writes) for about 3 min to 17 min (an index build of 20.0 GB)',
    );
  });

  it('says under a second for a small table, and up to the slow bound when only that is longer', () => {
    expect(describeLockEstimate(lockEstimate(tableOf(10), 't', 'scan', 'ACCESS EXCLUSIVE'))).toBe(
      'holds ACCESS EXCLUSIVE (blocks reads and writes) for under a second (a scan of 80.0 KB)',
    );
    expect(describeLockEstimate(lockEstimate(tableOf(12_800), 't', 'scan', 'SHARE ROW EXCLUSIVE'))).toBe(
      'holds SHARE ROW EXCLUSIVE (blocks writes) for up to 2 s (a scan of 100.0 MB)',
    );
  });
});
