import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseMigrationSql } from '../src/core/migrations/statements.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';

/**
 * The classifier in statements.ts (nonTransactionalReason) checked against PostgreSQL itself:
 * what it calls non-transactional must fail inside BEGIN with SQLSTATE 25001
 * (active_sql_transaction, "… cannot run inside a transaction block"), and its look-alikes
 * must run inside BEGIN. Every statement runs in a transaction that is rolled back.
 *
 * SQL may use `{db}` (the test database) and `{id}` (unique per test, for cluster-wide names).
 */
interface ServerCase {
  title: string;
  sql: string;
  /** Committed before the transaction block. */
  setup?: string[];
  /** Run inside the transaction block, before `sql`. */
  inBlock?: string[];
  /** Cluster-wide objects the statement could leave behind, dropped afterwards even on failure. */
  leaves?: { database?: string; tablespace?: string; subscription?: string };
}

interface NonTransactionalCase extends ServerCase {
  reason: string;
}

const CANNOT_CONNECT = "'host=127.0.0.1 port=1 dbname=none connect_timeout=2'";
/** A subscription that exists without a publisher: no connection, disabled, slot_name = its name. */
const OFFLINE_SUBSCRIPTION = `CREATE SUBSCRIPTION supagate_sub_{id} CONNECTION ${CANNOT_CONNECT} PUBLICATION p1, p2 WITH (connect = false)`;
const TABLE_AND_INDEX = ['CREATE TABLE t (a int, b text)', 'CREATE INDEX i ON t (a)'];
const PARTITIONED = [
  'CREATE TABLE p (a int) PARTITION BY RANGE (a)',
  'CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10)',
  'CREATE INDEX pi ON p (a)',
];

const NON_TRANSACTIONAL: NonTransactionalCase[] = [
  {
    title: 'CREATE INDEX CONCURRENTLY',
    sql: 'CREATE INDEX CONCURRENTLY j ON t (b)',
    setup: TABLE_AND_INDEX,
    reason: 'CREATE INDEX CONCURRENTLY',
  },
  {
    title: 'DROP INDEX CONCURRENTLY',
    sql: 'DROP INDEX CONCURRENTLY i',
    setup: TABLE_AND_INDEX,
    reason: 'DROP INDEX CONCURRENTLY',
  },
  {
    title: 'REINDEX TABLE CONCURRENTLY',
    sql: 'REINDEX TABLE CONCURRENTLY t',
    setup: TABLE_AND_INDEX,
    reason: 'REINDEX CONCURRENTLY',
  },
  {
    title: 'REINDEX (CONCURRENTLY) INDEX',
    sql: 'REINDEX (CONCURRENTLY) INDEX i',
    setup: TABLE_AND_INDEX,
    reason: 'REINDEX CONCURRENTLY',
  },
  { title: 'REINDEX SCHEMA', sql: 'REINDEX SCHEMA public', setup: TABLE_AND_INDEX, reason: 'REINDEX SCHEMA' },
  // The name is required before PostgreSQL 16 and must be the current database.
  { title: 'REINDEX DATABASE', sql: 'REINDEX DATABASE {db}', reason: 'REINDEX DATABASE' },
  { title: 'REINDEX SYSTEM', sql: 'REINDEX SYSTEM {db}', reason: 'REINDEX SYSTEM' },
  { title: 'VACUUM of a table', sql: 'VACUUM t', setup: TABLE_AND_INDEX, reason: 'VACUUM' },
  { title: 'VACUUM of the database', sql: 'VACUUM', reason: 'VACUUM' },
  { title: 'VACUUM (ANALYZE)', sql: 'VACUUM (ANALYZE) t', setup: TABLE_AND_INDEX, reason: 'VACUUM' },
  { title: 'VACUUM FULL', sql: 'VACUUM FULL t', setup: TABLE_AND_INDEX, reason: 'VACUUM' },
  {
    title: 'CLUSTER without a table',
    sql: 'CLUSTER',
    setup: [...TABLE_AND_INDEX, 'CLUSTER t USING i'],
    reason: 'CLUSTER without a table',
  },
  {
    title: 'CREATE DATABASE',
    sql: 'CREATE DATABASE supagate_db_{id}',
    leaves: { database: 'supagate_db_{id}' },
    reason: 'CREATE DATABASE',
  },
  {
    title: 'DROP DATABASE',
    sql: 'DROP DATABASE supagate_db_{id}',
    setup: ['CREATE DATABASE supagate_db_{id}'],
    leaves: { database: 'supagate_db_{id}' },
    reason: 'DROP DATABASE',
  },
  {
    // pg_default exists; moving the open database would fail later, but the transaction block
    // check comes first.
    title: 'ALTER DATABASE SET TABLESPACE',
    sql: 'ALTER DATABASE {db} SET TABLESPACE pg_default',
    reason: 'ALTER DATABASE SET TABLESPACE',
  },
  {
    // LOCATION would have to be an empty directory owned by the server's OS user, but
    // PostgreSQL checks for a transaction block before it looks at the location (checked on
    // PostgreSQL 15): a directory that does not exist reaches the 25001 check all the same.
    title: 'CREATE TABLESPACE',
    sql: "CREATE TABLESPACE supagate_ts_{id} LOCATION '/nonexistent/supagate_ts_{id}'",
    leaves: { tablespace: 'supagate_ts_{id}' },
    reason: 'CREATE TABLESPACE',
  },
  {
    // Checked before the tablespace is looked up, so no real tablespace (and no directory
    // owned by the server's OS user) is needed.
    title: 'DROP TABLESPACE',
    sql: 'DROP TABLESPACE supagate_ts_{id}',
    leaves: { tablespace: 'supagate_ts_{id}' },
    reason: 'DROP TABLESPACE',
  },
  { title: 'ALTER SYSTEM', sql: 'ALTER SYSTEM RESET work_mem', reason: 'ALTER SYSTEM' },
  { title: 'DISCARD ALL', sql: 'DISCARD ALL', reason: 'DISCARD ALL' },
  {
    title: 'ALTER TABLE … DETACH PARTITION CONCURRENTLY',
    sql: 'ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY',
    setup: PARTITIONED,
    reason: 'ALTER TABLE … DETACH PARTITION CONCURRENTLY',
  },
  {
    // Refused before any connection to the publisher is attempted.
    title: 'CREATE SUBSCRIPTION that creates a slot',
    sql: `CREATE SUBSCRIPTION supagate_sub_{id} CONNECTION ${CANNOT_CONNECT} PUBLICATION p1`,
    leaves: { subscription: 'supagate_sub_{id}' },
    reason: 'CREATE SUBSCRIPTION that creates a replication slot',
  },
  {
    // A subscription created with connect = false keeps slot_name = its name, so dropping it
    // would drop a slot on the publisher: PostgreSQL refuses that in a transaction block.
    title: 'DROP SUBSCRIPTION of a subscription with a slot',
    sql: 'DROP SUBSCRIPTION supagate_sub_{id}',
    setup: [OFFLINE_SUBSCRIPTION],
    leaves: { subscription: 'supagate_sub_{id}' },
    reason: 'DROP SUBSCRIPTION',
  },
  // A disabled subscription is refused with 55000 before the transaction block check, so these
  // enable it first, inside the same block (rolled back: no apply worker ever starts).
  {
    title: 'ALTER SUBSCRIPTION … REFRESH PUBLICATION',
    sql: 'ALTER SUBSCRIPTION supagate_sub_{id} REFRESH PUBLICATION',
    setup: [OFFLINE_SUBSCRIPTION],
    inBlock: ['ALTER SUBSCRIPTION supagate_sub_{id} ENABLE'],
    leaves: { subscription: 'supagate_sub_{id}' },
    reason: 'ALTER SUBSCRIPTION … REFRESH PUBLICATION',
  },
  {
    title: 'ALTER SUBSCRIPTION … ADD PUBLICATION (refresh by default)',
    sql: 'ALTER SUBSCRIPTION supagate_sub_{id} ADD PUBLICATION p3',
    setup: [OFFLINE_SUBSCRIPTION],
    inBlock: ['ALTER SUBSCRIPTION supagate_sub_{id} ENABLE'],
    leaves: { subscription: 'supagate_sub_{id}' },
    reason: 'ALTER SUBSCRIPTION … PUBLICATION with refresh',
  },
  {
    title: 'ALTER SUBSCRIPTION … SET PUBLICATION (refresh by default)',
    sql: 'ALTER SUBSCRIPTION supagate_sub_{id} SET PUBLICATION p3',
    setup: [OFFLINE_SUBSCRIPTION],
    inBlock: ['ALTER SUBSCRIPTION supagate_sub_{id} ENABLE'],
    leaves: { subscription: 'supagate_sub_{id}' },
    reason: 'ALTER SUBSCRIPTION … PUBLICATION with refresh',
  },
  {
    title: 'ALTER SUBSCRIPTION … DROP PUBLICATION WITH (refresh = true)',
    sql: 'ALTER SUBSCRIPTION supagate_sub_{id} DROP PUBLICATION p2 WITH (refresh = true)',
    setup: [OFFLINE_SUBSCRIPTION],
    inBlock: ['ALTER SUBSCRIPTION supagate_sub_{id} ENABLE'],
    leaves: { subscription: 'supagate_sub_{id}' },
    reason: 'ALTER SUBSCRIPTION … PUBLICATION with refresh',
  },
];

const TRANSACTIONAL: ServerCase[] = [
  { title: 'ANALYZE', sql: 'ANALYZE t', setup: TABLE_AND_INDEX },
  { title: 'ANALYZE of the database', sql: 'ANALYZE' },
  { title: 'REINDEX TABLE', sql: 'REINDEX TABLE t', setup: TABLE_AND_INDEX },
  { title: 'REINDEX INDEX', sql: 'REINDEX INDEX i', setup: TABLE_AND_INDEX },
  {
    title: 'REINDEX (CONCURRENTLY false)',
    sql: 'REINDEX (CONCURRENTLY false) TABLE t',
    setup: TABLE_AND_INDEX,
  },
  { title: 'CREATE INDEX', sql: 'CREATE INDEX j ON t (b)', setup: TABLE_AND_INDEX },
  { title: 'DROP INDEX', sql: 'DROP INDEX i', setup: TABLE_AND_INDEX },
  { title: 'CLUSTER t USING i', sql: 'CLUSTER t USING i', setup: TABLE_AND_INDEX },
  {
    title: 'REFRESH MATERIALIZED VIEW CONCURRENTLY',
    sql: 'REFRESH MATERIALIZED VIEW CONCURRENTLY mv',
    setup: ['CREATE MATERIALIZED VIEW mv AS SELECT 1 AS a', 'CREATE UNIQUE INDEX mv_a ON mv (a)'],
  },
  {
    title: 'ALTER TYPE … ADD VALUE',
    sql: "ALTER TYPE e ADD VALUE 'x'",
    setup: ["CREATE TYPE e AS ENUM ('a')"],
  },
  { title: 'ALTER DATABASE … SET a parameter', sql: "ALTER DATABASE {db} SET work_mem = '1MB'" },
  { title: 'ALTER DATABASE … CONNECTION LIMIT', sql: 'ALTER DATABASE {db} WITH CONNECTION LIMIT 50' },
  { title: 'DISCARD PLANS', sql: 'DISCARD PLANS' },
  { title: 'DISCARD TEMP', sql: 'DISCARD TEMP' },
  { title: 'ALTER TABLE … DETACH PARTITION', sql: 'ALTER TABLE p DETACH PARTITION p1', setup: PARTITIONED },
  {
    title: 'CREATE SUBSCRIPTION WITH (connect = false)',
    sql: OFFLINE_SUBSCRIPTION,
    leaves: { subscription: 'supagate_sub_{id}' },
  },
  {
    title: 'ALTER SUBSCRIPTION … ADD PUBLICATION WITH (refresh = false)',
    sql: 'ALTER SUBSCRIPTION supagate_sub_{id} ADD PUBLICATION p3 WITH (refresh = false)',
    setup: [OFFLINE_SUBSCRIPTION],
    inBlock: ['ALTER SUBSCRIPTION supagate_sub_{id} ENABLE'],
    leaves: { subscription: 'supagate_sub_{id}' },
  },
  {
    title: 'ALTER SUBSCRIPTION … SET (slot_name = NONE)',
    sql: 'ALTER SUBSCRIPTION supagate_sub_{id} SET (slot_name = NONE)',
    setup: [OFFLINE_SUBSCRIPTION],
    leaves: { subscription: 'supagate_sub_{id}' },
  },
];

let db: TestDatabase;
let client: pg.Client;

beforeEach(async () => {
  db = await createTestDatabase();
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});

afterEach(async () => {
  await client?.end();
  await db?.drop();
});

interface Filled {
  sql: string;
  setup: string[];
  inBlock: string[];
  leaves: { database?: string; tablespace?: string; subscription?: string };
}

function fill(testCase: ServerCase): Filled {
  const id = randomBytes(5).toString('hex');
  const f = (text: string) => text.replaceAll('{db}', db.name).replaceAll('{id}', id);
  const leaves = testCase.leaves ?? {};
  return {
    sql: f(testCase.sql),
    setup: (testCase.setup ?? []).map(f),
    inBlock: (testCase.inBlock ?? []).map(f),
    leaves: {
      ...(leaves.database ? { database: f(leaves.database) } : {}),
      ...(leaves.tablespace ? { tablespace: f(leaves.tablespace) } : {}),
      ...(leaves.subscription ? { subscription: f(leaves.subscription) } : {}),
    },
  };
}

async function classify(sql: string): Promise<string | undefined> {
  const { statements } = await parseMigrationSql(sql, 'case.sql');
  expect(statements).toHaveLength(1);
  return statements[0]?.nonTransactional;
}

/** Runs `sql` inside BEGIN (after `inBlock`), always rolls back, and returns the error of `sql`, if any. */
async function runInTransactionBlock(filled: Filled): Promise<pg.DatabaseError | undefined> {
  await client.query('BEGIN');
  try {
    for (const statement of filled.inBlock) await client.query(statement);
    return await client.query(filled.sql).then(
      () => undefined,
      (error: unknown) => error as pg.DatabaseError,
    );
  } finally {
    await client.query('ROLLBACK');
  }
}

/**
 * Drops what a case could leave on the server. Not transactional itself, so it also runs when
 * the statement under test unexpectedly succeeded (and committed on its own).
 */
async function cleanUp(leaves: Filled['leaves']): Promise<void> {
  if (leaves.subscription) {
    const { rowCount } = await client.query('SELECT 1 FROM pg_subscription WHERE subname = $1', [
      leaves.subscription,
    ]);
    if (rowCount) {
      const name = pg.escapeIdentifier(leaves.subscription);
      // Without a slot, DROP SUBSCRIPTION does not contact the (nonexistent) publisher.
      await client.query(`ALTER SUBSCRIPTION ${name} DISABLE`);
      await client.query(`ALTER SUBSCRIPTION ${name} SET (slot_name = NONE)`);
      await client.query(`DROP SUBSCRIPTION ${name}`);
    }
  }
  if (leaves.database) await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(leaves.database)}`);
  if (leaves.tablespace) {
    await client.query(`DROP TABLESPACE IF EXISTS ${pg.escapeIdentifier(leaves.tablespace)}`);
  }
}

async function withCase<T>(testCase: ServerCase, work: (filled: Filled) => Promise<T>): Promise<T> {
  const filled = fill(testCase);
  try {
    for (const statement of filled.setup) await client.query(statement);
    return await work(filled);
  } finally {
    await cleanUp(filled.leaves);
  }
}

describe('non-transactional statements are refused by PostgreSQL inside BEGIN (25001)', () => {
  it.each(NON_TRANSACTIONAL.map((c) => [c.title, c] as const))('%s', async (_title, testCase) => {
    await withCase(testCase, async (filled) => {
      expect(await classify(filled.sql)).toBe(testCase.reason);
      const error = await runInTransactionBlock(filled);
      expect(error?.code, error?.message).toBe('25001');
      expect(error?.message).toMatch(/cannot run inside a transaction block/);
    });
  });
});

describe('transactional look-alikes run inside BEGIN', () => {
  it.each(TRANSACTIONAL.map((c) => [c.title, c] as const))('%s', async (_title, testCase) => {
    await withCase(testCase, async (filled) => {
      expect(await classify(filled.sql)).toBeUndefined();
      const error = await runInTransactionBlock(filled);
      expect(error && `${error.code}: ${error.message}`).toBeUndefined();
    });
  });
});

/**
 * The classifier reads syntax only. For these statements PostgreSQL's answer depends on the
 * catalog (is the table partitioned? does the subscription have a slot?), so the two disagree.
 * The tests pin both sides so that a change to either shows up here.
 */
describe('classifications that depend on the catalog (known disagreements)', () => {
  it.each([
    ['REINDEX TABLE of a partitioned table', 'REINDEX TABLE p'],
    ['REINDEX INDEX of a partitioned index', 'REINDEX INDEX pi'],
    ['CLUSTER of a partitioned table', 'CLUSTER p USING pi'],
  ])('%s: classified transactional, but PostgreSQL refuses it inside BEGIN', async (_title, sql) => {
    await withCase({ title: sql, sql, setup: PARTITIONED }, async (filled) => {
      expect(await classify(filled.sql)).toBeUndefined();
      const error = await runInTransactionBlock(filled);
      expect(error?.code, error?.message).toBe('25001');
    });
  });

  it('DROP SUBSCRIPTION of a subscription without a slot: classified non-transactional, but PostgreSQL accepts it inside BEGIN', async () => {
    const testCase: ServerCase = {
      title: 'DROP SUBSCRIPTION without a slot',
      sql: 'DROP SUBSCRIPTION supagate_sub_{id}',
      setup: [`${OFFLINE_SUBSCRIPTION.replace('connect = false', 'connect = false, slot_name = NONE')}`],
      leaves: { subscription: 'supagate_sub_{id}' },
    };
    await withCase(testCase, async (filled) => {
      expect(filled.setup[0]).toContain('slot_name = NONE');
      expect(await classify(filled.sql)).toBe('DROP SUBSCRIPTION');
      const error = await runInTransactionBlock(filled);
      expect(error && `${error.code}: ${error.message}`).toBeUndefined();
    });
  });
});
