import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, disconnect } from '../src/core/db/connect.js';
import { type FoundTool, findPgTool, libpqEnvironment, runTool } from '../src/core/db/pgtools.js';
import { runRestoreScript } from '../src/core/db/restore-script.js';
import type { SupagateError } from '../src/core/errors.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';
import { exactState } from './harness/exact.js';

/**
 * The restore script run through a session, one query per entry or in batches of entries (as
 * the shadow clone runs it): the same database either way, and a failure in a batch still
 * names its entry.
 */
let source: TestDatabase;
let pgRestore: FoundTool;
let dir: string;
let dumpFile: string;
let toc: string[];

beforeAll(async () => {
  source = await createTestDatabase();
  await source.query(`
    create schema app;
    create type app.mood as enum ('ok', 'meh');
    create table app.notes (id bigint generated always as identity primary key, body text not null, mood app.mood);
    create index notes_body_idx on app.notes (body);
    alter table app.notes enable row level security;
    create policy "own notes" on app.notes for select to authenticated using (true);
    create function app.shout(t text) returns text language sql immutable as $$ select upper(t) $$;
    create view app.loud_notes as select id, app.shout(body) as body from app.notes;
    insert into app.notes (body, mood) select 'note ' || g, 'ok' from generate_series(1, 500) g;
  `);
  const pgDump = await findPgTool('pg_dump', { minMajor: 15 });
  pgRestore = await findPgTool('pg_restore', { minMajor: 15 });
  dir = await mkdtemp(join(tmpdir(), 'supagate-restore-script-'));
  dumpFile = join(dir, 'app.dump');
  const dumped = await runTool(
    pgDump.path,
    ['--format=custom', '--schema=app', `--file=${dumpFile}`],
    libpqEnvironment(source.url),
  );
  expect(dumped.code, dumped.stderr).toBe(0);
  toc = (await runTool(pgRestore.path, ['--list', dumpFile], {})).stdout.split('\n');
});
afterAll(async () => {
  await source.drop();
  await rm(dir, { recursive: true, force: true });
});

async function restoreInto(
  lines: string[],
  batchBytes: number,
): Promise<{ db: TestDatabase; error?: SupagateError }> {
  const listFile = join(dir, `list-${batchBytes}-${lines.length}`);
  await writeFile(listFile, lines.join('\n'));
  const db = await createTestDatabase({ plain: true });
  await db.query('create role authenticated').catch(() => {});
  const session = await connect(db.url);
  try {
    await session.client.query('BEGIN');
    await runRestoreScript(session.client, pgRestore, listFile, dumpFile, { batchBytes });
    await session.client.query('COMMIT');
    return { db };
  } catch (error) {
    await session.client.query('ROLLBACK').catch(() => {});
    return { db, error: error as SupagateError };
  } finally {
    await disconnect(session);
  }
}

describe('runRestoreScript', () => {
  it('restores the same database entry by entry and in batches of any size', async () => {
    const states = [];
    for (const batchBytes of [0, 200, 1024 * 1024]) {
      const { db, error } = await restoreInto(toc, batchBytes);
      try {
        expect(error).toBeUndefined();
        states.push(await exactState(db));
      } finally {
        await db.drop();
      }
    }
    expect(states[0]?.tables['app.notes']).not.toBe('empty');
    expect(states[1]).toEqual(states[0]);
    expect(states[2]).toEqual(states[0]);
  });

  it('names the entry that failed inside a batch, from the error position', async () => {
    // Without the function, the view's statement fails at the call: in the middle of a batch.
    const withoutFunction = toc.filter((line) => !/ FUNCTION app shout/.test(line));
    for (const batchBytes of [0, 1024 * 1024]) {
      const { db, error } = await restoreInto(withoutFunction, batchBytes);
      try {
        expect(error?.code).toBe('RESTORE_FAILED');
        expect(error?.message).toContain(
          'restoring VIEW loud_notes in schema app: function app.shout(text) does not exist',
        );
      } finally {
        await db.drop();
      }
    }
  });
});
