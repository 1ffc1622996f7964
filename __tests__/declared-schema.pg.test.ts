import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../src/cli/program.js';
import { apply } from '../src/core/commands/apply.js';
import { drift } from '../src/core/commands/drift.js';
import { effectDigestOf } from '../src/core/commands/gate.js';
import { type PlanResult, plan } from '../src/core/commands/plan.js';
import type { ConfigInput } from '../src/core/config.js';
import { type ProgressEvent, withProgress } from '../src/core/progress.js';
import { renderDriftMarkdown, renderPlanMarkdown } from '../src/core/report/markdown.js';
import { renderPlan } from '../src/core/report/text.js';
import { appliedProduction } from './harness/applied-production.js';
import { snapshot, type TestDatabase } from './harness/db.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

/**
 * The declared schema (supabase/schemas) built on a fresh Supabase shadow and compared with
 * what the migrations produce: a Supabase app whose schema files say what its migrations do,
 * or not, in their default order or config.toml's.
 */

const PRODUCTION = `
create type public.mood as enum ('happy', 'sad');
create table public.profiles (
  id uuid primary key references auth.users on delete cascade,
  username text unique,
  mood public.mood
);
alter table public.profiles enable row level security;
create policy "profiles are public" on public.profiles for select using (true);
create policy "own profile" on public.profiles for update to authenticated using ((select auth.uid()) = id);
create index profiles_mood_idx on public.profiles (mood);
create function public.handle_new_user() returns trigger language plpgsql security definer set search_path = '' as $$
begin insert into public.profiles (id) values (new.id); return new; end $$;
create trigger on_auth_user_created after insert on auth.users for each row execute function public.handle_new_user();
create view public.happy_profiles with (security_invoker = on) as
  select id, username from public.profiles where mood = 'happy';`;

/** The pull request's migration: a column. */
const PENDING = { '2_bio': 'alter table public.profiles add column bio text;' };

const TYPES = `create type public.mood as enum ('happy', 'sad');`;

const PROFILES = `create table public.profiles (
  id uuid primary key references auth.users on delete cascade,
  username text unique,
  mood public.mood,
  bio text
);
alter table public.profiles enable row level security;
create policy "profiles are public" on public.profiles for select using (true);
create policy "own profile" on public.profiles for update to authenticated using ((select auth.uid()) = id);
create index profiles_mood_idx on public.profiles (mood);`;

const AUTH = `create function public.handle_new_user() returns trigger language plpgsql security definer set search_path = '' as $$
begin insert into public.profiles (id) values (new.id); return new; end $$;
create trigger on_auth_user_created after insert on auth.users for each row execute function public.handle_new_user();`;

const VIEWS = `create view public.happy_profiles with (security_invoker = on) as
  select id, username from public.profiles where mood = 'happy';`;

/** Schema files that say what production plus the pending migration is, in their default order. */
const MATCHING = {
  'supabase/schemas/01_types.sql': TYPES,
  'supabase/schemas/02_profiles.sql': PROFILES,
  'supabase/schemas/03_auth.sql': AUTH,
  'supabase/schemas/views/happy_profiles.sql': VIEWS,
};

let db: TestDatabase;

async function cli(args: string[], env: NodeJS.ProcessEnv) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env,
  });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  db = await appliedProduction(PRODUCTION);
});
afterAll(async () => {
  await db.drop();
});

async function planWith(
  files: Record<string, string>,
  overrides: ConfigInput = {},
  pending: Record<string, string> = PENDING,
): Promise<PlanResult> {
  const project = await createProject({
    ...migrations({ '1_production': PRODUCTION, ...pending }),
    ...files,
  });
  try {
    return await plan(project.config(db.url, overrides));
  } finally {
    await project.cleanup();
  }
}

describe('plan: the declared schema', () => {
  it('shows its shadow as one phase of the plan, not phases that interleave with the plan’s own', async () => {
    const events: ProgressEvent[] = [];
    const result = await withProgress(
      (event) => events.push(event),
      () => planWith(MATCHING),
    );
    expect(result.declaredSchema?.status).toBe('matches');
    const started = events.flatMap((e) => (e.type === 'phase-start' ? [e.phase] : []));
    expect(started.filter((name) => name === 'declared-schema')).toHaveLength(1);
    // Each of the plan's phases once: the declared schema's shadow adds none of its own.
    expect(started.length).toBe(new Set(started).size);
  });

  it('matches when the schema files declare what the migrations produce: no finding', async () => {
    const result = await planWith(MATCHING);
    expect(result.status).toBe('planned');
    expect(result.declaredSchema).toMatchObject({
      status: 'matches',
      source: 'supabase/schemas',
      files: [
        'supabase/schemas/01_types.sql',
        'supabase/schemas/02_profiles.sql',
        'supabase/schemas/03_auth.sql',
        'supabase/schemas/views/happy_profiles.sql',
      ],
      changes: [],
    });
    expect(result.declaredSchema?.failure).toBeUndefined();
    expect(result.hazards.filter((h) => h.code === 'declared-schema-differs')).toEqual([]);
    expect(renderPlanMarkdown(result)).toContain(
      '✅ The 4 schema files declare what the migrations produce.',
    );
  });

  it('differs: a column the migrations do not add, a policy that differs, an index missing; each listed and rendered', async () => {
    const result = await planWith({
      ...MATCHING,
      'supabase/schemas/02_profiles.sql': PROFILES.replace('  bio text\n', '  bio text,\n  website text\n')
        .replace(
          'create policy "own profile" on public.profiles for update to authenticated using ((select auth.uid()) = id);',
          'create policy "own profile" on public.profiles for update to authenticated using ((select auth.uid()) = id and username is not null);',
        )
        .replace('create index profiles_mood_idx on public.profiles (mood);', ''),
    });
    expect(result.status).toBe('planned');
    const check = result.declaredSchema;
    expect(check?.status).toBe('differs');
    expect(check?.changes.map((c) => `${c.kind} ${c.id} ${c.action}`)).toEqual([
      'table public.profiles changed',
    ]);
    const members = check?.changes[0]?.members.map((m) => `${m.kind} ${m.name} ${m.action}`).sort();
    expect(members).toEqual([
      'column website added',
      'index profiles_mood_idx removed',
      'policy own profile changed',
    ]);
    const hazards = result.hazards.filter((h) => h.code === 'declared-schema-differs');
    expect(hazards).toHaveLength(1);
    expect(hazards[0]).toMatchObject({
      severity: 'warning',
      category: 'consistency',
      object: 'public.profiles',
    });
    expect(hazards[0]?.message).toContain('column website only declared');
    // A warning: the plan does not block for it. Nor is it an effect of the migrations: apply,
    // which does not build the schema files, finds the approved plan's effect unchanged.
    expect(result.blocking).toBe(false);
    const withoutIt = {
      ...result,
      hazards: result.hazards.filter((h) => h.code !== 'declared-schema-differs'),
    };
    expect(effectDigestOf(result)).toBe(effectDigestOf(withoutIt));

    const markdown = renderPlanMarkdown(result);
    expect(markdown).toContain('#### Declared schema');
    expect(markdown).toContain('⚠️ The 4 schema files declare 3 things otherwise than the migrations produce');
    expect(markdown).toContain('| ➕ | column `website` on `public.profiles` | only in the schema files |');
    expect(markdown).toContain(
      '| ➖ | index `profiles_mood_idx` on `public.profiles` | only in the migrations |',
    );
    expect(markdown).toMatch(
      /\| ✏️ \| policy `own profile` on `public.profiles` \| differs; .*username IS NOT NULL/,
    );
    const text = renderPlan(result);
    expect(text).toContain('Declared schema (supabase/schemas):');
    expect(text).toContain('column website on public.profiles: only in the schema files');
  });

  it('accepts the finding as any other: acceptedHazards by code and object', async () => {
    const result = await planWith(
      {
        ...MATCHING,
        'supabase/schemas/02_profiles.sql': PROFILES.replace('  bio text\n', '  bio text,\n  website text\n'),
      },
      {
        acceptedHazards: [
          { code: 'declared_schema_differs', object: 'public.profiles', reason: 'website comes next PR' },
        ],
      },
    );
    const hazard = result.hazards.find((h) => h.code === 'declared-schema-differs');
    expect(hazard?.accepted).toEqual({ reason: 'website comes next PR', source: 'config' });
  });

  it('runs the files in lexicographic order by default, and in the order of schema_paths in config.toml', async () => {
    // The enum's file is named to sort last: in the default order the table comes before its type.
    const files = {
      'supabase/schemas/02_profiles.sql': PROFILES,
      'supabase/schemas/03_auth.sql': AUTH,
      'supabase/schemas/views/happy_profiles.sql': VIEWS,
      'supabase/schemas/zz_types.sql': TYPES,
    };
    const unordered = await planWith(files);
    expect(unordered.status).toBe('planned');
    expect(unordered.declaredSchema).toMatchObject({
      status: 'failed',
      // At the column whose type does not exist yet.
      failure: { stage: 'migration', file: 'supabase/schemas/02_profiles.sql', line: 4 },
    });
    expect(unordered.declaredSchema?.failure?.message).toContain('type "public.mood" does not exist');
    expect(unordered.declaredSchema?.failure?.hint).toContain('schema_paths');

    const ordered = await planWith({
      ...files,
      'supabase/config.toml': `[db.migrations]\nschema_paths = [\n  "./schemas/zz_types.sql",\n  "./schemas/*.sql",\n  "./schemas/views/*.sql",\n]\n`,
    });
    expect(ordered.declaredSchema).toMatchObject({
      status: 'matches',
      source: 'schema_paths',
      files: [
        'supabase/schemas/zz_types.sql',
        'supabase/schemas/02_profiles.sql',
        'supabase/schemas/03_auth.sql',
        'supabase/schemas/views/happy_profiles.sql',
      ],
    });
  });

  it('reports a schema file that does not parse, or fails, at its file:line, and the plan goes on', async () => {
    const broken = await planWith({
      ...MATCHING,
      'supabase/schemas/03_auth.sql': `-- sign-up trigger\n${AUTH}\ncreate tabel public.oops (id int);`,
    });
    expect(broken.status).toBe('planned');
    expect(broken.diff.changes.map((c) => c.id)).toEqual(['public.profiles']);
    expect(broken.declaredSchema).toMatchObject({
      status: 'failed',
      failure: { stage: 'files', file: 'supabase/schemas/03_auth.sql', line: 5 },
    });
    expect(broken.declaredSchema?.failure?.message).toContain('syntax error at or near "tabel"');

    const failing = await planWith({
      ...MATCHING,
      'supabase/schemas/views/happy_profiles.sql': `${VIEWS}\ncreate view public.sad as select nickname from public.profiles;`,
    });
    expect(failing.status).toBe('planned');
    expect(failing.declaredSchema).toMatchObject({
      status: 'failed',
      failure: { stage: 'migration', file: 'supabase/schemas/views/happy_profiles.sql', line: 3 },
    });
    expect(failing.declaredSchema?.failure?.message).toContain('column "nickname" does not exist');
    const markdown = renderPlanMarkdown(failing);
    expect(markdown).toContain('The declared schema could not be built');
    expect(markdown).toContain('happy_profiles.sql:3');
  });

  it('reports a schema_paths pattern that names nothing, and plans the rest', async () => {
    const result = await planWith({
      ...MATCHING,
      'supabase/config.toml': '[db.migrations]\nschema_paths = ["./schema/*.sql"]\n',
    });
    expect(result.status).toBe('planned');
    expect(result.declaredSchema?.status).toBe('failed');
    expect(result.declaredSchema?.failure?.message).toContain('no file matches "./schema/*.sql"');

    const malformed = await planWith({
      ...MATCHING,
      'supabase/config.toml': '[db]\nport = 54322\n[db.migrations]\nschema_paths = "./schemas/*.sql"\n',
    });
    expect(malformed.status).toBe('planned');
    expect(malformed.declaredSchema?.failure).toMatchObject({ file: 'supabase/config.toml' });
    expect(malformed.declaredSchema?.failure?.message).toContain('must be an array of strings');
  });

  it('with nothing pending, compares the schema files with production: a schema changed without its migration shows', async () => {
    const asProduction = {
      ...MATCHING,
      'supabase/schemas/02_profiles.sql': PROFILES.replace(',\n  bio text', ''),
    };
    const same = await planWith(asProduction, {}, {});
    expect(same.status).toBe('no-pending');
    expect(same.declaredSchema).toMatchObject({ status: 'matches', changes: [] });

    // The pull request edits the schema file but has no migration for it.
    const forgotten = await planWith(MATCHING, {}, {});
    expect(forgotten.status).toBe('no-pending');
    expect(forgotten.declaredSchema?.status).toBe('differs');
    expect(
      forgotten.declaredSchema?.changes[0]?.members.map((m) => `${m.kind} ${m.name} ${m.action}`),
    ).toEqual(['column bio added']);
    expect(forgotten.hazards.map((h) => h.code)).toEqual(['declared-schema-differs']);
    expect(renderPlanMarkdown(forgotten)).toContain(
      '| ➕ | column `bio` on `public.profiles` | only in the schema files |',
    );
  });

  it('is skipped with declaredSchema off, and absent without schema files', async () => {
    const off = await planWith(MATCHING, { declaredSchema: 'off' });
    expect(off.status).toBe('planned');
    expect(off.declaredSchema).toBeUndefined();
    const none = await planWith({});
    expect(none.status).toBe('planned');
    expect(none.declaredSchema).toBeUndefined();
    expect(renderPlanMarkdown(none)).not.toContain('Declared schema');
  });
});

describe('plan: a hostile schema file', () => {
  /** Plans with `sql` as a schema file: production and the report must come out untouched. */
  async function attack(sql: string, overrides: ConfigInput = {}): Promise<PlanResult> {
    const before = await snapshot(db);
    const marker = `marker-${randomBytes(8).toString('hex')}`;
    process.env.SUPAGATE_ATTACK_MARKER = marker;
    try {
      const result = await planWith({ ...MATCHING, 'supabase/schemas/04_attack.sql': sql }, overrides);
      expect(await snapshot(db)).toEqual(before);
      const report = JSON.stringify(result);
      expect(report).not.toContain(marker);
      expect(report).not.toContain(new URL(inject('serverUrl')).password);
      expect(result.status).toBe('planned');
      return result;
    } finally {
      delete process.env.SUPAGATE_ATTACK_MARKER;
    }
  }

  function guessedProductionUrl(password: string): string {
    const url = new URL(db.url);
    url.password = password;
    return url.toString();
  }

  it('cannot read the environment with COPY … FROM PROGRAM', async () => {
    const result = await attack(`create table public.loot (line text);
copy public.loot from program 'env';`);
    expect(result.declaredSchema).toMatchObject({
      status: 'failed',
      failure: { stage: 'migration', file: 'supabase/schemas/04_attack.sql', line: 2 },
    });
    expect(result.declaredSchema?.failure?.message).toMatch(/pg_execute_server_program|superuser/);
  });

  it('cannot create dblink to reach production', async () => {
    const result = await attack(`create extension if not exists dblink;
select dblink_exec('${guessedProductionUrl('postgres')}', 'drop table public.profiles cascade');`);
    expect(result.declaredSchema).toMatchObject({
      status: 'failed',
      failure: { file: 'supabase/schemas/04_attack.sql', line: 1 },
    });
    expect(result.declaredSchema?.failure?.message).toContain(
      'permission denied to create extension "dblink"',
    );
  });

  it('cannot read a server file, nor make supagate read one of the runner’s through schema_paths', async () => {
    const fileRead = await attack(`create table public.stolen (content text);
insert into public.stolen select pg_read_file('/etc/passwd');`);
    expect(fileRead.declaredSchema?.failure).toMatchObject({ line: 2 });
    expect(fileRead.declaredSchema?.failure?.message).toContain(
      'permission denied for function pg_read_file',
    );

    const runnerFile = await planWith({
      ...MATCHING,
      'supabase/config.toml': '[db.migrations]\nschema_paths = ["./schemas/*.sql", "/proc/self/environ"]\n',
    });
    expect(runnerFile.declaredSchema?.status).toBe('failed');
    expect(runnerFile.declaredSchema?.failure?.message).toContain(
      '/proc/self/environ, which is not a .sql file',
    );
  });
});

describe('drift --against declared', () => {
  let project: TestProject;
  let production: TestDatabase;

  beforeAll(async () => {
    production = await appliedProduction(PRODUCTION);
    project = await createProject({ ...migrations({ '1_production': PRODUCTION, ...PENDING }), ...MATCHING });
    const applied = await apply(project.config(production.url));
    expect(applied.status).toBe('applied');
  });
  afterAll(async () => {
    await project.cleanup();
    await production.drop();
  });

  it('is in sync when production is what the schema files declare, and drifted after a change by hand', async () => {
    const config = project.config(production.url);
    const before = await snapshot(production);
    const inSync = await drift(config, { against: 'declared' });
    expect(inSync.failure).toBeUndefined();
    expect(inSync).toMatchObject({ status: 'in-sync', against: 'declared', edited: [], missingLocal: [] });
    expect(inSync.replayed).toEqual(Object.keys(MATCHING));
    expect(await snapshot(production)).toEqual(before);

    await production.query(
      'alter table public.profiles add column website text; drop view public.happy_profiles;',
    );
    const drifted = await drift(config, { against: 'declared' });
    expect(drifted.status).toBe('drifted');
    expect(drifted.diff.changes.map((c) => `${c.kind} ${c.id} ${c.action}`).sort()).toEqual([
      'table public.profiles changed',
      'view public.happy_profiles removed',
    ]);
    const markdown = renderDriftMarkdown(drifted);
    expect(markdown).toContain('production differs from the declared schema (2 objects)');
    // The default is unchanged: the migrations.
    expect((await drift(config)).against).toBe('migrations');
  });

  it('from the CLI: drift --against declared exits 3 when drifted; a wrong value is refused before connecting', async () => {
    const env = { SUPAGATE_DB_URL: production.url, SUPAGATE_SHADOW_URL: inject('shadowUrl') };
    const common = ['--project-dir', project.dir, '--no-detect-local-supabase'];
    // Production was changed by hand in the test before (a column added, a view dropped).
    const drifted = await cli(['drift', ...common, '--against', 'declared'], env);
    expect(drifted.code).toBe(3);
    expect(drifted.stdout).toContain('Ran 4 schema files');
    expect(drifted.stdout).toContain(
      'DRIFT: production differs from what the declared schema (supabase/schemas) produces.',
    );
    expect(drifted.stdout).toContain('Differences, from the declared schema to production (2)');

    const wrong = await cli(['drift', ...common, '--against', 'schemas'], env);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('Invalid value for against: "schemas"');
  });
});
