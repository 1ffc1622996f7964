import type { BackupManifest } from '../backup/manifest.js';
import type { Client } from '../db/connect.js';
import { dependencyClosure } from './closure.js';
import {
  policiesOnOtherTables,
  publicationRestores,
  recreatableTriggers,
  referencingRows,
} from './dependents.js';
import type { Statement } from './errors.js';
import { managedTriggerOids } from './managed.js';
import type { Targets } from './plan.js';
import type { TocEntry } from './toc.js';

export interface OutsideDependents {
  /** What would be lost: the restore refuses. */
  unsafe: string[];
  /** SQL that moves the unsafe ones out of the way and back, when it can be told. */
  fix: string[];
  /** Puts back what the drops take and the backup has (triggers, publication memberships). */
  after: Statement[];
  steps: string[];
  /** `tableOid\0policy` of the policies of tables restored on their own that the drops take. */
  cascadedPolicies: Set<string>;
}

const HANDLED = new Set(['pg_policy', 'pg_trigger', 'pg_publication_rel', 'pg_publication_namespace']);

/** Everything outside the replaced schemas that a DROP … CASCADE of what they hold would reach. */
export async function outsideDependents(
  client: Client,
  manifest: BackupManifest,
  targets: Targets,
  toc: TocEntry[],
  options: { policyOnlyOids: number[]; triggersRecorded: boolean; sameTarget: boolean },
): Promise<OutsideDependents> {
  const droppedOids = targets.dropped.map((schema) => targets.existing.get(schema) as number);
  const closure = await dependencyClosure(client, droppedOids, targets.keptOids, targets.insideOids);
  const outside = closure.filter((row) => !row.inside && !row.internal);
  const oidsOf = (catalog: string) => outside.filter((r) => r.catalog === catalog).map((r) => r.objid);
  // An extension created after the backup goes anyway (managed.ts drops it): not a loss.
  const createdSince = await extensionsCreatedSince(client, manifest, oidsOf('pg_extension'), options);
  const unsafe = outside
    .filter((row) => !HANDLED.has(row.catalog) && !createdSince.has(row.objid))
    .map((row) => row.description);

  const policies = await policiesOnOtherTables(
    client,
    oidsOf('pg_policy'),
    targets.partialOids,
    options.policyOnlyOids,
  );
  // A format-2 manifest recorded the triggers on Supabase's tables: those are put back as recorded.
  const cascadedTriggers = oidsOf('pg_trigger');
  const recorded = options.triggersRecorded
    ? await managedTriggerOids(client, cascadedTriggers)
    : new Set<number>();
  const triggers = await recreatableTriggers(
    client,
    cascadedTriggers.filter((oid) => !recorded.has(oid)),
    targets.insideOids,
    toc,
  );
  const publications = await publicationRestores(
    client,
    manifest,
    oidsOf('pg_publication_rel'),
    oidsOf('pg_publication_namespace'),
  );
  const rows =
    targets.partialOids.length > 0
      ? await referencingRows(client, targets.partialOids, targets.insideOids)
      : [];
  return {
    unsafe: [...unsafe, ...policies.unsafe, ...triggers.unsafe, ...rows],
    fix: policies.fix,
    after: [...triggers.after, ...publications.after],
    steps: [
      ...triggers.recreated.map(
        (t) =>
          `Re-create trigger ${t.name} on ${t.table} (it calls ${t.function}, which the restore replaces)`,
      ),
      ...publications.steps.map((step) =>
        manifest.publications ? `Add ${step}, as in the backup` : `Add ${step} again, if the backup has it`,
      ),
    ],
    cascadedPolicies: policies.cascaded,
  };
}

/** Oids of the extensions among `oids` that a same-target restore of a format-2 backup drops. */
async function extensionsCreatedSince(
  client: Client,
  manifest: BackupManifest,
  oids: number[],
  options: { sameTarget: boolean },
): Promise<Set<number>> {
  const recorded = manifest.managed?.extensions;
  if (!recorded || !options.sameTarget || oids.length === 0) return new Set();
  const { rows } = await client.query<{ oid: number }>(
    `SELECT oid::int8::float8 AS oid FROM pg_extension WHERE oid = ANY($1::oid[]) AND NOT extname = ANY($2::text[])`,
    [oids, recorded.map((extension) => extension.name)],
  );
  return new Set(rows.map((row) => Number(row.oid)));
}
