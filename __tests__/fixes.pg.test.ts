import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PlanWithModels, planWithModels } from '../src/core/commands/plan.js';
import { diffSchemas } from '../src/core/schema/diff.js';
import type { HazardCode } from '../src/core/schema/hazards.js';
import { appliedProduction, withPending } from './harness/applied-production.js';
import type { TestDatabase } from './harness/db.js';

/**
 * Safe rewrites: for each hazard with a known safe form, the plan offers SQL; the migration
 * rewritten with it plans without that hazard and gives the same schema (the search_path fix
 * changes only the function's settings, which is its point). Production (one database for the
 * file) has public.items with 60 rows, analyzed; largeTableRows = 50 makes it large.
 */
const PRODUCTION = `
create table public.items (id bigint generated always as identity primary key, name text not null, qty integer);
alter table public.items enable row level security;
insert into public.items (name, qty) select 'item ' || g, g from generate_series(1, 60) g;
analyze public.items;
`;

let db: TestDatabase;

beforeAll(async () => {
  db = await appliedProduction(PRODUCTION);
});
afterAll(async () => {
  await db.drop();
});

function planOf(files: Record<string, string>): Promise<PlanWithModels> {
  return withPending(PRODUCTION, files, (project) =>
    planWithModels(project.config(db.url, { largeTableRows: 50 })),
  );
}

interface Case {
  code: HazardCode;
  statement: string;
  /** What else may differ between the two final schemas (nothing, unless said). */
  differs?: string[];
}

const CASES: Case[] = [
  { code: 'index-not-concurrent', statement: 'create index items_name_idx on public.items (name)' },
  {
    code: 'constraint-validation',
    statement: 'alter table public.items add constraint items_qty_positive check (qty > 0)',
  },
  { code: 'set-not-null', statement: 'alter table public.items alter column qty set not null' },
  {
    code: 'security-definer-search-path',
    statement:
      'create function public.item_count() returns bigint language sql security definer as $$ select count(*) from public.items $$',
    differs: ['function public.item_count()'],
  },
];

describe('safe rewrites offered as fixes', () => {
  for (const spec of CASES) {
    it(`${spec.code}: the rewrite plans without the hazard, to the same schema`, async () => {
      const original = await planOf({ '2_change': `${spec.statement};\n` });
      const hazard = original.result.hazards.find((h) => h.code === spec.code);
      expect(hazard?.fix, JSON.stringify(original.result.hazards)).toBeDefined();
      const fix = hazard?.fix as NonNullable<typeof hazard>['fix'] & {};

      const files: Record<string, string> =
        fix.placement === 'after'
          ? { '2_change': `${spec.statement};\n${fix.sql}\n` }
          : fix.ownFile
            ? { '2_change': '-- the index is built in the next file\n', '3_index': `${fix.sql}\n` }
            : { '2_change': `${fix.sql}\n` };
      const fixed = await planOf(files);
      expect(fixed.result.status, JSON.stringify(fixed.result.failure)).toBe('planned');
      expect(fixed.result.hazards.filter((h) => h.code === spec.code)).toEqual([]);

      const difference = diffSchemas(original.after as never, fixed.after as never).changes.map(
        (change) => `${change.kind} ${change.id}`,
      );
      expect(difference).toEqual(spec.differs ?? []);
    });
  }

  it('offers no rewrite of a constraint added with another command, and one when the commas are inside it', async () => {
    const { result } = await planOf({
      '2_change':
        "alter table public.items add constraint items_qty_positive check (qty > 0), add constraint items_name_set check (name <> '');",
    });
    const hazards = result.hazards.filter((h) => h.code === 'constraint-validation');
    expect(hazards).toHaveLength(2);
    expect(hazards.every((h) => h.fix === undefined)).toBe(true);
    const single = await planOf({
      '2_change':
        'alter table public.items add constraint items_pair_check check (coalesce(qty, 0) >= 0 and name in (name, name));',
    });
    expect(single.result.hazards.find((h) => h.code === 'constraint-validation')?.fix?.sql).toContain(
      'not valid;',
    );
  });

  it('offers no rewrite where the statement does more than the hazard is about', async () => {
    const { result } = await planOf({
      '2_change':
        'alter table public.items alter column qty set not null, alter column name set default $$x$$;',
    });
    const hazard = result.hazards.find((h) => h.code === 'set-not-null');
    expect(hazard).toBeDefined();
    expect(hazard?.fix).toBeUndefined();
  });
});
