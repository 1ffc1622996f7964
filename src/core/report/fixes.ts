import type { Hazard } from '../schema/hazards.js';
import { code, codeBlock, inline } from './escape.js';

/** Hazards that have a safe form to offer, blocking first as in the hazards table. */
function withFixes(hazards: Hazard[]): (Hazard & { fix: NonNullable<Hazard['fix']> })[] {
  return hazards.filter((h): h is Hazard & { fix: NonNullable<Hazard['fix']> } => h.fix !== undefined);
}

function placement(fix: NonNullable<Hazard['fix']>): string {
  const where = fix.placement === 'replace' ? 'Instead of the statement' : 'Right after the statement';
  return fix.ownFile ? `${where}, in a migration file of its own` : where;
}

/** The PR comment's safe rewrites: folded, one per hazard, with the SQL to use. */
export function fixesMarkdown(hazards: Hazard[], where: (path: string, line: number) => string): string {
  const fixes = withFixes(hazards).map((h) => {
    const at = h.location ? ` at ${where(h.location.path, h.location.line)}` : '';
    const later = h.fix.later
      ? `\n\n${laterHeading(h.fix.later)}:\n${codeBlock(h.fix.later.sql, 'sql')}`
      : '';
    return `${code(h.code)}${at}: ${inline(h.fix.summary)}. ${placement(h.fix)}:\n${codeBlock(h.fix.sql, 'sql')}${later}`;
  });
  if (fixes.length === 0) return '';
  return `<details><summary>Safe rewrites (${fixes.length})</summary>\n\n${fixes.join('\n\n')}\n\n</details>`;
}

/** When and where a fix's second step goes. */
function laterHeading(later: NonNullable<NonNullable<Hazard['fix']>['later']>): string {
  return `Then, in a later migration, once ${inline(later.when)}`;
}

/** The text report's lines under a hazard that has a safe form. */
export function fixLines(hazard: Hazard): string[] {
  if (!hazard.fix) return [];
  const { later } = hazard.fix;
  return [
    `    fix: ${hazard.fix.summary}. ${placement(hazard.fix)}:`,
    ...hazard.fix.sql.split('\n').map((line) => `      ${line}`),
    ...(later
      ? [
          `    then, in a later migration, once ${later.when}:`,
          ...later.sql.split('\n').map((line) => `      ${line}`),
        ]
      : []),
  ];
}
