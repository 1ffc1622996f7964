import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { apply } from '../src/core/commands/apply.js';
import { diffDatabases } from '../src/core/commands/diff.js';
import { drift } from '../src/core/commands/drift.js';
import { plan } from '../src/core/commands/plan.js';
import { resolveConfig } from '../src/core/config.js';
import { renderDriftMarkdown, renderPlanMarkdown } from '../src/core/report/markdown.js';
import { renderDiff, renderDrift, renderPlan } from '../src/core/report/text.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

/* Plan, drift and diff list the user's objects of kinds the model does not represent. */

let db: TestDatabase;
let project: TestProject | undefined;

beforeEach(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  await project?.cleanup();
  project = undefined;
  await db.drop();
});

const BASE = {
  '1_base': `
create table public.notes (id bigint primary key, body text);
alter table public.notes enable row level security;
create conversion public.ci for 'LATIN1' to 'UTF8' from iso8859_1_to_utf8;`,
};

async function production(): Promise<TestProject> {
  project = await createProject(migrations(BASE));
  expect((await apply(project.config(db.url))).status).toBe('applied');
  return project;
}

function config(p: TestProject) {
  return p.config(db.url, { shadowUrl: inject('shadowUrl'), detectLocalSupabase: false });
}

describe('not compared', () => {
  it('plan lists them and marks the kinds the migrations change', async () => {
    const p = await production();
    await p.write(
      'supabase/migrations/2_search.sql',
      `create conversion public.ci_win for 'LATIN1' to 'UTF8' from iso8859_1_to_utf8;
       alter table public.notes add column lang text;`,
    );
    const result = await plan(config(p));
    expect(result.status, JSON.stringify(result.failure)).toBe('planned');
    expect(result.notCompared).toEqual([
      { kind: 'conversion', count: 2, names: ['public.ci', 'public.ci_win'], countBefore: 1, changed: true },
    ]);
    const markdown = renderPlanMarkdown(result);
    expect(markdown).toContain('#### Not compared (2 objects)');
    expect(markdown).toContain(
      '- conversion: 2 — `public.ci`, `public.ci_win` (**changed by the migrations**: 1 → 2)',
    );
    expect(renderPlan(result)).toContain('conversion: 2 (public.ci, public.ci_win) [changed: 1 → 2]');
  });

  it('drift counts production’s, and marks those that differ from what the migrations produce', async () => {
    const p = await production();
    await db.query("create conversion public.by_hand for 'LATIN1' to 'UTF8' from iso8859_1_to_utf8");
    const result = await drift(config(p));
    // The model has no conversions: the one made by hand is not drift it can show, only listed.
    expect(result.status).toBe('in-sync');
    expect(result.notComparedCount).toBe(2);
    expect(result.notCompared).toEqual([
      { kind: 'conversion', count: 2, names: ['public.by_hand', 'public.ci'], countBefore: 1, changed: true },
    ]);
    expect(renderDriftMarkdown(result)).toContain('(**differs from what the migrations produce**: 1 → 2)');
    expect(renderDrift(result)).toContain('Not compared (2 objects: ');
  });

  it('diff lists the "to" side’s and marks what differs from the "from" side', async () => {
    const other = await createTestDatabase();
    try {
      await db.query("create conversion public.ci for 'LATIN1' to 'UTF8' from iso8859_1_to_utf8");
      await Promise.all([
        other.query("create conversion public.ci for 'LATIN1' to 'UTF8' from iso8859_1_to_utf8"),
        other.query('create type public.later'),
      ]);
      const result = await diffDatabases(db.url, other.url, resolveConfig({}));
      expect(result.identical).toBe(true);
      expect(result.notCompared).toEqual([
        { kind: 'conversion', count: 1, names: ['public.ci'], countBefore: 1, changed: false },
        { kind: 'shell type', count: 1, names: ['public.later'], countBefore: 0, changed: true },
      ]);
      expect(renderDiff(result)).toContain('shell type: 1 (public.later) [changed: 0 → 1]');
    } finally {
      await other.drop();
    }
  });
});
