/**
 * Statements whose effect reaches beyond the migration's own database: other databases, roles
 * and system settings (cluster-wide), other sessions, remote servers, the server's programs and
 * files. On Supabase a migration runs as a role that cannot do most of these; a plan reports
 * every one as a blocking finding, located at its statement, and the shadow never runs the
 * cluster-wide ones as written (see `clusterStatement`).
 *
 * Reads one statement's parse tree (libpg_query's JSON). Function bodies (`DO`, `CREATE
 * FUNCTION`) are strings in the tree: they are searched by name for the same calls.
 */
export type BeyondDatabaseCode =
  | 'database-change'
  | 'role-change'
  | 'system-change'
  | 'other-sessions'
  | 'remote-connection'
  | 'server-program'
  | 'server-file';

export interface BeyondDatabase {
  code: BeyondDatabaseCode;
  /** What the statement does, for a message: `ALTER ROLE`, `dblink_exec()`. */
  what: string;
  /**
   * The statement itself changes something cluster-wide (a database, a role, a system setting):
   * a shadow database must not run it, since its server is shared by every database on it.
   */
  clusterStatement: boolean;
}

type Node = Record<string, unknown>;

const STATEMENTS: Record<string, [BeyondDatabaseCode, string]> = {
  CreatedbStmt: ['database-change', 'CREATE DATABASE'],
  DropdbStmt: ['database-change', 'DROP DATABASE'],
  AlterDatabaseStmt: ['database-change', 'ALTER DATABASE'],
  AlterDatabaseSetStmt: ['database-change', 'ALTER DATABASE … SET'],
  AlterDatabaseRefreshCollStmt: ['database-change', 'ALTER DATABASE … REFRESH COLLATION VERSION'],
  CreateRoleStmt: ['role-change', 'CREATE ROLE'],
  AlterRoleStmt: ['role-change', 'ALTER ROLE'],
  AlterRoleSetStmt: ['role-change', 'ALTER ROLE … SET'],
  DropRoleStmt: ['role-change', 'DROP ROLE'],
  GrantRoleStmt: ['role-change', 'GRANT/REVOKE role membership'],
  ReassignOwnedStmt: ['role-change', 'REASSIGN OWNED'],
  AlterSystemStmt: ['system-change', 'ALTER SYSTEM'],
  CreateTableSpaceStmt: ['system-change', 'CREATE TABLESPACE'],
  DropTableSpaceStmt: ['system-change', 'DROP TABLESPACE'],
  AlterTableSpaceOptionsStmt: ['system-change', 'ALTER TABLESPACE'],
  LoadStmt: ['system-change', 'LOAD'],
};

/** Object types whose RENAME, OWNER TO or COMMENT change a cluster-wide object. */
const SHARED_OBJECTS: Record<string, [BeyondDatabaseCode, string]> = {
  OBJECT_DATABASE: ['database-change', 'database'],
  OBJECT_ROLE: ['role-change', 'role'],
  OBJECT_TABLESPACE: ['system-change', 'tablespace'],
};

/** Statements that open connections to other servers, or define how to. */
const REMOTE_STATEMENTS: Record<string, string> = {
  CreateForeignServerStmt: 'CREATE SERVER',
  AlterForeignServerStmt: 'ALTER SERVER',
  CreateUserMappingStmt: 'CREATE USER MAPPING',
  AlterUserMappingStmt: 'ALTER USER MAPPING',
  ImportForeignSchemaStmt: 'IMPORT FOREIGN SCHEMA',
  CreateSubscriptionStmt: 'CREATE SUBSCRIPTION',
  AlterSubscriptionStmt: 'ALTER SUBSCRIPTION',
};

/** Extensions whose whole purpose is connecting to other servers. */
const REMOTE_EXTENSIONS = new Set(['dblink', 'postgres_fdw']);

/** Functions by what calling them reaches. */
const FUNCTIONS: Record<string, BeyondDatabaseCode> = {
  pg_terminate_backend: 'other-sessions',
  pg_cancel_backend: 'other-sessions',
  pg_reload_conf: 'system-change',
  pg_rotate_logfile: 'system-change',
  pg_switch_wal: 'system-change',
  pg_promote: 'system-change',
  pg_create_restore_point: 'system-change',
  pg_create_physical_replication_slot: 'system-change',
  pg_create_logical_replication_slot: 'system-change',
  pg_drop_replication_slot: 'system-change',
  pg_read_file: 'server-file',
  pg_read_binary_file: 'server-file',
  pg_ls_dir: 'server-file',
  pg_stat_file: 'server-file',
  pg_file_write: 'server-file',
  pg_file_rename: 'server-file',
  pg_file_unlink: 'server-file',
  lo_import: 'server-file',
  lo_export: 'server-file',
};

/** Any dblink function: dblink, dblink_exec, dblink_connect(_u), dblink_send_query, … */
const DBLINK = /^dblink(_\w+)?$/;

/** Languages that run arbitrary code on the server's host. */
const UNTRUSTED_LANGUAGES = new Set(['c', 'internal', 'plpythonu', 'plpython3u', 'plperlu', 'pltclu']);

export function beyondDatabase(nodeType: string, node: Node): BeyondDatabase[] {
  const found: BeyondDatabase[] = [];
  const add = (code: BeyondDatabaseCode, what: string, clusterStatement = false) => {
    if (!found.some((f) => f.code === code && f.what === what)) found.push({ code, what, clusterStatement });
  };
  const statement = STATEMENTS[nodeType];
  if (statement) add(statement[0], statement[1], true);
  const shared = sharedObjectChange(nodeType, node);
  if (shared) add(shared[0], shared[1], true);
  const remote = REMOTE_STATEMENTS[nodeType];
  if (remote) add('remote-connection', remote);
  if (nodeType === 'CreateExtensionStmt' && REMOTE_EXTENSIONS.has(String(node.extname)))
    add('remote-connection', `CREATE EXTENSION ${String(node.extname)}`);
  if (nodeType === 'CopyStmt' && typeof node.filename === 'string') {
    if (node.is_program) add('server-program', `COPY … ${node.is_from ? 'FROM' : 'TO'} PROGRAM`);
    else add('server-file', `COPY … ${node.is_from ? 'FROM' : 'TO'} a server file`);
  }
  if (nodeType === 'CreateFunctionStmt' || nodeType === 'DoStmt') {
    const options = (nodeType === 'DoStmt' ? node.args : node.options) as unknown;
    const language = stringOption(options, 'language')?.toLowerCase();
    if (language && UNTRUSTED_LANGUAGES.has(language)) add('server-program', `LANGUAGE ${language}`);
    for (const body of bodyStrings(options)) for (const [code, what] of callsInBody(body)) add(code, what);
  }
  for (const name of calledFunctions(node)) {
    const code = DBLINK.test(name) ? 'remote-connection' : FUNCTIONS[name];
    if (code) add(code, `${name}()`);
  }
  return found;
}

function sharedObjectChange(nodeType: string, node: Node): [BeyondDatabaseCode, string] | undefined {
  const type =
    nodeType === 'RenameStmt'
      ? node.renameType
      : nodeType === 'AlterOwnerStmt'
        ? node.objectType
        : nodeType === 'CommentStmt' || nodeType === 'SecLabelStmt'
          ? node.objtype
          : undefined;
  const shared = typeof type === 'string' ? SHARED_OBJECTS[type] : undefined;
  if (!shared) return undefined;
  const verb = nodeType === 'RenameStmt' ? 'RENAME' : nodeType === 'AlterOwnerStmt' ? 'OWNER TO' : 'COMMENT';
  return [shared[0], `${verb} of a ${shared[1]}`];
}

/** The names of every function called anywhere in the tree (last name part, lower case). */
function calledFunctions(node: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(node)) {
    for (const item of node) calledFunctions(item, found);
  } else if (node && typeof node === 'object') {
    const call = (node as { FuncCall?: { funcname?: { String?: { sval?: string } }[] } }).FuncCall;
    const parts = call?.funcname ?? [];
    const last = parts[parts.length - 1]?.String?.sval;
    if (last) found.add(last.toLowerCase());
    for (const value of Object.values(node)) calledFunctions(value, found);
  }
  return found;
}

function stringOption(options: unknown, name: string): string | undefined {
  if (!Array.isArray(options)) return undefined;
  for (const item of options) {
    const def = (item as { DefElem?: { defname?: string; arg?: { String?: { sval?: string } } } }).DefElem;
    if (def?.defname === name) return def.arg?.String?.sval;
  }
  return undefined;
}

/** The body text of a DO block or a function (`AS '…'`, `AS $$…$$`). */
function bodyStrings(options: unknown): string[] {
  if (!Array.isArray(options)) return [];
  const bodies: string[] = [];
  for (const item of options) {
    const def = (item as { DefElem?: { defname?: string; arg?: Node } }).DefElem;
    if (def?.defname !== 'as' || !def.arg) continue;
    const single = (def.arg.String as { sval?: string } | undefined)?.sval;
    if (single !== undefined) bodies.push(single);
    const list = (def.arg.List as { items?: { String?: { sval?: string } }[] } | undefined)?.items ?? [];
    for (const entry of list) if (entry.String?.sval !== undefined) bodies.push(entry.String.sval);
  }
  return bodies;
}

/** What a function body (PL/pgSQL, SQL) does beyond the database, found by name. */
const BODY_PATTERNS: [RegExp, BeyondDatabaseCode, string][] = [
  [/\bprogram\s+'/i, 'server-program', 'COPY … PROGRAM in a function body'],
  [/\balter\s+system\b/i, 'system-change', 'ALTER SYSTEM in a function body'],
  [/\b(create|alter|drop)\s+(role|user|group)\b/i, 'role-change', 'a role statement in a function body'],
  [/\b(create|alter|drop)\s+database\b/i, 'database-change', 'a database statement in a function body'],
];

function callsInBody(body: string): [BeyondDatabaseCode, string][] {
  const found: [BeyondDatabaseCode, string][] = [];
  for (const [pattern, code, what] of BODY_PATTERNS) if (pattern.test(body)) found.push([code, what]);
  for (const match of body.matchAll(/\b([a-z_][a-z0-9_]*)\s*\(/gi)) {
    const name = (match[1] as string).toLowerCase();
    const code = DBLINK.test(name) ? 'remote-connection' : FUNCTIONS[name];
    if (code) found.push([code, `${name}() in a function body`]);
  }
  return found;
}
