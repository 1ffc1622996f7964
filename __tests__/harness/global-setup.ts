import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { type EmbeddedServer, startEmbeddedPostgres } from '../../src/core/db/embedded.js';

/**
 * One PostgreSQL server for the whole test run: an embedded PostgreSQL 15 started here, or
 * the server in TEST_DATABASE_URL. A template database carries the Supabase bootstrap;
 * every test clones its own database from it (see db.ts).
 */
export const TEMPLATE_DATABASE = 'supagate_test_template';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The server the tests' "production" databases live on. */
    serverUrl: string;
    /**
     * A second server, for shadow databases: supagate refuses a shadow on production's cluster,
     * and one whose migrations would run as a superuser. TEST_SHADOW_URL, or an embedded server
     * started here shaped like Supabase's (superuser supabase_admin, an ordinary postgres).
     */
    shadowUrl: string;
  }
}

let server: EmbeddedServer | undefined;
let shadowServer: EmbeddedServer | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Cached shadow baselines of the run's plans go to a folder of the run's own, never the user's.
  const cache = await mkdtemp(join(tmpdir(), 'supagate-test-cache-'));
  process.env.XDG_CACHE_HOME = cache;
  let serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) {
    server = await startEmbeddedPostgres();
    serverUrl = server.url;
    // Stop the server when the run is interrupted, not only when it ends.
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(signal, () => {
        void Promise.all([server?.stop(), shadowServer?.stop()]).finally(() => process.exit(130));
      });
    }
  }
  let shadowUrl = process.env.TEST_SHADOW_URL;
  if (!shadowUrl) {
    shadowServer = await startEmbeddedPostgres({ supabaseRoles: true });
    shadowUrl = shadowServer.url;
  }
  await createTemplate(serverUrl);
  project.provide('serverUrl', serverUrl);
  project.provide('shadowUrl', shadowUrl);
  return async () => {
    await Promise.all([server?.stop(), shadowServer?.stop()]);
    await rm(cache, { recursive: true, force: true });
  };
}

async function createTemplate(serverUrl: string): Promise<void> {
  const bootstrap = await readFile(
    new URL('../../__fixtures__/supabase-bootstrap.sql', import.meta.url),
    'utf8',
  );
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
  } finally {
    await admin.end();
  }
  const template = new pg.Client({ connectionString: withDatabase(serverUrl, TEMPLATE_DATABASE) });
  await template.connect();
  try {
    await template.query(bootstrap);
  } finally {
    await template.end();
  }
}

export function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}
