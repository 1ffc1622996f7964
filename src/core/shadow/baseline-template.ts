import { type Client, connect, disconnect } from '../db/connect.js';
import { quoteIdentifier } from '../sql/quote.js';

/*
 * A shadow server's kept baselines: template databases on that server, one per key, named
 * `supagate_baseline_<key>`, that nobody may connect to, with their record as the database's
 * comment. A later plan's shadow database is created from one (CREATE DATABASE … TEMPLATE)
 * instead of restoring production into an empty one. The two newest are kept.
 */

export interface TemplateRecord {
  key: string;
  /** fingerprintOf the shadow's model as read right after the clone. */
  fingerprint: string;
  warnings: string[];
  createdAt: string;
}

const PREFIX = 'supagate_baseline_';
export const MAX_TEMPLATES = 2;

/** The template database's name for a key (within PostgreSQL's 63 bytes). */
export function templateName(key: string): string {
  return `${PREFIX}${key.slice(0, 40)}`;
}

async function withServer<T>(serverUrl: string, work: (client: Client) => Promise<T>): Promise<T> {
  const connection = await connect(serverUrl, { applicationName: 'supagate shadow' });
  try {
    return await work(connection.client);
  } finally {
    await disconnect(connection);
  }
}

/** The record of the template kept for `key` on the server, or undefined. */
export function findTemplate(serverUrl: string, key: string): Promise<TemplateRecord | undefined> {
  return withServer(serverUrl, async (client) => {
    const { rows } = await client.query<{ comment: string | null }>(
      `SELECT shobj_description(d.oid, 'pg_database') AS comment FROM pg_database d WHERE d.datname = $1`,
      [templateName(key)],
    );
    try {
      const record = JSON.parse(rows[0]?.comment ?? 'null') as TemplateRecord | null;
      return record?.key === key ? record : undefined;
    } catch {
      return undefined;
    }
  });
}

export function templateComment(record: TemplateRecord): string {
  return JSON.stringify(record);
}

export function removeTemplate(serverUrl: string, key: string): Promise<void> {
  return withServer(serverUrl, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(templateName(key))}`).catch(() => {});
  });
}

/** Drops all but the MAX_TEMPLATES newest; one in use by a starting plan stays for now. */
export function pruneTemplates(serverUrl: string): Promise<void> {
  return withServer(serverUrl, async (client) => {
    const { rows } = await client.query<{ name: string; comment: string | null }>(
      `SELECT d.datname::text AS name, shobj_description(d.oid, 'pg_database') AS comment
         FROM pg_database d WHERE starts_with(d.datname, $1)`,
      [PREFIX],
    );
    const created = (comment: string | null) => {
      try {
        return (JSON.parse(comment ?? '{}') as Partial<TemplateRecord>).createdAt ?? '';
      } catch {
        return '';
      }
    };
    rows.sort((a, b) => (created(a.comment) < created(b.comment) ? 1 : -1));
    for (const { name } of rows.slice(MAX_TEMPLATES)) {
      await client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)}`).catch(() => {});
    }
  });
}

/** Drops every kept template on the server; returns how many there were. */
export function clearTemplates(serverUrl: string): Promise<number> {
  return withServer(serverUrl, async (client) => {
    const names = await templateNames(client);
    for (const name of names) await client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)}`);
    return names.length;
  });
}

export function countTemplates(serverUrl: string): Promise<number> {
  return withServer(serverUrl, async (client) => (await templateNames(client)).length);
}

async function templateNames(client: Client): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    'SELECT d.datname::text AS name FROM pg_database d WHERE starts_with(d.datname, $1) ORDER BY 1',
    [PREFIX],
  );
  return rows.map((row) => row.name);
}
