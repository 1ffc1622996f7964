/**
 * supagate as a library: `import { plan, resolveConfig, renderPlanMarkdown } from 'supagate'`.
 *
 * The public API, and only it: the commands (what the CLI and the Action run), the
 * configuration they read, their option and result types, the error type with its stable
 * codes, and the renderers (text, GitHub markdown, JSON). Anything not exported here is
 * internal and may change in any release. Bundled into dist/lib.js (scripts/bundle.mjs); its
 * declarations are built into lib/ by `npm run build` (tsconfig.build.json).
 *
 * ```ts
 * import { plan, resolveConfig, renderPlan } from 'supagate';
 * const result = await plan(resolveConfig({ dbUrl: process.env.DATABASE_URL }));
 * console.log(renderPlan(result));
 * ```
 */

export type { BackupManifest } from './backup/manifest.js';
export type { StorageCopyResult, StorageProject } from './backup/storage-copy.js';
export type { BackupStore } from './backup/stores.js';
export type {
  ApplyContext,
  ApplyHooks,
  ApplyOptions,
  ApplyResult,
  ApplyStatus,
  Recovery,
  VerificationOutcome,
} from './commands/apply.js';
export { apply } from './commands/apply.js';
export type { BackupsResult } from './commands/backups.js';
export { backupsList } from './commands/backups.js';
export type { CacheOptions, CacheResult } from './commands/cache.js';
export { cacheClear, cacheList } from './commands/cache.js';
export type { CopyOptions, CopyResult } from './commands/copy.js';
export { copyDatabase } from './commands/copy.js';
export type { DiffResult } from './commands/diff.js';
export { diffDatabases } from './commands/diff.js';
export type { DriftAgainst, DriftOptions, DriftResult, DriftStatus } from './commands/drift.js';
export { drift } from './commands/drift.js';
export type { PendingSummary, PlanFailure, PlanResult, PlanStatus } from './commands/plan.js';
export { plan } from './commands/plan.js';
export type { RepairOptions, RepairResult, RepairStatus } from './commands/repair.js';
export { repair } from './commands/repair.js';
export type { BackupRollbackOptions, RollbackOptions, RollbackResult } from './commands/rollback.js';
export { rollback, rollbackToBackup } from './commands/rollback.js';
export type { BackupOutcome } from './commands/safety.js';
export type { ShadowFailure, ShadowInfo } from './commands/shadow-run.js';
export type { StatusResult } from './commands/status.js';
export { status } from './commands/status.js';
export type { PlannedMigration, PlannedStatement } from './commands/units.js';
export type { CountProgress, VerificationSummary } from './commands/verification.js';
export type { VerifyResult } from './commands/verify.js';
export { verify } from './commands/verify.js';
export type { AcceptedHazard, AtomicMode, ConfigInput, SupagateConfig } from './config.js';
export { DEFAULTS, resolveConfig } from './config.js';
export type { DeclaredSchemaCheck, DeclaredSchemaStatus } from './declared/check.js';
export type { ErrorCode, ErrorOptions } from './errors.js';
export { isSupagateError, SupagateError } from './errors.js';
export type { AppliedMigration, MigrationFailure, TransactionMode } from './migrations/execute.js';
export type { MigrationState, MigrationStatusEntry, Problem, WarningCode } from './migrations/pending.js';
export type { HistoryMismatch } from './migrations/reconcile.js';
export type { LeftAlone, RepairAction } from './migrations/repair-plan.js';
export type { ProgressEvent, ProgressListener, ProgressPhase } from './progress.js';
export { withProgress } from './progress.js';
export { renderJson, renderJsonError } from './report/json.js';
export type { MarkdownOptions } from './report/markdown.js';
export {
  COMMENT_LIMIT,
  renderApplyMarkdown,
  renderDriftMarkdown,
  renderPlanMarkdown,
  SUMMARY_LIMIT,
} from './report/markdown.js';
export {
  renderApply,
  renderBackups,
  renderCopy,
  renderDiff,
  renderDrift,
  renderError,
  renderPlan,
  renderRepair,
  renderRollback,
  renderStatus,
  renderVerify,
} from './report/text.js';
export type { RestoreResult } from './restore/index.js';
export type { ChangeAction, ObjectChange, ObjectKind, SchemaDiff } from './schema/changes.js';
export type { Hazard, HazardCategory, HazardCode } from './schema/hazards.js';
export type { LintFinding, LintLevel } from './schema/lints.js';
export type { AccessCell, AccessCommand, AccessLevel, TableAccess } from './schema/rls.js';
export { VERSION } from './version.js';
