import type { AcceptedHazard } from '../config.js';
import { defaultVerifySettings, type VerifySettings } from '../config-file.js';
import { connect, disconnect } from '../db/connect.js';
import { SupagateError } from '../errors.js';
import { compareVersions } from '../migrations/files.js';
import type { SchemaDiff } from '../schema/changes.js';
import { diffSchemas } from '../schema/diff.js';
import type { Hazard } from '../schema/hazards.js';
import { introspect } from '../schema/introspect.js';
import type { SchemaModel } from '../schema/model.js';
import { changedAccessTables } from '../schema/rls.js';
import { splitIdentity } from '../sql/identifiers.js';
import {
  type CountComparison,
  type CountMode,
  compareCounts,
  countTables,
  type RowCounts,
} from './counts.js';
import { normalizeTable, tableIdentity } from './identity.js';
import { compareProbes, type ProbeComparison, type ProbeResult, runProbes } from './probes.js';
import { checkRlsInvariants, compareRlsToPrediction, type RlsFinding } from './rls-invariants.js';
import { differenceKey, type SchemaDifference, schemaDifferences } from './schema-check.js';
import { runVerifyScripts, type ScriptResult } from './scripts.js';

/*
 * Verification: proof of what an apply did. takeVerifySnapshot() runs before the migrations
 * (under apply's lock, after the backup), verifyAfterApply() after them:
 *
 * - counts: exact row counts of every table, before and after, each set in one snapshot. A
 *   table that lost rows or vanished fails, unless the plan drops it, its loss is accepted
 *   (an accepted data-loss hazard naming it) or within its tolerance. Application traffic
 *   keeps writing during an apply: give tables the app deletes from a tolerance.
 * - rls: the invariants on production after the apply (an API table without RLS fails; RLS
 *   without policy warns). A violation that already existed before the apply is a warning:
 *   verification judges what the apply did. And RLS flags and policies must be what the plan
 *   predicted.
 * - probes: what each identity sees of each API table, before and after (see probes.ts);
 *   visibility changes are reported, and fail when the plan did not change the table's RLS,
 *   policies or grants and the table's own row changes do not explain them; expectations
 *   are checked on the result.
 * - schema: production after the apply against the plan's prediction, every difference fails;
 *   with `baseline` (the shadow before the migrations), differences that already existed
 *   between the shadow and production before the apply are listed as pre-existing instead.
 * - scripts: the project's verify scripts (see scripts.ts).
 *
 * Verification only reads: counts and probes run in read-only sessions, scripts in
 * transactions that are always rolled back.
 */

/** What verification needs to know about the project. SupagateConfig plus the file's `verify` fits. */
export interface VerifyConfig {
  projectDir: string;
  /** Schemas PostgREST exposes. */
  apiSchemas: string[];
  /** Accepted hazards (config and file): data-loss ones with an object excuse row loss, `visibility-changed` ones a probe change. */
  acceptedHazards?: AcceptedHazard[];
  /** The `verify` section of the project file; defaults for what is missing. */
  verify?: Partial<VerifySettings>;
  /** User schemas (default: every schema Supabase does not manage). */
  schemas?: string[];
}

export interface VerifySnapshot {
  /** ISO 8601. */
  takenAt: string;
  counts: Record<string, number>;
  countMode: CountMode;
  /** Tables whose count is an estimate. */
  estimated: string[];
  /** Tables not counted (no privilege). */
  skipped: RowCounts['skipped'];
  probes: ProbeResult[];
  /** Production's schema model before the apply. */
  model: SchemaModel;
}

export interface SnapshotOptions {
  onProgress?: (done: number, total: number) => void;
}

/** Counts, probes and the schema model of production, before the apply. */
export async function takeVerifySnapshot(
  url: string,
  config: VerifyConfig,
  options: SnapshotOptions = {},
): Promise<VerifySnapshot> {
  const settings = settingsOf(config);
  const takenAt = new Date().toISOString();
  const model = await readModel(url, config.schemas);
  const counts = await countTables(url, {
    mode: settings.countMode,
    concurrency: settings.concurrency,
    ...(config.schemas ? { schemas: config.schemas } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const probes = await runProbes(url, settings.identities, probeTablesOf(model, config, settings));
  return {
    takenAt,
    counts: counts.counts,
    countMode: counts.mode,
    estimated: counts.estimated,
    skipped: counts.skipped,
    probes,
    model,
  };
}

export interface VerifyInput {
  url: string;
  /** Taken before the apply. */
  before: VerifySnapshot;
  /** The plan's prediction of the schema after the apply (the shadow after the migrations). */
  predicted?: SchemaModel;
  /** The shadow before the migrations: differences it already had from production are not the apply's. */
  baseline?: SchemaModel;
  /** The plan's diff (shadow before → after): what it drops, renames, and whose access it changes. */
  plannedChanges?: SchemaDiff;
  /** Versions applied in this run (their verify script folders run). */
  appliedVersions: string[];
  config: VerifyConfig;
  /** Tables whose row loss is accepted (the plan's accepted data-loss hazards: acceptedLossTables()). */
  acceptedLoss?: string[];
  onProgress?: (done: number, total: number) => void;
}

export interface RlsVerification {
  /** Invariants on production after the apply; pre-existing violations are warnings. */
  findings: (RlsFinding & { preExisting?: boolean })[];
  /** RLS flags and policies that differ from the prediction (empty without `predicted`). */
  differences: SchemaDifference[];
}

export interface VerificationResult {
  ok: boolean;
  counts: CountComparison & { mode: CountMode; estimated: string[]; skipped: RowCounts['skipped'] };
  rls: RlsVerification;
  probes: ProbeComparison & { results: ProbeResult[] };
  schema: {
    /** False without a prediction. */
    checked: boolean;
    differences: SchemaDifference[];
    /** Differences the shadow already had from production before the apply (with `baseline`). */
    preExisting: SchemaDifference[];
  };
  scripts: ScriptResult[];
  /** Every failure, in words; empty when ok. */
  failures: string[];
  warnings: string[];
  /** Production's schema model after the apply. */
  model: SchemaModel;
}

export async function verifyAfterApply(input: VerifyInput): Promise<VerificationResult> {
  const { url, before, config } = input;
  const settings = settingsOf(config);
  const accepted = acceptedFor(config.acceptedHazards ?? [], input.appliedVersions);
  const failures: string[] = [];
  const warnings: string[] = [];

  const actual = await readModel(url, config.schemas);
  const planned = plannedFacts(input, actual);

  // Counts.
  const after = await countTables(url, {
    mode: before.countMode,
    concurrency: settings.concurrency,
    ...(config.schemas ? { schemas: config.schemas } : {}),
    ...(input.onProgress ? { onProgress: input.onProgress } : {}),
  });
  const acceptedLoss = [
    ...(input.acceptedLoss ?? []),
    ...accepted.filter((a) => LOSS_CODES.has(a.code) && a.table).map((a) => a.table as string),
    // Dropping a partition loses rows of its parent (partitions are counted with their parent).
    ...planned.drops.flatMap((table) => {
      const parent = before.model.tables[table]?.partitionOf;
      return parent ? [parent] : [];
    }),
  ];
  const countComparison = compareCounts(before.counts, after.counts, {
    expectedDrops: planned.drops,
    acceptedLoss,
    tolerance: settings.countTolerance,
    renames: planned.renames,
  });
  for (const failure of countComparison.failures) failures.push(`counts: ${failure.message}`);
  if (before.countMode === 'estimate')
    warnings.push('counts: row counts are estimates (countMode: estimate); they cannot prove rows were kept');
  for (const skipped of after.skipped)
    warnings.push(`counts: ${skipped.table} not counted (${skipped.reason})`);

  // Schema (first: RLS differences are reported once, under rls).
  let schemaDiffs: SchemaDifference[] = [];
  let preExisting: SchemaDifference[] = [];
  if (input.predicted) {
    const all = schemaDifferences(input.predicted, actual);
    const old = input.baseline
      ? new Set(schemaDifferences(input.baseline, before.model).map(differenceKey))
      : new Set<string>();
    schemaDiffs = all.filter((d) => !old.has(differenceKey(d)));
    preExisting = all.filter((d) => old.has(differenceKey(d)));
  } else {
    warnings.push('schema: no prediction from the plan, so the schema was not compared with it');
  }

  // RLS.
  const rlsOptions = { apiSchemas: config.apiSchemas, allowNoRls: settings.allowNoRls };
  const violatedBefore = new Set(
    checkRlsInvariants(before.model, rlsOptions).map((finding) => `${finding.code} ${finding.table}`),
  );
  const findings = checkRlsInvariants(actual, rlsOptions).map((finding) =>
    finding.level === 'failure' && violatedBefore.has(`${finding.code} ${finding.table}`)
      ? { ...finding, level: 'warning' as const, preExisting: true }
      : finding,
  );
  for (const finding of findings) {
    if (finding.level === 'failure') failures.push(`rls: ${finding.message}`);
    else
      warnings.push(
        `rls: ${finding.message}${'preExisting' in finding ? ' (already so before this apply)' : ''}`,
      );
  }
  const schemaKeys = new Set(schemaDiffs.map(differenceKey));
  const rlsDifferences = input.predicted
    ? compareRlsToPrediction(actual, input.predicted).filter((d) => schemaKeys.has(differenceKey(d)))
    : [];
  for (const difference of rlsDifferences) failures.push(`rls: ${difference.message}`);
  const rlsKeys = new Set(rlsDifferences.map(differenceKey));
  for (const difference of schemaDiffs)
    if (!rlsKeys.has(differenceKey(difference))) failures.push(`schema: ${difference.message}`);

  // Probes.
  const probeTables = new Set([
    ...before.probes.map((p) => planned.renamedTo.get(p.table) ?? p.table),
    ...probeTablesOf(actual, config, settings),
  ]);
  const probeResults = await runProbes(url, settings.identities, [...probeTables].sort(compareText));
  const rowDeltas: Record<string, number> = {};
  for (const table of countComparison.tables) if (table.delta !== null) rowDeltas[table.table] = table.delta;
  const probeComparison = compareProbes(before.probes, probeResults, {
    tablesWithPolicyChanges: planned.accessChanged,
    expectations: settings.expectations,
    rowDeltas,
    acceptedTables: accepted
      .filter((a) => a.code === 'visibility-changed' && a.table)
      .map((a) => a.table as string),
    renames: planned.renames,
  });
  for (const failure of probeComparison.failures) failures.push(`probes: ${failure.message}`);
  for (const change of probeComparison.changes) {
    if (change.planned || change.explainedByData || change.accepted) {
      warnings.push(
        `probes: ${change.identity} saw ${change.before} of ${change.table} before and ${change.after} after (${
          change.planned ? 'the plan changes its access' : change.accepted ? 'accepted' : 'its rows changed'
        })`,
      );
    }
  }

  // Scripts.
  const scripts = await runVerifyScripts(url, {
    projectDir: config.projectDir,
    dir: settings.scriptsDir,
    appliedVersions: input.appliedVersions,
  });
  for (const script of scripts.results)
    if (script.status === 'failed') failures.push(`scripts: ${script.message}`);
  for (const folder of scripts.ignored)
    warnings.push(`scripts: ${folder} is not a migration version folder; its scripts never run`);

  return {
    ok: failures.length === 0,
    counts: { ...countComparison, mode: after.mode, estimated: after.estimated, skipped: after.skipped },
    rls: { findings, differences: rlsDifferences },
    probes: { ...probeComparison, results: probeResults },
    schema: { checked: input.predicted !== undefined, differences: schemaDiffs, preExisting },
    scripts: scripts.results,
    failures,
    warnings,
    model: actual,
  };
}

/**
 * Production as it is now, with no apply to compare with (supagate verify): the RLS invariants,
 * what each probe identity sees against the expectations of supagate.yml, and the verify
 * scripts that always run (`supabase/verify/*.sql`; a version's folder belongs to its apply).
 * Only reads.
 */
export interface ProductionCheck {
  ok: boolean;
  rls: RlsFinding[];
  probes: { results: ProbeResult[]; failures: ProbeComparison['failures'] };
  scripts: ScriptResult[];
  failures: string[];
  warnings: string[];
}

export async function checkProduction(url: string, config: VerifyConfig): Promise<ProductionCheck> {
  const settings = settingsOf(config);
  const failures: string[] = [];
  const warnings: string[] = [];
  const model = await readModel(url, config.schemas);
  const rls = checkRlsInvariants(model, { apiSchemas: config.apiSchemas, allowNoRls: settings.allowNoRls });
  for (const finding of rls)
    (finding.level === 'failure' ? failures : warnings).push(`rls: ${finding.message}`);
  const results = await runProbes(url, settings.identities, probeTablesOf(model, config, settings));
  const { failures: probeFailures } = compareProbes(results, results, {
    tablesWithPolicyChanges: [],
    expectations: settings.expectations,
  });
  for (const failure of probeFailures) failures.push(`probes: ${failure.message}`);
  for (const result of results.filter((r) => r.error))
    warnings.push(`probes: ${result.identity} on ${result.table}: ${result.error}`);
  const scripts = await runVerifyScripts(url, {
    projectDir: config.projectDir,
    dir: settings.scriptsDir,
    appliedVersions: [],
  });
  for (const script of scripts.results)
    if (script.status === 'failed') failures.push(`scripts: ${script.message}`);
  return {
    ok: failures.length === 0,
    rls,
    probes: { results, failures: probeFailures },
    scripts: scripts.results,
    failures,
    warnings,
  };
}

/** A failed verification as the error apply's afterApply hook throws. */
export function verificationError(result: VerificationResult): SupagateError {
  const shown = result.failures.slice(0, 10);
  const more = result.failures.length - shown.length;
  return new SupagateError(
    'VERIFY_FAILED',
    `Verification after apply failed:\n${shown.map((f) => `- ${f}`).join('\n')}${more > 0 ? `\n- … and ${more} more` : ''}`,
    {
      hint: 'The migrations are applied. Check the failures; roll back (supagate rollback) if the data or access is wrong.',
      details: { failures: result.failures },
    },
  );
}

/** Row-losing hazard codes whose acceptance excuses a table's lost rows. */
const LOSS_CODES = new Set(['data-loss', 'drop-table', 'truncate', 'delete-without-where']);

/** The tables whose accepted hazards of the plan lose rows: pass as `acceptedLoss`. */
export function acceptedLossTables(hazards: Hazard[]): string[] {
  return hazards
    .filter((h) => h.accepted && h.object && LOSS_CODES.has(h.code))
    .map((h) => tableIdentity(h.object as string))
    .filter((table): table is string => table !== null);
}

/** Accepted hazards that apply to this run, with the table their object names (if it names one). */
function acceptedFor(
  hazards: AcceptedHazard[],
  appliedVersions: string[],
): { code: string; table: string | null }[] {
  return hazards
    .filter((h) => !h.version || appliedVersions.some((v) => compareVersions(v, h.version as string) === 0))
    .map((h) => {
      const parts = h.object ? splitIdentity(h.object) : [];
      return { code: h.code, table: parts.length === 2 && h.object ? tableIdentity(h.object) : null };
    });
}

interface PlannedFacts {
  drops: string[];
  /** New identity → old identity. */
  renames: Record<string, string>;
  /** Old identity → new identity. */
  renamedTo: Map<string, string>;
  /** Tables whose RLS, policies, grants or owner the plan changes. */
  accessChanged: string[];
}

/**
 * What the plan changes, from its diff; without one, from the prediction against production
 * before; without either, nothing is planned and access changes are the actual ones.
 */
function plannedFacts(input: VerifyInput, actual: SchemaModel): PlannedFacts {
  const facts: PlannedFacts = { drops: [], renames: {}, renamedTo: new Map(), accessChanged: [] };
  const diff =
    input.plannedChanges ?? (input.predicted ? diffSchemas(input.before.model, input.predicted) : undefined);
  if (!diff) {
    facts.accessChanged = changedAccessTables(input.before.model, actual);
    return facts;
  }
  const access = new Set<string>();
  for (const change of diff.changes) {
    if (change.kind !== 'table') continue;
    if (change.action === 'removed') facts.drops.push(change.id);
    if (change.action === 'renamed' && change.renamedFrom) {
      facts.renames[change.id] = change.renamedFrom;
      facts.renamedTo.set(change.renamedFrom, change.id);
    }
    const changesAccess =
      change.action !== 'changed' ||
      change.attributes.some((a) => ACCESS_ATTRIBUTES.has(a.attribute)) ||
      change.members.some(
        (m) =>
          m.kind === 'policy' || (m.kind === 'column' && m.attributes.some((a) => a.attribute === 'grants')),
      );
    if (changesAccess) {
      access.add(change.id);
      if (change.renamedFrom) access.add(change.renamedFrom);
    }
  }
  facts.accessChanged = [...access].sort(compareText);
  return facts;
}

const ACCESS_ATTRIBUTES = new Set(['rlsEnabled', 'rlsForced', 'grants', 'owner']);

function settingsOf(config: VerifyConfig): VerifySettings {
  const defaults = defaultVerifySettings();
  const given = config.verify ?? {};
  const settings: VerifySettings = { ...defaults };
  for (const key of Object.keys(given) as (keyof VerifySettings)[]) {
    if (given[key] !== undefined) (settings as unknown as Record<string, unknown>)[key] = given[key];
  }
  return settings;
}

/** The configured probe tables, or every table of the API schemas; plus every expectation's table. */
function probeTablesOf(model: SchemaModel, config: VerifyConfig, settings: VerifySettings): string[] {
  const api = new Set(config.apiSchemas);
  const tables = new Set(
    settings.probeTables?.map(normalizeTable) ??
      Object.entries(model.tables)
        .filter(([, table]) => !table.managed && api.has(table.schema))
        .map(([id]) => id),
  );
  for (const expectation of settings.expectations) tables.add(normalizeTable(expectation.table));
  return [...tables].sort(compareText);
}

export async function readModel(url: string, schemas: string[] | undefined): Promise<SchemaModel> {
  const connection = await connect(url, { readOnly: true, applicationName: 'supagate verify (schema)' });
  try {
    return await introspect(connection.client, schemas ? { schemas } : {});
  } finally {
    await disconnect(connection);
  }
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
