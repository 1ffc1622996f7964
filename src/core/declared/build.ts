import {
  applyToShadow,
  prepareShadow,
  readShadowAfterMigrations,
  type ShadowFailure,
  type ShadowInfo,
} from '../commands/shadow-run.js';
import type { SupagateConfig } from '../config.js';
import { connect, disconnect } from '../db/connect.js';
import { SupagateError } from '../errors.js';
import { checksumOf } from '../migrations/checksum.js';
import type { Migration } from '../migrations/model.js';
import { parseMigrationSql } from '../migrations/statements.js';
import type { IntrospectOptions } from '../schema/introspect.js';
import type { SchemaModel } from '../schema/model.js';
import { comparableWithProduction, unavailableNote } from '../shadow/against-production.js';
import type { DeclaredFile } from './discover.js';

/**
 * The declared schema built where the pull request's SQL may run: a shadow holding only what
 * Supabase provides (the platform part of production, as drift replays migrations on), the
 * schema files run on it in order as migrations are (same role, same isolation: they are the
 * pull request's), then read with the plan's scope.
 */

export type DeclaredBuild =
  | {
      model: SchemaModel;
      shadow: ShadowInfo;
      /** Built to compare with production itself: production's model made comparable with it. */
      production?: SchemaModel;
    }
  | { failure: ShadowFailure; shadow: ShadowInfo };

export const DECLARED_FILE_HINT =
  'The schema files are run in order on a fresh Supabase database, as `supabase db diff` runs them: fix the statement, or the order (name the files, or list them in [db.migrations] schema_paths of supabase/config.toml).';

/**
 * The files as migrations, parsed once: the first that does not parse is the failure. Their
 * versions are their positions (the shadow's history needs one each; nothing else reads it).
 */
export async function declaredMigrations(files: DeclaredFile[]): Promise<Migration[] | ShadowFailure> {
  const migrations: Migration[] = [];
  for (const [index, file] of files.entries()) {
    try {
      const parsed = await parseMigrationSql(file.sql, file.path);
      migrations.push({
        version: String(index + 1),
        name: file.path,
        path: file.path,
        absolutePath: file.path,
        sql: file.sql,
        checksum: checksumOf(file.sql),
        ...parsed,
        transactional: parsed.statements.every((statement) => !statement.nonTransactional),
      });
    } catch (error) {
      if (!(error instanceof SupagateError)) throw error;
      const line = typeof error.details.line === 'number' ? error.details.line : undefined;
      return {
        stage: 'files',
        kind: 'migration',
        message: error.message,
        hint: error.hint ?? DECLARED_FILE_HINT,
        file: file.path,
        ...(line ? { line } : {}),
      };
    }
  }
  return migrations;
}

export async function buildDeclaredSchema(
  config: SupagateConfig,
  production: { url: string; major: number },
  files: DeclaredFile[],
  scope: IntrospectOptions,
  /** Production's model, when the build is compared with production itself (nothing pending). */
  against?: SchemaModel,
): Promise<DeclaredBuild> {
  const empty: ShadowInfo = { source: 'none', serverVersion: 0, warnings: [], standIns: [] };
  const migrations = await declaredMigrations(files);
  if (!Array.isArray(migrations)) return { failure: migrations, shadow: empty };
  // A disposable server's one shadow name is the plan's own shadow's: this one takes a name of its own.
  const ownDatabase = { ...config, shadowDisposable: false };
  const prepared = await prepareShadow(ownDatabase, production.url, production.major, 'platform');
  const { shadow, info } = prepared;
  try {
    if (prepared.cloneError || !shadow) {
      return {
        shadow: info,
        failure: {
          stage: 'clone',
          kind: 'environment',
          message: prepared.cloneError?.message ?? 'no shadow database',
          ...(prepared.cloneError?.hint ? { hint: prepared.cloneError.hint } : {}),
        },
      };
    }
    const connection = await connect(shadow.url, { applicationName: 'supagate plan (declared schema)' });
    try {
      const failure = await applyToShadow(
        { shadow, connection, info },
        migrations,
        config,
        () => DECLARED_FILE_HINT,
      );
      if (failure) return { failure, shadow: info };
      const read = await readShadowAfterMigrations(connection, scope);
      if ('failure' in read) return { failure: read.failure, shadow: info };
      if (!against) return { model: read.model, shadow: info };
      const comparable = await comparableWithProduction(connection, read.model, against);
      if (comparable.unavailable.length > 0) info.warnings.push(unavailableNote(comparable.unavailable));
      return { model: comparable.expected, production: comparable.actual, shadow: info };
    } finally {
      await disconnect(connection);
    }
  } finally {
    await shadow?.dispose();
  }
}
