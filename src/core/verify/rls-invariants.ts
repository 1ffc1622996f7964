import { diffSchemas } from '../schema/diff.js';
import type { SchemaModel, Table } from '../schema/model.js';
import { normalizeTable } from './identity.js';
import { flattenDiff, type SchemaDifference } from './schema-check.js';

/**
 * RLS invariants, checked on the model of production after an apply:
 * - failure `rls-disabled`: a table (ordinary, partitioned or a partition: PostgREST exposes
 *   each) in an API-exposed schema without row level security, unless allow-listed;
 * - warning `rls-no-policy`: RLS enabled and no policy at all, so only roles that bypass RLS
 *   can read or write it (often on purpose: service_role only).
 * Managed tables (storage.objects…) are not checked: Supabase owns their RLS switch.
 */
export interface RlsFinding {
  level: 'failure' | 'warning';
  code: 'rls-disabled' | 'rls-no-policy';
  table: string;
  message: string;
}

export interface RlsInvariantOptions {
  /** Schemas PostgREST exposes. */
  apiSchemas: string[];
  /** Tables allowed to have RLS disabled (reference data that anyone may read…). */
  allowNoRls?: string[];
}

export function checkRlsInvariants(model: SchemaModel, options: RlsInvariantOptions): RlsFinding[] {
  const api = new Set(options.apiSchemas);
  const allowed = new Set((options.allowNoRls ?? []).map(normalizeTable));
  const findings: RlsFinding[] = [];
  for (const id of Object.keys(model.tables).sort(compareText)) {
    const table = model.tables[id] as Table;
    if (table.managed || !api.has(table.schema)) continue;
    if (!table.rlsEnabled) {
      if (!allowed.has(id)) {
        findings.push({
          level: 'failure',
          code: 'rls-disabled',
          table: id,
          message: `${id} is in the API schema ${table.schema} without row level security: every role with a grant on it reads all of its rows`,
        });
      }
    } else if (Object.keys(table.policies).length === 0) {
      findings.push({
        level: 'warning',
        code: 'rls-no-policy',
        table: id,
        message: `${id} has row level security enabled but no policy: only roles that bypass RLS can read or write it`,
      });
    }
  }
  return findings;
}

const RLS_ATTRIBUTES = new Set(['rlsEnabled', 'rlsForced']);

/**
 * Where production's RLS differs from the plan's prediction: per table, the RLS flags
 * (enabled, forced) and the policies (present, and each attribute: command, roles, USING,
 * WITH CHECK…). A table on one side only counts when the side that has it has RLS enabled or
 * policies (its existence as such is the schema check's business).
 */
export function compareRlsToPrediction(actual: SchemaModel, predicted: SchemaModel): SchemaDifference[] {
  return flattenDiff(diffSchemas(predicted, actual)).filter((difference) => {
    if (difference.kind !== 'table') return false;
    if (difference.member) return difference.member.kind === 'policy';
    if (difference.attribute) return RLS_ATTRIBUTES.has(difference.attribute);
    const table =
      difference.action === 'missing' ? predicted.tables[difference.id] : actual.tables[difference.id];
    return table !== undefined && (table.rlsEnabled || Object.keys(table.policies).length > 0);
  });
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
