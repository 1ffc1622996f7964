/**
 * The floor of a plan: what any tool that plans a migration on a schema-only copy of production
 * has to do at least, with PostgreSQL's own programs and nothing else of supagate's but
 * `introspect()`:
 *
 *   pg_dump --schema-only -Fc (production) → CREATE DATABASE (empty, on the shadow server)
 *   → pg_restore --single-transaction → introspect → the pending migration (one query) → introspect
 *
 * Used by bench/measure-one.ts (`floor`), which times it in a process of its own. Environment:
 * BENCH_DB_URL (production), BENCH_FLOOR_SERVER_URL (a superuser URL of the server restored
 * into), BENCH_FLOOR_DB (the database to create there; the caller drops it afterwards),
 * BENCH_PENDING_FILE (the migration's SQL).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, disconnect } from '../src/core/db/connect.js';
import { findPgTool, libpqEnvironment, runTool } from '../src/core/db/pgtools.js';
import { introspect } from '../src/core/schema/introspect.js';
import type { Work } from './measure-one.js';

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function run(path: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const result = await runTool(path, args, env);
  if (result.code !== 0) throw new Error(`${path} exited ${result.code}: ${result.stderr.slice(-1500)}`);
}

/** Finds the programs and reads the migration (not timed); returns the timed work. */
export async function prepareFloor(env: NodeJS.ProcessEnv): Promise<Work> {
  const productionUrl = required(env, 'BENCH_DB_URL');
  const serverUrl = required(env, 'BENCH_FLOOR_SERVER_URL');
  const database = required(env, 'BENCH_FLOOR_DB');
  const pendingSql = await readFile(required(env, 'BENCH_PENDING_FILE'), 'utf8');
  const [pgDump, pgRestore] = await Promise.all([
    findPgTool('pg_dump', { minMajor: 15 }),
    findPgTool('pg_restore', { minMajor: 15 }),
  ]);
  const targetUrl = databaseUrl(serverUrl, database);
  return async () => {
    const phases: Record<string, number> = {};
    let mark = performance.now();
    const lap = (name: string) => {
      const now = performance.now();
      phases[name] = Math.round(now - mark);
      mark = now;
    };
    const dir = await mkdtemp(join(tmpdir(), 'supagate-floor-'));
    try {
      const file = join(dir, 'schema.dump');
      await run(pgDump.path, ['--schema-only', '-Fc', '-f', file], libpqEnvironment(productionUrl));
      lap('dumpMs');
      const admin = await connect(serverUrl, { applicationName: 'supagate bench floor' });
      try {
        await admin.client.query(`CREATE DATABASE ${database}`);
      } finally {
        await disconnect(admin);
      }
      lap('createMs');
      await run(pgRestore.path, ['--single-transaction', '-d', database, file], libpqEnvironment(targetUrl));
      lap('restoreMs');
      const target = await connect(targetUrl, { applicationName: 'supagate bench floor' });
      try {
        const before = await introspect(target.client);
        lap('introspectBeforeMs');
        await target.client.query(pendingSql);
        lap('migrationMs');
        const after = await introspect(target.client);
        lap('introspectAfterMs');
        const tables = Object.keys(after.tables).length;
        return {
          ok: tables > 0,
          count: tables,
          detail: { ...phases, tablesBefore: Object.keys(before.tables).length, tablesAfter: tables },
        };
      } finally {
        await disconnect(target);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
}
