import type { ApplyResult } from '../commands/apply.js';
import type { StatusResult } from '../commands/status.js';
import { redact } from '../db/redact.js';
import { SupagateError } from '../errors.js';
import type { Problem } from '../migrations/pending.js';

/** Plain-text renderers for the terminal. They render typed results; they never query. */

export function renderStatus(result: StatusResult): string {
  const lines = [`Target: ${result.target}`];
  if (!result.historyExists)
    lines.push('No migration history in this database yet: every migration is pending.');
  lines.push('');
  const rows = result.entries.map((entry) => [
    entry.version,
    entry.name,
    entry.state,
    entry.applied
      ? `${entry.applied.appliedAt}${entry.applied.appliedBy ? ` by ${entry.applied.appliedBy}` : ''}`
      : '',
    entry.hasRollback ? 'yes' : '',
  ]);
  lines.push(...table(['VERSION', 'NAME', 'STATE', 'APPLIED (supagate)', 'ROLLBACK'], rows));
  lines.push('', `${result.pending.length} pending`);
  lines.push(...renderProblems(result.problems));
  return lines.join('\n');
}

export function renderApply(result: ApplyResult): string {
  const lines = [`Target: ${result.target}`];
  if (result.status === 'dry-run') {
    lines.push(
      `Dry run: nothing was changed. ${summaryLine(result.plan.length, 'pending migration')} would run, in this order:`,
    );
    for (const migration of result.plan) {
      lines.push('', `${migration.path}  [${modeLabel(migration.mode)}]`);
      if (migration.strippedTransactionWrapper) lines.push('  (the file’s own BEGIN/COMMIT are removed)');
      for (const statement of migration.statements) {
        const note = statement.nonTransactional
          ? `  -- outside a transaction: ${statement.nonTransactional}`
          : '';
        lines.push(`  -- line ${statement.line}${note}`, indent(`${statement.sql};`, '  '));
      }
    }
  } else if (result.status === 'up-to-date') {
    lines.push('Up to date: no pending migrations.');
  } else {
    for (const migration of result.applied) {
      const retries = migration.attempts > 1 ? `, ${migration.attempts} attempts` : '';
      lines.push(`✓ ${migration.path}  ${migration.durationMs} ms  [${modeLabel(migration.mode)}${retries}]`);
    }
    if (result.failure) {
      const failure = result.failure;
      lines.push(
        `✗ ${failure.path}:${failure.line}:${failure.column}  ${failure.message}${failure.sqlstate ? ` [SQLSTATE ${failure.sqlstate}]` : ''}`,
      );
      if (failure.detail) lines.push(`  detail: ${failure.detail}`);
      if (failure.statement) lines.push(indent(failure.statement, '  │ '));
      if (failure.committedStatements > 0) {
        lines.push(
          `  ${failure.committedStatements} statement(s) of this non-atomic migration stayed applied; its version is not recorded.`,
        );
      } else {
        lines.push('  Nothing of this migration was applied.');
      }
      if (result.notApplied.length > 0) lines.push(`  Not run: ${result.notApplied.join(', ')}`);
    }
    lines.push(
      '',
      result.failure
        ? `Failed after applying ${summaryLine(result.applied.length, 'migration')}.`
        : `Applied ${summaryLine(result.applied.length, 'migration')} in ${result.durationMs} ms.`,
    );
    if (result.notifiedPostgrest) lines.push(`PostgREST was told to reload its schema cache.`);
  }
  if (result.lockWaitMs > 1000)
    lines.push(`Waited ${Math.round(result.lockWaitMs / 1000)} s for another run's lock.`);
  lines.push(...renderProblems(result.problems));
  return lines.join('\n');
}

export function renderError(error: unknown): string {
  if (error instanceof SupagateError) {
    const lines = [`error [${error.code}]: ${redact(error.message)}`];
    if (error.hint) lines.push(`  hint: ${redact(error.hint)}`);
    return lines.join('\n');
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return `error [INTERNAL]: ${redact(message)}\n  hint: this is a bug in supagate; please report it with the command you ran.`;
}

function renderProblems(problems: Problem[]): string[] {
  if (problems.length === 0) return [];
  const lines = [''];
  for (const problem of problems) {
    lines.push(`${problem.severity === 'error' ? '✗ error' : '! warning'}: ${problem.message}`);
    if (problem.hint) lines.push(`  hint: ${problem.hint}`);
  }
  return lines;
}

function modeLabel(mode: string): string {
  return mode === 'non-atomic'
    ? 'not atomic: has statements that cannot run in a transaction'
    : mode === 'batch'
      ? 'one transaction for all'
      : 'one transaction';
}

function summaryLine(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((line) => `${prefix}${line}`)
    .join('\n');
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const format = (row: string[]) =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [format(header), ...rows.map(format)];
}
