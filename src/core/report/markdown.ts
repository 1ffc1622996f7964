import type { ApplyResult } from '../commands/apply.js';
import type { DriftResult } from '../commands/drift.js';
import type { PlanResult } from '../commands/plan.js';
import { reasonWithoutHowToAccept } from '../commands/plan-gate.js';
import type { ShadowFailure } from '../commands/shadow-run.js';
import type { ObjectChange } from '../schema/changes.js';
import type { Hazard } from '../schema/hazards.js';
import { describeAccess, type TableAccess } from '../schema/rls.js';
import { STAND_IN_ADVICE, type StandInUse } from '../shadow/stand-ins.js';
import { plural, shortValue } from './describe.js';
import { code, codeBlock, inline, safeUrl } from './escape.js';
import { renderApply } from './text.js';

/**
 * The plan as GitHub markdown: the PR comment (≤ 65,536 characters) and the job summary.
 * When the whole report does not fit it degrades on purpose, most detailed parts first:
 * per-object SQL diffs are cut, then the list of changed objects, and it says where the
 * full report is.
 */
export const COMMENT_LIMIT = 65_536;
export const SUMMARY_LIMIT = 1_000_000;

export interface MarkdownOptions {
  /** Characters at most (GitHub: 65,536 for a comment). */
  limit?: number;
  /** Where the untrimmed report is (the run's job summary or artifact). */
  fullReportUrl?: string;
  /** Prepended verbatim (the sticky comment's hidden marker). */
  header?: string;
}

interface Budget {
  /** Lines of SQL diff per object; 0 hides them. */
  diffLines: number;
  /** Objects listed in the schema changes section. */
  objects: number;
  /** Rows of the RLS access section. */
  accessTables: number;
}

const BUDGETS: Budget[] = [
  {
    diffLines: Number.POSITIVE_INFINITY,
    objects: Number.POSITIVE_INFINITY,
    accessTables: Number.POSITIVE_INFINITY,
  },
  { diffLines: 200, objects: 2_000, accessTables: 200 },
  { diffLines: 40, objects: 500, accessTables: 100 },
  { diffLines: 10, objects: 200, accessTables: 50 },
  { diffLines: 0, objects: 100, accessTables: 25 },
  { diffLines: 0, objects: 25, accessTables: 10 },
];

export function renderPlanMarkdown(result: PlanResult, options: MarkdownOptions = {}): string {
  return fitToLimit((budget, trimmed) => render(result, budget, options, trimmed), options);
}

/**
 * The most detailed rendering that fits the limit; at worst the head of the smallest one,
 * cut at a line, with the pointer to the full report kept.
 */
function fitToLimit(
  renderAt: (budget: Budget, trimmed: boolean) => string,
  options: MarkdownOptions,
): string {
  const limit = options.limit ?? COMMENT_LIMIT;
  for (const [index, budget] of BUDGETS.entries()) {
    const text = renderAt(budget, index > 0);
    if (text.length <= limit) return text;
  }
  const smallest = renderAt(BUDGETS[BUDGETS.length - 1] as Budget, true);
  const note = `\n\n${trimmedNote(options)}\n`;
  const cut = smallest.slice(0, limit - note.length);
  return `${cut.slice(0, cut.lastIndexOf('\n'))}${note}`;
}

/** An apply as a comment on the merged pull request: the verdict, then the text report. */
export function renderApplyMarkdown(result: ApplyResult, options: MarkdownOptions = {}): string {
  if (result.status === 'blocked') return blockedApplyMarkdown(result, options);
  return renderResultMarkdown(applyVerdict(result), renderApply(result), options);
}

/** A refused apply as a list a reviewer can act on, like the plan comment's verdict. */
function blockedApplyMarkdown(result: ApplyResult, options: MarkdownOptions): string {
  const reasons = result.blockingReasons
    .slice(0, 20)
    .map((reason) => `- ${inline(reasonWithoutHowToAccept(reason))}`);
  if (result.blockingReasons.length > 20) reasons.push(`- … and ${result.blockingReasons.length - 20} more`);
  const url = safeUrl(options.fullReportUrl);
  return `${[
    ...(options.header ? [options.header] : []),
    `### ${applyVerdict(result)}`,
    `Target: ${inline(result.target)}. No backup was taken. Fix the migration in a new pull request, or accept a finding with \`-- supagate:allow <code>: <reason>\` in the migration that causes it (or under \`acceptedHazards\` in supabase/supagate.yml):`,
    reasons.join('\n'),
    ...(url ? [`[The run](${url})`] : []),
  ].join('\n\n')}\n`;
}

function applyVerdict(result: ApplyResult): string {
  const migrations = plural(result.applied.length, 'migration');
  switch (result.status) {
    case 'applied':
      return `✅ supagate applied ${migrations}${result.verification.status === 'passed' ? ', verified' : ''}`;
    case 'verify-failed':
      return `⚠️ supagate applied ${migrations}, and verification FAILED`;
    case 'failed':
      return `⛔ supagate apply failed after ${migrations}`;
    case 'blocked':
      return '⛔ supagate apply refused: the plan blocks, nothing was changed';
    default:
      return `supagate apply: ${result.status}`;
  }
}

/**
 * A one-line verdict, then a text report in a code block. The report is cut at a line when it
 * would not fit; the run link leads to the rest.
 */
function renderResultMarkdown(verdictLine: string, report: string, options: MarkdownOptions = {}): string {
  const limit = options.limit ?? COMMENT_LIMIT;
  const url = safeUrl(options.fullReportUrl);
  const head = [...(options.header ? [options.header] : []), `### ${verdictLine}`].join('\n\n');
  const foot = url ? `[The run](${url})` : '';
  const room = limit - head.length - foot.length - 200;
  const shown = report.length <= room ? report : `${report.slice(0, report.lastIndexOf('\n', room))}\n…`;
  return `${[head, codeBlock(shown, 'text'), foot].filter(Boolean).join('\n\n')}\n`;
}

/** Drift as GitHub markdown: the drift issue's body and the job summary. */
export function renderDriftMarkdown(result: DriftResult, options: MarkdownOptions = {}): string {
  return fitToLimit((budget, trimmed) => {
    const parts: string[] = [];
    if (options.header) parts.push(options.header);
    const heading = {
      'in-sync': '### supagate drift: production is what its migrations produce',
      drifted: `### supagate drift: production differs from its migrations (${plural(result.diff.changes.length, 'object')})`,
      failed: '### supagate drift: could not be checked',
    }[result.status];
    parts.push(heading);
    parts.push(
      `Target: ${inline(result.target)} · ${plural(result.replayed.length, 'applied migration')} replayed` +
        (result.pending.length > 0
          ? ` · ${plural(result.pending.length, 'pending migration')} not expected yet`
          : '') +
        (result.shadow.source !== 'none'
          ? ` · shadow: ${result.shadow.source} (PostgreSQL ${pgVersion(result.shadow.serverVersion)})`
          : ''),
    );
    if (result.status === 'drifted') {
      parts.push(
        'Something changed production outside the migrations (the dashboard, SQL run by hand), or a migration was edited after it ran. ' +
          'Capture each difference in a new migration, or undo it in production.',
      );
    }
    if (trimmed) parts.push(`> [!NOTE]\n> ${trimmedNote(options)}`);
    if (result.failure)
      parts.push(failureBlock(result.failure, '#### ⛔ An applied migration fails when replayed'));
    if (result.edited.length > 0)
      parts.push(
        `#### Applied migrations edited since they ran\n${result.edited.map((v) => `- ${code(v)}`).join('\n')}`,
      );
    if (result.missingLocal.length > 0)
      parts.push(
        `#### Applied in production, no local file\n${result.missingLocal.map((v) => `- ${code(v)}`).join('\n')}`,
      );
    if (result.diff.changes.length > 0)
      parts.push(
        changesSection(result.diff.changes, budget, 'Differences, from the migrations to production'),
      );
    if (result.shadow.standIns.length > 0) parts.push(standInNote(result.shadow.standIns));
    if (result.shadow.warnings.length > 0) parts.push(shadowNotes(result.shadow.warnings));
    return `${parts.join('\n\n')}\n`;
  }, options);
}

function render(result: PlanResult, budget: Budget, options: MarkdownOptions, trimmed: boolean): string {
  const parts: string[] = [];
  if (options.header) parts.push(options.header);
  parts.push(`### ${title(result)}`);
  parts.push(verdict(result));
  parts.push(
    `Target: ${inline(result.target)} · plan ${code(result.planHash.slice(0, 12))}` +
      (result.shadow.source !== 'none'
        ? ` · shadow: ${result.shadow.source} (PostgreSQL ${pgVersion(result.shadow.serverVersion)})`
        : ''),
  );
  if (trimmed) parts.push(`> [!NOTE]\n> ${trimmedNote(options)}`);

  if (result.pending.length > 0) parts.push(pendingSection(result));
  if (result.problems.length > 0) {
    parts.push(
      `#### Migration history\n${result.problems
        .map(
          (p) =>
            `- ${p.severity === 'error' ? '⛔' : '⚠️'} ${inline(p.message)}${p.hint ? `<br>${inline(p.hint)}` : ''}`,
        )
        .join('\n')}`,
    );
  }
  if (result.failure) parts.push(failureSection(result));
  if (result.hazards.length > 0) parts.push(hazardSection(result.hazards));
  if (result.lints.introduced.length > 0 || result.lints.resolved.length > 0) parts.push(lintSection(result));
  if (result.access.length > 0) parts.push(accessSection(result.access, budget));
  if (result.diff.changes.length > 0)
    parts.push(changesSection(result.diff.changes, budget, 'Schema changes'));
  if (result.shadow.standIns.length > 0) parts.push(standInNote(result.shadow.standIns));
  if (result.shadow.warnings.length > 0) parts.push(shadowNotes(result.shadow.warnings));
  return `${parts.join('\n\n')}\n`;
}

function title(result: PlanResult): string {
  switch (result.status) {
    case 'no-pending':
      return 'supagate plan: no pending migrations';
    case 'history-problem':
      return 'supagate plan: migration history needs attention';
    case 'failed':
      return 'supagate plan: the pending migrations could not be planned';
    case 'planned':
      return `supagate plan: ${plural(result.pending.length, 'migration')}, ${plural(result.diff.changes.length, 'object')} changed, ${plural(
        result.hazards.filter((h) => h.severity === 'blocking' && !h.accepted).length,
        'blocking hazard',
      )}`;
  }
}

function verdict(result: PlanResult): string {
  if (result.status === 'no-pending')
    return '✅ Nothing to apply: production has every migration of this branch.';
  if (!result.blocking) return '✅ **Nothing blocking.** Review the changes below before approving.';
  const environment = result.failure?.kind === 'environment' ? result.failure : undefined;
  if (environment) {
    return `❌ **Error** — the plan could not be made on the shadow (not a finding about the migrations): ${inline(environment.message)}${environment.hint ? `\n\n${inline(environment.hint)}` : ''}`;
  }
  const reasons = result.blockingReasons
    .slice(0, 20)
    .map((reason) => `- ${inline(reasonWithoutHowToAccept(reason))}`);
  if (result.blockingReasons.length > 20) reasons.push(`- … and ${result.blockingReasons.length - 20} more`);
  return `⛔ **Blocking** — fix, or accept a finding with \`-- supagate:allow <code>: <reason>\` in the migration that causes it (or under \`acceptedHazards\` in supabase/supagate.yml):\n\n${reasons.join('\n')}`;
}

function pendingSection(result: PlanResult): string {
  const rows = result.pending.map(
    (p) =>
      `| ${code(p.version)} | ${inline(p.name)} | ${p.mode === 'non-atomic' ? '⚠️ not atomic' : 'one transaction'} | ${p.statementCount} | ${p.hasRollback ? 'yes' : '—'} |`,
  );
  return `#### Pending migrations\n| Version | Name | Runs as | Statements | Rollback |\n|---|---|---|---:|---|\n${rows.join('\n')}`;
}

function failureSection(result: PlanResult): string {
  if (!result.failure) return '';
  return failureBlock(result.failure, '#### ⛔ The migrations fail on a copy of production');
}

function failureBlock(failure: ShadowFailure, migrationHeading: string): string {
  const heading = {
    files: '#### ⛔ A migration file is invalid',
    clone: '#### ⛔ Production’s schema could not be copied to the shadow database',
    migration: migrationHeading,
  }[failure.stage];
  const where = failure.file ? `${code(failure.file)}${failure.line ? ` line ${failure.line}` : ''}: ` : '';
  const lines = [heading, `${where}${inline(failure.message)}`];
  if (failure.migration?.statement) lines.push(codeBlock(failure.migration.statement, 'sql'));
  if (failure.hint) lines.push(`**Fix:** ${inline(failure.hint)}`);
  return lines.join('\n\n');
}

function hazardSection(hazards: Hazard[]): string {
  const order = (h: Hazard) => (h.accepted ? 2 : h.severity === 'blocking' ? 0 : 1);
  const rows = [...hazards]
    .sort((a, b) => order(a) - order(b))
    .map((h) => {
      const status = h.accepted
        ? `✅ accepted (${h.accepted.source}): ${inline(h.accepted.reason)}`
        : h.severity === 'blocking'
          ? '⛔ blocking'
          : '⚠️ warning';
      const where = h.location ? `${inline(h.location.path)}:${h.location.line}` : '—';
      return `| ${status} | ${code(h.code)} | ${inline(h.message)} | ${where} |`;
    });
  return `#### Hazards\n| | Code | What | Where |\n|---|---|---|---|\n${rows.join('\n')}`;
}

function lintSection(result: PlanResult): string {
  const icon = { ERROR: '⛔', WARN: '⚠️', INFO: 'ℹ️' } as const;
  const lines = ['#### Security lints introduced by this PR'];
  if (result.lints.introduced.length > 0) {
    lines.push(
      '| Level | Lint | Object | Problem | Fix |\n|---|---|---|---|---|\n' +
        result.lints.introduced
          .map(
            (l) =>
              `| ${l.accepted ? `✅ accepted (${l.accepted.source}): ${inline(l.accepted.reason)}` : `${icon[l.level]} ${l.level}`} | ${code(l.code)} | ${inline(l.object)}${l.location ? ` (${inline(l.location.path)}:${l.location.line})` : ''} | ${inline(l.message)} | ${inline(l.remediation)} |`,
          )
          .join('\n'),
    );
  } else {
    lines.push('None.');
  }
  if (result.lints.resolved.length > 0) {
    lines.push(
      `Resolved: ${result.lints.resolved.map((l) => `${code(l.code)} on ${inline(l.object)}`).join(', ')}`,
    );
  }
  if (result.lints.existingCount > 0)
    lines.push(`(${result.lints.existingCount} lint(s) production already had are not shown.)`);
  return lines.join('\n\n');
}

function accessSection(access: TableAccess[], budget: Budget): string {
  const commands = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] as const;
  const blocks: string[] = ['#### RLS access changes'];
  for (const table of access.slice(0, budget.accessTables)) {
    const roles = [...new Set(table.cells.map((c) => c.role))];
    const rows = roles.map((role) => {
      const cells = commands.map((command) => {
        const cell = table.cells.find((c) => c.role === role && c.command === command);
        if (!cell) return '—';
        const after = inline(describeAccess(cell.after));
        return cell.changed ? `**${inline(describeAccess(cell.before))} → ${after}**` : after;
      });
      return `| ${inline(role)} | ${cells.join(' | ')} |`;
    });
    blocks.push(
      `**${inline(table.table)}**\n\n| Role | ${commands.join(' | ')} |\n|---|---|---|---|---|\n${rows.join('\n')}`,
    );
  }
  if (access.length > budget.accessTables)
    blocks.push(`… and ${access.length - budget.accessTables} more tables.`);
  return blocks.join('\n\n');
}

const ACTION_ICON = { added: '➕', removed: '➖', changed: '✏️', renamed: '🔀' } as const;

function standInNote(standIns: StandInUse[]): string {
  const names = standIns.map((s) => code(s.name)).join(', ');
  return `> [!NOTE]\n> The embedded shadow server has no ${names}: supagate's stand-ins took their place, so this plan cannot predict:\n>\n${standIns
    .map((s) => `> - for ${code(s.name)}: ${inline(s.cannotPredict)}`)
    .join('\n')}\n>\n> ${inline(STAND_IN_ADVICE.replace(/^to/, 'To'))}.`;
}

function shadowNotes(warnings: string[]): string {
  return `<details><summary>Shadow database notes (${warnings.length})</summary>\n\n${warnings
    .map((w) => `- ${inline(w)}`)
    .join('\n')}\n\n</details>`;
}

function changesSection(changes: ObjectChange[], budget: Budget, title: string): string {
  const blocks = [`#### ${title} (${changes.length})`];
  for (const change of changes.slice(0, budget.objects)) blocks.push(changeBlock(change, budget));
  if (changes.length > budget.objects)
    blocks.push(`… and ${changes.length - budget.objects} more objects (see the full report).`);
  return blocks.join('\n\n');
}

function changeBlock(change: ObjectChange, budget: Budget): string {
  const head = `${ACTION_ICON[change.action]} ${change.kind} ${inline(change.id)}${
    change.renamedFrom ? ` (renamed from ${inline(change.renamedFrom)})` : ''
  }`;
  const details: string[] = [];
  for (const attribute of change.attributes) {
    details.push(
      `- ${inline(attribute.attribute)}: ${inline(shortValue(attribute.before))} → ${inline(shortValue(attribute.after))}`,
    );
  }
  for (const member of change.members) {
    const changed = member.attributes.map(
      (a) => `${inline(a.attribute)}: ${inline(shortValue(a.before))} → ${inline(shortValue(a.after))}`,
    );
    details.push(
      `- ${ACTION_ICON[member.action]} ${member.kind} ${inline(member.name)}${member.renamedFrom ? ` (was ${inline(member.renamedFrom)})` : ''}${
        changed.length > 0 ? ` — ${changed.join('; ')}` : ''
      }`,
    );
  }
  const sql =
    change.ddl.diff ??
    (change.action === 'added' ? change.ddl.after : change.action === 'removed' ? change.ddl.before : null);
  if (sql && budget.diffLines > 0) {
    const lines = sql.split('\n');
    const shown = lines.slice(0, budget.diffLines).join('\n');
    details.push(codeBlock(shown, change.ddl.diff ? 'diff' : 'sql'));
    if (lines.length > budget.diffLines)
      details.push(`(${lines.length - budget.diffLines} more lines in the full report)`);
  }
  if (details.length === 0) return `- ${head}`;
  return `<details><summary>${head}</summary>\n\n${details.join('\n')}\n\n</details>`;
}

function pgVersion(versionNum: number): string {
  return versionNum > 0 ? `${Math.floor(versionNum / 10_000)}.${versionNum % 100}` : '?';
}

function trimmedNote(options: MarkdownOptions): string {
  const url = safeUrl(options.fullReportUrl);
  return `This report was shortened to fit a GitHub comment.${url ? ` [Full report](${url}).` : ' The full report is in the job summary and the run’s artifacts.'}`;
}
