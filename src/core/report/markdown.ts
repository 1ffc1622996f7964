import type { ApplyResult } from '../commands/apply.js';
import type { DriftResult } from '../commands/drift.js';
import type { PlanResult } from '../commands/plan.js';
import { reasonWithoutHowToAccept } from '../commands/plan-gate.js';
import type { ShadowFailure } from '../commands/shadow-run.js';
import type { ObjectChange } from '../schema/changes.js';
import type { Hazard } from '../schema/hazards.js';
import { type NotComparedChange, notComparedCount } from '../schema/not-compared.js';
import type { TableAccess } from '../schema/rls.js';
import { STAND_IN_ADVICE, type StandInUse } from '../shadow/stand-ins.js';
import { dataChecksMarkdown } from './data-checks.js';
import { declaredSchemaMarkdown } from './declared-schema.js';
import { attributeLabel, booleanWord, describeLockEstimate, plural, shortValue } from './describe.js';
import { driftWords } from './drift-words.js';
import { code, codeBlock, codeLink, htmlCode, htmlText, inline, safeUrl, tableRow } from './escape.js';
import { fixesMarkdown } from './fixes.js';
import { accessLines } from './markdown-access.js';
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
  /**
   * The web address of a file of the pull request at its head commit (and of a line in it):
   * where findings are, the full path behind a shortened one. See `githubFileUrl`.
   */
  fileUrl?: (path: string, line?: number) => string | undefined;
}

/** `fileUrl` for a repository on GitHub at a commit (the pull request's head). */
export function githubFileUrl(
  serverUrl: string,
  repository: { owner: string; repo: string },
  sha: string,
): (path: string, line?: number) => string | undefined {
  const base = `${serverUrl.replace(/\/+$/, '')}/${encodeURIComponent(repository.owner)}/${encodeURIComponent(repository.repo)}/blob/${encodeURIComponent(sha)}`;
  return (path, line) =>
    `${base}/${path.split('/').map(encodeURIComponent).join('/')}${line ? `#L${line}` : ''}`;
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
    const words = driftWords(result);
    const heading = {
      'in-sync': `### supagate drift: production is what ${words.expected}`,
      drifted: `### supagate drift: production differs from ${words.source} (${plural(result.diff.changes.length, 'object')})`,
      failed: '### supagate drift: could not be checked',
    }[result.status];
    parts.push(heading);
    parts.push(
      `Target: ${inline(result.target)} · ${plural(result.replayed.length, words.unit)} ${words.ran}` +
        (result.pending.length > 0
          ? ` · ${plural(result.pending.length, 'pending migration')} not expected yet`
          : '') +
        (result.shadow.source !== 'none'
          ? ` · shadow: ${result.shadow.source} (PostgreSQL ${pgVersion(result.shadow.serverVersion)})`
          : ''),
    );
    if (result.status === 'drifted') parts.push(words.drifted);
    if (trimmed) parts.push(`> [!NOTE]\n> ${trimmedNote(options)}`);
    if (result.failure) parts.push(failureBlock(result.failure, words.failureHeading));
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
        changesSection(result.diff.changes, budget, `Differences, from ${words.source} to production`),
      );
    if (result.notCompared && result.notCompared.length > 0)
      parts.push(
        notComparedSection(
          result.notCompared,
          'supagate does not model these kinds of objects, so drift in them is not checked',
          'differs from what the migrations produce',
        ),
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
  parts.push(verdict(result, options));
  parts.push(
    `Target: ${inline(result.target)} · plan ${code(result.planHash.slice(0, 12))}` +
      (result.shadow.source !== 'none'
        ? ` · shadow: ${result.shadow.source} (PostgreSQL ${pgVersion(result.shadow.serverVersion)})`
        : ''),
  );
  if (trimmed) parts.push(`> [!NOTE]\n> ${trimmedNote(options)}`);

  if (result.pending.length > 0) parts.push(pendingSection(result, options));
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
  if (result.failure) parts.push(failureSection(result, options));
  if (result.hazards.length > 0) parts.push(hazardSection(result.hazards, options));
  if (result.dataChecks && result.dataChecks.length > 0)
    parts.push(dataChecksMarkdown(result.dataChecks, (path, line) => where(path, line, options)));
  if (result.declaredSchema)
    parts.push(declaredSchemaMarkdown(result.declaredSchema, (path, line) => where(path, line, options)));
  if (result.lints.introduced.length > 0 || result.lints.resolved.length > 0)
    parts.push(lintSection(result, options));
  if (result.access.length > 0) parts.push(accessSection(result.access, budget));
  if (result.diff.changes.length > 0)
    parts.push(changesSection(result.diff.changes, budget, 'Schema changes'));
  if (result.notCompared && result.notCompared.length > 0)
    parts.push(
      notComparedSection(
        result.notCompared,
        'supagate does not model these kinds of objects, so the schema changes above leave them out',
        'changed by the migrations',
      ),
    );
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
      // What blocks, exactly as the gate counts it: the list under the title has as many lines.
      return `supagate plan: ${plural(result.pending.length, 'migration')}, ${plural(result.diff.changes.length, 'object')} changed, ${
        result.blockingReasons.length > 0
          ? `⛔ ${plural(result.blockingReasons.length, 'blocking finding')}`
          : 'nothing blocks'
      }`;
  }
}

function verdict(result: PlanResult, options: MarkdownOptions): string {
  if (result.status === 'no-pending')
    return '✅ Nothing to apply: production has every migration of this branch.';
  if (!result.blocking) return '✅ **Nothing blocking.** Review the changes below before approving.';
  const environment = result.failure?.kind === 'environment' ? result.failure : undefined;
  if (environment) {
    return `❌ **Error** — the plan could not be made on the shadow (not a finding about the migrations): ${inline(environment.message)}${environment.hint ? `\n\n${inline(environment.hint)}` : ''}`;
  }
  if (result.status === 'history-problem')
    return '⛔ **Blocking** — the migration history and the files disagree (see *Migration history*): nothing was planned. `supagate status` explains it; `supagate repair` proposes the history change where one is right.';
  const reasons = result.blockingReasons
    .slice(0, 20)
    .map((reason) => `- ${blockingReason(reasonWithoutHowToAccept(reason), options)}`);
  if (result.blockingReasons.length > 20) reasons.push(`- … and ${result.blockingReasons.length - 20} more`);
  return `⛔ **Blocking** — fix, or accept a finding with \`-- supagate:allow <code>: <reason>\` in the migration that causes it (or under \`acceptedHazards\` in supabase/supagate.yml):\n\n${reasons.join('\n')}`;
}

/** A gate reason (`code at path:line: message`) with the code and the place readable. */
function blockingReason(reason: string, options: MarkdownOptions): string {
  const finding = /^([a-z][a-z0-9_-]*)(?: at (.+?):(\d+))?: ([\s\S]*)$/.exec(reason);
  if (!finding) return inline(reason);
  const [, findingCode = '', path, line, message = ''] = finding;
  const at = path ? ` at ${where(path, Number(line), options)}` : '';
  return `${code(findingCode)}${at}: ${inline(message)}`;
}

/** A file and line, shortened to fit a table column, linked to the file when we know where it is. */
function where(path: string, line: number | undefined, options: MarkdownOptions): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  // A migration is known by its version and the start of its name; the link's title has it all.
  const short = name.length > 26 ? `${name.replace(/\.sql$/, '').slice(0, 23)}…` : name;
  const text = `${short}${line ? `:${line}` : ''}`;
  return codeLink(text, options.fileUrl?.(path, line), path);
}

function pendingSection(result: PlanResult, options: MarkdownOptions): string {
  const rows = result.pending.map((p) =>
    tableRow([
      code(p.version),
      options.fileUrl ? codeLink(p.name, options.fileUrl(p.path), p.path) : code(p.name),
      p.mode === 'non-atomic' ? '⚠️ not atomic' : 'one transaction',
      String(p.statementCount),
      p.hasRollback ? 'yes' : '—',
    ]),
  );
  return `#### Pending migrations\n| Version | Name | Runs as | Statements | Rollback |\n|---|---|---|---:|---|\n${rows.join('\n')}`;
}

function failureSection(result: PlanResult, options: MarkdownOptions): string {
  if (!result.failure) return '';
  return failureBlock(result.failure, '#### ⛔ The migrations fail on a copy of production', options);
}

function failureBlock(
  failure: ShadowFailure,
  migrationHeading: string,
  options: MarkdownOptions = {},
): string {
  const heading = {
    files: '#### ⛔ A migration file is invalid',
    clone: '#### ⛔ Production’s schema could not be copied to the shadow database',
    migration: migrationHeading,
  }[failure.stage];
  const at = failure.file ? `${where(failure.file, failure.line, options)}: ` : '';
  const lines = [heading, `${at}${inline(failure.message)}`];
  if (failure.migration?.statement) lines.push(codeBlock(failure.migration.statement, 'sql'));
  if (failure.hint) lines.push(`**Fix:** ${inline(failure.hint)}`);
  return lines.join('\n\n');
}

function hazardSection(hazards: Hazard[], options: MarkdownOptions): string {
  const order = (h: Hazard) => (h.accepted ? 2 : h.severity === 'blocking' ? 0 : 1);
  const rows = [...hazards]
    .sort((a, b) => order(a) - order(b))
    .map((h) =>
      tableRow([
        h.accepted ? '✅ accepted' : h.severity === 'blocking' ? '⛔ blocking' : '⚠️ warning',
        code(h.code),
        withNames(h.message, [h.object]) +
          (h.lock ? `<br>⏱ ${inline(describeLockEstimate(h.lock))}` : '') +
          acceptedNote(h.accepted),
        h.location ? where(h.location.path, h.location.line, options) : '—',
      ]),
    );
  const fixes = fixesMarkdown(hazards, (path, line) => where(path, line, options));
  return `#### Hazards\n| | Code | What | Where |\n|---|---|---|---|\n${rows.join('\n')}${fixes ? `\n\n${fixes}` : ''}`;
}

function acceptedNote(accepted: Hazard['accepted']): string {
  return accepted ? `<br>Accepted (${inline(accepted.source)}): ${inline(accepted.reason)}` : '';
}

/**
 * A message from supagate that names objects: the names as code spans (readable whatever
 * they contain), the rest as text.
 */
function withNames(message: string, names: (string | undefined)[]): string {
  const found = names.filter((name): name is string => !!name && message.includes(name));
  if (found.length === 0) return inline(message);
  const longest = found.sort((a, b) => b.length - a.length)[0] as string;
  return message
    .split(longest)
    .map((part) => (part === '' ? '' : inline(part)))
    .join(code(longest));
}

function lintSection(result: PlanResult, options: MarkdownOptions): string {
  const icon = { ERROR: '⛔', WARN: '⚠️', INFO: 'ℹ️' } as const;
  const lines = ['#### Security lints introduced by this PR'];
  if (result.lints.introduced.length > 0) {
    lines.push(
      '| | Lint | What | Where |\n|---|---|---|---|\n' +
        result.lints.introduced
          .map((l) =>
            tableRow([
              l.accepted ? '✅ accepted' : `${icon[l.level]} ${l.level}`,
              code(l.code),
              `${withNames(l.message, [l.object])}<br>**Fix:** ${inline(l.remediation)}${acceptedNote(l.accepted)}`,
              l.location ? where(l.location.path, l.location.line, options) : '—',
            ]),
          )
          .join('\n'),
    );
  } else {
    lines.push('None.');
  }
  if (result.lints.resolved.length > 0) {
    lines.push(
      `Resolved: ${result.lints.resolved.map((l) => `${code(l.code)} on ${code(l.object)}`).join(', ')}`,
    );
  }
  if (result.lints.existingCount > 0)
    lines.push(`Not shown: ${plural(result.lints.existingCount, 'lint')} production already had.`);
  return lines.join('\n\n');
}

function accessSection(access: TableAccess[], budget: Budget): string {
  const lines = access.slice(0, budget.accessTables).map(accessLines);
  if (access.length > budget.accessTables)
    lines.push(`- … and ${access.length - budget.accessTables} more tables.`);
  return `#### RLS access changes\n${lines.join('\n')}`;
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

/**
 * The user's objects of kinds the model does not represent: kind, count, first names, and a
 * mark on the kinds that changed (`changedWords`: what changed means for this command).
 */
function notComparedSection(kinds: NotComparedChange[], why: string, changedWords: string): string {
  const lines = kinds.map((entry) => {
    const more = entry.count > entry.names.length ? `, … ${entry.count - entry.names.length} more` : '';
    const names =
      entry.names.length > 0 ? ` — ${entry.names.map((name) => code(name)).join(', ')}${more}` : '';
    const changed = entry.changed
      ? ` (**${inline(changedWords)}**${entry.countBefore !== entry.count ? `: ${entry.countBefore} → ${entry.count}` : ''})`
      : '';
    return `- ${inline(entry.kind)}: ${entry.count}${names}${changed}`;
  });
  return `#### Not compared (${plural(notComparedCount(kinds), 'object')})\n${inline(why)}:\n\n${lines.join('\n')}`;
}

function changesSection(changes: ObjectChange[], budget: Budget, title: string): string {
  const blocks = [`#### ${title} (${changes.length})`];
  for (const change of changes.slice(0, budget.objects)) blocks.push(changeBlock(change, budget));
  if (changes.length > budget.objects)
    blocks.push(`… and ${changes.length - budget.objects} more objects (see the full report).`);
  return blocks.join('\n\n');
}

function changeBlock(change: ObjectChange, budget: Budget): string {
  // The head is in a <summary>, raw HTML where markdown is not read.
  const head = `${ACTION_ICON[change.action]} ${htmlText(change.kind)} ${htmlCode(change.id)}${
    change.renamedFrom ? ` (renamed from ${htmlCode(change.renamedFrom)})` : ''
  }`;
  const details: string[] = [];
  for (const attribute of change.attributes) details.push(`- ${attributeChange(attribute)}`);
  for (const member of change.members) {
    const changed = member.attributes.map(attributeChange);
    details.push(
      `- ${ACTION_ICON[member.action]} ${inline(member.kind)} ${code(member.name)}${member.renamedFrom ? ` (was ${code(member.renamedFrom)})` : ''}${
        member.inheritedFrom?.length
          ? ` (inherited from ${member.inheritedFrom.map((parent) => code(parent)).join(', ')})`
          : ''
      }${changed.length > 0 ? ` — ${changed.join('; ')}` : ''}`,
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
  if (details.length === 0)
    return `- ${ACTION_ICON[change.action]} ${inline(change.kind)} ${code(change.id)}`;
  return `<details><summary>${head}</summary>\n\n${details.join('\n')}\n\n</details>`;
}

/** `RLS: enabled → disabled`, `type: text → character varying(200)`: a reviewer's words. */
function attributeChange(change: { attribute: string; before: unknown; after: unknown }): string {
  return `${inline(attributeLabel(change.attribute))}: ${attributeValue(change.attribute, change.before)} → ${attributeValue(change.attribute, change.after)}`;
}

function attributeValue(attribute: string, value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'boolean') return booleanWord(attribute, value);
  if (typeof value === 'number') return String(value);
  return code(shortValue(value));
}

function pgVersion(versionNum: number): string {
  return versionNum > 0 ? `${Math.floor(versionNum / 10_000)}.${versionNum % 100}` : '?';
}

function trimmedNote(options: MarkdownOptions): string {
  const url = safeUrl(options.fullReportUrl);
  return `This report was shortened to fit a GitHub comment.${url ? ` [Full report](${url}).` : ' The full report is in the job summary and the run’s artifacts.'}`;
}
