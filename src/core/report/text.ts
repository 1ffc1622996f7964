import type { BackupsResult } from '../commands/backups.js';
import type { CopyResult } from '../commands/copy.js';
import type { DiffResult } from '../commands/diff.js';
import type { DriftResult } from '../commands/drift.js';
import type { PlanResult } from '../commands/plan.js';
import type { VerifyResult } from '../commands/verify.js';
import { redact } from '../db/redact.js';
import { SupagateError } from '../errors.js';
import type { ObjectChange } from '../schema/changes.js';
import type { LintFinding } from '../schema/lints.js';
import { type NotComparedChange, notComparedCount, notComparedLine } from '../schema/not-compared.js';
import { describeAccess, type TableAccess } from '../schema/rls.js';
import { STAND_IN_ADVICE, type StandInUse } from '../shadow/stand-ins.js';
import { applyText, rollbackText } from './apply-text.js';
import { dataCheckLines } from './data-checks.js';
import { declaredSchemaLines } from './declared-schema.js';
import { attributeLabel, describeLockEstimate, plural, shortValue } from './describe.js';
import { driftWords } from './drift-words.js';
import { fixLines } from './fixes.js';
import { repairText, statusText } from './history-text.js';
import { formatBytes, type PhaseTiming, timingsLine } from './progress.js';
import { indent, renderProblems, table } from './text-blocks.js';

/** Plain-text renderers for the terminal. They render typed results; they never query. */

export function renderError(error: unknown): string {
  if (error instanceof SupagateError) {
    const lines = [`error [${error.code}]: ${redact(error.message)}`];
    if (error.hint) lines.push(`  hint: ${redact(error.hint)}`);
    return lines.join('\n');
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return `error [INTERNAL]: ${redact(message)}\n  hint: this is a bug in supagate; please report it with the command you ran.`;
}

const ACTION_MARK = { added: '+', removed: '-', changed: '~', renamed: '>' } as const;

function changeLines(changes: ObjectChange[], withSql: boolean): string[] {
  const lines: string[] = [];
  for (const change of changes) {
    lines.push(
      `${ACTION_MARK[change.action]} ${change.kind} ${change.id}${change.renamedFrom ? ` (renamed from ${change.renamedFrom})` : ''}`,
    );
    for (const attribute of change.attributes) {
      lines.push(
        `    ${attributeLabel(attribute.attribute)}: ${shortValue(attribute.before)} → ${shortValue(attribute.after)}`,
      );
    }
    for (const member of change.members) {
      const details = member.attributes.map(
        (a) => `${attributeLabel(a.attribute)}: ${shortValue(a.before)} → ${shortValue(a.after)}`,
      );
      lines.push(
        `    ${ACTION_MARK[member.action]} ${member.kind} ${member.name}${member.renamedFrom ? ` (was ${member.renamedFrom})` : ''}${
          member.inheritedFrom?.length ? ` (inherited from ${member.inheritedFrom.join(', ')})` : ''
        }${details.length > 0 ? `  ${details.join('; ')}` : ''}`,
      );
    }
    if (withSql && change.ddl.diff) lines.push(indent(change.ddl.diff, '    │ '));
  }
  return lines;
}

function lintLines(lints: {
  introduced: LintFinding[];
  resolved: LintFinding[];
  existingCount: number;
}): string[] {
  const lines: string[] = [];
  for (const lint of lints.introduced) {
    lines.push(
      `${lint.level.padEnd(5)} ${lint.code}  ${lint.object}: ${lint.message}${lint.location ? `  (${lint.location.path}:${lint.location.line})` : ''}${
        lint.accepted ? `  — accepted: ${lint.accepted.reason}` : ''
      }`,
      `      fix: ${lint.remediation}`,
    );
  }
  for (const lint of lints.resolved) lines.push(`fixed ${lint.code}  ${lint.object}`);
  return lines;
}

function accessLines(access: TableAccess[]): string[] {
  const lines: string[] = [];
  for (const table of access) {
    const changed = table.cells.filter((cell) => cell.changed);
    if (changed.length === 0) continue;
    lines.push(table.table);
    for (const cell of changed) {
      lines.push(
        `    ${cell.role.padEnd(14)} ${cell.command.padEnd(6)} ${describeAccess(cell.before)} → ${describeAccess(cell.after)}`,
      );
    }
  }
  return lines;
}

function section(title: string, lines: string[]): string[] {
  return lines.length === 0
    ? []
    : ['', `${title}:`, ...lines.map((line) => (line.startsWith('    ') ? line : `  ${line}`))];
}

function standInSection(standIns: StandInUse[]): string[] {
  return section(
    `Ran on stand-ins (${STAND_IN_ADVICE})`,
    standIns.map((s) => `${s.name}: cannot predict ${s.cannotPredict}`),
  );
}

/** The user's objects of kinds the model does not represent: one line per kind. */
function notComparedSection(kinds: NotComparedChange[] | undefined, what: string): string[] {
  if (!kinds || kinds.length === 0) return [];
  return section(
    `Not compared (${plural(notComparedCount(kinds), 'object')}: ${what})`,
    kinds.map(notComparedLine),
  );
}

function planText(result: PlanResult): string {
  const lines = [`Target: ${result.target}`, `Plan: ${result.planHash}`];
  if (result.shadow.source !== 'none') lines.push(`Shadow: ${result.shadow.source}`);
  lines.push('');
  if (result.status === 'no-pending') lines.push('No pending migrations: nothing to plan.');
  for (const p of result.pending) {
    lines.push(
      `pending ${p.path}  [${p.mode === 'non-atomic' ? 'not atomic' : 'one transaction'}, ${plural(p.statementCount, 'statement')}]`,
    );
  }
  if (result.failure) {
    lines.push('', `✗ The pending migrations could not be planned: ${result.failure.message}`);
    if (result.failure.hint) lines.push(`  fix: ${result.failure.hint}`);
  }
  lines.push(
    ...section(
      'Hazards',
      result.hazards.flatMap((h) => [
        `${h.accepted ? 'accepted' : h.severity.padEnd(8)} ${h.code}  ${h.message}${h.lock ? `; ${describeLockEstimate(h.lock)}` : ''}${h.location ? `  (${h.location.path}:${h.location.line})` : ''}${
          h.accepted ? `  — ${h.accepted.reason}` : ''
        }`,
        ...fixLines(h),
      ]),
    ),
  );
  lines.push(...section("Production's data (counted read-only)", dataCheckLines(result.dataChecks ?? [])));
  if (result.declaredSchema)
    lines.push(...section('Declared schema (supabase/schemas)', declaredSchemaLines(result.declaredSchema)));
  lines.push(...section('Security lints introduced', lintLines(result.lints)));
  lines.push(...section('RLS access changes', accessLines(result.access)));
  lines.push(
    ...section(`Schema changes (${result.diff.changes.length})`, changeLines(result.diff.changes, true)),
  );
  lines.push(
    ...notComparedSection(result.notCompared, 'kinds supagate does not model; [changed] by the migrations'),
  );
  lines.push(...renderProblems(result.problems));
  lines.push(...standInSection(result.shadow.standIns));
  lines.push(...section('Shadow notes', result.shadow.warnings));
  lines.push(
    '',
    result.failure?.kind === 'environment'
      ? `ERROR (the shadow, not the migrations): ${result.failure.message}${result.failure.hint ? `\n  hint: ${result.failure.hint}` : ''}`
      : result.blocking
        ? `BLOCKING:\n${result.blockingReasons.map((reason) => `  - ${reason}`).join('\n')}`
        : 'Nothing blocking.',
  );
  return lines.join('\n');
}

function diffText(result: DiffResult): string {
  const lines = [`From: ${result.from}`, `To:   ${result.to}`];
  if (result.platform === 'plain')
    lines.push(
      'Neither database is a Supabase project: schemas named like Supabase’s (extensions, auth…) are compared as yours.',
    );
  lines.push('');
  if (result.identical) lines.push('The schemas are identical.');
  lines.push(
    ...section(`Schema changes (${result.diff.changes.length})`, changeLines(result.diff.changes, true)),
  );
  lines.push(...section('Security lints introduced', lintLines(result.lints)));
  lines.push(...section('RLS access changes', accessLines(result.access)));
  lines.push(
    ...notComparedSection(result.notCompared, 'kinds supagate does not model; [changed] from --from'),
  );
  return lines.join('\n');
}

function driftText(result: DriftResult): string {
  const words = driftWords(result);
  const lines = [`Target: ${result.target}`];
  if (result.shadow.source !== 'none') lines.push(`Shadow: ${result.shadow.source}`);
  lines.push(
    `${words.ranFirst} ${plural(result.replayed.length, words.unit)}` +
      (result.pending.length > 0
        ? ` (${plural(result.pending.length, 'pending migration')} not expected yet)`
        : ''),
    '',
  );
  if (result.failure) {
    lines.push(`✗ Drift could not be checked: ${result.failure.message}`);
    if (result.failure.hint) lines.push(`  fix: ${result.failure.hint}`);
  } else if (result.status === 'in-sync') {
    lines.push(`In sync: production is what ${words.expected}.`);
  } else {
    lines.push(`DRIFT: production differs from what ${words.expected}.`);
  }
  lines.push(...section('Applied migrations edited since', result.edited));
  lines.push(...section('Applied in production, no local file', result.missingLocal));
  lines.push(
    ...section(
      `Differences, from ${words.source} to production (${result.diff.changes.length})`,
      changeLines(result.diff.changes, true),
    ),
  );
  lines.push(
    ...notComparedSection(
      result.notCompared,
      'kinds supagate does not model, not checked for drift; [changed]: differs from what the migrations produce',
    ),
  );
  lines.push(...standInSection(result.shadow.standIns));
  lines.push(...section('Shadow notes', result.shadow.warnings));
  return lines.join('\n');
}

function verifyText(result: VerifyResult): string {
  const identities = new Set(result.probes.results.map((p) => p.identity));
  const tables = new Set(result.probes.results.map((p) => p.table));
  const lines = [
    `Target: ${result.target}`,
    '',
    `Verification ${result.ok ? 'passed' : 'FAILED'}: row level security of the API tables, ` +
      `${plural(tables.size, 'table')} probed as ${plural(identities.size, 'identity', 'identities')}, ${plural(result.scripts.length, 'verify script')}.`,
  ];
  for (const failure of result.failures) lines.push(`  ✗ ${failure}`);
  for (const warning of result.warnings) lines.push(`  ! ${warning}`);
  lines.push(
    ...section(
      'What each identity sees',
      result.probes.results.map(
        (p) =>
          `${p.identity.padEnd(16)} ${p.table}: ${p.denied ? 'denied' : p.missing ? 'missing' : p.error ? 'error' : plural(p.visibleRows, 'row')}`,
      ),
    ),
  );
  return lines.join('\n');
}

function backupsText(result: BackupsResult): string {
  if (result.backups.length === 0) return `No backups in the ${result.store} store.`;
  const rows = result.backups.map((b) => [
    b.id,
    b.createdAt,
    b.historyVersion ?? '(none)',
    String(b.verifiedTables.length),
    formatBytes(b.sizeBytes),
    b.encryption === 'none' ? 'no' : b.encryption,
    b.location.location,
  ]);
  const lines = table(['ID', 'CREATED', 'HISTORY BEFORE', 'TABLES', 'SIZE', 'ENCRYPTED', 'LOCATION'], rows);
  for (const key of result.unreadable) lines.push(`! unreadable manifest: ${key}`);
  return lines.join('\n');
}

function storageCopyLines(result: CopyResult): string[] {
  if (!result.storage)
    return ['Storage files were not copied (their rows were): add --storage to copy them.'];
  const lines = [`${result.storage.ok ? '✓' : '✗'} Storage files:`];
  for (const bucket of result.storage.buckets) {
    lines.push(
      `  ${bucket.id}${bucket.created ? ' (created)' : ''}: ${bucket.objects} objects, ${formatBytes(bucket.bytes)}; ${bucket.copied} copied, ${bucket.skipped} already there`,
    );
    for (const mismatch of bucket.mismatches) lines.push(`    ✗ ${mismatch}`);
  }
  return lines;
}

function copyText(result: CopyResult, timings?: PhaseTiming[]): string {
  const bad = result.restore.counts.filter((c) => !c.ok);
  const badRls = result.restore.rls.filter((r) => !r.ok);
  return [
    `From: ${result.from}`,
    `To:   ${result.to}`,
    '',
    `${result.ok ? '✓' : '✗'} Copied ${plural(result.tables, 'table')} (${result.rows.toLocaleString('en-US')} rows)${result.restore.historyRestored ? ' and the migration history' : ''}. ${timingsLine(result.durationMs, timings ?? [])}`,
    `Row counts: ${bad.length === 0 ? 'every table matches the source' : `${bad.length} differ`}; RLS: ${badRls.length === 0 ? 'every table matches' : `${badRls.length} differ`}.`,
    ...bad.map((c) => `  ✗ ${c.table}: ${c.actual} rows, the source has ${c.expected}`),
    ...badRls.map((r) => `  ✗ ${r.table}: ${r.differences.join('; ')}`),
    ...storageCopyLines(result),
  ].join('\n');
}

/** Every report passes through redact before it is printed or posted: the last line of defence. */
function redacted<R, A extends unknown[]>(
  render: (result: R, ...rest: A) => string,
): (result: R, ...rest: A) => string {
  return (result, ...rest) => redact(render(result, ...rest));
}

export const renderStatus = redacted(statusText);
export const renderRepair = redacted(repairText);
export const renderApply = redacted(applyText);
export const renderPlan = redacted(planText);
export const renderDiff = redacted(diffText);
export const renderDrift = redacted(driftText);
export const renderVerify = redacted(verifyText);
export const renderBackups = redacted(backupsText);
export const renderRollback = redacted(rollbackText);
export const renderCopy = redacted(copyText);
