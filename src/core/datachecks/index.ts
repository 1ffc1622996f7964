import type { AcceptedHazard } from '../config.js';
import type { Client } from '../db/connect.js';
import type { Migration } from '../migrations/model.js';
import { ensureParser } from '../migrations/parser.js';
import type { Hazard } from '../schema/findings/hazard.js';
import { Locator } from '../schema/findings/locate.js';
import { PendingStatements } from '../schema/findings/pending.js';
import { withAcceptance } from '../schema/hazards.js';
import { type DeriveInput, deriveDataChecks } from './derive.js';
import { dataCheckHazards } from './hazards.js';
import type { DataCheck } from './model.js';
import { runDataChecks } from './run.js';

export type { DataCheck, DataCheckKind, DataCheckOutcome } from './model.js';

export interface CheckProductionDataOptions {
  timeoutMs: number;
  /** Tables with more rows than this are sampled (see runDataChecks). */
  sampleAboveRows: number;
  /** Primary key values of up to this many rows in the way, per check (0: none). */
  keyValues?: number;
  accepted: AcceptedHazard[];
}

/**
 * The data checks of a plan: derived from what the migrations change, counted on production
 * through `client` (a read-only session), and a blocking hazard for each that finds rows the
 * statement would fail on.
 */
export async function checkProductionData(
  client: Client,
  input: DeriveInput & { pending: Migration[] },
  options: CheckProductionDataOptions,
): Promise<{ checks: DataCheck[]; hazards: Hazard[] }> {
  // CHECK expressions are parsed again (from the shadow's canonical text) to be rebuilt.
  await ensureParser();
  const pending = new PendingStatements(input.pending);
  const specs = deriveDataChecks(input, new Locator(pending));
  const checks = await runDataChecks(client, specs, pending, {
    timeoutMs: options.timeoutMs,
    sampleAboveRows: options.sampleAboveRows,
    ...(options.keyValues ? { keyValues: options.keyValues } : {}),
  });
  return { checks, hazards: withAcceptance(dataCheckHazards(checks), input.pending, options.accepted) };
}
