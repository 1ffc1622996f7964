import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataCheckSpec, ProductionTable } from '../src/core/datachecks/model.js';
import { runDataChecks } from '../src/core/datachecks/run.js';
import { PendingStatements } from '../src/core/schema/findings/pending.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';

/**
 * How a data check ends when production does not answer plainly: a lock held by another
 * session, a count slower than its timeout, a role that row level security would restrict.
 * Each is reported as not checked with its reason, and the next check still runs.
 */
let db: TestDatabase;
const role = `checker_${randomBytes(4).toString('hex')}`;
const password = randomBytes(12).toString('hex');

beforeAll(async () => {
  db = await createTestDatabase();
  await db.query(`
    create table public.orders (id bigint primary key, note text);
    insert into public.orders select g, case when g % 3 = 0 then null else 'n' end from generate_series(1, 300000) g;
    create table public.secrets (id int primary key, owner text);
    insert into public.secrets values (1, null), (2, 'x');
    alter table public.secrets enable row level security;
    create policy "none" on public.secrets for select using (false);
    create role ${role} login password '${password}';
    grant usage on schema public to ${role};
    grant select on public.orders, public.secrets to ${role};
  `);
});
afterAll(async () => {
  await db.drop();
  await db.query(`drop role if exists ${role}`).catch(() => {});
});

function table(name: string): ProductionTable {
  return { schema: 'public', name, partitioned: false, estimatedRows: 0, triggers: false, primaryKey: [] };
}

function notNull(name: string, column: string): DataCheckSpec {
  return {
    subject: { kind: 'not-null', table: table(name), column },
    object: `public.${name}.${column}`,
    action: `SET NOT NULL on public.${name}.${column}`,
    at: undefined,
  };
}

async function session(url = db.url): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

const none = new PendingStatements([]);

describe('runDataChecks', () => {
  it('reports a table locked by another session as not checked, at once, and goes on', async () => {
    const holder = await session();
    const client = await session();
    try {
      await holder.query('begin; lock table public.orders in access exclusive mode');
      const started = performance.now();
      const [locked, other] = await runDataChecks(
        client,
        [notNull('orders', 'note'), notNull('secrets', 'owner')],
        none,
        { timeoutMs: 10_000 },
      );
      expect(performance.now() - started).toBeLessThan(5_000);
      expect(locked).toMatchObject({
        outcome: 'not-checked',
        reason: 'another session holds a lock on the table',
      });
      expect(other).toMatchObject({ outcome: 'violations', violations: 1 });
      // Not left in the check's transaction: each statement starts one of its own.
      const [{ idle }] = (await client.query('select now() = statement_timestamp() as idle')).rows;
      expect(idle).toBe(true);
    } finally {
      await holder.end();
      await client.end();
    }
  });

  it('reports a count slower than its timeout as not checked', async () => {
    const client = await session();
    try {
      const [slow] = await runDataChecks(client, [notNull('orders', 'note')], none, { timeoutMs: 1 });
      expect(slow).toMatchObject({ outcome: 'not-checked' });
      expect(slow?.reason).toBe('the count did not finish within 1 ms');
      const [counted] = await runDataChecks(client, [notNull('orders', 'note')], none, { timeoutMs: 10_000 });
      expect(counted).toMatchObject({ outcome: 'violations', violations: 100_000 });
    } finally {
      await client.end();
    }
  });

  it('says a unique index over a table above the sampling threshold cannot be sampled when its full count times out', async () => {
    const client = await session();
    try {
      const unique: DataCheckSpec = {
        subject: {
          kind: 'unique',
          table: { ...table('orders'), estimatedRows: 300_000 },
          columns: ['note'],
          nullsDistinct: true,
        },
        object: 'public.orders.orders_note_key',
        action: 'unique index orders_note_key on public.orders (note)',
        at: undefined,
      };
      const [slow] = await runDataChecks(client, [unique], none, { timeoutMs: 1, sampleAboveRows: 1_000 });
      expect(slow).toMatchObject({
        outcome: 'not-checked',
        reason:
          'the count did not finish within 1 ms (a unique index cannot be checked on a sample: its duplicates may lie in pages a sample skips)',
      });
      const [counted] = await runDataChecks(client, [unique], none, {
        timeoutMs: 10_000,
        sampleAboveRows: 1_000,
      });
      expect(counted).toMatchObject({ outcome: 'violations', violations: 1, rows: 200_000 });
      expect(counted?.estimate).toBeUndefined();
    } finally {
      await client.end();
    }
  });

  it('refuses to undercount for a role that row level security restricts', async () => {
    const url = new URL(db.url);
    url.username = role;
    url.password = password;
    const client = await session(url.toString());
    try {
      const [restricted] = await runDataChecks(client, [notNull('secrets', 'owner')], none, {
        timeoutMs: 10_000,
      });
      expect(restricted).toMatchObject({
        outcome: 'not-checked',
        reason: "production's role is subject to row level security: a count would miss rows",
      });
    } finally {
      await client.end();
    }
  });

  it('starts no count once the checks have taken their time', async () => {
    const client = await session();
    try {
      const checks = await runDataChecks(client, [notNull('secrets', 'owner')], none, {
        timeoutMs: 10_000,
        budgetMs: 0,
      });
      expect(checks).toMatchObject([
        { outcome: 'not-checked', reason: "the data checks' time (0 ms) was spent on the checks before it" },
      ]);
    } finally {
      await client.end();
    }
  });

  it('fails the run when the connection to production is lost', async () => {
    const client = await session();
    client.on('error', () => {});
    const [{ pid }] = (await client.query('select pg_backend_pid() as pid')).rows;
    await db.query('select pg_terminate_backend($1)', [pid]);
    await expect(
      runDataChecks(client, [notNull('orders', 'note')], none, { timeoutMs: 10_000 }),
    ).rejects.toThrow();
    await client.end().catch(() => {});
  });
});
