import { DEFAULT_API_SCHEMAS } from '../../platform.js';
import type { ObjectChange } from '../changes.js';
import { type Hazard, type HazardInput, type HazardOptions, hazardAt } from './hazard.js';
import type { Locator } from './locate.js';
import { columnRenameObstacle } from './rename-fixes.js';

/**
 * Renames of tables and columns in a schema the Data API (PostgREST) exposes: a deployed
 * client still uses the old name, and its requests fail from the moment the migration is
 * applied until it ships the new one. A warning, not blocking: whether clients use the name
 * (or all ship at once) is for the reviewer to say; `fixes.ts` offers the compatible form.
 */
export function renameHazards(
  change: ObjectChange,
  input: HazardInput,
  options: HazardOptions,
  locate: Locator,
): Hazard[] {
  if (change.kind === 'view' || change.kind === 'materialized view')
    return viewRenameHazards(change, input, options, locate);
  if (change.kind !== 'table' || (change.action !== 'changed' && change.action !== 'renamed')) return [];
  const before = input.before.tables[change.renamedFrom ?? change.id];
  const after = input.after.tables[change.id];
  const api = new Set<string>(options.apiSchemas ?? DEFAULT_API_SCHEMAS);
  if (!before || !after || !api.has(before.schema)) return [];
  const name = { schema: after.schema, name: after.name };
  const hazards: Hazard[] = [];
  if (change.action === 'renamed')
    hazards.push(
      hazardAt(
        'rename-breaks-clients',
        'warning',
        `Table ${change.renamedFrom} is renamed to ${change.id}, and schema ${before.schema} is exposed through the Data API: deployed clients that use the old name fail from the moment it is applied until they use the new one`,
        change.id,
        locate.relationRename(name),
      ),
    );
  for (const member of change.members) {
    if (member.kind !== 'column' || member.action !== 'renamed' || !member.renamedFrom) continue;
    const obstacle = columnRenameObstacle(after, member.name, input.after);
    hazards.push(
      hazardAt(
        'rename-breaks-clients',
        'warning',
        `Column ${change.id}.${member.renamedFrom} is renamed to ${member.name}, and schema ${before.schema} is exposed through the Data API: deployed clients that read or write ${member.renamedFrom} fail from the moment it is applied until they use the new name${obstacle ? `. No expand/contract rewrite is offered: ${obstacle}` : ''}`,
        `${change.id}.${member.name}`,
        locate.columnRename(name, member.name),
      ),
    );
  }
  return hazards;
}

/**
 * A view renamed in an exposed schema is an endpoint renamed: the same warning, without a
 * rewrite (a view under the old name over the new one is the compatible form; the reviewer
 * writes it). Views' columns are renamed only by redefining them, which the diff shows as a
 * changed definition, not as a rename.
 */
function viewRenameHazards(
  change: ObjectChange,
  input: HazardInput,
  options: HazardOptions,
  locate: Locator,
): Hazard[] {
  if (change.action !== 'renamed' || !change.renamedFrom) return [];
  const before = input.before.views[change.renamedFrom];
  const after = input.after.views[change.id];
  const api = new Set<string>(options.apiSchemas ?? DEFAULT_API_SCHEMAS);
  if (!before || !after || !api.has(before.schema)) return [];
  return [
    hazardAt(
      'rename-breaks-clients',
      'warning',
      `${change.kind === 'view' ? 'View' : 'Materialized view'} ${change.renamedFrom} is renamed to ${change.id}, and schema ${before.schema} is exposed through the Data API: deployed clients that read it under the old name fail from the moment it is applied until they use the new one (a view under the old name, selecting from the new, keeps them working meanwhile)`,
      change.id,
      locate.relationRename({ schema: after.schema, name: after.name }),
    ),
  ];
}
