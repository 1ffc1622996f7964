import { qualifiedName } from '../../sql/identifiers.js';
import { clusterFindings } from './cluster.js';
import { type Hazard, type HazardInput, type HazardOptions, hazardAt, isLarge } from './hazard.js';
import { lockEstimate } from './lock-estimate.js';
import type { PendingStatement, PendingStatements } from './pending.js';
import { relationsIn, roleNames } from './tree.js';

/**
 * Hazards of a statement read from its parse tree alone (TRUNCATE, DELETE without WHERE, index
 * builds, statements outside a transaction, cluster-wide statements…), each at that statement.
 */
export function statementHazards(
  pending: PendingStatements,
  input: HazardInput,
  options: HazardOptions,
): Hazard[] {
  const cluster = clusterFindings(pending.list).map((finding) =>
    hazardAt(finding.code, 'blocking', finding.message, undefined, finding.at),
  );
  return [...pending.list.flatMap((at) => hazardsOf(at, input, options)), ...cluster];
}

function hazardsOf(at: PendingStatement, input: HazardInput, options: HazardOptions): Hazard[] {
  const { nodeType, tree, nonTransactional } = at.statement;
  const relations = relationsIn(tree).map((r) => qualifiedName(r.schema, r.name, input.before.serverVersion));
  const first = relations[0];
  const existing = relations.some((relation) => input.before.tables[relation] !== undefined);
  const hazards: Hazard[] = [];
  const add = (...args: Parameters<typeof hazardAt>) => hazards.push(hazardAt(...args));

  if (nodeType === 'TruncateStmt')
    add('truncate', 'blocking', `TRUNCATE deletes every row of ${relations.join(', ')}`, first, at);
  if (nodeType === 'DeleteStmt' && !tree.whereClause && existing)
    add('delete-without-where', 'blocking', `DELETE without WHERE empties ${first}`, first, at);
  if (nodeType === 'UpdateStmt' && !tree.whereClause && existing)
    add('update-without-where', 'warning', `UPDATE without WHERE rewrites every row of ${first}`, first, at);
  if (nodeType === 'IndexStmt' && !tree.concurrent) {
    const table = input.before.tables[first ?? ''];
    if (table && first && isLarge(table, options))
      hazards.push({
        ...hazardAt(
          'index-not-concurrent',
          'warning',
          `CREATE INDEX without CONCURRENTLY blocks writes to ${first} (about ${table.stats.estimatedRows.toLocaleString('en-US')} rows) while it builds`,
          first,
          at,
        ),
        lock: lockEstimate(table, first, 'index build', 'SHARE'),
      });
  }
  if (nonTransactional)
    add(
      'non-transactional',
      'warning',
      `${nonTransactional} runs outside a transaction: if it fails, ${at.migration.path} is left partly applied`,
      undefined,
      at,
    );
  if (nodeType === 'GrantStmt' && tree.is_grant && grantsToAnon(tree.grantees))
    add(
      'grant-to-anon',
      'warning',
      'Privileges are granted to anon or PUBLIC: anyone with the anon key gets them',
      undefined,
      at,
    );
  if (nodeType === 'VacuumStmt' && hasOption(tree.options, 'full')) {
    const table = input.before.tables[first ?? ''];
    hazards.push({
      ...hazardAt(
        'table-rewrite',
        'warning',
        'VACUUM FULL rewrites the table under an ACCESS EXCLUSIVE lock',
        first,
        at,
      ),
      ...(table && first ? { lock: lockEstimate(table, first, 'rewrite', 'ACCESS EXCLUSIVE') } : {}),
    });
  }
  return hazards;
}

function grantsToAnon(grantees: unknown): boolean {
  return roleNames(grantees).some((role) => role === 'PUBLIC' || role === 'anon');
}

function hasOption(options: unknown, name: string): boolean {
  return (
    Array.isArray(options) &&
    options.some((o) => (o as { DefElem?: { defname?: string } }).DefElem?.defname === name)
  );
}
