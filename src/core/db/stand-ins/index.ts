import type { Client } from '../connect.js';
import type { ExtensionFile } from '../embedded-installation.js';
import { http } from './http.js';
import { pgCron } from './pg-cron.js';
import { pgGraphql } from './pg-graphql.js';
import { pgNet } from './pg-net.js';
import { pgjwt } from './pgjwt.js';
import { pgsodium } from './pgsodium.js';
import { extensionFiles, STAND_IN_MARK, type StandIn } from './stand-in.js';
import { vault } from './vault.js';
import { vector } from './vector.js';
import { wrappers } from './wrappers.js';

export { STAND_IN_MARK, type StandIn };

/** The platform extensions the embedded server stands in for (see stand-in.ts). */
export const STAND_INS: readonly StandIn[] = [
  vector,
  pgCron,
  pgNet,
  vault,
  pgsodium,
  pgGraphql,
  pgjwt,
  http,
  wrappers,
];

/**
 * Contrib extensions PostgreSQL does not let a non-superuser create and Supabase lets its
 * postgres create (supautils' privileged extensions), which give a migration nothing beyond
 * its database: trigger functions (`moddatetime` for updated_at columns), statistics views,
 * an index method, distance functions. Not dblink, postgres_fdw or file_fdw: those reach out.
 */
export const PRIVILEGED_CONTRIB: readonly string[] = [
  'moddatetime',
  'autoinc',
  'insert_username',
  'pg_stat_statements',
  'earthdistance',
  'bloom',
];

export function standInFiles(): ExtensionFile[] {
  return STAND_INS.flatMap(extensionFiles);
}

export function standInNamed(name: string): StandIn | undefined {
  return STAND_INS.find((standIn) => standIn.name === name);
}

/**
 * Extensions a server offers as stand-ins, told by the control file's comment. A migration
 * cannot change that comment (COMMENT ON EXTENSION writes elsewhere).
 */
export async function standInsOffered(client: Client): Promise<Set<string>> {
  const { rows } = await client.query<{ name: string }>(
    'SELECT name FROM pg_available_extensions WHERE starts_with(comment, $1)',
    [STAND_IN_MARK],
  );
  return new Set(rows.map((row) => row.name));
}
