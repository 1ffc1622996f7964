import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { catalogDigest } from '../src/core/shadow/catalog-digest.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';

/*
 * The digest a started copy of a kept shadow baseline must show (shadow/catalog-digest.ts): it
 * changes with any catalog row, including kinds the schema model does not represent, and not
 * with what the server changes by itself.
 */

let db: TestDatabase;
beforeEach(async () => {
  db = await createTestDatabase();
  await db.query(`create table public.notes (id bigint primary key, body text);
    create function public.touch() returns int language sql as 'select 1';`);
});
afterEach(async () => {
  await db.drop();
});

describe('the catalogs’ digest', () => {
  it('is the same read twice, and after the server’s own maintenance (ANALYZE, VACUUM)', async () => {
    const first = await catalogDigest(db.url);
    expect(first).toMatch(/^[0-9a-f]{32}$/);
    expect(await catalogDigest(db.url)).toBe(first);
    await db.query('insert into public.notes select g, null from generate_series(1, 500) g');
    await db.query('delete from public.notes');
    await db.query('vacuum analyze public.notes');
    await db.query('analyze');
    expect(await catalogDigest(db.url)).toBe(first);
  });

  const changes: [string, string][] = [
    ['a function body', `create or replace function public.touch() returns int language sql as 'select 2'`],
    ['a comment', `comment on table public.notes is 'planted'`],
    ['a grant', 'grant select on public.notes to anon'],
    [
      'a conversion (not in the schema model)',
      `create conversion public.c for 'LATIN1' to 'UTF8' from iso8859_1_to_utf8`,
    ],
    ['a table dropped', 'drop table public.notes'],
  ];
  for (const [what, sql] of changes) {
    it(`changes with ${what}`, async () => {
      const before = await catalogDigest(db.url);
      await db.query(sql);
      expect(await catalogDigest(db.url)).not.toBe(before);
    });
  }
});
