import { MANAGED_SCHEMAS } from '../../platform.js';
import type { Grant, SchemaModel } from '../model.js';
import type { AddFinding } from './rules.js';

/** What every rule module gets: the model, the API schemas, and where to record findings. */
export interface LintContext {
  model: SchemaModel;
  /** Schemas exposed through the Data API. */
  api: ReadonlySet<string>;
  add: AddFinding;
}

/** The API roles whose reach the exposure lints are about. */
export const API_ROLES = ['anon', 'authenticated'] as const;

export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sortedValues<T extends { name: string }>(record: Record<string, T>): T[] {
  return Object.values(record).sort((a, b) => compare(a.name, b.name));
}

export function sortedEntries<T>(record: Record<string, T>): [string, T][] {
  return Object.entries(record).sort(([a], [b]) => compare(a, b));
}

export function isManagedSchema(schema: string): boolean {
  return (MANAGED_SCHEMAS as readonly string[]).includes(schema);
}

/** The schema of an identity such as `auth.users` or `"My Schema".t`. */
export function schemaOf(identity: string): string {
  const match = /^("(?:[^"]|"")*"|[^.]*)\./.exec(identity);
  const schema = match?.[1] ?? '';
  return schema.startsWith('"') ? schema.slice(1, -1).replace(/""/g, '"') : schema;
}

export function quoted(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : quoted(name);
}

export function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

export function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/** Granted to the role or to PUBLIC. */
export function holds(grants: Grant[], role: string, privilege: string): boolean {
  return grants.some((g) => g.privilege === privilege && (g.grantee === role || g.grantee === 'PUBLIC'));
}
