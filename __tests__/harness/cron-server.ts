import { access, readFile } from 'node:fs/promises';
import { type EmbeddedServer, startEmbeddedPostgres } from '../../src/core/db/embedded.js';

/**
 * A shadow server configured like Supabase's image for pg_cron: Debian's PostgreSQL 15 with
 * pg_cron preloaded and `cron.database_name = postgres`, the superuser supabase_admin and an
 * ordinary `postgres`. Supabase lets its postgres create and use pg_cron (supautils does,
 * with its pg_cron after-create script): here, in the server's private extension directory,
 * pg_cron's control file is marked trusted and its last install script ends as Supabase's
 * after-create script does (SUPABASE_GRANTS). Debian's other extension files stay linked.
 *
 * Needs Debian's packages (.ci/run installs them); without them this throws, never skips.
 */
const BIN = '/usr/lib/postgresql/15/bin';
const EXTENSION_DIR = '/usr/share/postgresql/15/extension';
const LIB_DIR = '/usr/lib/postgresql/15/lib';
const INSTALL = 'apt-get install postgresql-15-cron';
/** The last script of pg_cron 1.4-1's install chain (1.0, then updates). */
const LAST_SCRIPT = 'pg_cron--1.4--1.4-1.sql';
/**
 * What Supabase's after-create script for pg_cron does (supabase/postgres, run by supautils as
 * supabase_admin). It creates pg_cron again as supabase_admin, so that the extension's owner,
 * whose rights cron.schedule writes cron.job with, is not postgres: here the script, run as
 * the bootstrap superuser, makes the extension its own. Then the grants to postgres.
 */
const SUPABASE_GRANTS = `
UPDATE pg_catalog.pg_extension SET extowner = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user)
 WHERE extname = 'pg_cron';
DELETE FROM pg_catalog.pg_shdepend
 WHERE classid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND deptype = 'o'
   AND objid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'pg_cron');
GRANT USAGE ON SCHEMA cron TO postgres WITH GRANT OPTION;
GRANT ALL ON ALL FUNCTIONS IN SCHEMA cron TO postgres WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON ALL TABLES IN SCHEMA cron TO postgres WITH GRANT OPTION;
REVOKE ALL ON TABLE cron.job FROM postgres;
GRANT SELECT ON TABLE cron.job TO postgres WITH GRANT OPTION;
`;

export async function startCronServer(): Promise<EmbeddedServer> {
  const binaries = { initdb: `${BIN}/initdb`, postgres: `${BIN}/postgres` };
  for (const path of [binaries.initdb, binaries.postgres, `${LIB_DIR}/pg_cron.so`]) {
    try {
      await access(path);
    } catch {
      throw new Error(
        `The pg_cron test server needs Debian's PostgreSQL 15 with pg_cron: ${path} is missing. Install it: ${INSTALL} (as .ci/run does).`,
      );
    }
  }
  let control: string;
  let lastScript: string;
  try {
    control = await readFile(`${EXTENSION_DIR}/pg_cron.control`, 'utf8');
    lastScript = await readFile(`${EXTENSION_DIR}/${LAST_SCRIPT}`, 'utf8');
  } catch {
    throw new Error(
      `pg_cron 1.4-1's extension files are missing from ${EXTENSION_DIR}. Install them: ${INSTALL} (as .ci/run does).`,
    );
  }
  return startEmbeddedPostgres({
    binaries,
    supabaseRoles: true,
    settings: { shared_preload_libraries: 'pg_cron', 'cron.database_name': 'postgres' },
    extensionFiles: [
      { name: 'pg_cron.control', contents: `${control.trimEnd()}\ntrusted = true\n` },
      { name: LAST_SCRIPT, contents: `${lastScript.trimEnd()}\n${SUPABASE_GRANTS}` },
    ],
  });
}
