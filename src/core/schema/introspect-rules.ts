import {
  commentOf,
  compareText,
  extensionMember,
  type Nullable,
  oidArray,
  routineIdentity,
  sortedRecord,
} from './introspect-sql.js';
import type { EventTrigger, Rule } from './model.js';

/*
 * Rules and event triggers, read by introspect() set-based.
 *
 * Rules (pg_rewrite) are members of the tables and views read in round trip 2, selected by
 * their oids in round trip 3, like triggers: all but a view's own `_RETURN` rule (which is the
 * view). pg_get_ruledef() deparses with the transaction's `search_path = pg_catalog`, so every
 * name outside pg_catalog is schema-qualified.
 *
 * Event triggers are database-wide, read in round trip 2: those the user created (oid >=
 * FirstNormalObjectId, not an extension's), not the platform's (Supabase's pgrst_ddl_watch,
 * issue_pg_graphql_access…, whose functions live in a managed schema). The same scope as
 * not-compared.ts had for them.
 */

/** Rules of the given relations (round trip 3). */
export function rulesQuery(relations: number[]): string {
  return `SELECT r.ev_class AS relid, r.rulename::text AS name, r.ev_type::text AS event, r.is_instead AS instead,
  pg_get_ruledef(r.oid) AS definition, r.ev_enabled::text AS enabled,
  ${commentOf('r.oid', 'pg_rewrite')} AS comment
FROM pg_rewrite r
WHERE r.ev_class = ANY (${oidArray(relations)}) AND r.rulename <> '_RETURN'`;
}

/** The user's event triggers (round trip 2); `managed` is the SQL array of managed schema names. */
export function eventTriggersQuery(managed: string): string {
  return `SELECT quote_ident(e.evtname) AS id, e.evtname::text AS name, e.evtevent::text AS event,
  ${routineIdentity('p', 'pn')} AS function, coalesce(e.evttags, '{}')::text[] AS tags,
  e.evtenabled::text AS enabled, pg_get_userbyid(e.evtowner)::text AS owner,
  ${commentOf('e.oid', 'pg_event_trigger')} AS comment
FROM pg_event_trigger e JOIN pg_proc p ON p.oid = e.evtfoid JOIN pg_namespace pn ON pn.oid = p.pronamespace
WHERE e.oid >= 16384 AND pn.nspname <> ALL (${managed})
  AND NOT ${extensionMember('pg_event_trigger', 'e.oid')}`;
}

export interface RuleRow {
  relid: number;
  name: string;
  event: '1' | '2' | '3' | '4';
  instead: boolean;
  definition: string;
  enabled: 'O' | 'D' | 'R' | 'A';
  comment: Nullable<string>;
}

export interface EventTriggerRow {
  id: string;
  name: string;
  event: string;
  function: string;
  tags: string[];
  enabled: 'O' | 'D' | 'R' | 'A';
  owner: string;
  comment: Nullable<string>;
}

const RULE_EVENTS: Record<RuleRow['event'], Rule['event']> = {
  '1': 'SELECT',
  '2': 'UPDATE',
  '3': 'INSERT',
  '4': 'DELETE',
};

const ENABLED: Record<RuleRow['enabled'], Rule['enabled']> = {
  O: 'origin',
  D: 'disabled',
  R: 'replica',
  A: 'always',
};

export function toRule(row: RuleRow): Rule {
  return {
    name: row.name,
    event: RULE_EVENTS[row.event],
    instead: row.instead,
    definition: row.definition,
    enabled: ENABLED[row.enabled],
    comment: row.comment,
  };
}

export function assembleEventTriggers(rows: EventTriggerRow[] | undefined): Record<string, EventTrigger> {
  return sortedRecord(
    (rows ?? []).map((row): [string, EventTrigger] => [
      row.id,
      {
        name: row.name,
        event: row.event,
        function: row.function,
        tags: [...row.tags].sort(compareText),
        enabled: ENABLED[row.enabled],
        owner: row.owner,
        comment: row.comment,
      },
    ]),
  );
}
