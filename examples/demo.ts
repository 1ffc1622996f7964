/**
 * `npm run demo`: supagate end to end on an embedded PostgreSQL, nothing to install.
 *
 * 1. Starts a throwaway PostgreSQL 15 as "production", made to look like a Supabase project
 *    (__fixtures__/supabase-bootstrap.sql), with the demo app's first three migrations
 *    applied and some rows (examples/demo-app).
 * 2. A pull request adds three more migrations: `status` shows them pending, `plan` shows
 *    what they would do to production (computed on a shadow copy), `apply --dry-run` shows
 *    exactly what would run, `apply` takes an encrypted, verified backup, applies them and
 *    verifies the result, `verify` checks production's RLS as it is, `drift` finds a column
 *    added by hand, `backups list` shows the backup, `rollback` undoes the last two with their
 *    down files (after another backup), and `status` shows the history.
 */
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { runCli } from '../src/cli/program.js';
import { startEmbeddedPostgres } from '../src/core/db/embedded.js';

const root = new URL('..', import.meta.url).pathname;
const app = join(root, 'examples/demo-app');
const FIRST_RELEASE = 3;

function heading(text: string): void {
  process.stdout.write(`\n\x1b[1m━━ ${text}\x1b[0m\n`);
}

async function supagate(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  process.stdout.write(`\x1b[2m$ supagate ${args.join(' ')}\x1b[0m\n`);
  return runCli(args, {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env,
  });
}

async function sql(url: string, text: string): Promise<pg.QueryResultRow[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

const server = await startEmbeddedPostgres();
const project = await mkdtemp(join(tmpdir(), 'supagate-demo-'));
let failed = false;
try {
  heading('Production: an embedded PostgreSQL 15 made to look like a Supabase project');
  await sql(server.url, await readFile(join(root, '__fixtures__/supabase-bootstrap.sql'), 'utf8'));
  const env = {
    ...process.env,
    SUPAGATE_DB_URL: server.url,
    // In CI this comes from a secret; backups are encrypted with it (AES-256-GCM).
    SUPAGATE_BACKUP_KEY: 'demo passphrase, use a real secret',
    // The demo's production lives for this run only: its shadow baselines go with the project.
    SUPAGATE_CACHE_DIR: join(project, '.cache'),
    GITHUB_ACTOR: 'demo',
  };

  // The first release: three migrations already in production, with data.
  const migrations = (await readdir(join(app, 'supabase/migrations'))).sort();
  await cp(join(app, 'supabase'), join(project, 'supabase'), { recursive: true });
  for (const file of migrations.slice(FIRST_RELEASE)) await rm(join(project, 'supabase/migrations', file));
  const quiet = { stdout: () => {}, stderr: (text: string) => process.stderr.write(text), env };
  if ((await runCli(['apply', '--project-dir', project, '--backup', 'off', '--verify', 'off'], quiet)) !== 0)
    throw new Error('first release failed');
  await sql(server.url, await readFile(join(app, 'supabase/seed.sql'), 'utf8'));
  process.stdout.write(`Applied ${FIRST_RELEASE} migrations and seeded profiles, posts and an avatar.\n`);

  heading('A pull request adds three migrations');
  await cp(join(app, 'supabase/migrations'), join(project, 'supabase/migrations'), { recursive: true });
  await supagate(['status', '--project-dir', project], env);

  heading('The plan: what the PR would do to production (posted as the PR comment in CI)');
  const report = join(project, 'plan.md');
  await supagate(['plan', '--project-dir', project, '--out', report], env);
  process.stdout.write(
    `(the markdown for the PR comment was written to ${report}: ${(await readFile(report, 'utf8')).length} characters)\n`,
  );

  heading('What apply would run (dry run: changes nothing)');
  await supagate(['apply', '--dry-run', '--project-dir', project], env);

  heading('Apply on merge: plan on a shadow, backup, apply, verify');
  failed = (await supagate(['apply', '--project-dir', project], env)) !== 0;

  heading('Verify production as it is (after a deploy, or on a schedule): RLS, probes, scripts');
  failed = (await supagate(['verify', '--project-dir', project], env)) !== 0 || failed;

  heading('Drift (a schedule in CI): someone adds a column in the dashboard');
  await sql(server.url, 'alter table public.profiles add column nickname text');
  // Exit 3: production differs from what its migrations produce.
  failed = (await supagate(['drift', '--project-dir', project], env)) !== 3 || failed;
  await sql(server.url, 'alter table public.profiles drop column nickname');

  heading('The verified backups');
  await supagate(['backups', 'list', '--project-dir', project], env);

  heading('Rollback (a workflow_dispatch in CI): the down files, newest first');
  await supagate(['rollback', '--to', '20240201000000', '--dry-run', '--project-dir', project], env);
  failed =
    (await supagate(
      ['rollback', '--to', '20240201000000', '--confirm', 'postgres', '--project-dir', project],
      env,
    )) !== 0 || failed;

  heading('History afterwards');
  await supagate(['status', '--project-dir', project], env);
  const rows = await sql(
    server.url,
    `SELECT version, name, cardinality(statements) AS statements FROM supabase_migrations.schema_migrations ORDER BY version`,
  );
  process.stdout.write('\nsupabase_migrations.schema_migrations (what `supabase migration list` reads):\n');
  for (const row of rows)
    process.stdout.write(`  ${row.version}  ${row.name}  (${row.statements} statements)\n`);
} finally {
  if (process.env.SUPAGATE_DEMO_KEEP) process.stdout.write(`kept ${project}\n`);
  else await rm(project, { recursive: true, force: true });
  await server.stop();
}
process.exitCode = failed ? 1 : 0;
