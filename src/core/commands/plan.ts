import { createHash } from 'node:crypto';
import type { AcceptedHazard, SupagateConfig } from '../config.js';
import { loadProjectConfig } from '../config-file.js';
import { checkProductionData, type DataCheck } from '../datachecks/index.js';
import { type Connection, connect, disconnect } from '../db/connect.js';
import { lookForPgTools } from '../db/pgtools.js';
import type { ShadowDatabase } from '../db/shadow.js';
import { standInsOffered } from '../db/stand-ins/index.js';
import type { DeclaredSchemaCheck } from '../declared/check.js';
import { SupagateError } from '../errors.js';
import { type TransactionMode, transactionModeOf } from '../migrations/execute.js';
import { type MigrationFiles, parseMigrations, readMigrationFiles } from '../migrations/files.js';
import { readHistory } from '../migrations/history.js';
import type { Migration } from '../migrations/model.js';
import { ensureParser } from '../migrations/parser.js';
import { computeStatus, type Problem } from '../migrations/pending.js';
import { phase } from '../progress.js';
import type { SchemaDiff } from '../schema/changes.js';
import { diffSchemas } from '../schema/diff.js';
import { unknownAllowCodes } from '../schema/findings/accept.js';
import { locateAndAcceptLints } from '../schema/findings/lint-locations.js';
import { findHazards, type Hazard } from '../schema/hazards.js';
import { introspect } from '../schema/introspect.js';
import { introducedLints, type LintFinding } from '../schema/lints.js';
import type { SchemaModel } from '../schema/model.js';
import { type NotComparedChange, notCompared, notComparedChanges } from '../schema/not-compared.js';
import { renameHints } from '../schema/renames.js';
import { accessMatrix, type TableAccess } from '../schema/rls.js';
import { standInsUsed } from '../shadow/stand-ins.js';
import { discoveryOptions, requireDbUrl } from './load.js';
import { type DeclaredRun, startDeclaredCheck } from './plan-declared.js';
import { planGate } from './plan-gate.js';
import {
  baselineOptions,
  earlyStart,
  type PlanRun,
  ProductionReading,
  scopeOf,
  withStats,
} from './plan-shadow.js';
import {
  applyToShadow,
  connectProductionReadOnly,
  prepareShadow,
  readShadowAfterMigrations,
  type ShadowFailure,
  type ShadowInfo,
  serverMajorOf,
  shadowCreator,
} from './shadow-run.js';

/**
 * plan: what exactly the pending migrations will do to production. Production is only read
 * (read-only session, short statement_timeout); the migrations run in a shadow database that
 * holds a schema-only copy of production, and the diff is shadow-before vs shadow-after.
 */
export interface PendingSummary {
  version: string;
  name: string;
  path: string;
  checksum: string;
  mode: TransactionMode;
  statementCount: number;
  hasRollback: boolean;
}

export type PlanStatus = 'no-pending' | 'planned' | 'failed' | 'history-problem';

/** Why the migrations could not be planned: a file that does not parse, a clone or a migration that fails. */
export type PlanFailure = ShadowFailure;

export interface PlanResult {
  command: 'plan';
  status: PlanStatus;
  target: string;
  /** sha256 over the pending migrations' checksums and production's schema fingerprint. */
  planHash: string;
  /** sha256 of production's schema model: changes when production changes underneath a plan. */
  productionFingerprint: string;
  /** True when something must be fixed or accepted before applying (exit code 3). */
  blocking: boolean;
  blockingReasons: string[];
  pending: PendingSummary[];
  problems: Problem[];
  diff: SchemaDiff;
  hazards: Hazard[];
  lints: { introduced: LintFinding[]; resolved: LintFinding[]; existingCount: number };
  access: TableAccess[];
  /**
   * The user's objects of kinds the model does not represent (collations, operators, foreign
   * tables…): the shadow's after the migrations, each kind marked when the migrations changed
   * it. Empty unless planned; absent in results made before it existed.
   */
  notCompared?: NotComparedChange[];
  /**
   * What production's rows say of the statements that depend on them (data checks); empty
   * unless planned; absent in results made before it existed.
   */
  dataChecks?: DataCheck[];
  /**
   * The declared schema files (supabase/schemas) built on a fresh Supabase shadow, compared
   * with production after the pending migrations (with none pending: with production). Absent
   * when the project has none, the check is off, the plan failed or the history needs
   * attention (and in results made before it existed).
   */
  declaredSchema?: DeclaredSchemaCheck;
  shadow: ShadowInfo;
  failure?: PlanFailure;
  durationMs: number;
}

/** The plan with the two models it compared: the shadow before and after the migrations. */
export interface PlanWithModels {
  result: PlanResult;
  before?: SchemaModel;
  after?: SchemaModel;
}

export async function plan(config: SupagateConfig): Promise<PlanResult> {
  return (await planWithModels(config)).result;
}

const FILE_ERRORS = new Set([
  'MIGRATION_FILE_INVALID',
  'MIGRATION_DUPLICATE_VERSION',
  'MIGRATION_PARSE_ERROR',
  'MIGRATION_TRANSACTION_CONTROL',
]);

export async function planWithModels(config: SupagateConfig): Promise<PlanWithModels> {
  const started = performance.now();
  const url = requireDbUrl(config);
  const create = shadowCreator(config, url);
  const early = earlyStart(config, url, create);
  // A plan that clones production needs them: found while the files are read.
  lookForPgTools([
    ...(config.pgDumpPath ? [] : (['pg_dump'] as const)),
    ...(config.pgRestorePath ? [] : (['pg_restore'] as const)),
  ]);
  // The SQL parser compiles meanwhile too; a failure to load shows where the files are parsed.
  ensureParser().catch(() => {});
  try {
    return await planFrom(config, { url, started, create, ...(early ? { early } : {}) });
  } finally {
    await early?.discard();
  }
}

async function planFrom(config: SupagateConfig, run: PlanRun): Promise<PlanWithModels> {
  const { url, started } = run;
  let files: MigrationFiles;
  try {
    files = await readMigrationFiles(discoveryOptions(config));
  } catch (error) {
    if (!(error instanceof SupagateError) || !FILE_ERRORS.has(error.code)) throw error;
    return { result: filesFailure(error, started) };
  }
  const accepted = await acceptedFindingsOf(config);
  let production: Connection | undefined;
  let shadow: ShadowDatabase | undefined;
  let declared: DeclaredRun | undefined;
  try {
    production = await connectProductionReadOnly(url, 'plan');
    const history = await readHistory(production.client);
    const applied = new Set(history.rows.map((row) => row.version));
    // The files production has applied are only compared with its history: not parsed.
    const discovered = await parseMigrations(files, (file) => !applied.has(file.version));
    const status = computeStatus(discovered.migrations, history, discovered.warnings, config);
    const problems = [...status.problems, ...allowCommentProblems(status.pending)];
    const serverMajor = await serverMajorOf(production);
    const scope = scopeOf(config);
    const reading = new ProductionReading(introspect(production.client, scope));
    if (!status.ok || status.pending.length === 0) {
      const base = emptyResult(
        production.target.label,
        status.pending,
        status.problems,
        await reading.fingerprint(),
        started,
      );
      const invalid = status.pending.find((migration) => migration.invalid);
      if (invalid) return { result: finish({ ...base, status: 'failed', failure: fileFailure(invalid) }) };
      if (!status.ok) return { result: finish({ ...base, status: 'history-problem' }) };
      // Nothing pending: the schema files must say what production is (a schema changed
      // without its migration shows here).
      const productionModel = await reading.model();
      declared = startDeclaredCheck(config, { url, major: serverMajor }, scope, productionModel);
      const declaredSchema = await declared.compare(productionModel, [], accepted);
      return {
        result: finish({
          ...base,
          status: 'no-pending',
          hazards: declaredSchema.hazards,
          ...(declaredSchema.check ? { declaredSchema: declaredSchema.check } : {}),
        }),
      };
    }

    // The declared schema is built on a shadow of its own meanwhile.
    declared = startDeclaredCheck(config, { url, major: serverMajor }, scope);
    // Production is read while the shadow is prepared (with the shadow cache: started from the
    // target's last baseline, kept if production's schema turns out unchanged).
    const [read, preparing] = await Promise.allSettled([
      reading.settled(),
      prepareShadow(
        config,
        url,
        serverMajor,
        'full',
        baselineOptions(config, run, reading.model()),
        run.create,
      ),
    ]);
    if (preparing.status === 'fulfilled') shadow = preparing.value.shadow;
    if (read.status === 'rejected') throw read.reason;
    if (preparing.status === 'rejected') throw preparing.reason;
    const prepared = preparing.value;
    const shadowInfo = prepared.info;
    const base = emptyResult(
      production.target.label,
      status.pending,
      problems,
      await reading.fingerprint(),
      started,
    );
    const productionStats = await reading.stats();
    if (prepared.cloneError || !shadow) {
      return {
        result: finish({
          ...base,
          status: 'failed',
          shadow: shadowInfo,
          failure: {
            stage: 'clone',
            kind: 'environment',
            message: prepared.cloneError?.message ?? 'no shadow database',
            ...(prepared.cloneError?.hint ? { hint: prepared.cloneError.hint } : {}),
          },
        }),
      };
    }

    const shadowConnection = await connect(shadow.url, { applicationName: 'supagate plan (shadow)' });
    try {
      const offered = await standInsOffered(shadowConnection.client);
      const before = withStats(
        prepared.before ?? (await introspect(shadowConnection.client, scope)),
        productionStats,
      );
      const uncomparedBefore = await notCompared(shadowConnection.client, scope);
      const drift = await reading.drift(before, offered);
      if (drift) shadowInfo.warnings.push(drift);
      // Past the drift check only production's size estimates are needed (productionStats).
      reading.release();
      const failure = await phase('shadow-migrations', () =>
        applyToShadow(
          { shadow: shadow as ShadowDatabase, connection: shadowConnection, info: shadowInfo },
          status.pending,
          config,
          () => PLAN_SHADOW_HINT,
        ),
      );
      if (failure) {
        // No after-model to diff, but what the statements themselves do (TRUNCATE, COPY …
        // PROGRAM, ALTER ROLE…) is known from their trees: show it beside the failure.
        const hazards = findHazards(
          { pending: status.pending, before, after: before, diff: { changes: [] }, access: [] },
          { largeTableRows: config.largeTableRows, accepted, apiSchemas: config.apiSchemas },
        );
        return {
          result: finish({ ...base, status: 'failed', shadow: shadowInfo, failure, hazards }),
          before,
        };
      }
      const read = await readShadowAfterMigrations(shadowConnection, scope);
      if ('failure' in read)
        return {
          result: finish({ ...base, status: 'failed', shadow: shadowInfo, failure: read.failure }),
          before,
        };
      shadowInfo.standIns = standInsUsed(read.model, offered);
      const after = withStats(read.model, productionStats);
      const uncompared = notComparedChanges(
        uncomparedBefore,
        await notCompared(shadowConnection.client, scope),
      );
      const hints = renameHints(status.pending.flatMap((migration) => migration.statements));
      const diff = diffSchemas(before, after, hints);
      const access = accessMatrix(before, after, {
        roles: ['anon', 'authenticated', 'service_role', ...config.extraRoles],
      });
      const lints = introducedLints(before, after, { apiSchemas: config.apiSchemas });
      const hazards = findHazards(
        { pending: status.pending, before, after, diff, access },
        { largeTableRows: config.largeTableRows, accepted, apiSchemas: config.apiSchemas },
      );
      const data =
        config.dataChecks === 'on'
          ? await phase('data-checks', () =>
              checkProductionData(
                (production as Connection).client,
                { before, after, diff, pending: status.pending },
                {
                  timeoutMs: config.dataCheckTimeoutMs,
                  sampleAboveRows: config.dataCheckSampleAboveRows,
                  keyValues: config.dataCheckKeyValues,
                  accepted,
                },
              ),
            )
          : { checks: [], hazards: [] };
      const declaredSchema = await declared.compare(after, status.pending, accepted);
      const result = finish({
        ...base,
        status: 'planned',
        shadow: shadowInfo,
        diff,
        hazards: [...hazards, ...data.hazards, ...declaredSchema.hazards],
        dataChecks: data.checks,
        ...(declaredSchema.check ? { declaredSchema: declaredSchema.check } : {}),
        access,
        notCompared: uncompared,
        lints: {
          introduced: locateAndAcceptLints(lints.introduced, status.pending, after, accepted),
          resolved: lints.resolved,
          existingCount: lints.existing.length,
        },
      });
      return { result, before, after };
    } finally {
      await disconnect(shadowConnection);
    }
  } finally {
    await disconnect(production);
    await shadow?.dispose();
    await declared?.settled();
  }

  function finish(result: PlanResult): PlanResult {
    const gate = planGate(result);
    return {
      ...result,
      blocking: gate.blocking,
      blockingReasons: gate.reasons,
      durationMs: Math.round(performance.now() - started),
    };
  }
}

/** A migration file that cannot be read or parsed: the plan fails before reading production. */
function filesFailure(error: SupagateError, started: number): PlanResult {
  const file = typeof error.details.file === 'string' ? error.details.file : undefined;
  const line = typeof error.details.line === 'number' ? error.details.line : undefined;
  return {
    ...emptyResult('', [], [], '', started),
    status: 'failed',
    blocking: true,
    blockingReasons: [error.message],
    failure: {
      stage: 'files',
      kind: 'migration',
      message: error.message,
      ...(error.hint ? { hint: error.hint } : {}),
      ...(file ? { file } : {}),
      ...(line ? { line } : {}),
    },
  };
}

/** The first pending file that cannot run; the problems list every one. */
function fileFailure(migration: Migration): PlanFailure {
  const invalid = migration.invalid as NonNullable<Migration['invalid']>;
  return {
    stage: 'files',
    kind: 'migration',
    message: invalid.message,
    ...(invalid.hint ? { hint: invalid.hint } : {}),
    file: migration.path,
    ...(invalid.line ? { line: invalid.line } : {}),
  };
}

/**
 * What accepts findings: the configuration's acceptedHazards and the project file's
 * (supabase/supagate.yml), whose codes config-file.ts has checked. The tables its
 * verify.allowNoRls lets go without RLS are accepted for rls_disabled_in_public too, so the
 * gate does not block what verification after apply allows.
 */
async function acceptedFindingsOf(config: SupagateConfig): Promise<AcceptedHazard[]> {
  const file = await loadProjectConfig(config.projectDir);
  const noRls = file.verify.allowNoRls.map(
    (table): AcceptedHazard => ({
      code: 'rls_disabled_in_public',
      object: table,
      reason: `verify.allowNoRls in ${file.path}`,
    }),
  );
  const seen = new Set<string>();
  return [...config.acceptedHazards, ...file.acceptedHazards, ...noRls].filter((entry) => {
    const key = JSON.stringify([entry.code, entry.version, entry.object, entry.reason]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** An allow comment naming no known code accepts nothing: a typo that must not pass unnoticed. */
function allowCommentProblems(pending: Migration[]): Problem[] {
  return unknownAllowCodes(pending).map((unknown) => ({
    severity: 'error',
    code: 'CONFIG_INVALID',
    message: `${unknown.path}:${unknown.line}: \`-- supagate:allow ${unknown.code}\` names no hazard or lint code or category${
      unknown.nearest.length > 0 ? ` (did you mean ${unknown.nearest.join(', ')}?)` : ''
    }`,
    hint: 'Write the code of the finding to accept (as the plan reports it) or its category, e.g. `-- supagate:allow drop-column: <why>`.',
    path: unknown.path,
    version: unknown.version,
  }));
}

const PLAN_SHADOW_HINT =
  'The migration fails on a copy of production’s schema, so it would fail in production too. Fix it and push again.';

export function planHashOf(
  pending: { version: string; checksum: string }[],
  productionFingerprint: string,
): string {
  const hash = createHash('sha256');
  for (const migration of pending) hash.update(`${migration.version}:${migration.checksum}\n`);
  hash.update(`production:${productionFingerprint}`);
  return hash.digest('hex');
}

function emptyResult(
  target: string,
  pending: Migration[],
  problems: Problem[],
  productionFingerprint: string,
  started: number,
): PlanResult {
  return {
    command: 'plan',
    status: 'planned',
    target,
    planHash: planHashOf(pending, productionFingerprint),
    productionFingerprint,
    blocking: false,
    blockingReasons: [],
    pending: pending.map((migration) => ({
      version: migration.version,
      name: migration.name,
      path: migration.path,
      checksum: migration.checksum,
      mode: transactionModeOf(migration),
      statementCount: migration.statements.length,
      hasRollback: migration.rollback !== undefined,
    })),
    problems,
    diff: { changes: [] },
    hazards: [],
    lints: { introduced: [], resolved: [], existingCount: 0 },
    access: [],
    notCompared: [],
    dataChecks: [],
    shadow: { source: 'none', serverVersion: 0, warnings: [], standIns: [] },
    durationMs: Math.round(performance.now() - started),
  };
}
