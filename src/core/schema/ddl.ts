import type { ObjectKind } from './changes.js';
import { foreignDataWrapperDdl, foreignServerDdl, foreignTableDdl, userMappingDdl } from './ddl-foreign.js';
import { defaultPrivilegeId } from './ddl-grants.js';
import {
  bucketDdl,
  collationDdl,
  cronJobDdl,
  defaultPrivilegeDdl,
  eventTriggerDdl,
  extensionDdl,
  publicationDdl,
  routineDdl,
  schemaDdl,
  sequenceDdl,
  typeDdl,
} from './ddl-objects.js';
import { tableDdl, viewDdl } from './ddl-tables.js';
import { CATALOG_KINDS } from './kinds/index.js';
import type { SchemaModel } from './model.js';

// The renderers live by theme in ddl-grants.ts (privileges), ddl-render.ts (shared helpers),
// ddl-tables.ts (tables, views), ddl-foreign.ts (foreign data) and ddl-objects.ts (the other kinds).
export { defaultPrivilegeId, type GrantTarget, grantSummary, groupGrants } from './ddl-grants.js';

/**
 * Normalized DDL of one top-level object of a SchemaModel: deterministic, readable SQL that
 * PostgreSQL accepts, written so that a change of one attribute changes one line (one column,
 * one policy clause, one grantee per line). It is what PR comments show before/after and diff;
 * it is not a migration (no DROP, no dependency order between objects).
 */
export function objectDdl(model: SchemaModel, kind: ObjectKind, id: string): string | null {
  const version = model.serverVersion;
  switch (kind) {
    case 'schema': {
      const schema = model.schemas[id];
      return schema ? schemaDdl(schema, version) : null;
    }
    case 'extension': {
      const extension = model.extensions[id];
      return extension ? extensionDdl(extension, version) : null;
    }
    case 'collation': {
      const collation = model.collations?.[id];
      return collation ? collationDdl(collation, version) : null;
    }
    case 'type': {
      const type = model.types[id];
      return type ? typeDdl(type, version) : null;
    }
    case 'sequence': {
      const sequence = model.sequences[id];
      return sequence ? sequenceDdl(sequence, version) : null;
    }
    case 'table': {
      const table = model.tables[id];
      return table ? tableDdl(table, version) : null;
    }
    case 'view':
    case 'materialized view': {
      const view = model.views[id];
      if (!view || (view.kind === 'materialized') !== (kind === 'materialized view')) return null;
      return viewDdl(view, version);
    }
    case 'function': {
      const routine = model.functions[id];
      return routine ? routineDdl(routine, version) : null;
    }
    case 'default privileges': {
      const entry = model.defaultPrivileges.find((d) => defaultPrivilegeId(d) === id);
      return entry ? defaultPrivilegeDdl(entry, version) : null;
    }
    case 'publication': {
      const publication = model.publications[id];
      return publication ? publicationDdl(publication, version) : null;
    }
    case 'cron job': {
      const job = model.cronJobs[id];
      return job ? cronJobDdl(job) : null;
    }
    case 'bucket': {
      const bucket = model.buckets[id];
      return bucket ? bucketDdl(bucket) : null;
    }
    case 'foreign data wrapper': {
      const wrapper = model.foreignDataWrappers?.[id];
      return wrapper ? foreignDataWrapperDdl(wrapper, version) : null;
    }
    case 'foreign server': {
      const server = model.foreignServers?.[id];
      return server ? foreignServerDdl(server, version) : null;
    }
    case 'user mapping': {
      const mapping = model.userMappings?.[id];
      return mapping ? userMappingDdl(mapping, version) : null;
    }
    case 'foreign table': {
      const table = model.foreignTables?.[id];
      return table ? foreignTableDdl(table, version) : null;
    }
    case 'event trigger': {
      const trigger = model.eventTriggers?.[id];
      return trigger ? eventTriggerDdl(trigger, version) : null;
    }
    default: {
      const catalogKind = CATALOG_KINDS.find((entry) => entry.kind === kind);
      const object = catalogKind ? model[catalogKind.key]?.[id] : undefined;
      return catalogKind && object !== undefined ? catalogKind.ddl(object, version) : null;
    }
  }
}
