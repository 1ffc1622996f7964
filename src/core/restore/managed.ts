import {
  type ExtensionRecord,
  MANAGED_TABLE_SCHEMAS,
  readExtensions,
  readManagedTriggers,
  sameTrigger,
  type TriggerRecord,
} from '../backup/managed-state.js';
import type { BackupManifest } from '../backup/manifest.js';
import type { Client } from '../db/connect.js';
import { ident, literal, type Statement } from './errors.js';

/**
 * Triggers on Supabase's tables and extensions, back to what the manifest recorded (format 2).
 * Triggers that differ or call a function the restore replaces are dropped first and the
 * backup's created after the restore; extensions created since are dropped once the objects
 * using them are gone, those dropped since created again before the dump's objects need them.
 */
export interface ManagedStatements {
  /** Before everything else (trigger drops). */
  first: Statement[];
  /** After the drops, before the restore script (extensions). */
  beforeScript: Statement[];
  after: Statement[];
  steps: string[];
}

/**
 * Undefined for a format-1 manifest and for a backup of named schemas (what lies outside them is
 * not its to restore). Into another database, what the backup does not have is that database's
 * own: kept, but for triggers that call a function the restore replaces.
 */
export async function managedStatements(
  client: Client,
  manifest: BackupManifest,
  replacedSchemaOids: number[],
  sameTarget: boolean,
): Promise<ManagedStatements | undefined> {
  const recorded = manifest.managed;
  if (!recorded || manifest.scope.kind === 'named') return undefined;
  const triggers = await triggerStatements(client, recorded.triggers, replacedSchemaOids, sameTarget);
  const extensions = extensionStatements(recorded.extensions, await readExtensions(client), sameTarget);
  return {
    first: triggers.first,
    beforeScript: extensions.statements,
    after: triggers.after,
    steps: [...triggers.steps, ...extensions.steps],
  };
}

async function triggerStatements(
  client: Client,
  backup: TriggerRecord[],
  replacedSchemaOids: number[],
  sameTarget: boolean,
): Promise<{ first: Statement[]; after: Statement[]; steps: string[] }> {
  const current = await readManagedTriggers(client);
  const callsReplaced = await triggersCallingInto(client, replacedSchemaOids);
  const first: Statement[] = [];
  const after: Statement[] = [];
  const steps: string[] = [];
  const kept = new Set<string>();
  for (const trigger of current) {
    const original = backup.find((b) => b.table === trigger.table && b.name === trigger.name);
    const key = `${trigger.table}\u0000${trigger.name}`;
    const unchanged = original && sameTrigger(original, trigger);
    if ((unchanged || (!original && !sameTarget)) && !callsReplaced.has(key)) {
      kept.add(key);
      continue;
    }
    first.push({
      sql: `DROP TRIGGER IF EXISTS ${ident(trigger.name)} ON ${trigger.table}`,
      what: `dropping trigger ${trigger.name} on ${trigger.table}`,
    });
    steps.push(
      `Drop trigger ${trigger.name} on ${trigger.table} (${!original ? 'created after the backup' : callsReplaced.has(key) ? 'it calls a function the restore replaces; the backup’s is created again' : 'it differs from the backup'})`,
    );
  }
  for (const trigger of backup) {
    if (kept.has(`${trigger.table}\u0000${trigger.name}`)) continue;
    after.push(...createTrigger(trigger));
    steps.push(`Create trigger ${trigger.name} on ${trigger.table} as the backup recorded it`);
  }
  return { first, after, steps };
}

/** `table\0name` of the triggers on managed tables whose function lives in a replaced schema. */
async function triggersCallingInto(client: Client, schemaOids: number[]): Promise<Set<string>> {
  if (schemaOids.length === 0) return new Set();
  const { rows } = await client.query<{ table: string; name: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS table, t.tgname AS name
       FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_proc p ON p.oid = t.tgfoid
      WHERE p.pronamespace = ANY($1::oid[]) AND NOT t.tgisinternal`,
    [schemaOids],
  );
  return new Set(rows.map((row) => `${row.table}\u0000${row.name}`));
}

function createTrigger(trigger: TriggerRecord): Statement[] {
  const what = `creating trigger ${trigger.name} on ${trigger.table}`;
  const statements: Statement[] = [{ sql: trigger.definition, what }];
  const state = { D: 'DISABLE', R: 'ENABLE REPLICA', A: 'ENABLE ALWAYS' }[trigger.enabled];
  if (state) {
    statements.push({ sql: `ALTER TABLE ${trigger.table} ${state} TRIGGER ${ident(trigger.name)}`, what });
  }
  if (trigger.comment !== null) {
    statements.push({
      sql: `COMMENT ON TRIGGER ${ident(trigger.name)} ON ${trigger.table} IS ${literal(trigger.comment)}`,
      what,
    });
  }
  return statements;
}

function extensionStatements(
  backup: ExtensionRecord[],
  current: ExtensionRecord[],
  sameTarget: boolean,
): { statements: Statement[]; steps: string[] } {
  const statements: Statement[] = [];
  const steps: string[] = [];
  for (const extension of current) {
    if (!sameTarget || backup.some((b) => b.name === extension.name)) continue;
    // No CASCADE: what still uses it after the drops is outside the restore, and must stop it.
    statements.push({
      sql: `DROP EXTENSION IF EXISTS ${ident(extension.name)}`,
      what: `dropping extension ${extension.name} (created after the backup)`,
    });
    steps.push(`Drop extension ${extension.name} (created after the backup)`);
  }
  for (const extension of backup) {
    const now = current.find((c) => c.name === extension.name);
    if (now && now.version !== extension.version) {
      // Fails (and rolls back) when the extension has no script between the two versions.
      statements.push({
        sql: `ALTER EXTENSION ${ident(extension.name)} UPDATE TO ${literal(extension.version)}`,
        what: `setting extension ${extension.name} back to version ${extension.version}`,
      });
      steps.push(`Set extension ${extension.name} back from ${now.version} to ${extension.version}`);
    }
    if (now) continue;
    statements.push({
      sql: `CREATE EXTENSION IF NOT EXISTS ${ident(extension.name)} WITH SCHEMA ${ident(extension.schema)} VERSION ${literal(extension.version)}`,
      what: `creating extension ${extension.name} (dropped after the backup)`,
    });
    steps.push(`Create extension ${extension.name} ${extension.version} in schema ${extension.schema} again`);
  }
  return { statements, steps };
}

/** Oids of the triggers on Supabase's tables: a format-2 restore puts those back itself. */
export async function managedTriggerOids(client: Client, triggerOids: number[]): Promise<Set<number>> {
  if (triggerOids.length === 0) return new Set();
  const { rows } = await client.query<{ oid: number }>(
    `SELECT t.oid::int8::float8 AS oid FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
      WHERE t.oid = ANY($1::oid[]) AND c.relnamespace::regnamespace::text = ANY($2::text[])`,
    [triggerOids, MANAGED_TABLE_SCHEMAS],
  );
  return new Set(rows.map((row) => Number(row.oid)));
}
