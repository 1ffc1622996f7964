import type { MemberKind, ObjectChange, ObjectKind, SchemaDiff } from '../schema/changes.js';
import { diffSchemas } from '../schema/diff.js';
import type { SchemaModel } from '../schema/model.js';

/**
 * The schema check: production after the apply must be exactly what the plan predicted (the
 * shadow database after the migrations). Differences are diffSchemas(predicted, actual),
 * flattened into one line per differing thing, so that they can be listed, filtered (RLS
 * only) and matched against the differences that already existed before the apply.
 */
export interface SchemaDifference {
  kind: ObjectKind;
  /** The object's identity (`public.posts`). */
  id: string;
  /**
   * missing: predicted, not in production; unexpected: in production, not predicted;
   * different: on both sides, with another value.
   */
  action: 'missing' | 'unexpected' | 'different';
  /** A column, constraint, index, trigger or policy of the object. */
  member?: { kind: MemberKind; name: string };
  /** The attribute that differs (`rlsEnabled`, `using`, `grants`…), for `different`. */
  attribute?: string;
  expected?: unknown;
  actual?: unknown;
  message: string;
}

/** Every difference between the predicted and the actual model. */
export function schemaDifferences(predicted: SchemaModel, actual: SchemaModel): SchemaDifference[] {
  return flattenDiff(diffSchemas(predicted, actual));
}

/** A diff from `expected` to `actual` as one SchemaDifference per differing thing. */
export function flattenDiff(diff: SchemaDiff): SchemaDifference[] {
  const out: SchemaDifference[] = [];
  for (const change of diff.changes) flattenChange(change, out);
  return out;
}

function flattenChange(change: ObjectChange, out: SchemaDifference[]): void {
  const object = `${change.kind} ${change.id}`;
  const base = { kind: change.kind, id: change.id };
  if (change.action === 'added') {
    out.push({ ...base, action: 'unexpected', message: `${object} exists, but the plan did not predict it` });
    return;
  }
  if (change.action === 'removed') {
    out.push({ ...base, action: 'missing', message: `${object} is missing, but the plan predicted it` });
    return;
  }
  if (change.action === 'renamed') {
    out.push({
      ...base,
      action: 'different',
      attribute: 'name',
      expected: change.renamedFrom ?? null,
      actual: change.id,
      message: `${object} has another name than predicted (${change.renamedFrom ?? '?'})`,
    });
  }
  for (const attribute of change.attributes) {
    out.push({
      ...base,
      action: 'different',
      attribute: attribute.attribute,
      expected: attribute.before,
      actual: attribute.after,
      message: `${object}: ${attribute.attribute} is ${show(attribute.after)}, the plan predicted ${show(attribute.before)}`,
    });
  }
  for (const member of change.members) {
    const memberBase = { ...base, member: { kind: member.kind, name: member.name } };
    const what = `${object}: ${member.kind} ${quote(member.name)}`;
    if (member.action === 'added') {
      out.push({
        ...memberBase,
        action: 'unexpected',
        message: `${what} exists, but the plan did not predict it`,
      });
    } else if (member.action === 'removed') {
      out.push({
        ...memberBase,
        action: 'missing',
        message: `${what} is missing, but the plan predicted it`,
      });
    } else {
      for (const attribute of member.attributes) {
        out.push({
          ...memberBase,
          action: 'different',
          attribute: attribute.attribute,
          expected: attribute.before,
          actual: attribute.after,
          message: `${what}: ${attribute.attribute} is ${show(attribute.after)}, the plan predicted ${show(attribute.before)}`,
        });
      }
    }
  }
}

/** A stable key of a difference: the same difference found twice has the same key. */
export function differenceKey(difference: SchemaDifference): string {
  return JSON.stringify([
    difference.kind,
    difference.id,
    difference.action,
    difference.member?.kind ?? null,
    difference.member?.name ?? null,
    difference.attribute ?? null,
    difference.expected ?? null,
    difference.actual ?? null,
  ]);
}

function quote(name: string): string {
  return `"${name}"`;
}

const MAX_VALUE_TEXT = 200;

function show(value: unknown): string {
  const text = value === undefined ? 'absent' : typeof value === 'string' ? value : JSON.stringify(value);
  const oneLine = (text ?? 'null').replace(/\s+/g, ' ');
  return oneLine.length > MAX_VALUE_TEXT ? `${oneLine.slice(0, MAX_VALUE_TEXT - 1)}…` : oneLine;
}
