import type { SupagateConfig } from '../config.js';
import { cloneSchema } from '../db/clone.js';
import { type Connection, connect, pgErrorFields } from '../db/connect.js';
import { findPgTool } from '../db/pgtools.js';
import { outOfSpaceHint } from '../db/scratch-folder.js';
import { createShadowDatabase, type ShadowDatabase } from '../db/shadow.js';
import { standInsOffered } from '../db/stand-ins/index.js';
import { SupagateError } from '../errors.js';
import { onInterrupt } from '../interrupt.js';
import { applyMigration, MigrationFailedError, type MigrationFailure } from '../migrations/execute.js';
import type { Migration } from '../migrations/model.js';
import { phase } from '../progress.js';
import { type IntrospectOptions, introspect } from '../schema/introspect.js';
import type { SchemaModel } from '../schema/model.js';
import {
  type BaselineOptions,
  type BaselineUse,
  type CreateShadow,
  keepShadowAsBaseline,
  startFromBaseline,
} from '../shadow/baseline.js';
import {
  type ClusterStatement,
  clusterStatementsOf,
  withoutStatements,
} from '../shadow/cluster-statements.js';
import { withoutStandInIndexParameters } from '../shadow/stand-in-indexes.js';
import type { StandInUse } from '../shadow/stand-ins.js';

/**
 * Running migrations somewhere other than production: a shadow database prepared from a
 * schema-only copy of production (plan: all of it; drift: only what Supabase provides), then
 * migrations applied to it one by one. Shared by plan and drift.
 */

/** Why migrations could not be run on the shadow: a file that does not parse, a clone or a migration that fails. */
export interface ShadowFailure {
  stage: 'files' | 'clone' | 'migration';
  /**
   * `environment`: the shadow lacks something production has (an extension, a clone that does
   * not restore): an error to fix in the setup (exit 1), not a finding about the migrations.
   */
  kind: 'migration' | 'environment';
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
  /** Stand-in extensions the migrations ran on (embedded shadow), with what they cannot predict. */
  standIns: StandInUse[];
  /**
   * With the shadow cache (shadow/baseline.ts): whether the shadow started from a kept
   * baseline (`hit`), was cloned and kept (`miss`), or was cloned again because the kept one
   * did not check out (`rebuilt`). Absent without the cache.
   */
  baseline?: BaselineUse;
}

export interface PreparedShadow {
  info: ShadowInfo;
  /** Undefined when the clone failed (`cloneError` says why). Dispose it when done. */
  shadow: ShadowDatabase | undefined;
  cloneError?: SupagateError;
  /** With the shadow cache: the shadow's model before any migration, already read. */
  before?: SchemaModel;
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
  baseline?: BaselineOptions,
  create: CreateShadow = shadowCreator(config, productionUrl),
): Promise<PreparedShadow> {
  const info: ShadowInfo = { source: 'none', serverVersion: 0, warnings: [], standIns: [] };
  const { key, started } = baseline
    ? await startFromBaseline(baseline, create)
    : { key: undefined, started: undefined };
  if (started && started !== 'stale') {
    describeShadow(info, started.shadow, productionMajor);
    info.warnings.push(...started.warnings);
    info.baseline = 'hit';
    return { info, shadow: started.shadow, before: started.before };
  }
  const [pgDump, pgRestore] = await Promise.all([
    findPgTool('pg_dump', { explicitPath: config.pgDumpPath, minMajor: productionMajor }),
    findPgTool('pg_restore', { explicitPath: config.pgRestorePath, minMajor: productionMajor }),
  ]);
  // The shadow is created while production's schema is dumped.
  const creating = create();
  const cloning = phase('clone', () =>
    cloneSchema({
      sourceUrl: productionUrl,
      targetUrl: creating.then((created) => created.adminUrl),
      pgDump,
      pgRestore,
      scope,
    }),
  );
  const [created, cloned] = await Promise.allSettled([creating, cloning]);
  if (created.status === 'rejected') throw created.reason;
  const shadow = created.value;
  describeShadow(info, shadow, productionMajor);
  try {
    if (cloned.status === 'rejected') throw cloned.reason;
    const clone = cloned.value;
    info.warnings.push(...clone.warnings);
    await shadow.checkMigrationRole();
    const keeps = shadow.source === 'embedded' || (baseline?.server && shadow.keepAsTemplate);
    if (!baseline || key === undefined || !keeps) return { info, shadow };
    info.baseline = started === 'stale' ? 'rebuilt' : 'miss';
    const kept = await keepShadowAsBaseline(shadow, { ...baseline, key }, clone.warnings);
    if (kept.problem) info.warnings.push(kept.problem);
    return { info, shadow, before: kept.before };
  } catch (error) {
    if (!(error instanceof SupagateError) || error.code !== 'CLONE_FAILED') {
      await shadow.dispose();
      throw error;
    }
    return { info, shadow, cloneError: error };
  }
}

/** How the command's shadow is made: from the configuration, or from a baseline or template. */
export function shadowCreator(config: SupagateConfig, productionUrl: string): CreateShadow {
  return (from = {}) =>
    disposedOnInterrupt(
      phase('shadow', () =>
        createShadowDatabase({
          shadowUrl: config.shadowUrl,
          disposable: config.shadowDisposable,
          detectLocalSupabase: config.detectLocalSupabase,
          productionUrl,
          ...from,
        }),
      ),
    );
}

function describeShadow(info: ShadowInfo, shadow: ShadowDatabase, productionMajor: number): void {
  info.source = shadow.source;
  info.serverVersion = shadow.serverVersion;
  if (Math.floor(shadow.serverVersion / 10_000) < productionMajor) {
    info.warnings.push(
      `The shadow server runs PostgreSQL ${Math.floor(shadow.serverVersion / 10_000)}, older than production's ${productionMajor}: use a shadow of the same major version (--shadow-url).`,
    );
  }
}

/**
 * An interrupt drops the shadow database (and stops an embedded server) as dispose() does, also
 * while it is still being created (production is dumped meanwhile): the cleanup waits for it.
 */
function disposedOnInterrupt(creating: Promise<ShadowDatabase>): Promise<ShadowDatabase> {
  const forget = onInterrupt('removing the shadow database', async () => {
    const shadow = await creating.catch(() => undefined);
    // An embedded server being started is stopped and removed by its own exit handler.
    if (!shadow) return 'stopped the shadow while it was being created';
    await shadow.dispose();
    return shadow.source === 'embedded'
      ? 'stopped the embedded shadow server and deleted its folder'
      : 'dropped the shadow database';
  });
  return creating.then(
    (shadow) => ({
      ...shadow,
      dispose: async () => {
        forget();
        await shadow.dispose();
      },
    }),
    (error: unknown) => {
      forget();
      throw error;
    },
  );
}

/** Where applyToShadow runs: the shadow, a connection to it as the migrations' role, and its report. */
export interface ShadowTarget {
  shadow: ShadowDatabase;
  /** A session on `shadow.url`. */
  connection: Connection;
  info: ShadowInfo;
}

/**
 * Applies the migrations in order; the first failure stops and is returned, located.
 * Cluster-wide statements are not run (see cluster-statements.ts); each is listed in the
 * shadow's warnings.
 */
export async function applyToShadow(
  target: ShadowTarget,
  migrations: Migration[],
  config: SupagateConfig,
  hint: (failure: MigrationFailure) => string,
): Promise<ShadowFailure | undefined> {
  await assertNotSuperuser(target.connection);
  const offered = await standInsOffered(target.connection.client);
  for (const original of migrations) {
    const { migration, changed } = withoutStandInIndexParameters(original, offered);
    for (const where of changed) {
      target.info.warnings.push(
        `built without its storage parameters on the stand-in for pgvector: ${where} (an hnsw or ivfflat index)`,
      );
    }
    const skipped = clusterStatementsOf(migration);
    await standIn(target, migration, skipped);
    try {
      await applyMigration(
        target.connection.client,
        withoutStatements(migration, skipped),
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
      const environment = environmentHint(error.failure);
      return {
        stage: 'migration',
        kind: environment ? 'environment' : 'migration',
        message: error.message,
        hint: environment ?? hint(error.failure),
        file: error.failure.path,
        line: error.failure.line,
        migration: error.failure,
      };
    }
  }
  return undefined;
}

/** Stands in the roles the migration creates, and lists every statement left out. */
async function standIn(
  target: ShadowTarget,
  migration: Migration,
  skipped: ClusterStatement[],
): Promise<void> {
  for (const { statement, what, createsRole } of skipped) {
    const where = `${migration.path}:${statement.line}`;
    if (createsRole && (await target.shadow.standInRole(createsRole))) {
      target.info.warnings.push(
        `not run on the shadow: ${where} ${what} … (a role without login or attributes stands in for it)`,
      );
    } else {
      target.info.warnings.push(`not run on the shadow: ${where} ${what} …`);
    }
  }
}

/** Pull requests' SQL never runs as a superuser: a caller passing the server's own session is a bug. */
async function assertNotSuperuser(connection: Connection): Promise<void> {
  const { rows } = await connection.client.query<{ superuser: boolean }>(
    'SELECT rolsuper AS superuser FROM pg_roles WHERE rolname = session_user',
  );
  if (rows[0]?.superuser !== false) {
    throw new SupagateError('INTERNAL', 'Refusing to run migrations on the shadow as a superuser.', {
      hint: 'Connect to the shadow with its url (the migrations’ role), not its adminUrl.',
    });
  }
}

/** The hint when a migration failed for want of something the shadow lacks and Supabase has: then the failure is the environment's. */
function environmentHint(failure: MigrationFailure): string | undefined {
  const full = outOfSpaceHint(failure.message);
  if (full) return full;
  const cron = /can only create extension in database (\S+)/.exec(failure.message);
  if (cron) {
    return `pg_cron can only be created in the database named by the shadow server's cron.database_name (${cron[1]}), and the shadow database has another name. If that server exists only for supagate, say so (--shadow-disposable; Action input shadow-disposable: true): supagate then plans in ${cron[1]}, dropping and re-creating it. Or plan without --shadow-url: the embedded shadow's pg_cron is a stand-in.`;
  }
  const extension =
    /extension "([^"]+)" is not available|could not open extension control file ".*\/([^/]+)\.control"/.exec(
      failure.message,
    );
  if (extension) {
    return `The shadow server does not have the extension ${extension[1] ?? extension[2]}. Use a shadow server that has it, e.g. a supabase/postgres container (--shadow-url).`;
  }
  if (/permission denied to create foreign-data wrapper/.test(failure.message)) {
    return 'Only a superuser may create a foreign data wrapper in PostgreSQL; Supabase lets its postgres create those of its Wrappers extension, the shadow’s role cannot. Plan with a supabase/postgres container as shadow server (--shadow-url), which allows it as Supabase does.';
  }
  const denied = /permission denied to create extension "([^"]+)"/.exec(failure.message);
  if (!denied) return undefined;
  return `Migrations run in the shadow as a role like Supabase's postgres, which is not a superuser, and may create only trusted extensions. If Supabase lets postgres create ${denied[1]} (one of its privileged extensions), plan with a supabase/postgres container as shadow server (--shadow-url), which allows it as Supabase does.`;
}

/**
 * The shadow after the migrations, read as the migrations' role. A migration can leave it
 * unreadable (a view in place of a table supagate reads, a function that fails when called):
 * that is the migration's failure, reported as one, not an error of supagate.
 */
export async function readShadowAfterMigrations(
  connection: Connection,
  options: IntrospectOptions,
): Promise<{ model: SchemaModel } | { failure: ShadowFailure }> {
  try {
    return { model: await introspect(connection.client, options) };
  } catch (error) {
    if (error instanceof SupagateError) throw error;
    const { message, code } = pgErrorFields(error);
    return {
      failure: {
        stage: 'migration',
        kind: 'migration',
        message: `The shadow database cannot be read after the migrations: ${message}${code ? ` [SQLSTATE ${code}]` : ''}`,
        hint: 'A pending migration replaced or broke something supagate reads (a table of a Supabase schema, a type, a function it calls). Undo that in the migration.',
      },
    };
  }
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
