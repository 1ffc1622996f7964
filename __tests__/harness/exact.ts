import { findPgTool, libpqEnvironment, runTool } from '../../src/core/db/pgtools.js';
import type { TestDatabase } from './db.js';

/**
 * A database exactly, for "left as it was" and "restored as it was": `pg_dump --schema-only`
 * and a content hash of every table (managed schemas included: history, storage rows).
 */
export interface ExactState {
  schema: string;
  tables: Record<string, string>;
}

export async function exactState(db: TestDatabase): Promise<ExactState> {
  const pgDump = await findPgTool('pg_dump', { minMajor: 15 });
  const dump = await runTool(pgDump.path, ['--schema-only', '--no-comments'], libpqEnvironment(db.url));
  if (dump.code !== 0) throw new Error(`pg_dump failed: ${dump.stderr}`);
  const relations = await db.query<{ id: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS id
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1`,
  );
  const tables: Record<string, string> = {};
  for (const { id } of relations) {
    const [row] = await db.query<{ hash: string | null }>(
      `SELECT md5(string_agg(t::text, E'\\n' ORDER BY t::text)) AS hash FROM ${id} t`,
    );
    tables[id] = row?.hash ?? 'empty';
  }
  // pg_dump 15.14+ brackets its output with a random \restrict key: not part of the state.
  const schema = dump.stdout.replace(/^\\(un)?restrict .*$/gm, '');
  return { schema, tables };
}
