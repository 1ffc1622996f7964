import type { AcceptedHazard, SupagateConfig } from '../config.js';
import { buildDeclaredSchema, type DeclaredBuild } from '../declared/build.js';
import {
  compareDeclared,
  type DeclaredSchemaCheck,
  declaredDiscoveryFailure,
  declaredSchemaHazards,
} from '../declared/check.js';
import { type DeclaredSchemaFiles, discoverDeclaredSchema } from '../declared/discover.js';
import { SupagateError } from '../errors.js';
import type { Migration } from '../migrations/model.js';
import { phase, withoutProgress } from '../progress.js';
import type { Hazard } from '../schema/hazards.js';
import type { IntrospectOptions } from '../schema/introspect.js';
import type { SchemaModel } from '../schema/model.js';

/**
 * The plan's declared schema check, started beside the plan's own shadow: its files are found
 * and built on a shadow of their own while production is copied and the migrations run, and
 * compared once the plan has its model of production after them.
 */
export interface DeclaredRun {
  /** The check and its findings; no check when the project declares no schema or it is off. */
  compare(
    afterMigrations: SchemaModel,
    pending: Migration[],
    accepted: AcceptedHazard[],
  ): Promise<{ check?: DeclaredSchemaCheck; hazards: Hazard[] }>;
  /** Resolves once its shadow is gone: the plan waits for it however it ends. */
  settled(): Promise<void>;
}

type Built =
  | undefined
  | { discoveryError: SupagateError }
  | { files: DeclaredSchemaFiles; build: DeclaredBuild; durationMs: number };

export function startDeclaredCheck(
  config: SupagateConfig,
  production: { url: string; major: number },
  scope: IntrospectOptions,
  /** With nothing pending: production's model, which the schema files are compared with. */
  productionModel?: SchemaModel,
): DeclaredRun {
  if (config.declaredSchema === 'off')
    return { compare: async () => ({ hazards: [] }), settled: async () => {} };
  const building = build(config, production, scope, productionModel);
  building.catch(() => {});
  return {
    async compare(afterMigrations, pending, accepted) {
      const built = await building;
      if (!built) return { hazards: [] };
      if ('discoveryError' in built)
        return { check: declaredDiscoveryFailure(built.discoveryError), hazards: [] };
      const check = compareDeclared(built.files, afterMigrations, built.build, built.durationMs);
      return { check, hazards: declaredSchemaHazards(check, pending, accepted) };
    },
    settled: () =>
      building.then(
        () => {},
        () => {},
      ),
  };
}

async function build(
  config: SupagateConfig,
  production: { url: string; major: number },
  scope: IntrospectOptions,
  productionModel: SchemaModel | undefined,
): Promise<Built> {
  const started = performance.now();
  let files: DeclaredSchemaFiles;
  try {
    files = await discoverDeclaredSchema(config.projectDir);
  } catch (error) {
    if (error instanceof SupagateError) return { discoveryError: error };
    throw error;
  }
  if (files.files.length === 0) return undefined;
  let built: DeclaredBuild;
  try {
    // One phase: its shadow's own (start, copy, files) would interleave with the plan's.
    built = await phase('declared-schema', () =>
      withoutProgress(() => buildDeclaredSchema(config, production, files.files, scope, productionModel)),
    );
  } catch (error) {
    // No shadow for it (no pg_dump, no server): the check is not made; the plan goes on.
    if (!(error instanceof SupagateError)) throw error;
    built = {
      shadow: { source: 'none', serverVersion: 0, warnings: [], standIns: [] },
      failure: {
        stage: 'clone',
        kind: 'environment',
        message: error.message,
        ...(error.hint ? { hint: error.hint } : {}),
      },
    };
  }
  return { files, build: built, durationMs: Math.round(performance.now() - started) };
}
