import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pgErrorFields } from '../src/core/db/connect.js';
import { ScriptQuery } from '../src/core/db/script-query.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';

/** SQL run for its effect (the clone's batches): settled by the server, the session usable after. */
let db: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase({ plain: true });
});
afterAll(async () => {
  await db.drop();
});
beforeEach(async () => {
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});
afterEach(async () => {
  await client.end().catch(() => {});
});

describe('ScriptQuery', () => {
  it('runs every statement of the text in one round trip, results and all', async () => {
    const statements = Array.from({ length: 2000 }, (_, i) => `CREATE TABLE s_${i} (id int); SELECT ${i}`);
    await ScriptQuery.run(client, statements.join(';\n'));
    const [row] = (await client.query("SELECT count(*)::int AS n FROM pg_class WHERE relname LIKE 's\\_%'"))
      .rows;
    expect(row.n).toBe(2000);
  });

  it("rejects with the server's error, its code and position, and leaves the session usable", async () => {
    await client.query('BEGIN');
    const text = 'CREATE TABLE ok_one (id int);\nCREATE TABLE broken (id nosuchtype)';
    const failing = ScriptQuery.run(client, text);
    const error = await failing.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(pgErrorFields(error)).toMatchObject({ code: '42704' });
    expect(Number(pgErrorFields(error).position)).toBe(text.indexOf('nosuchtype') + 1);
    await client.query('ROLLBACK');
    const [row] = (await client.query("SELECT to_regclass('ok_one') IS NULL AS gone")).rows;
    expect(row.gone).toBe(true);
  });

  it('refuses a COPY FROM stdin it has no rows for, and the session goes on', async () => {
    await client.query('CREATE TABLE rows_in (id int)');
    await expect(ScriptQuery.run(client, 'COPY rows_in FROM stdin')).rejects.toThrow(/not expected/);
    const [row] = (await client.query('SELECT count(*)::int AS n FROM rows_in')).rows;
    expect(row.n).toBe(0);
  });

  it('rejects when the connection is terminated while it runs', async () => {
    const [{ pid }] = (await client.query('SELECT pg_backend_pid() AS pid')).rows;
    client.on('error', () => {});
    const running = ScriptQuery.run(client, 'SELECT pg_sleep(30)');
    await new Promise((resolve) => setTimeout(resolve, 200));
    await db.query('SELECT pg_terminate_backend($1)', [pid]);
    await expect(running).rejects.toThrow(/terminat/);
  });
});
