import { randomBytes } from 'node:crypto';
import pg from 'pg';
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
  it('leaves no session open when only one of its two sessions can connect', async () => {
    const role = `digest_${randomBytes(4).toString('hex')}`;
    await db.query(`create role ${role} login password 'pw' connection limit 1`);
    try {
      const url = new URL(db.url);
      url.username = role;
      url.password = 'pw';
      await expect(catalogDigest(url.toString())).rejects.toThrow(/too many connections/);
      const sessions = await db.query<{ open: number }>(
        'select count(*)::int as open from pg_stat_activity where usename = $1',
        [role],
      );
      expect(sessions[0]?.open).toBe(0);
    } finally {
      await db.query(`drop role ${role}`);
    }
  });

  it('is what one query over every catalog gives, as kept baselines recorded it', async () => {
    expect(await catalogDigest(db.url)).toBe(await oneQueryDigest(db.url));
  });

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

/** The digest as one session computed it before the catalogs were split between two. */
async function oneQueryDigest(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ catalog: string; columns: string[] }>(
      `SELECT c.relname AS catalog, array_agg(a.attname::text ORDER BY a.attnum) AS columns
       FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       WHERE c.relnamespace = 'pg_catalog'::regnamespace AND c.relkind = 'r' AND NOT c.relisshared
       GROUP BY c.relname ORDER BY c.relname`,
    );
    const serverKept = [
      'relpages',
      'reltuples',
      'relallvisible',
      'relfrozenxid',
      'relminmxid',
      'relhasindex',
      'relhassubclass',
    ];
    const parts = rows
      .filter(({ catalog }) => catalog !== 'pg_statistic' && catalog !== 'pg_statistic_ext_data')
      .map(({ catalog, columns }) => {
        const kept = columns
          .filter((column) => catalog !== 'pg_class' || !serverKept.includes(column))
          .map((column) => `t.${client.escapeIdentifier(column)}`);
        return `SELECT '${catalog}' AS catalog, md5(coalesce(string_agg(ROW(${kept.join(', ')})::text, E'\\n'), '')) AS digest FROM pg_catalog.${catalog} t`;
      });
    const result = await client.query<{ digest: string }>(
      `SELECT md5(string_agg(catalog || ' ' || digest, E'\\n' ORDER BY catalog)) AS digest FROM (${parts.join(' UNION ALL ')}) catalogs`,
    );
    return result.rows[0]?.digest ?? '';
  } finally {
    await client.end();
  }
}
