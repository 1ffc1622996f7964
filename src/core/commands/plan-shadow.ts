import { targetFingerprint } from '../backup/manifest.js';
import type { SupagateConfig } from '../config.js';
import { disconnect } from '../db/connect.js';
import { diffSchemas } from '../schema/diff.js';
import { fingerprintOf } from '../schema/fingerprint.js';
import type { IntrospectOptions } from '../schema/introspect.js';
import type { SchemaModel } from '../schema/model.js';
import {
  type BaselineOptions,
  type CreateShadow,
  type EarlyStart,
  embeddedServerIdentity,
  startEarly,
} from '../shadow/baseline.js';
import { baselineKey, type KeyReadings, readingsOf } from '../shadow/baseline-key.js';
import { cacheRoot } from '../shadow/baseline-store.js';
import { withProductionStandIns } from '../shadow/stand-ins.js';
import { connectProductionReadOnly } from './shadow-run.js';

/*
 * How the plan's shadow starts (from a kept baseline when the cache allows) and what it takes
 * from production: size estimates, and the drift between production and its copy.
 */

export interface PlanRun {
  url: string;
  started: number;
  create: CreateShadow;
  early?: EarlyStart;
}

/**
 * Where the plan's shadow may start from a kept baseline (shadow/baseline.ts), or undefined:
 * the cache is off, or the shadow server is disposable.
 */
export function baselineOptions(
  config: SupagateConfig,
  { url: productionUrl, early }: PlanRun,
  introspecting: Promise<SchemaModel>,
): BaselineOptions | undefined {
  // A disposable server is new each run: nothing to keep there.
  if (!config.shadowCache || (config.shadowUrl && config.shadowDisposable)) return undefined;
  const server = config.shadowUrl;
  // A server's baselines live on it: whatever its version, its model (which records the
  // version) must read as when it was kept.
  const identity = server ? Promise.resolve('server') : embeddedServerIdentity();
  const readings = keyReadings(productionUrl, config.schemas);
  readings.catch(() => {});
  const key = Promise.all([introspecting, identity, readings]).then(([productionModel, shadowServer, read]) =>
    baselineKey(read, { productionUrl, productionModel, schemas: config.schemas, shadowServer }),
  );
  key.catch(() => {});
  return {
    root: cacheRoot(config.cacheDir),
    target: targetFingerprint(productionUrl),
    key,
    scope: scopeOf(config),
    ...(server ? { server: { url: server, productionUrl } } : {}),
    ...(early ? { early } : {}),
  };
}

/**
 * What the key reads of production besides its model, in a read-only session of its own, so
 * that it is read while the plan reads production's model in its session.
 */
async function keyReadings(productionUrl: string, schemas: string[] | undefined): Promise<KeyReadings> {
  const session = await connectProductionReadOnly(productionUrl, 'plan');
  try {
    return await readingsOf(session.client, schemas);
  } finally {
    await disconnect(session);
  }
}

/**
 * With the embedded shadow's cache: the target's last baseline, started before the files and
 * production are read (shadow/baseline.ts startEarly).
 */
export function earlyStart(
  config: SupagateConfig,
  url: string,
  create: CreateShadow,
): EarlyStart | undefined {
  if (!config.shadowCache || config.shadowUrl) return undefined;
  return startEarly(
    { root: cacheRoot(config.cacheDir), target: targetFingerprint(url), scope: scopeOf(config) },
    create,
  );
}

export function scopeOf(config: SupagateConfig): IntrospectOptions {
  return config.schemas ? { schemas: config.schemas } : {};
}

/**
 * Production's model, read while the shadow is prepared. The plan needs it whole only up to the
 * drift check, then only its size estimates: release() lets it go before the shadow's model after
 * the migrations is read (at 2,000 tables it is about 19 MB of the plan's peak). It is handed out
 * only through these methods, so that no variable of the plan keeps it.
 */
export class ProductionReading {
  #model: Promise<SchemaModel> | undefined;

  constructor(model: Promise<SchemaModel>) {
    model.catch(() => {});
    this.#model = model;
  }

  model(): Promise<SchemaModel> {
    if (!this.#model) throw new Error("production's model was released");
    return this.#model;
  }

  /** Resolves when the model is read (rejects as it does), without handing it out. */
  async settled(): Promise<void> {
    await this.model();
  }

  async fingerprint(): Promise<string> {
    return fingerprintOf(await this.model());
  }

  async stats(): Promise<TableStats> {
    return statsOf(await this.model());
  }

  async drift(before: SchemaModel, offered: Set<string>): Promise<string | undefined> {
    return driftWarning(await this.model(), before, offered);
  }

  release(): void {
    this.#model = undefined;
  }
}

export type TableStats = Map<string, NonNullable<SchemaModel['tables'][string]['stats']>>;

export function statsOf(production: SchemaModel): TableStats {
  const stats: TableStats = new Map();
  for (const [id, table] of Object.entries(production.tables)) if (table.stats) stats.set(id, table.stats);
  return stats;
}

/** Size estimates come from production: the shadow has the schema but no rows. */
export function withStats(model: SchemaModel, production: TableStats): SchemaModel {
  for (const [id, table] of Object.entries(model.tables)) {
    const stats = production.get(id);
    if (stats) table.stats = { ...stats };
  }
  return model;
}

/** What the shadow's copy of production lacks or adds (stand-ins aside), or undefined. */
export function driftWarning(
  production: SchemaModel,
  before: SchemaModel,
  offered: Set<string>,
): string | undefined {
  const drift = diffSchemas(production, withProductionStandIns(before, production, offered)).changes;
  if (drift.length === 0) return undefined;
  const ids = drift
    .slice(0, 5)
    .map((change) => change.id)
    .join(', ');
  return `The shadow copy differs from production in ${drift.length} object(s) (${ids}); the plan compares the copy before and after the migrations.`;
}
