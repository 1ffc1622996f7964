import type { Client } from '../db/connect.js';
import type { Statement } from './errors.js';

/** The last value of each sequence in the given schemas, before the restore. */
export async function sequenceValues(client: Client, schemas: string[]): Promise<Map<string, string>> {
  const { rows } = await client.query<{ name: string; value: string | null }>(
    `SELECT format('%I.%I', schemaname, sequencename) AS name, last_value::text AS value
       FROM pg_sequences WHERE schemaname = ANY($1::text[])`,
    [schemas],
  );
  return new Map(rows.filter((row) => row.value !== null).map((row) => [row.name, row.value as string]));
}

/**
 * After the restore: sequences the backup set lower than a value already handed out go back up
 * to it, so that no id is handed out twice (rows written since may live on in a safety backup,
 * in logs, in other systems).
 */
export function sequenceFloors(handedOut: Map<string, string>): Statement[] {
  return [...handedOut].map(([name, value]) => ({
    sql: `SELECT setval(to_regclass($1), $2::bigint, true) FROM pg_sequences
           WHERE format('%I.%I', schemaname, sequencename) = $1 AND coalesce(last_value, 0) < $2::bigint`,
    params: [name, value],
    what: `keeping sequence ${name} at or above ${value}, a value already handed out`,
  }));
}
