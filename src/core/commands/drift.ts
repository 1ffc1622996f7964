import type { SupagateConfig } from '../config.js';
import { type Connection, connect, disconnect } from '../db/connect.js';
import type { ShadowDatabase } from '../db/shadow.js';
import { declaredMigrations } from '../declared/build.js';
import { discoverDeclaredSchema } from '../declared/discover.js';
import { SupagateError } from '../errors.js';
import { assertRunnable } from '../migrations/files.js';
import type { Migration } from '../migrations/model.js';
import type { Problem } from '../migrations/pending.js';
import { phase } from '../progress.js';
import type { SchemaDiff } from '../schema/changes.js';
import { diffSchemas } from '../schema/diff.js';
import { introspect } from '../schema/introspect.js';
import {
  type NotComparedChange,
  notCompared,
  notComparedChanges,
  notComparedCount,
} from '../schema/not-compared.js';
import { comparableWithProduction, unavailableNote } from '../shadow/against-production.js';
import { standInsUsed } from '../shadow/stand-ins.js';
import { discover, loadStatus, requireDbUrl } from './load.js';
import {
  applyToShadow,
  connectProductionReadOnly,
  prepareShadow,
  readShadowAfterMigrations,
  type ShadowFailure,
  type ShadowInfo,
  serverMajorOf,
} from './shadow-run.js';

/**
 * drift: does production still look like what its applied migrations produce? The migrations
 * production's history lists are replayed, in order, on a shadow that holds only what
 * Supabase itself provides (the platform part of production's schema); the result is compared
 * with production. Any difference was made outside the migrations: in the dashboard, by hand,
 * by a migration edited after it ran. Production is only read.
 */
export type DriftStatus = 'in-sync' | 'drifted' | 'failed';

/**
 * What production is compared with: what its applied migrations produce, or what the declared
 * schema files (supabase/schemas) produce.
 */
export type DriftAgainst = 'migrations' | 'declared';

export interface DriftOptions {
  against?: DriftAgainst;
}

export interface DriftResult {
  command: 'drift';
  status: DriftStatus;
  /** Absent in results made before it existed: `migrations`. */
  against?: DriftAgainst;
  target: string;
  /** Applied migrations replayed on the shadow, in order (versions); or the schema files run (paths). */
  replayed: string[];
  /** Local migrations not applied yet: not expected in production, not replayed. */
  pending: string[];
  /** Versions production applied whose local file changed since. */
  edited: string[];
  /** Versions production applied that have no local file: their objects show up as drift. */
  missingLocal: string[];
  problems: Problem[];
  /** From what the migrations produce to what production has. */
  diff: SchemaDiff;
  /**
   * Production's objects of kinds the model does not represent (collations, operators, foreign
   * tables…): not compared, so drift in them goes unseen. Each kind is marked changed when
   * production's differs from what the replayed migrations produce (by count or first names).
   * Absent in results made before it existed.
   */
  notCompared?: NotComparedChange[];
  /** Objects in notCompared (all kinds). */
  notComparedCount?: number;
  shadow: ShadowInfo;
  failure?: ShadowFailure;
  durationMs: number;
}

const REPLAY_HINT =
  'This migration ran in production but fails when replayed on a fresh Supabase schema: it depends on something production has that no migration creates (made by hand or in the dashboard), or on rows. Create that object in a migration.';

const DECLARED_HINT =
  'This schema file fails on a fresh Supabase schema, so it cannot be compared with production: fix it, or the order of the files.';

/** What is run on the shadow and what the result says of the history besides. */
type Expected = Pick<DriftResult, 'replayed' | 'pending' | 'edited' | 'missingLocal' | 'problems'> & {
  replay: Migration[];
  hint: string;
  /** A schema file that does not parse: nothing is run. */
  failure?: ShadowFailure;
};

export async function drift(config: SupagateConfig, options: DriftOptions = {}): Promise<DriftResult> {
  const started = performance.now();
  const url = requireDbUrl(config);
  const against = options.against ?? 'migrations';
  const discovered = against === 'migrations' ? await discover(config) : undefined;
  const declared = against === 'declared' ? await declaredExpected(config) : undefined;
  let production: Connection | undefined;
  let shadow: ShadowDatabase | undefined;
  try {
    production = await connectProductionReadOnly(url, 'drift');
    const expected = declared ?? (await migrationsExpected(production, discovered as Discovered, config));
    const { replay, hint, failure: filesFailure, ...history } = expected;
    const result: DriftResult = {
      command: 'drift',
      status: 'in-sync',
      against,
      target: production.target.label,
      ...history,
      diff: { changes: [] },
      notCompared: [],
      notComparedCount: 0,
      shadow: { source: 'none', serverVersion: 0, warnings: [], standIns: [] },
      durationMs: 0,
    };
    const finish = (partial: Partial<DriftResult>): DriftResult => {
      const merged = { ...result, ...partial };
      const drifted =
        merged.diff.changes.length > 0 || merged.edited.length > 0 || merged.missingLocal.length > 0;
      return {
        ...merged,
        status: merged.failure ? 'failed' : drifted ? 'drifted' : 'in-sync',
        durationMs: Math.round(performance.now() - started),
      };
    };

    if (filesFailure) return finish({ failure: filesFailure });
    const scope = config.schemas ? { schemas: config.schemas } : {};
    const productionConnection = production;
    const [read, preparing] = await Promise.allSettled([
      introspect(productionConnection.client, scope).then(async (model) => ({
        model,
        uncompared: await notCompared(productionConnection.client, scope),
      })),
      prepareShadow(config, url, await serverMajorOf(production), 'platform'),
    ]);
    if (preparing.status === 'fulfilled') shadow = preparing.value.shadow;
    if (read.status === 'rejected') throw read.reason;
    if (preparing.status === 'rejected') throw preparing.reason;
    const { info, cloneError } = preparing.value;
    const productionModel = read.value.model;
    // Until the migrations are replayed, production's kinds, none marked.
    const uncompared = read.value.uncompared;
    result.notCompared = uncompared.map((entry) => ({ ...entry, countBefore: entry.count, changed: false }));
    result.notComparedCount = notComparedCount(uncompared);
    if (cloneError || !shadow) {
      return finish({
        shadow: info,
        failure: {
          stage: 'clone',
          kind: 'environment',
          message: cloneError?.message ?? 'no shadow database',
          ...(cloneError?.hint ? { hint: cloneError.hint } : {}),
        },
      });
    }
    const shadowConnection = await connect(shadow.url, { applicationName: 'supagate drift (shadow)' });
    try {
      const failure = await phase('shadow-migrations', () =>
        applyToShadow(
          { shadow: shadow as ShadowDatabase, connection: shadowConnection, info },
          replay,
          config,
          () => hint,
        ),
      );
      if (failure) return finish({ shadow: info, failure });
      const replayed = await readShadowAfterMigrations(shadowConnection, scope);
      if ('failure' in replayed) return finish({ shadow: info, failure: replayed.failure });
      const comparable = await comparableWithProduction(shadowConnection, replayed.model, productionModel);
      info.standIns = standInsUsed(replayed.model, comparable.offered);
      // "Before": what the migrations produce; kinds only there are kept (production has none).
      result.notCompared = notComparedChanges(await notCompared(shadowConnection.client, scope), uncompared);
      if (comparable.unavailable.length > 0) info.warnings.push(unavailableNote(comparable.unavailable));
      return finish({ shadow: info, diff: diffSchemas(comparable.expected, comparable.actual) });
    } finally {
      await disconnect(shadowConnection);
    }
  } finally {
    await disconnect(production);
    await shadow?.dispose();
  }
}

type Discovered = Awaited<ReturnType<typeof discover>>;

/** The applied migrations, replayed in the order production's history lists them. */
async function migrationsExpected(
  production: Connection,
  discovered: Discovered,
  config: SupagateConfig,
): Promise<Expected> {
  const { status, historyExists } = await loadStatus(production, discovered, config);
  if (!historyExists) {
    throw new SupagateError('HISTORY_MISSING', `${production.target.label} has no migration history`, {
      hint: 'Drift compares production with the migrations it applied; apply them first (supagate apply).',
    });
  }
  const byVersion = new Map(discovered.migrations.map((m) => [m.version, m]));
  const appliedEntries = status.entries.filter((e) => e.state === 'applied' || e.state === 'edited');
  const replay = appliedEntries
    .map((e) => byVersion.get(e.version))
    .filter((m): m is Migration => m !== undefined);
  assertRunnable(replay);
  return {
    replay,
    hint: REPLAY_HINT,
    replayed: replay.map((m) => m.version),
    pending: status.pending.map((m) => m.version),
    edited: status.entries.filter((e) => e.state === 'edited').map((e) => e.version),
    missingLocal: status.entries.filter((e) => e.state === 'missing-local').map((e) => e.version),
    problems: status.problems,
  };
}

/** The declared schema files, run in their order; the history does not matter. */
async function declaredExpected(config: SupagateConfig): Promise<Expected> {
  const { files } = await discoverDeclaredSchema(config.projectDir);
  if (files.length === 0) {
    throw new SupagateError(
      'DECLARED_SCHEMA_INVALID',
      'The project declares no schema: no supabase/schemas/*.sql',
      {
        hint: 'drift --against declared compares production with the declared schema files (supabase/schemas, or [db.migrations] schema_paths in supabase/config.toml). Without them, use drift --against migrations.',
      },
    );
  }
  const migrations = await declaredMigrations(files);
  const none = {
    replayed: files.map((file) => file.path),
    pending: [],
    edited: [],
    missingLocal: [],
    problems: [],
  };
  if (!Array.isArray(migrations)) return { ...none, replay: [], hint: DECLARED_HINT, failure: migrations };
  return { ...none, replay: migrations, hint: DECLARED_HINT };
}
