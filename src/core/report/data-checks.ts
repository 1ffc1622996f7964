import { estimateNote, violationText } from '../datachecks/hazards.js';
import type { DataCheck } from '../datachecks/index.js';
import { code, codeBlock, inline, tableRow } from './escape.js';

/** What a check found, in one phrase. Counts only: the report never shows a row's content. */
export function dataCheckResult(check: DataCheck): string {
  const size = `about ${check.estimatedRows.toLocaleString('en-US')} rows`;
  switch (check.outcome) {
    case 'passed':
      return `no row in the way (${size})`;
    case 'violations':
      return `${violationText(check)}${estimateNote(check)}: it fails in production`;
    case 'back-filled':
      return check.reason ?? 'back-filled first';
    case 'undecidable':
      return `${violationText(check)}${estimateNote(check)} now, but ${check.reason ?? 'earlier statements change the rows'}`;
    case 'clean-sample':
      return `not proven: ${check.reason ?? 'a sample of the table has no row in the way'}`;
    case 'not-checked':
      return `not checked: ${check.reason ?? 'the count did not finish'}`;
  }
}

const MARK: Record<DataCheck['outcome'], string> = {
  passed: '✅',
  'back-filled': '✅',
  violations: '⛔',
  undecidable: '⚠️',
  'clean-sample': '⚠️',
  'not-checked': '⚠️',
};

const ORDER: Record<DataCheck['outcome'], number> = {
  violations: 0,
  undecidable: 1,
  'not-checked': 2,
  'clean-sample': 3,
  'back-filled': 4,
  passed: 5,
};

function ordered(checks: DataCheck[]): DataCheck[] {
  return [...checks].sort((a, b) => ORDER[a.outcome] - ORDER[b.outcome]);
}

/** Checks whose offending rows the reader is shown how to list. */
function listed(check: DataCheck): boolean {
  return (check.outcome === 'violations' || check.outcome === 'undecidable') && check.listQuery !== undefined;
}

/** The text report's lines: one per check, its statement's place, the query for failing ones. */
export function dataCheckLines(checks: DataCheck[]): string[] {
  return ordered(checks).flatMap((check) => [
    `${MARK[check.outcome]} ${check.action}: ${dataCheckResult(check)}${
      check.location ? `  (${check.location.path}:${check.location.line})` : ''
    }`,
    ...(listed(check) ? [`    list them: ${check.listQuery};`] : []),
  ]);
}

/** The PR comment's section: a table, and the queries that list the offending rows. */
export function dataChecksMarkdown(
  checks: DataCheck[],
  where: (path: string, line: number) => string,
): string {
  const sorted = ordered(checks);
  const rows = sorted.map((check) =>
    tableRow([
      MARK[check.outcome],
      inline(check.action),
      inline(dataCheckResult(check)),
      check.location ? where(check.location.path, check.location.line) : '—',
    ]),
  );
  const queries = sorted
    .filter(listed)
    .map((check) => `${code(check.object)}:\n${codeBlock(`${check.listQuery};`, 'sql')}`);
  return [
    "#### Production's data\nCounted on production (read-only) for the statements that depend on its rows.",
    `| | Statement | Rows | Where |\n|---|---|---|---|\n${rows.join('\n')}`,
    ...(queries.length > 0
      ? [
          `<details><summary>Queries that list the rows in the way</summary>\n\n${queries.join('\n\n')}\n\n</details>`,
        ]
      : []),
  ].join('\n\n');
}
