import { type AccessCell, type AccessLevel, describeAccess, type TableAccess } from '../schema/rls.js';
import { code, inline } from './escape.js';

/**
 * The RLS access changes as markdown, compact: a new table gets one line per role saying what
 * it can do, a changed table one line per role whose access changed (unchanged cells are not
 * shown), a dropped table one line.
 */
export function accessLines(table: TableAccess): string {
  const isNew = table.cells.length > 0 && table.cells.every((cell) => cell.before === null);
  const isDropped = table.cells.length > 0 && table.cells.every((cell) => cell.after === null);
  const head = `- **${code(table.table)}**`;
  if (isDropped) return `${head}, dropped: no role can reach its rows any more`;
  const roles = [...new Set(table.cells.map((cell) => cell.role))];
  const lines: string[] = [];
  for (const role of roles) {
    const cells = table.cells.filter((cell) => cell.role === role);
    if (isNew) {
      lines.push(`    - ${code(role)}: ${canDo(cells)}`);
    } else {
      const changed = cells.filter((cell) => cell.changed);
      if (changed.length > 0) lines.push(`    - ${code(role)}: ${changes(changed)}`);
    }
  }
  if (lines.length === 0) return `${head}: no role's access changed`;
  return `${head}${isNew ? ', new' : ''}:\n${lines.join('\n')}`;
}

/** What a role can do on a new table: commands grouped by what they reach. */
function canDo(cells: AccessCell[]): string {
  const groups = groupBy(cells, (cell) => levelKey(cell.after));
  if (groups.length === 1) {
    const level = groups[0]?.[0]?.after ?? null;
    if (level?.kind === 'none') return 'no access';
    if (level?.kind === 'bypass') return 'bypasses RLS (every command, every row)';
    if (level?.kind === 'all') return 'every command on all rows';
  }
  const parts = groups
    .filter((group) => group[0]?.after?.kind !== 'none')
    .map((group) => `${commands(group)} ${level(group[0]?.after ?? null)}`);
  const none = groups.find((group) => group[0]?.after?.kind === 'none');
  if (none) parts.push(`no ${commands(none)}`);
  return parts.join('; ');
}

/** A role's changed cells on an existing table: before → after, commands grouped. */
function changes(cells: AccessCell[]): string {
  return groupBy(cells, (cell) => `${levelKey(cell.before)}\u0000${levelKey(cell.after)}`)
    .map(
      (group) =>
        `${commands(group)}: ${level(group[0]?.before ?? null)} → **${level(group[0]?.after ?? null)}**`,
    )
    .join('; ');
}

function commands(cells: AccessCell[]): string {
  return cells.map((cell) => cell.command).join(', ');
}

function level(access: AccessLevel | null): string {
  if (access?.kind === 'rows') return `rows where ${code(access.expression.replace(/\s+/g, ' '))}`;
  if (access === null) return 'no table';
  return inline(describeAccess(access));
}

function levelKey(access: AccessLevel | null): string {
  return access === null ? 'null' : access.kind === 'rows' ? `rows:${access.expression}` : access.kind;
}

function groupBy<T>(items: T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return [...groups.values()];
}
