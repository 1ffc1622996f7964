import type { Problem } from '../migrations/pending.js';

/** Plain-text building blocks the terminal renderers share. */

export function table(header: string[], rows: string[][]): string[] {
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

export function renderProblems(problems: Problem[]): string[] {
  if (problems.length === 0) return [];
  const lines = [''];
  for (const problem of problems) {
    lines.push(`${problem.severity === 'error' ? '✗ error' : '! warning'}: ${problem.message}`);
    if (problem.hint) lines.push(`  hint: ${problem.hint}`);
  }
  return lines;
}

export function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((line) => `${prefix}${line}`)
    .join('\n');
}
