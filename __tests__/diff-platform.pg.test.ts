import { afterAll, describe, expect, it } from 'vitest';
import { diffDatabases } from '../src/core/commands/diff.js';
import { resolveConfig } from '../src/core/config.js';
import { renderDiff } from '../src/core/report/text.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';

/**
 * A schema named like one of Supabase's (`extensions`, `auth`…) is the platform's in a Supabase
 * project and the user's on a plain PostgreSQL. `supagate diff` decides once for both sides:
 * plain only when neither database is a Supabase project, so the same schema is never the
 * user's on one side and the platform's on the other.
 */

const created: TestDatabase[] = [];
afterAll(async () => {
  await Promise.all(created.map((db) => db.drop()));
});

async function database(sql: string, plain: boolean): Promise<TestDatabase> {
  const db = await createTestDatabase({ plain });
  created.push(db);
  if (sql) await db.query(sql);
  return db;
}

const EXTENSIONS_TABLE = `create schema extensions;
create table extensions.settings (key text primary key, value jsonb);
create schema auth;
create function auth.uid() returns uuid language sql stable as $$ select null::uuid $$;`;

describe('schemas named like Supabase’s', () => {
  it('on two plain servers are the user’s: added with their tables and functions', async () => {
    const [from, to] = await Promise.all([database('', true), database(EXTENSIONS_TABLE, true)]);
    const result = await diffDatabases(from.url, to.url, resolveConfig({}));
    expect(result.platform).toBe('plain');
    expect(result.diff.changes.map((c) => `${c.action} ${c.kind} ${c.id}`)).toEqual([
      'added schema auth',
      'added schema extensions',
      'added table extensions.settings',
      'added function auth.uid()',
    ]);
    expect(renderDiff(result)).toContain('Neither database is a Supabase project');
  });

  it('on two plain servers, a change inside one is shown and converges to nothing once made', async () => {
    const [from, to] = await Promise.all([
      database(EXTENSIONS_TABLE, true),
      database(
        `${EXTENSIONS_TABLE}\nalter table extensions.settings add column updated_at timestamptz;`,
        true,
      ),
    ]);
    const changed = await diffDatabases(from.url, to.url, resolveConfig({}));
    expect(
      changed.diff.changes.map((c) => [c.id, c.members.map((m) => `${m.action} ${m.kind} ${m.name}`)]),
    ).toEqual([['extensions.settings', ['added column updated_at']]]);
    await from.query('alter table extensions.settings add column updated_at timestamptz');
    expect((await diffDatabases(from.url, to.url, resolveConfig({}))).identical).toBe(true);
  });

  it('beside a Supabase project are the platform’s on both sides', async () => {
    const [plain, supabase] = await Promise.all([database(EXTENSIONS_TABLE, true), database('', false)]);
    for (const [from, to] of [
      [plain, supabase],
      [supabase, plain],
    ] as const) {
      const result = await diffDatabases(from.url, to.url, resolveConfig({}));
      expect(result.platform).toBe('supabase');
      expect(result.diff.changes.filter((c) => /extensions|auth/.test(c.id))).toEqual([]);
      expect(renderDiff(result)).not.toContain('Neither database is a Supabase project');
    }
  });

  it('in two Supabase projects stay the platform’s', async () => {
    const [from, to] = await Promise.all([
      database('', false),
      database('create table extensions.settings (key text primary key);', false),
    ]);
    const result = await diffDatabases(from.url, to.url, resolveConfig({}));
    expect(result.platform).toBe('supabase');
    expect(result.identical).toBe(true);
  });
});
