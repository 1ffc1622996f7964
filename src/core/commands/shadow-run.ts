import type { SupagateConfig } from '../config.js';
import { cloneSchema } from '../db/clone.js';
import { type Connection, connect } from '../db/connect.js';
import { findPgTool } from '../db/pgtools.js';
import { createShadowDatabase, type ShadowDatabase } from '../db/shadow.js';
import { SupagateError } from '../errors.js';
import { applyMigration, MigrationFailedError, type MigrationFailure } from '../migrations/execute.js';
import type { Migration } from '../migrations/model.js';

/**
 * Running migrations somewhere other than production: a shadow database prepared from a
 * schema-only copy of production (plan: all of it; drift: only what Supabase provides), then
 * migrations applied to it one by one. Shared by plan and drift.
 */

/** Why migrations could not be run on the shadow: a file that does not parse, a clone or a migration that fails. */
export interface ShadowFailure {
  stage: 'files' | 'clone' | 'migration';
  message: string;
  hint?: string;
  file?: string;
  line?: number;
  /** For a migration failing on the shadow: statement, SQLSTATE… */
  migration?: MigrationFailure;
}

export interface ShadowInfo {
  source: ShadowDatabase['source'] | 'none';
  serverVersion: number;
  warnings: string[];
}

export interface PreparedShadow {
  info: ShadowInfo;
  /** Undefined when the clone failed (`cloneError` says why). Dispose it when done. */
  shadow: ShadowDatabase | undefined;
  cloneError?: SupagateError;
}

/**
 * A shadow database holding production's schema (or the platform part of it). Clone failures
 * come back as `cloneError`; anything else (no pg_dump, no shadow server) throws. The shadow,
 * once created, is returned even when the clone failed, so the caller can dispose of it.
 */
export async function prepareShadow(
  config: SupagateConfig,
  productionUrl: string,
  productionMajor: number,
  scope: 'full' | 'platform',
): Promise<PreparedShadow> {
  const info: ShadowInfo = { source: 'none', serverVersion: 0, warnings: [] };
  const [pgDump, pgRestore] = await Promise.all([
    findPgTool('pg_dump', { explicitPath: config.pgDumpPath, minMajor: productionMajor }),
    findPgTool('pg_restore', { explicitPath: config.pgRestorePath, minMajor: productionMajor }),
  ]);
  const shadow = await createShadowDatabase({
    shadowUrl: config.shadowUrl,
    detectLocalSupabase: config.detectLocalSupabase,
  });
  info.source = shadow.source;
  info.serverVersion = shadow.serverVersion;
  if (Math.floor(shadow.serverVersion / 10_000) < productionMajor) {
    info.warnings.push(
      `The shadow server runs PostgreSQL ${Math.floor(shadow.serverVersion / 10_000)}, older than production's ${productionMajor}: use a shadow of the same major version (--shadow-url).`,
    );
  }
  try {
    const clone = await cloneSchema({
      sourceUrl: productionUrl,
      targetUrl: shadow.url,
      pgDump,
      pgRestore,
      scope,
    });
    info.warnings.push(...clone.warnings);
    return { info, shadow };
  } catch (error) {
    if (!(error instanceof SupagateError) || error.code !== 'CLONE_FAILED') {
      await shadow.dispose();
      throw error;
    }
    return { info, shadow, cloneError: error };
  }
}

/** Applies the migrations in order; the first failure stops and is returned, located. */
export async function applyToShadow(
  shadow: Connection,
  migrations: Migration[],
  config: SupagateConfig,
  hint: (failure: MigrationFailure) => string,
): Promise<ShadowFailure | undefined> {
  for (const migration of migrations) {
    try {
      await applyMigration(
        shadow.client,
        migration,
        {
          lockTimeoutMs: 10_000,
          statementTimeoutMs: config.statementTimeoutMs,
          lockRetries: 0,
          retryDelayMs: 0,
        },
        { actor: 'supagate shadow', runId: null, backupId: null },
      );
    } catch (error) {
      if (!(error instanceof MigrationFailedError)) throw error;
      return {
        stage: 'migration',
        message: error.message,
        hint: missingExtensionHint(error.failure) ?? hint(error.failure),
        file: error.failure.path,
        line: error.failure.line,
        migration: error.failure,
      };
    }
  }
  return undefined;
}

function missingExtensionHint(failure: MigrationFailure): string | undefined {
  const extension =
    /extension "([^"]+)" is not available|could not open extension control file ".*\/([^/]+)\.control"/.exec(
      failure.message,
    );
  if (!extension) return undefined;
  return `The shadow server does not have the extension ${extension[1] ?? extension[2]}. Use a shadow server that has it, e.g. a supabase/postgres container (--shadow-url).`;
}

/** Production is only read while migrations run elsewhere: a read-only session, short statements. */
const PRODUCTION_STATEMENT_TIMEOUT_MS = 60_000;

export function connectProductionReadOnly(url: string, command: 'plan' | 'drift'): Promise<Connection> {
  return connect(url, {
    readOnly: true,
    statementTimeoutMs: PRODUCTION_STATEMENT_TIMEOUT_MS,
    applicationName: `supagate ${command} (read-only)`,
  });
}

/** The server's major version (15 for 150008). */
export async function serverMajorOf(connection: Connection): Promise<number> {
  const { rows } = await connection.client.query('SHOW server_version_num');
  return Math.floor(Number(rows[0]?.server_version_num) / 10_000);
}
