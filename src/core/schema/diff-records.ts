import { structuredPatch } from 'diff';
import type { AttributeChange, MemberChange, ObjectChange, ObjectKind } from './changes.js';
import { objectDdl } from './ddl.js';
import { type Context, compareText, has } from './diff-attributes.js';

export interface Comparison {
  attributes: AttributeChange[];
  members?: MemberChange[];
}

/**
 * The renames the hints name and the two sides confirm (the new name only after, the old only
 * before, each old name used once): new → old, and the old names taken.
 */
export function confirmedRenames(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  renames: Record<string, string> | undefined,
): { renamedFrom: Map<string, string>; renamedAway: Set<string> } {
  const renamedFrom = new Map<string, string>();
  const renamedAway = new Set<string>();
  for (const [to, from] of Object.entries(renames ?? {})) {
    if (
      has(after, to) &&
      !has(before, to) &&
      has(before, from) &&
      !has(after, from) &&
      !renamedAway.has(from)
    ) {
      renamedFrom.set(to, from);
      renamedAway.add(from);
    }
  }
  return { renamedFrom, renamedAway };
}

/** Compares one object's two sides; `renamedFrom` is set when it is a recognized rename. */
export type Comparator<T> = (
  before: T,
  after: T,
  context: Context,
  id: string,
  renamedFrom?: string,
) => Comparison;

export function diffRecords<T>(
  context: Context,
  kind: ObjectKind,
  before: Record<string, T>,
  after: Record<string, T>,
  compare: Comparator<T>,
  renames: Record<string, string> | undefined,
  out: ObjectChange[],
): void {
  const { renamedFrom, renamedAway } = confirmedRenames(before, after, renames);
  const ids = new Set<string>();
  for (const id of Object.keys(before)) if (!renamedAway.has(id)) ids.add(id);
  for (const id of Object.keys(after)) ids.add(id);
  for (const id of [...ids].sort(compareText)) {
    const oldId = renamedFrom.get(id);
    const left = has(before, oldId ?? id) ? before[oldId ?? id] : undefined;
    const right = has(after, id) ? after[id] : undefined;
    if (left === undefined && right !== undefined) {
      out.push(objectChange(context, kind, id, 'added', [], [], undefined));
    } else if (left !== undefined && right === undefined) {
      out.push(objectChange(context, kind, id, 'removed', [], [], undefined));
    } else if (left !== undefined && right !== undefined) {
      const result = compare(left, right, context, id, oldId);
      const members = result.members ?? [];
      if (oldId !== undefined) {
        out.push(objectChange(context, kind, id, 'renamed', result.attributes, members, oldId));
      } else if (result.attributes.length > 0 || members.length > 0) {
        out.push(objectChange(context, kind, id, 'changed', result.attributes, members, undefined));
      }
    }
  }
}

function objectChange(
  context: Context,
  kind: ObjectKind,
  id: string,
  action: ObjectChange['action'],
  attributes: AttributeChange[],
  members: MemberChange[],
  renamedFrom: string | undefined,
): ObjectChange {
  const before = action === 'added' ? null : objectDdl(context.before, kind, renamedFrom ?? id);
  const after = action === 'removed' ? null : objectDdl(context.after, kind, id);
  return {
    kind,
    id,
    action,
    ...(renamedFrom !== undefined ? { renamedFrom } : {}),
    attributes,
    members,
    ddl: { before, after, diff: before !== null && after !== null ? unifiedDiff(before, after) : null },
  };
}

/** A unified diff (3 lines of context) without the file header lines; null when equal. */
export function unifiedDiff(before: string, after: string): string | null {
  if (before === after) return null;
  const patch = structuredPatch('before', 'after', before, after, undefined, undefined, { context: 3 });
  const lines: string[] = [];
  for (const hunk of patch.hunks) {
    lines.push(`@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`);
    for (const line of hunk.lines) lines.push(line);
  }
  return lines.length > 0 ? lines.join('\n') : null;
}
