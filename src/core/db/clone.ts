import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SupagateError } from '../errors.js';
import { removeOnInterrupt } from '../interrupt.js';
import { MANAGED_SCHEMAS, PLATFORM_EXTENSIONS, PLATFORM_PUBLICATIONS } from '../platform.js';
import { quoteIdentifier } from '../sql/quote.js';
import { vectorIndexesWithoutParameters } from './clone-stand-ins.js';
import { type Client, type Connection, connect, disconnect } from './connect.js';
import { type FoundTool, firstLines, libpqEnvironment, runTool } from './pgtools.js';
import { type EntryFailure, runRestoreScript } from './restore-script.js';
import { outOfSpaceHint } from './scratch-folder.js';
import { copySettings } from './settings.js';

/**
 * Copies production's schema, no data, into the shadow database: roles first (cluster-wide,
 * created only when missing), their settings that shape SQL (settings.ts, for the shadow
 * database only), then `pg_dump --schema-only` restored with pg_restore, leaving
 * out what the shadow server cannot have (extensions it lacks, event triggers), then the rows
 * of storage.buckets and cron.job (migrations add buckets and jobs; the plan compares them).
 *
 * Objects of Supabase-managed schemas that fail to restore are warnings; a failure in a user
 * schema makes the clone fail, naming the object and, when an extension is missing, the fix.
 *
 * The `platform` scope copies only what Supabase itself provides, the base the migrations
 * are replayed on to see what they produce (drift): the managed schemas without the policies
 * and triggers migrations put on their tables, `public`'s grants and every default
 * privilege in public or managed schemas, the extensions and publications every project
 * has. No bucket or job rows: migrations insert those.
 */
export interface CloneResult {
  /** Roles created in the shadow server. */
  createdRoles: string[];
  /** Production extensions the shadow server does not have. */
  missingExtensions: string[];
  warnings: string[];
}

export interface CloneOptions {
  sourceUrl: string;
  /**
   * The shadow's admin URL, or the shadow still being created: production is dumped meanwhile,
   * and nothing touches the shadow before it is there.
   */
  targetUrl: string | Promise<string>;
  pgDump: FoundTool;
  pgRestore: FoundTool;
  /** `full` (default): production's whole schema. `platform`: see above. */
  scope?: 'full' | 'platform';
}

const MANAGED = new Set<string>(MANAGED_SCHEMAS);

export async function cloneSchema(options: CloneOptions): Promise<CloneResult> {
  const creatingTarget = Promise.resolve(options.targetUrl);
  // Handled here at once: a shadow that fails to be created while production is dumped.
  creatingTarget.catch(() => {});
  const workDir = await mkdtemp(join(tmpdir(), 'supagate-clone-'));
  const forgetInterrupt = removeOnInterrupt(workDir, "the copy of production's schema");
  let source: Connection | undefined;
  let target: Connection | undefined;
  try {
    const dumpFile = join(workDir, 'schema.dump');
    // Both settled, so that pg_dump is never left writing into a folder being removed.
    const [dumped, targetUrl] = await Promise.allSettled([dumpSchema(options, dumpFile), creatingTarget]);
    if (targetUrl.status === 'rejected') throw targetUrl.reason;
    if (dumped.status === 'rejected') throw dumped.reason;
    const toc = dumped.value;
    source = await connect(options.sourceUrl, { readOnly: true, applicationName: 'supagate clone' });
    target = await connect(targetUrl.value, { applicationName: 'supagate clone' });
    const createdRoles = await copyRoles(source.client, target.client);
    const settingWarnings = await copySettings(source.client, target.client);
    const platformOnly = options.scope === 'platform';
    const available = await availableExtensions(target.client);
    const rebuilt = platformOnly
      ? { skipped: new Set<string>(), statements: [] }
      : await vectorIndexesWithoutParameters(source.client, target.client);
    const userTriggers = platformOnly ? await userTriggersOnManagedTables(source.client) : new Set<string>();
    const missingExtensions: string[] = [];
    const kept: string[] = [];
    for (const line of toc) {
      const entry = parseTocLine(line);
      if (platformOnly && entry && !inPlatformScope(entry, userTriggers)) continue;
      if (entry?.type === 'INDEX' && rebuilt.skipped.has(`${entry.schema} ${entry.name}`)) continue;
      if (entry?.type === 'EXTENSION' && !available.has(entry.name)) {
        missingExtensions.push(entry.name);
        continue;
      }
      if (
        entry?.type === 'COMMENT' &&
        entry.name.startsWith('EXTENSION ') &&
        !available.has(unquote(entry.name.slice(10)))
      )
        continue;
      if (
        entry?.type === 'EVENT TRIGGER' ||
        (entry?.type === 'COMMENT' && entry.name.startsWith('EVENT TRIGGER '))
      )
        continue;
      kept.push(line);
    }
    const listFile = join(workDir, 'restore.list');
    await writeFile(listFile, kept.join('\n'));
    const failures = await restoreSchema(options.pgRestore, targetUrl.value, listFile, dumpFile);
    for (const statement of rebuilt.statements) {
      await target.client.query(statement).catch((error: Error) => {
        failures.push({ object: statement, schema: '', error: error.message });
      });
    }
    const fatal = failures.filter((failure) => !failure.schema || !MANAGED.has(failure.schema));
    if (fatal.length > 0) {
      const missing =
        missingExtensions.length > 0
          ? ` The shadow server lacks these extensions: ${missingExtensions.join(', ')}.`
          : '';
      throw new SupagateError(
        'CLONE_FAILED',
        `Production's schema could not be recreated in the shadow database: ${fatal
          .slice(0, 5)
          .map((f) => `${f.object}: ${f.error}`)
          .join('; ')}.${missing}`,
        {
          hint:
            outOfSpaceHint(fatal.map((f) => f.error).join('\n')) ??
            (missingExtensions.length > 0
              ? 'Use a shadow server that has every extension production uses, e.g. a supabase/postgres container of the same version (--shadow-url).'
              : 'Use a shadow server of the same PostgreSQL major version as production (--shadow-url).'),
          details: { failures: fatal, missingExtensions },
        },
      );
    }
    if (!platformOnly) await copyPlatformRows(source.client, target.client);
    return {
      createdRoles,
      missingExtensions,
      warnings: [
        ...settingWarnings,
        ...failures.map((f) => `not cloned (managed schema ${f.schema}): ${f.object}: ${f.error}`),
      ],
    };
  } finally {
    await rm(workDir, { recursive: true, force: true });
    forgetInterrupt();
    await disconnect(source);
    await disconnect(target);
  }
}

/** `pg_dump --schema-only` of production into `file`; returns its table of contents' lines. */
async function dumpSchema(options: CloneOptions, file: string): Promise<string[]> {
  const dump = await runTool(
    options.pgDump.path,
    ['--schema-only', '--format=custom', '--no-subscriptions', `--file=${file}`],
    libpqEnvironment(options.sourceUrl),
  );
  if (dump.code !== 0) {
    throw new SupagateError(
      'CLONE_FAILED',
      `pg_dump of production's schema failed: ${firstLines(dump.stderr)}`,
      {
        hint: 'The plan needs to read production’s schema with pg_dump; check that the plan’s database user can read every schema.',
      },
    );
  }
  const list = await runTool(options.pgRestore.path, ['--list', file], {});
  return list.stdout.split('\n');
}

/**
 * pg_restore's script into the shadow: in one transaction first, in batches of entries (less
 * than half the time of `pg_restore --single-transaction`, which sends one query per entry, on
 * thousands of statements); when anything fails there (which rolls all of it back), again entry
 * by entry, each on its own, so that what failed can be told apart: an object of a managed
 * schema is a warning, any other one fails the clone.
 */
async function restoreSchema(
  pgRestore: FoundTool,
  targetUrl: string,
  listFile: string,
  dumpFile: string,
): Promise<RestoreFailure[]> {
  if (await restoreScript(pgRestore, targetUrl, listFile, dumpFile, 'one transaction')) return [];
  const failures: RestoreFailure[] = [];
  await restoreScript(pgRestore, targetUrl, listFile, dumpFile, ({ entry, message }) => {
    failures.push({
      object: `${entry.type} ${entry.schema ? `${entry.schema}.` : ''}${entry.name}`,
      schema: entry.schema,
      error: message,
    });
  }).catch((error: unknown) => {
    // The shadow's session broke, or pg_restore could not write the script.
    const reason =
      error instanceof SupagateError ? error.message.replace(/^Restore failed: /, '') : String(error);
    throw new SupagateError(
      'CLONE_FAILED',
      `Production's schema could not be recreated in the shadow database: ${reason}`,
      {
        hint: outOfSpaceHint(reason) ?? 'Check that the shadow server is up and has room, then plan again.',
        cause: error,
      },
    );
  });
  return failures;
}

const RESTORE_BATCH_BYTES = 1024 * 1024;

/**
 * Runs the restore script in a session of its own: in one transaction (false when it failed,
 * rolled back), or entry by entry, reporting each failure and going on.
 */
async function restoreScript(
  pgRestore: FoundTool,
  targetUrl: string,
  listFile: string,
  dumpFile: string,
  how: 'one transaction' | ((failure: EntryFailure) => void),
): Promise<boolean> {
  // No statement timeout, as pg_restore sets none (the script's own SET is left out).
  const session = await connect(targetUrl, { applicationName: 'supagate clone', statementTimeoutMs: 0 });
  try {
    if (how !== 'one transaction') {
      await runRestoreScript(session.client, pgRestore, listFile, dumpFile, { onEntryError: how });
      return true;
    }
    await session.client.query('BEGIN');
    await runRestoreScript(session.client, pgRestore, listFile, dumpFile, {
      batchBytes: RESTORE_BATCH_BYTES,
    });
    await session.client.query('COMMIT');
    return true;
  } catch (error) {
    if (how !== 'one transaction') throw error;
    return false;
  } finally {
    // Closing the session rolls back whatever it left open.
    await disconnect(session);
  }
}

/**
 * What a shadow created from a kept template still needs from production: roles missing on the
 * server, and production's role and database settings, which belong to a database and do not
 * come with a template. Returns the settings' warnings, as cloneSchema does.
 */
export async function copyRolesAndSettings(sourceUrl: string, targetUrl: string): Promise<string[]> {
  const source = await connect(sourceUrl, { readOnly: true, applicationName: 'supagate clone' });
  try {
    const target = await connect(targetUrl, { applicationName: 'supagate clone' });
    try {
      await copyRoles(source.client, target.client);
      return await copySettings(source.client, target.client);
    } finally {
      await disconnect(target);
    }
  } finally {
    await disconnect(source);
  }
}

/** Whether a TOC entry belongs to what Supabase provides rather than to the migrations. */
function inPlatformScope(entry: TocEntry, userTriggers: Set<string>): boolean {
  const base = (schema: string) => MANAGED.has(schema) || schema === 'public';
  if (entry.schema) {
    if (entry.type === 'DEFAULT ACL') return base(entry.schema);
    if (!MANAGED.has(entry.schema)) return false;
    if (entry.type === 'POLICY') return false;
    if (entry.type === 'TRIGGER') return !userTriggers.has(`${entry.schema} ${entry.name}`);
    return true;
  }
  const [kind, ...rest] = entry.type === 'COMMENT' || entry.type === 'ACL' ? entry.name.split(' ') : [];
  const target = unquote(rest.join(' '));
  switch (entry.type) {
    case 'SCHEMA':
      return base(entry.name);
    case 'EXTENSION':
      return PLATFORM_EXTENSIONS.has(entry.name.trim());
    case 'PUBLICATION':
      return PLATFORM_PUBLICATIONS.has(entry.name);
    case 'DEFAULT ACL':
      return true;
    case 'COMMENT':
    case 'ACL':
      if (kind === 'SCHEMA') return base(target);
      if (kind === 'EXTENSION') return PLATFORM_EXTENSIONS.has(target);
      return false;
    default:
      return false;
  }
}

/** `schema table trigger` of triggers on managed tables that run a function of a user schema. */
async function userTriggersOnManagedTables(client: Client): Promise<Set<string>> {
  const { rows } = await client.query<{ id: string }>(
    `SELECT n.nspname || ' ' || c.relname || ' ' || t.tgname AS id
       FROM pg_trigger t
       JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace pn ON pn.oid = p.pronamespace
      WHERE NOT t.tgisinternal AND n.nspname = ANY($1) AND NOT pn.nspname = ANY($1)`,
    [[...MANAGED]],
  );
  return new Set(rows.map((row) => row.id));
}

interface TocEntry {
  type: string;
  schema: string;
  name: string;
}

/** `1234; 1259 16386 TABLE public posts postgres` → type, schema, name. */
function parseTocLine(line: string): TocEntry | undefined {
  // Not trimmed at the end: an entry without owner (EXTENSION) ends in a space.
  const match = /^\d+; \d+ \d+ (.+)$/.exec(line.trimStart());
  if (!match) return undefined;
  return splitTocDescription(match[1] as string);
}

const TOC_TYPES = [
  'EVENT TRIGGER',
  'DEFAULT ACL',
  'FK CONSTRAINT',
  'MATERIALIZED VIEW DATA',
  'MATERIALIZED VIEW',
  'PUBLICATION TABLE',
  'ROW SECURITY',
  'SEQUENCE OWNED BY',
  'SEQUENCE SET',
  'TABLE ATTACH',
  'TEXT SEARCH CONFIGURATION',
  'TEXT SEARCH DICTIONARY',
  'FOREIGN TABLE',
  'SHELL TYPE',
];

function splitTocDescription(description: string): TocEntry {
  const type = TOC_TYPES.find((t) => description.startsWith(`${t} `)) ?? description.split(' ')[0] ?? '';
  const rest = description.slice(type.length + 1);
  const schemaEnd = rest.indexOf(' ');
  const schema = rest.slice(0, schemaEnd);
  // The name runs to the owner, the last word.
  const name = rest.slice(schemaEnd + 1, rest.lastIndexOf(' '));
  return { type, schema: schema === '-' ? '' : schema, name };
}

interface RestoreFailure {
  object: string;
  schema: string;
  error: string;
}

async function availableExtensions(client: Client): Promise<Set<string>> {
  const { rows } = await client.query<{ name: string }>('SELECT name FROM pg_available_extensions');
  return new Set(rows.map((row) => row.name));
}

interface RoleRow {
  rolname: string;
  rolinherit: boolean;
  rolbypassrls: boolean;
  rolsuper: boolean;
}

/**
 * Roles production's objects may name, created NOLOGIN in the shadow when missing, with the
 * memberships between them. Never with CREATEROLE or CREATEDB (before PostgreSQL 16 a member
 * of a CREATEROLE role can grant itself pg_execute_server_program), never as a superuser, and
 * no membership that involves a superuser or a pg_* role: the migrations' role must not be able
 * to reach any of those through a copied role.
 */
async function copyRoles(source: Client, target: Client): Promise<string[]> {
  const { rows: roles } = await source.query<RoleRow>(
    `SELECT rolname, rolinherit, rolbypassrls, rolsuper FROM pg_roles WHERE rolname !~ '^pg_' ORDER BY rolname`,
  );
  const { rows: existing } = await target.query<{ rolname: string; rolsuper: boolean }>(
    'SELECT rolname, rolsuper FROM pg_roles',
  );
  const present = new Set(existing.map((row) => row.rolname));
  const superusers = new Set([
    ...roles.filter((role) => role.rolsuper).map((role) => role.rolname),
    ...existing.filter((role) => role.rolsuper).map((role) => role.rolname),
  ]);
  const { rows: me } = await target.query<{ rolsuper: boolean }>(
    'SELECT rolsuper FROM pg_roles WHERE rolname = current_user',
  );
  const superuser = me[0]?.rolsuper ?? false;
  const created: string[] = [];
  for (const role of roles) {
    if (present.has(role.rolname)) continue;
    const attributes = [
      'NOLOGIN',
      role.rolinherit ? 'INHERIT' : 'NOINHERIT',
      ...(role.rolbypassrls && superuser && !role.rolsuper ? ['BYPASSRLS'] : []),
    ];
    try {
      await target.query(`CREATE ROLE ${quoteIdentifier(role.rolname)} ${attributes.join(' ')}`);
      created.push(role.rolname);
    } catch (error) {
      // Another run created it at the same moment: fine.
      if ((error as { code?: string }).code !== '42710') throw error;
    }
  }
  const { rows: memberships } = await source.query<{ role: string; member: string }>(
    `SELECT r.rolname AS role, m.rolname AS member FROM pg_auth_members am
       JOIN pg_roles r ON r.oid = am.roleid JOIN pg_roles m ON m.oid = am.member
      WHERE r.rolname !~ '^pg_' AND m.rolname !~ '^pg_'`,
  );
  for (const { role, member } of memberships) {
    if (!created.includes(member) && !created.includes(role)) continue;
    if (superusers.has(role) || superusers.has(member)) continue;
    await target.query(`GRANT ${quoteIdentifier(role)} TO ${quoteIdentifier(member)}`).catch(() => {});
  }
  return created;
}

/**
 * Rows of platform tables that migrations add to and the plan compares, which a schema-only
 * copy leaves out: buckets, and pg_cron's jobs (then the job id sequence moves past them).
 */
async function copyPlatformRows(source: Client, target: Client): Promise<void> {
  const exists = async (client: Client, table: string) =>
    (await client.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [table])).rows[0]?.ok;
  const rowsOf = async (table: string) =>
    JSON.stringify(
      (await source.query<{ rows: unknown }>(`SELECT coalesce(json_agg(t), '[]') AS rows FROM ${table} t`))
        .rows[0]?.rows ?? [],
    );
  if ((await exists(source, 'storage.buckets')) && (await exists(target, 'storage.buckets'))) {
    await target.query(
      `INSERT INTO storage.buckets SELECT * FROM json_populate_recordset(NULL::storage.buckets, $1)`,
      [await rowsOf('storage.buckets')],
    );
  }
  if ((await exists(source, 'cron.job')) && (await exists(target, 'cron.job'))) {
    // Named columns: pg_cron before 1.3 has no jobname or active. Jobs of production's own
    // database become jobs of the shadow's.
    const { rows } = await source.query<{ name: string }>('SELECT current_database() AS name');
    await target.query(
      `INSERT INTO cron.job (jobid, schedule, command, nodename, nodeport, database, username, active, jobname)
       SELECT jobid, schedule, command, coalesce(nodename, 'localhost'), coalesce(nodeport, 5432),
              CASE WHEN database IS NULL OR database = $2 THEN current_database() ELSE database END,
              coalesce(username, 'postgres'), coalesce(active, true), jobname
         FROM json_populate_recordset(NULL::cron.job, $1)`,
      [await rowsOf('cron.job'), rows[0]?.name],
    );
    await target.query(`SELECT setval('cron.jobid_seq', greatest((SELECT max(jobid) FROM cron.job), 1))`);
  }
}

function unquote(name: string): string {
  return name.startsWith('"') ? name.slice(1, -1).replace(/""/g, '"') : name;
}
