import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { SupagateError } from '../errors.js';
import { quoteIdentifier, quoteLiteral } from '../sql/quote.js';
import { type Client, connect, disconnect } from './connect.js';
import { registerSecret } from './redact.js';

/**
 * Who the pending migrations run as in a shadow database: a role shaped like Supabase's
 * `postgres`, which is not a superuser, so that what Supabase refuses a migration (COPY …
 * PROGRAM, reading server files, ALTER SYSTEM, superuser roles, untrusted languages) fails in
 * the shadow too.
 *
 * - The shadow server's user is a superuser and has an ordinary `postgres` role beside it (an
 *   embedded shadow, a supabase/postgres container as supabase_admin): a login role of the
 *   run's own, member of postgres, whose sessions in the shadow database start with
 *   `SET ROLE postgres`, so that what the migrations create is owned by postgres.
 * - The shadow server's user is not a superuser (a supabase/postgres container as postgres):
 *   migrations run as that user.
 * - A superuser with no ordinary `postgres` (a stock PostgreSQL): refused.
 * Whichever it is, the role must not be able to become a superuser or a member of the roles
 * that run programs or read and write files on the host (checkCannotEscalate).
 */
export interface MigrationRole {
  /** Owner of the shadow database: `postgres`, or undefined for the server's user itself. */
  databaseOwner: string | undefined;
  /** Prepares the login migrations run with on `databaseUrl` (the admin's URL of the shadow database); returns its URL. */
  setUp(admin: Client, database: string, databaseUrl: string): Promise<string>;
  /** Removes what setUp created, once the shadow database is gone. */
  tearDown(admin: Client): Promise<void>;
}

const SERVER_ROLES = ['pg_execute_server_program', 'pg_read_server_files', 'pg_write_server_files'];

const UNSAFE_HINT =
  'Omit --shadow-url to use the embedded shadow server (with a running `supabase start`, pass --no-detect-local-supabase), or use a supabase/postgres container as shadow server. On a throwaway server of your own, connect as a superuser other than postgres and make postgres an ordinary role: ALTER ROLE postgres NOSUPERUSER NOCREATEROLE.';

export async function migrationRoleFor(admin: Client, serverLabel: string): Promise<MigrationRole> {
  const { rows } = await admin.query<{ superuser: boolean; postgres: boolean | null }>(
    `SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
            (SELECT rolsuper FROM pg_roles WHERE rolname = 'postgres') AS postgres`,
  );
  const { superuser, postgres } = rows[0] ?? { superuser: true, postgres: null };
  if (!superuser) return serverUser();
  if (postgres === null) {
    throw unsafe(
      serverLabel,
      'its user is a superuser and it has no role "postgres" to run the migrations as (as on Supabase, where postgres is not a superuser)',
    );
  }
  if (postgres) {
    throw unsafe(
      serverLabel,
      'its role "postgres" is a superuser (on Supabase it is not), so the migrations would run as a superuser',
    );
  }
  return roleOfTheRun();
}

function serverUser(): MigrationRole {
  return {
    databaseOwner: undefined,
    setUp: async (_admin, _database, databaseUrl) => databaseUrl,
    tearDown: async () => {},
  };
}

function roleOfTheRun(): MigrationRole {
  const name = `supagate_migrator_${randomBytes(6).toString('hex')}`;
  const password = randomBytes(24).toString('base64url');
  registerSecret(password);
  let created = false;
  let postgresPassword: string | null = null;
  return {
    databaseOwner: 'postgres',
    setUp: async (admin, database, databaseUrl) => {
      postgresPassword = await passwordOfPostgres(admin);
      // The verifier, not the password, goes over the wire: statement logs never see it.
      await admin.query(
        `CREATE ROLE ${name} LOGIN PASSWORD '${scramVerifier(password)}' NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT`,
      );
      created = true;
      await admin.query(`GRANT postgres TO ${name}`);
      await admin.query(`ALTER ROLE ${name} IN DATABASE ${database} SET role = 'postgres'`);
      const url = new URL(databaseUrl);
      url.username = name;
      url.password = password;
      return url.toString();
    },
    tearDown: async (admin) => {
      if (!created) return;
      await admin.query(`DROP ROLE IF EXISTS ${name}`);
      // A role may change its own password, from inside a function too: postgres's is put back.
      if ((await passwordOfPostgres(admin)) !== postgresPassword) {
        await admin.query(
          `ALTER ROLE postgres PASSWORD ${postgresPassword === null ? 'NULL' : quoteLiteral(postgresPassword)}`,
        );
      }
    },
  };
}

/** postgres's stored password (a SCRAM or MD5 verifier, which ALTER ROLE … PASSWORD takes back as is). */
async function passwordOfPostgres(admin: Client): Promise<string | null> {
  const { rows } = await admin.query<{ password: string | null }>(
    `SELECT rolpassword AS password FROM pg_authid WHERE rolname = 'postgres'`,
  );
  return rows[0]?.password ?? null;
}

/**
 * Refuses a migration role that is, or can become, a superuser or a member of the roles that
 * run programs and read or write the host's files. PostgreSQL before 16 lets a CREATEROLE
 * role grant itself those: each role the session can switch to tries, in a transaction that
 * is rolled back.
 */
export async function checkCannotEscalate(migrationUrl: string, serverLabel: string): Promise<void> {
  const session = await connect(migrationUrl, { applicationName: 'supagate shadow check' });
  try {
    const roles = await reachableRoles(session.client);
    const superuser = roles.find((role) => role.rolsuper);
    if (superuser)
      throw unsafe(serverLabel, `the migrations' role can become the superuser "${superuser.rolname}"`);
    const member = roles.find((role) => SERVER_ROLES.includes(role.rolname));
    if (member) throw unsafe(serverLabel, `the migrations' role is a member of ${member.rolname}`);
    const grant = await selfGrantable(session.client, roles);
    if (grant)
      throw unsafe(serverLabel, `the migrations' role "${grant.role}" can grant itself ${grant.serverRole}`);
  } finally {
    await disconnect(session);
  }
}

interface ReachableRole {
  rolname: string;
  rolsuper: boolean;
}

/** The session's user and every role it is a member of (it can SET ROLE to each). */
async function reachableRoles(client: Client): Promise<ReachableRole[]> {
  const { rows } = await client.query<ReachableRole>(
    `SELECT rolname, rolsuper FROM pg_roles
      WHERE pg_has_role(session_user, oid, 'MEMBER')
      ORDER BY rolname = current_user DESC, rolname`,
  );
  return rows;
}

async function selfGrantable(
  client: Client,
  roles: ReachableRole[],
): Promise<{ role: string; serverRole: string } | undefined> {
  await client.query('BEGIN');
  try {
    for (const { rolname } of roles) {
      for (const serverRole of SERVER_ROLES) {
        await client.query('SAVEPOINT probe');
        try {
          await client.query(`SET LOCAL ROLE ${quoteIdentifier(rolname)}`);
          await client.query(`GRANT ${serverRole} TO ${quoteIdentifier(rolname)}`);
          return { role: rolname, serverRole };
        } catch {
          await client.query('ROLLBACK TO SAVEPOINT probe');
        }
      }
    }
    return undefined;
  } finally {
    await client.query('ROLLBACK');
  }
}

function unsafe(serverLabel: string, why: string): SupagateError {
  return new SupagateError(
    'SHADOW_UNSAFE',
    `The shadow server ${serverLabel} cannot run the pending migrations safely: ${why}. A pull request's SQL could then run programs and read files on that server's host; nothing was run.`,
    { hint: UNSAFE_HINT },
  );
}

/** A SCRAM-SHA-256 verifier, the form PostgreSQL stores (`CREATE ROLE … PASSWORD` takes it as is). */
export function scramVerifier(password: string): string {
  const salt = randomBytes(16);
  const iterations = 4096;
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  const b64 = (buffer: Buffer) => buffer.toString('base64');
  return `SCRAM-SHA-256$${iterations}:${b64(salt)}$${b64(storedKey)}:${b64(serverKey)}`;
}
