import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { apply } from '../src/core/commands/apply.js';
import { plan } from '../src/core/commands/plan.js';
import type { ObjectChange } from '../src/core/schema/changes.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

/** The cases schema-diff tools commonly get wrong, each through a real plan. */
const PRODUCTION = `
create type public.mood as enum ('happy', 'sad');
create table public.notes (id int primary key, body text, mood public.mood);
alter table public.notes enable row level security;
create view public.note_bodies with (security_invoker = true) as select id, body from public.notes;
revoke all on public.note_bodies from anon;
grant select on public.note_bodies to authenticated;
create schema api;
create function public.note_count() returns bigint language sql stable as $$ select count(*) from public.notes $$;
`;

let db: TestDatabase;
let project: TestProject;

beforeAll(async () => {
  db = await createTestDatabase();
  project = await createProject(migrations({ '1_production': PRODUCTION }));
  await apply(project.config(db.url));
});
afterAll(async () => {
  await project.cleanup();
  await db.drop();
});

async function changesOf(sql: string): Promise<ObjectChange[]> {
  await project.write('supabase/migrations/2_pending.sql', sql);
  const result = await plan(
    project.config(db.url, { shadowUrl: inject('shadowUrl'), detectLocalSupabase: false }),
  );
  expect(result.failure).toBeUndefined();
  return result.diff.changes;
}

function only(changes: ObjectChange[], id: string): ObjectChange {
  const change = changes.find((c) => c.id === id);
  expect(change, JSON.stringify(changes, null, 1)).toBeDefined();
  return change as ObjectChange;
}

function attribute(change: ObjectChange, name: string) {
  return change.attributes.find((a) => a.attribute === name);
}

describe('diff cases tools commonly miss', () => {
  it('publication membership', async () => {
    const change = only(
      await changesOf('alter publication supabase_realtime add table public.notes;'),
      'supabase_realtime',
    );
    expect(change).toMatchObject({ kind: 'publication', action: 'changed' });
    expect(attribute(change, 'tables')).toEqual({ attribute: 'tables', before: [], after: ['public.notes'] });
  });

  it('FORCE ROW LEVEL SECURITY', async () => {
    const change = only(
      await changesOf('alter table public.notes force row level security;'),
      'public.notes',
    );
    expect(attribute(change, 'rlsForced')).toEqual({ attribute: 'rlsForced', before: false, after: true });
  });

  it("a view's security_invoker", async () => {
    const change = only(
      await changesOf('alter view public.note_bodies set (security_invoker = false);'),
      'public.note_bodies',
    );
    expect(attribute(change, 'securityInvoker')).toEqual({
      attribute: 'securityInvoker',
      before: true,
      after: false,
    });
  });

  it('a view re-created because its table changed keeps security_invoker and its grants when the migration keeps them', async () => {
    const changes = await changesOf(`
drop view public.note_bodies;
alter table public.notes alter column body type varchar(500);
create view public.note_bodies with (security_invoker = true) as select id, body from public.notes;
revoke all on public.note_bodies from anon;
grant select on public.note_bodies to authenticated;`);
    const view = changes.find((c) => c.id === 'public.note_bodies');
    expect(view && attribute(view, 'securityInvoker')).toBeUndefined();
    expect(view && attribute(view, 'grants')).toBeUndefined();
  });

  it('…and shows what a re-created view lost when the migration forgets them', async () => {
    const changes = await changesOf(`
drop view public.note_bodies;
alter table public.notes alter column body type varchar(500);
create view public.note_bodies as select id, body from public.notes;`);
    const view = only(changes, 'public.note_bodies');
    expect(attribute(view, 'securityInvoker')).toEqual({
      attribute: 'securityInvoker',
      before: true,
      after: false,
    });
    expect(attribute(view, 'grants')).toBeDefined();
  });

  it('comments', async () => {
    const change = only(
      await changesOf("comment on column public.notes.body is 'The text';"),
      'public.notes',
    );
    expect(change.members).toEqual([
      expect.objectContaining({
        kind: 'column',
        name: 'body',
        action: 'changed',
        attributes: [{ attribute: 'comment', before: null, after: 'The text' }],
      }),
    ]);
  });

  it('column-level grants', async () => {
    const change = only(await changesOf('grant select (body) on public.notes to anon;'), 'public.notes');
    const body = change.members.find((m) => m.name === 'body');
    expect(body?.attributes.map((a) => a.attribute)).toEqual(['grants']);
  });

  it('GRANT USAGE ON SCHEMA', async () => {
    const change = only(await changesOf('grant usage on schema api to anon;'), 'api');
    expect(change.kind).toBe('schema');
    expect(JSON.stringify(attribute(change, 'grants')?.after)).toContain('anon');
  });

  it('ALTER DEFAULT PRIVILEGES', async () => {
    const changes = await changesOf('alter default privileges in schema api grant select on tables to anon;');
    expect(changes).toEqual([expect.objectContaining({ kind: 'default privileges', action: 'added' })]);
  });

  it('function EXECUTE grants and revokes', async () => {
    const change = only(
      await changesOf(
        'revoke execute on function public.note_count() from public;\ngrant execute on function public.note_count() to authenticated;',
      ),
      'public.note_count()',
    );
    expect(change.kind).toBe('function');
    expect(change.attributes.map((a) => a.attribute)).toEqual(['grants']);
  });

  it('a new enum value is a change of the enum, not drop and re-create', async () => {
    const changes = await changesOf("alter type public.mood add value 'meh' before 'sad';");
    expect(changes).toEqual([
      expect.objectContaining({
        kind: 'type',
        id: 'public.mood',
        action: 'changed',
        attributes: [{ attribute: 'labels', before: ['happy', 'sad'], after: ['happy', 'meh', 'sad'] }],
      }),
    ]);
  });
});
