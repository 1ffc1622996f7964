import { describe, expect, it } from 'vitest';
import type { PlanResult } from '../src/core/commands/plan.js';
import { renderPlanMarkdown } from '../src/core/report/markdown.js';
import { renderPlan } from '../src/core/report/text.js';
import {
  type NotComparedKind,
  notComparedChanges,
  notComparedCount,
  notComparedLine,
} from '../src/core/schema/not-compared.js';

function planResult(overrides: Partial<PlanResult> = {}): PlanResult {
  return {
    command: 'plan',
    status: 'planned',
    target: 'database "postgres" on db.example.com:5432',
    planHash: 'a'.repeat(64),
    productionFingerprint: 'b'.repeat(64),
    blocking: false,
    blockingReasons: [],
    pending: [],
    problems: [],
    diff: { changes: [] },
    hazards: [],
    lints: { introduced: [], resolved: [], existingCount: 0 },
    access: [],
    shadow: { source: 'embedded', serverVersion: 150018, warnings: [], standIns: [] },
    durationMs: 1,
    ...overrides,
  };
}

const collations: NotComparedKind = { kind: 'collation', count: 2, names: ['public.a', 'public.b'] };

describe('notComparedChanges', () => {
  it('marks a kind that appeared, one whose count or names changed, and keeps one that went', () => {
    const before: NotComparedKind[] = [
      collations,
      { kind: 'operator', count: 1, names: ['public.===(integer,integer)'] },
      { kind: 'transform', count: 1, names: ['FOR integer LANGUAGE sql'] },
    ];
    const after: NotComparedKind[] = [
      collations,
      { kind: 'operator', count: 1, names: ['public.~~~(integer,integer)'] },
      { kind: 'cast', count: 1, names: ['(public.mood AS integer)'] },
    ];
    expect(notComparedChanges(before, after)).toEqual([
      { kind: 'cast', count: 1, names: ['(public.mood AS integer)'], countBefore: 0, changed: true },
      { ...collations, countBefore: 2, changed: false },
      { kind: 'operator', count: 1, names: ['public.~~~(integer,integer)'], countBefore: 1, changed: true },
      { kind: 'transform', count: 0, names: [], countBefore: 1, changed: true },
    ]);
    expect(notComparedCount(after)).toBe(4);
  });

  it('says how many more than the names listed', () => {
    expect(notComparedLine({ kind: 'large object', count: 12, names: ['16400', '16401'] })).toBe(
      'large object: 12 (16400, 16401, … 10 more)',
    );
  });
});

describe('Not compared section', () => {
  it('is absent when there is nothing', () => {
    expect(renderPlanMarkdown(planResult({ notCompared: [] }))).not.toContain('Not compared');
    expect(renderPlanMarkdown(planResult())).not.toContain('Not compared');
    expect(renderPlan(planResult({ notCompared: [] }))).not.toContain('Not compared');
  });

  it('lists kind, count and names, names as code that markup cannot escape', () => {
    const result = planResult({
      notCompared: [{ kind: 'collation', count: 1, names: ['public."a`b"'], countBefore: 0, changed: true }],
    });
    const markdown = renderPlanMarkdown(result);
    expect(markdown).toContain('#### Not compared (1 object)');
    expect(markdown).toContain('- collation: 1 — ``public."a`b"`` (**changed by the migrations**: 0 → 1)');
    expect(renderPlan(result)).toContain('  collation: 1 (public."a`b") [changed: 0 → 1]');
  });
});
