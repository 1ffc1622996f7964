import type { Connection } from '../db/connect.js';
import { standInsOffered } from '../db/stand-ins/index.js';
import type { SchemaModel } from '../schema/model.js';
import { withProductionStandIns } from './stand-ins.js';

/**
 * A model built on a shadow, and production's, made comparable: the shadow's stand-in
 * extensions as production has the real ones, and the extensions production has that the
 * shadow server does not left out of both (with a note saying so). Used where a shadow's
 * result is compared with production itself (drift, the declared schema with nothing pending).
 */
export interface ComparableModels {
  expected: SchemaModel;
  actual: SchemaModel;
  /** Production's extensions the shadow server lacks: not compared. */
  unavailable: string[];
  /** Stand-ins the shadow offers (to say which the model used). */
  offered: Set<string>;
}

export async function comparableWithProduction(
  shadow: Connection,
  built: SchemaModel,
  production: SchemaModel,
): Promise<ComparableModels> {
  const offered = await standInsOffered(shadow.client);
  const { rows } = await shadow.client.query<{ name: string }>('SELECT name FROM pg_available_extensions');
  const available = new Set(rows.map((row) => row.name));
  const unavailable = Object.keys(production.extensions)
    .filter((name) => !available.has(name))
    .sort();
  return {
    expected: withoutExtensions(withProductionStandIns(built, production, offered), unavailable),
    actual: withoutExtensions(production, unavailable),
    unavailable,
    offered,
  };
}

export function unavailableNote(unavailable: string[]): string {
  return `Not compared: production's extensions ${unavailable.join(', ')}, which the shadow server does not have (use a supabase/postgres shadow of production's version).`;
}

function withoutExtensions(model: SchemaModel, names: string[]): SchemaModel {
  if (names.length === 0) return model;
  const extensions = Object.fromEntries(
    Object.entries(model.extensions).filter(([name]) => !names.includes(name)),
  );
  return { ...model, extensions };
}
