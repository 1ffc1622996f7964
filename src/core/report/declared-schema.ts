import type { DeclaredSchemaCheck } from '../declared/check.js';
import type { ChangeAction, ObjectChange } from '../schema/changes.js';
import { attributeLabel, plural, shortValue } from './describe.js';
import { code, inline, tableRow } from './escape.js';

/*
 * The declared schema check (supabase/schemas against what the migrations produce), as the
 * PR comment's section and as the text report's lines. The changes go from what the
 * migrations produce to what the schema files declare.
 */

const ONLY: Record<ChangeAction, string> = {
  added: 'only in the schema files',
  removed: 'only in the migrations',
  changed: 'differs',
  renamed: 'renamed in the schema files',
};

const MARK: Record<ChangeAction, string> = { added: '➕', removed: '➖', changed: '✏️', renamed: '🔀' };

interface Difference {
  action: ChangeAction;
  /** `column nickname`, `policy "own rows"`. */
  kind: string;
  name: string;
  /** The table or view a member belongs to. */
  on?: string;
  /** `using: (a) → (b)` for what differs. */
  details: string[];
}

/** Each member (column, policy, index…) that differs, or the object itself. */
function differences(change: ObjectChange): Difference[] {
  const own = change.attributes.map(
    (a) => `${attributeLabel(a.attribute)}: ${shortValue(a.before, 80)} → ${shortValue(a.after, 80)}`,
  );
  const members = change.members.map((member) => ({
    action: member.action,
    kind: member.kind,
    name: member.name,
    on: change.id,
    details: member.attributes.map(
      (a) => `${attributeLabel(a.attribute)}: ${shortValue(a.before, 80)} → ${shortValue(a.after, 80)}`,
    ),
  }));
  if (members.length > 0 && own.length === 0) return members;
  return [{ action: change.action, kind: change.kind, name: change.id, details: own }, ...members];
}

function summary(check: DeclaredSchemaCheck): string {
  const files = plural(check.files.length, 'schema file');
  const verb = check.files.length === 1 ? 'declares' : 'declare';
  switch (check.status) {
    case 'matches':
      return `The ${files} ${verb} what the migrations produce.`;
    case 'differs': {
      const count = check.changes.flatMap(differences).length;
      return `The ${files} ${verb} ${count === 1 ? 'one thing' : `${count} things`} otherwise than the migrations produce: generate the migration (supabase db diff -f <name>) or update the schema files.`;
    }
    case 'failed':
      return 'The declared schema could not be built, so it was not compared:';
  }
}

/** The PR comment's section. */
export function declaredSchemaMarkdown(
  check: DeclaredSchemaCheck,
  where: (path: string, line: number | undefined) => string,
): string {
  const mark = { matches: '✅', differs: '⚠️', failed: '⚠️' }[check.status];
  const parts = [`#### Declared schema\n${mark} ${inline(summary(check))}`];
  if (check.failure) {
    const at = check.failure.file ? `${where(check.failure.file, check.failure.line)}: ` : '';
    parts.push(
      `${at}${inline(check.failure.message)}${check.failure.hint ? `<br>${inline(check.failure.hint)}` : ''}`,
    );
  }
  if (check.changes.length > 0) {
    const rows = check.changes
      .flatMap(differences)
      .map((d) =>
        tableRow([
          MARK[d.action],
          `${inline(d.kind)} ${code(d.name)}${d.on ? ` on ${code(d.on)}` : ''}`,
          inline([ONLY[d.action], ...d.details].join('; ')),
        ]),
      );
    parts.push(`| | Object | Difference |\n|---|---|---|\n${rows.join('\n')}`);
  }
  if (check.files.length > 0) {
    parts.push(
      `<details><summary>${plural(check.files.length, 'schema file')}, in the order they ran (${check.source === 'schema_paths' ? 'schema_paths in supabase/config.toml' : 'supabase/schemas'})</summary>\n\n${check.files
        .map((file) => `1. ${code(file)}`)
        .join('\n')}\n\n</details>`,
    );
  }
  return parts.join('\n\n');
}

/** The text report's lines. */
export function declaredSchemaLines(check: DeclaredSchemaCheck): string[] {
  const lines = [summary(check)];
  if (check.failure) {
    const at = check.failure.file
      ? `${check.failure.file}${check.failure.line ? `:${check.failure.line}` : ''}: `
      : '';
    lines.push(`${at}${check.failure.message}`);
    if (check.failure.hint) lines.push(`  fix: ${check.failure.hint}`);
  }
  for (const d of check.changes.flatMap(differences)) {
    lines.push(
      `${d.kind} ${d.name}${d.on ? ` on ${d.on}` : ''}: ${[ONLY[d.action], ...d.details].join('; ')}`,
    );
  }
  lines.push(`files (${check.source}): ${check.files.join(', ')}`);
  return lines;
}
