import { standInNamed } from '../db/stand-ins/index.js';
import type { SchemaModel } from '../schema/model.js';
import { withProductionIndexParameters } from './stand-in-indexes.js';

/**
 * What a plan or drift must know about the stand-in extensions of an embedded shadow
 * (db/stand-ins/): which ones the shadow offers, which ones the migrations used (the report
 * names them and what they cannot predict), and that a stand-in's own version is never a
 * difference from production's real extension.
 */
/** How to check what a stand-in cannot predict. */
export const STAND_IN_ADVICE =
  'to check what a stand-in cannot predict, plan with a supabase/postgres container of production’s version as shadow server (--shadow-url)';

export interface StandInUse {
  name: string;
  cannotPredict: string;
}

/** The stand-ins installed in this model's database. */
export function standInsUsed(model: SchemaModel, offered: Set<string>): StandInUse[] {
  return Object.keys(model.extensions)
    .filter((name) => offered.has(name))
    .sort()
    .map((name) => ({ name, cannotPredict: standInNamed(name)?.cannotPredict ?? 'its behaviour' }));
}

/**
 * The shadow's model as production has what the stand-ins stand in for: the real extensions'
 * versions, and pgvector indexes' storage parameters (see stand-in-indexes.ts). Only where that
 * is the whole difference: anything else still shows.
 */
export function withProductionStandIns(
  model: SchemaModel,
  production: SchemaModel,
  offered: Set<string>,
): SchemaModel {
  return withProductionIndexParameters(
    withProductionVersions(model, production, offered),
    production,
    offered,
  );
}

function withProductionVersions(
  model: SchemaModel,
  production: SchemaModel,
  offered: Set<string>,
): SchemaModel {
  let changed = false;
  const extensions = { ...model.extensions };
  for (const [name, extension] of Object.entries(model.extensions)) {
    const real = production.extensions[name];
    if (!offered.has(name) || !real || real.version === extension.version) continue;
    extensions[name] = { ...extension, version: real.version };
    changed = true;
  }
  return changed ? { ...model, extensions } : model;
}
