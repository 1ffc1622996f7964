import { withoutStorageParameters } from '../sql/storage-parameters.js';
import type { Client } from './connect.js';
import { standInsOffered } from './stand-ins/index.js';
import { VECTOR_INDEX_METHODS } from './stand-ins/vector.js';

/**
 * Production's pgvector indexes that have storage parameters (`WITH (lists = 100)`), when the
 * shadow's pgvector is supagate's stand-in, which takes none: the copy leaves their dump
 * entries out and creates them without the parameters instead.
 */
export interface IndexesWithoutParameters {
  /** `schema name` of the dump entries left out. */
  skipped: Set<string>;
  /** The CREATE INDEX statements to run instead. */
  statements: string[];
}

export async function vectorIndexesWithoutParameters(
  source: Client,
  target: Client,
): Promise<IndexesWithoutParameters> {
  const none = { skipped: new Set<string>(), statements: [] };
  if (!(await standInsOffered(target)).has('vector')) return none;
  const { rows } = await source.query<{ schema: string; name: string; definition: string }>(
    `SELECT n.nspname AS schema, c.relname AS name, pg_get_indexdef(c.oid) AS definition
       FROM pg_class c JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('i', 'I') AND a.amname = ANY($1::text[]) AND c.reloptions IS NOT NULL`,
    [[...VECTOR_INDEX_METHODS]],
  );
  return {
    skipped: new Set(rows.map((row) => `${row.schema} ${row.name}`)),
    statements: rows.map((row) => withoutStorageParameters(row.definition) ?? row.definition),
  };
}
