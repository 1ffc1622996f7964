import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chown, mkdir, mkdtemp, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { platform } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { SupagateError } from '../errors.js';
import type { ServerBinaries, ServerUser } from './embedded-binaries.js';
import { markOwner, removeOrphanClusters } from './orphan-clusters.js';
import { scratchFolder } from './scratch-folder.js';

/**
 * One PostgreSQL cluster in a private temporary folder: initdb, then the postmaster. Both
 * get an environment of their own, never supagate's: the server runs pull requests' SQL, and
 * libpq inside it (dblink, postgres_fdw) would read PGPASSWORD, PGSERVICEFILE or ~/.pgpass.
 */
export interface ClusterDirs {
  /** The private folder holding everything below; removed on stop. */
  root: string;
  data: string;
  /** An empty HOME, so that nothing of the user's (~/.pgpass, ~/.postgresql) is found. */
  home: string;
  /** The server's programs and extension files (embedded-installation.ts). */
  installation: string;
}

export async function createClusterDirs(user: ServerUser | undefined): Promise<ClusterDirs> {
  const folder = await scratchFolder();
  if (user) await assertReachable(folder, user);
  await removeOrphanClusters(folder);
  const root = await mkdtemp(join(folder, 'supagate-pg-'));
  await markOwner(root);
  const home = join(root, 'home');
  await mkdir(home, { mode: 0o700 });
  if (user) {
    await chown(root, user.uid, user.gid);
    await chown(home, user.uid, user.gid);
  }
  return { root, data: join(root, 'data'), home, installation: join(root, 'installation') };
}

/**
 * The server's user (supagate runs as root) must be able to enter every folder down to the
 * cluster's: a private temporary folder (TMPDIR with mode 0700) would otherwise end in a bare
 * `spawn … EACCES` from initdb.
 */
async function assertReachable(folder: string, user: ServerUser): Promise<void> {
  for (let dir = resolve(folder); ; dir = dirname(dir)) {
    const { mode, uid, gid } = await stat(dir);
    const searchable = uid === user.uid ? mode & 0o100 : gid === user.gid ? mode & 0o010 : mode & 0o001;
    if (!searchable) {
      throw new SupagateError(
        'SHADOW_FAILED',
        `The embedded shadow server cannot use ${folder}: it runs as the user \`postgres\` (PostgreSQL does not run as root), which may not enter ${dir} (mode ${(mode & 0o777).toString(8).padStart(4, '0')}).`,
        {
          hint: 'Set TMPDIR to a folder other users may enter (e.g. /tmp), run supagate as a user other than root, or give a shadow server with --shadow-url.',
          details: { folder: dir },
        },
      );
    }
    if (dirname(dir) === dir) return;
  }
}

/** The whole environment the server's programs see. */
export function serverEnvironment(home: string): NodeJS.ProcessEnv {
  const nowhere = join(home, 'none');
  return {
    PATH: '/usr/bin:/bin',
    HOME: home,
    LANG: 'C',
    LC_ALL: 'C',
    // The readiness message is matched in English.
    LC_MESSAGES: 'C',
    TZ: 'UTC',
    PGPASSFILE: nowhere,
    PGSERVICEFILE: nowhere,
    PGSYSCONFDIR: nowhere,
    ...(platform() === 'win32' ? { SystemRoot: process.env.SystemRoot ?? 'C:\\Windows' } : {}),
  };
}

export interface InitOptions {
  superuser: string;
  password: string;
}

/** initdb with SCRAM passwords, then a pg_hba.conf that admits TCP from this host only. */
export async function initCluster(
  binaries: ServerBinaries,
  dirs: ClusterDirs,
  user: ServerUser | undefined,
  options: InitOptions,
): Promise<void> {
  const passwordFile = join(dirs.root, 'pwfile');
  await writeFile(passwordFile, `${options.password}\n`, { mode: 0o600 });
  if (user) await chown(passwordFile, user.uid, user.gid);
  try {
    const args = [
      `--pgdata=${dirs.data}`,
      `--username=${options.superuser}`,
      `--pwfile=${passwordFile}`,
      '--auth=scram-sha-256',
      '--encoding=UTF8',
      '--locale=C',
      '--no-sync',
      '--no-instructions',
    ];
    const { code, output } = await runToEnd(spawnAs(binaries.initdb, args, dirs, user));
    if (code !== 0) throw startFailure(`initdb exited with code ${code}`, output);
  } finally {
    await unlink(passwordFile).catch(() => {});
  }
  await writeFile(
    join(dirs.data, 'pg_hba.conf'),
    '# supagate: TCP from this host only, SCRAM passwords only.\nhost all all 127.0.0.1/32 scram-sha-256\n',
  );
}

/** Settings on the command line: they outrank postgresql.auto.conf, whatever ALTER SYSTEM writes there. */
function serverSettings(port: number, extra: Record<string, string>): string[] {
  const settings = {
    ...extra,
    port: String(port),
    listen_addresses: '127.0.0.1',
    // No Unix socket: the server is reached over TCP, with a password, only.
    unix_socket_directories: '',
    logging_collector: 'off',
    max_connections: '200',
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    // A checkpoint keeps as little WAL as it may, deleted rather than recycled: a stopped
    // cluster kept as a shadow baseline is that much smaller to copy.
    min_wal_size: '32MB',
    wal_recycle: 'off',
  };
  return Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
}

/** Starts the postmaster; resolves once it accepts connections, rejects if it exits first. */
export async function startPostmaster(
  binaries: ServerBinaries,
  dirs: ClusterDirs,
  user: ServerUser | undefined,
  port: number,
  onLog: (line: string) => void,
  extraSettings: Record<string, string> = {},
  /** Told of the postmaster as soon as it runs, before it is ready: whoever must stop it on exit. */
  spawned: (child: ChildProcess) => void = () => {},
): Promise<ChildProcess> {
  // The server logs to stderr only; a stdout pipe would keep the process alive.
  const child = spawnAs(
    binaries.postgres,
    ['-D', dirs.data, ...serverSettings(port, extraSettings)],
    dirs,
    user,
    'ignore',
  );
  spawned(child);
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    // Read to the end: a full pipe would block the server's logging.
    child.stderr?.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      onLog(text);
      if (output.length < 20_000) output += text;
      if (output.includes('database system is ready to accept connections')) resolve();
    });
    child.on('error', (error) => reject(startFailure(error.message, output)));
    child.on('exit', (code) => {
      // portTaken: another process took the port between choosing and binding it.
      const portTaken = /could not bind|could not create any TCP\/IP sockets/.test(output);
      reject(startFailure(`postgres exited with code ${code}`, output, { portTaken }));
    });
  });
  await ready;
  return child;
}

/**
 * Stops the server. Its folder is removed right after, so an immediate shutdown (SIGQUIT: no
 * shutdown checkpoint, nothing written back) is enough; `clean` asks for a fast shutdown
 * (SIGINT), which leaves a data directory that starts again without recovery. Either is
 * followed by a harder one if it takes too long; resolves when the postmaster is gone.
 */
export async function stopPostmaster(
  child: ChildProcess,
  { clean = false, timeoutMs = 15_000 }: { clean?: boolean; timeoutMs?: number } = {},
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(clean ? 'SIGINT' : 'SIGQUIT');
  const timer = setTimeout(() => child.kill(clean ? 'SIGQUIT' : 'SIGKILL'), timeoutMs);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

export async function removeClusterDirs(dirs: ClusterDirs): Promise<void> {
  await rm(dirs.root, { recursive: true, force: true });
}

function spawnAs(
  program: string,
  args: string[],
  dirs: ClusterDirs,
  user: ServerUser | undefined,
  stdout: 'pipe' | 'ignore' = 'pipe',
): ChildProcess {
  return spawn(program, args, {
    cwd: dirs.home,
    env: serverEnvironment(dirs.home),
    stdio: ['ignore', stdout, 'pipe'],
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
  });
}

async function runToEnd(child: ChildProcess): Promise<{ code: number | null; output: string }> {
  let output = '';
  const collect = (chunk: Buffer) => {
    if (output.length < 20_000) output += chunk.toString('utf8');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const [code] = (await Promise.race([
    once(child, 'exit'),
    once(child, 'error').then(([error]) => Promise.reject(error)),
  ])) as [number | null];
  return { code, output };
}

function startFailure(what: string, output: string, details: Record<string, unknown> = {}): SupagateError {
  const tail = output.trim().split('\n').slice(-5).join('\n');
  return new SupagateError(
    'SHADOW_FAILED',
    `The embedded PostgreSQL did not start: ${what}.${tail ? `\n${tail}` : ''}`,
    {
      hint: 'Check free disk space in the temporary folder, or give a throwaway server with --shadow-url.',
      details,
    },
  );
}
