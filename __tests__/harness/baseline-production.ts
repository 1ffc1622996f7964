import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { type EmbeddedServer, startEmbeddedPostgres } from '../../src/core/db/embedded.js';
import type { TestDatabase } from './db.js';
import { createProject, migrations, type TestProject } from './project.js';

/*
 * Productions for the shadow cache's tests, on a server of their own: roles are part of a
 * baseline's key, and other test files create roles on the shared server at any moment.
 */

export const APPLIED = {
  '20240101000000_notes': `create table public.notes (
  id bigint generated always as identity primary key,
  owner uuid not null references auth.users (id),
  body text not null
);
alter table public.notes enable row level security;
create policy "own notes" on public.notes for all to authenticated using ((select auth.uid()) = owner);`,
};
export const PENDING = {
  '20240201000000_tags': `alter table public.notes add column tags text[] not null default '{}';
create index notes_tags on public.notes using gin (tags);`,
};

export interface BaselineProductions {
  /** A production with APPLIED applied (as its history says), and a project with PENDING pending. */
  production(): Promise<{ db: TestDatabase; project: TestProject }>;
  stop(): Promise<void>;
}

export async function baselineProductions(): Promise<BaselineProductions> {
  const server: EmbeddedServer = await startEmbeddedPostgres();
  const bootstrap = await readFile(
    new URL('../../__fixtures__/supabase-bootstrap.sql', import.meta.url),
    'utf8',
  );
  const projects: TestProject[] = [];
  const run = async (url: string, sql: string) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(sql)) as unknown as { rows: never[] };
    } finally {
      await client.end();
    }
  };
  const database = async (): Promise<TestDatabase> => {
    const name = `p_${randomBytes(5).toString('hex')}`;
    await run(server.url, `create database ${name}`);
    const url = server.urlFor(name);
    await run(url, bootstrap);
    return {
      name,
      url,
      query: async (sql: string) => (await run(url, sql)).rows,
      drop: async () => {
        await run(server.url, `drop database ${name} with (force)`);
      },
    };
  };
  return {
    production: async () => {
      const db = await database();
      const project = await createProject(migrations({ ...APPLIED, ...PENDING }));
      projects.push(project);
      await db.query(APPLIED['20240101000000_notes']);
      await db.query(
        `create schema if not exists supabase_migrations;
         create table if not exists supabase_migrations.schema_migrations (version text primary key, statements text[], name text);
         insert into supabase_migrations.schema_migrations (version, name) values ('20240101000000', 'notes');`,
      );
      return { db, project };
    },
    stop: async () => {
      await Promise.all(projects.map((p) => p.cleanup()));
      await server.stop();
    },
  };
}
