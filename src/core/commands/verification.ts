import type { SupagateConfig } from '../config.js';
import { loadProjectConfig, type ProjectConfig } from '../config-file.js';
import { diffSchemas } from '../schema/diff.js';
import {
  acceptedLossTables,
  readModel,
  takeVerifySnapshot,
  type VerificationResult,
  type VerifyConfig,
  type VerifySnapshot,
  verifyAfterApply,
} from '../verify/verify.js';
import type { PlanWithModels } from './plan.js';

/**
 * What apply does around the migrations to prove what they did: snapshot counts and RLS
 * probes before, verify after against the plan (gate.ts computes it, on a shadow).
 */
export type VerificationSummary = Omit<VerificationResult, 'model'>;

export interface ApplyVerifier {
  /**
   * After down files ran, with no plan to compare against: what changed is taken as intended,
   * so what fails is rows lost from tables that remain, RLS invariants, probe expectations
   * and verify scripts.
   */
  verifyRollback(before: VerifySnapshot): Promise<VerificationSummary>;
  snapshot(): Promise<VerifySnapshot>;
  verify(
    before: VerifySnapshot,
    planned: PlanWithModels,
    appliedVersions: string[],
  ): Promise<VerificationSummary>;
}

/** The project file (supabase/supagate.yml) merged into the configuration: its accepted hazards count too. */
export async function withProjectFile(
  config: SupagateConfig,
): Promise<{ config: SupagateConfig; file: ProjectConfig }> {
  const file = await loadProjectConfig(config.projectDir);
  return {
    config: { ...config, acceptedHazards: [...config.acceptedHazards, ...file.acceptedHazards] },
    file,
  };
}

/** Rows are being counted (before or after the change): `done` of `total` tables. */
export interface CountProgress {
  phase: 'before' | 'after';
  done: number;
  total: number;
}

/** What verification needs of the configuration and the project file. */
export function verifyConfigOf(config: SupagateConfig, file: ProjectConfig): VerifyConfig {
  return {
    projectDir: config.projectDir,
    apiSchemas: config.apiSchemas,
    acceptedHazards: config.acceptedHazards,
    verify: file.verify,
    ...(config.schemas ? { schemas: config.schemas } : {}),
  };
}

export function createVerifier(
  config: SupagateConfig,
  file: ProjectConfig,
  url: string,
  onProgress?: (progress: CountProgress) => void,
): ApplyVerifier {
  const progress = (phase: CountProgress['phase']) =>
    onProgress ? { onProgress: (done: number, total: number) => onProgress({ phase, done, total }) } : {};
  const verifyConfig = verifyConfigOf(config, file);
  return {
    snapshot: () => takeVerifySnapshot(url, verifyConfig, progress('before')),
    verifyRollback: async (before) => {
      const after = await readModel(url, verifyConfig.schemas);
      const { model: _model, ...summary } = await verifyAfterApply({
        url,
        before,
        plannedChanges: diffSchemas(before.model, after),
        appliedVersions: [],
        config: verifyConfig,
        ...progress('after'),
      });
      return summary;
    },
    verify: async (before, planned, appliedVersions) => {
      const { model: _model, ...summary } = await verifyAfterApply({
        url,
        before,
        ...(planned.after ? { predicted: planned.after } : {}),
        ...(planned.before ? { baseline: planned.before } : {}),
        plannedChanges: planned.result.diff,
        appliedVersions,
        config: verifyConfig,
        acceptedLoss: acceptedLossTables(planned.result.hazards),
        ...progress('after'),
      });
      return summary;
    },
  };
}
