import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { schemaPathsOf } from '../src/core/declared/config-toml.js';
import { discoverDeclaredSchema } from '../src/core/declared/discover.js';
import { SupagateError } from '../src/core/errors.js';
import { createProject, type TestProject } from './harness/project.js';

let project: TestProject | undefined;
afterEach(async () => {
  await project?.cleanup();
  project = undefined;
});

async function projectWith(files: Record<string, string>): Promise<TestProject> {
  project = await createProject(files);
  return project;
}

async function paths(p: TestProject): Promise<string[]> {
  return (await discoverDeclaredSchema(p.dir)).files.map((file) => file.path);
}

async function refusal(p: TestProject): Promise<SupagateError> {
  const error = await discoverDeclaredSchema(p.dir).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(SupagateError);
  expect((error as SupagateError).code).toBe('DECLARED_SCHEMA_INVALID');
  return error as SupagateError;
}

describe('config.toml: [db.migrations] schema_paths', () => {
  it('is read from its table, with comments, multi-line arrays and trailing commas', () => {
    const toml = `project_id = "app"
[api]
schemas = ["public", "graphql_public"] # not ours
[db]
port = 54322
major_version = 15
[db.migrations]
enabled = true
# schema_paths = ["commented/out.sql"]
schema_paths = [
  "./schemas/employees.sql", # first
  './schemas/*.sql',
]
[db.seed]
sql_paths = ["./seed.sql"]
`;
    expect(schemaPathsOf(toml, 'supabase/config.toml')).toEqual([
      './schemas/employees.sql',
      './schemas/*.sql',
    ]);
  });

  it('is read past every kind of TOML value: inline tables, dates, numbers, escapes, multi-line strings, arrays of tables', () => {
    const toml = `# my own sample, shaped like a Supabase config
project_id = "demo"
[api]
enabled = true
schemas = ["public", "graphql_public"]
max_rows = 1_000
[db]
port = 54322
major_version = 17
[db.migrations]
enabled = true
schema_paths = ['./schemas/a.sql', "./schemas/*.sql"]   # trailing comment
[db.seed]
sql_paths = ["./seed.sql"]
[auth.sms.test_otp]
4152127777 = "123456"
[auth.sms]
template = "Your code is {{ \`{{ .Code }}\` }} ."
[functions.hello]
verify_jwt = false
static_files = [ "./functions/hello/*.html" ]
[storage.buckets.images]
allowed_mime_types = ["image/png", "image/jpeg"]
limits = { size = "50MiB", "quoted key" = 3, nested = { ok = true } }
when = 1979-05-27T07:32:00-08:00
day = 1979-05-27 07:32:00Z
ratio = -3.5e2
hex = 0xDEAD
inf_value = +inf
esc = "tab\\tquote\\" unicode \\u00e9 \\U0001F600"
lit = 'C:\\Users\\x'
ml = """
line one \\
  joined
"""
mll = '''
raw \\n ''
'''
[[products]]
name = "x"
[[products]]
name = "y"
`;
    expect(schemaPathsOf(toml, 'supabase/config.toml')).toEqual(['./schemas/a.sql', './schemas/*.sql']);
  });

  it('is found as a dotted key, and not mistaken for a key of the same name elsewhere or inside a string', () => {
    expect(schemaPathsOf('[db]\nmigrations.schema_paths = ["a.sql"]\n', 'c')).toEqual(['a.sql']);
    expect(schemaPathsOf('db.migrations.schema_paths = ["b.sql"]\n', 'c')).toEqual(['b.sql']);
    const elsewhere = `[remotes.staging.db.migrations]
schema_paths = ["staging.sql"]
[experimental]
note = """
[db.migrations]
schema_paths = ["inside a string"]
"""
`;
    expect(schemaPathsOf(elsewhere, 'c')).toBeUndefined();
  });

  it('refuses a value that is not an array of strings, and a malformed file, at its line', () => {
    expect(() =>
      schemaPathsOf('[db.migrations]\nschema_paths = "schemas/*.sql"\n', 'supabase/config.toml'),
    ).toThrow(/supabase\/config.toml: \[db.migrations\] schema_paths must be an array of strings/);
    expect(() => schemaPathsOf('[db]\nport = 1\nname = "unclosed\n', 'supabase/config.toml')).toThrow(
      /supabase\/config.toml:3: /,
    );
  });
});

describe('declared schema files', () => {
  it('default: every .sql file under supabase/schemas, subfolders too, in the order of a walk of names', async () => {
    const p = await projectWith({
      'supabase/schemas/b.sql': 'select 1;',
      'supabase/schemas/a.sql': 'select 1;',
      // Go sorts names by their bytes (B before a), and a walk takes the folder a's files before a.sql.
      'supabase/schemas/a/z.sql': 'select 1;',
      'supabase/schemas/B.sql': 'select 1;',
      'supabase/schemas/notes.md': 'not sql',
      'supabase/schemas/upper.SQL': 'not .sql',
    });
    expect(await paths(p)).toEqual([
      'supabase/schemas/B.sql',
      'supabase/schemas/a/z.sql',
      'supabase/schemas/a.sql',
      'supabase/schemas/b.sql',
    ]);
    expect((await discoverDeclaredSchema(p.dir)).source).toBe('supabase/schemas');
  });

  it('no folder and no setting: no files', async () => {
    const p = await projectWith({});
    expect(await discoverDeclaredSchema(p.dir)).toEqual({ files: [], source: 'supabase/schemas' });
  });

  it('leaves out symbolic links in the folder', async () => {
    const p = await projectWith({ 'supabase/schemas/a.sql': 'select 1;', 'outside.sql': 'select 2;' });
    await symlink(join(p.dir, 'outside.sql'), join(p.dir, 'supabase/schemas/link.sql'));
    expect(await paths(p)).toEqual(['supabase/schemas/a.sql']);
  });

  it('schema_paths: patterns in the order written, each one’s matches by name, each file once, relative to supabase/', async () => {
    const p = await projectWith({
      'supabase/config.toml': `[db.migrations]\nschema_paths = ["./schemas/zz_types.sql", "./schemas/*.sql", "extra/[a-c]?.sql"]\n`,
      'supabase/schemas/zz_types.sql': 'select 1;',
      'supabase/schemas/01_tables.sql': 'select 1;',
      'supabase/schemas/00_first.sql': 'select 1;',
      'supabase/schemas/sub/not-matched.sql': 'select 1;',
      'supabase/extra/b1.sql': 'select 1;',
      'supabase/extra/a2.sql': 'select 1;',
      'supabase/extra/d1.sql': 'select 1;',
    });
    expect(await paths(p)).toEqual([
      'supabase/schemas/zz_types.sql',
      'supabase/schemas/00_first.sql',
      'supabase/schemas/01_tables.sql',
      'supabase/extra/a2.sql',
      'supabase/extra/b1.sql',
    ]);
    expect((await discoverDeclaredSchema(p.dir)).source).toBe('schema_paths');
  });

  it('schema_paths: ** is not recursive (Go globs): it matches within one folder', async () => {
    const p = await projectWith({
      'supabase/config.toml': '[db.migrations]\nschema_paths = ["schemas/**/*.sql"]\n',
      'supabase/schemas/top.sql': 'select 1;',
      'supabase/schemas/one/a.sql': 'select 1;',
      'supabase/schemas/one/two/b.sql': 'select 1;',
    });
    expect(await paths(p)).toEqual(['supabase/schemas/one/a.sql']);
  });

  it('schema_paths: a pattern that matches nothing is an error naming it', async () => {
    const p = await projectWith({
      'supabase/config.toml':
        '[db.migrations]\nschema_paths = ["./schemas/*.sql", "./schemas/missing.sql"]\n',
      'supabase/schemas/a.sql': 'select 1;',
    });
    const error = await refusal(p);
    expect(error.message).toContain('no file matches "./schemas/missing.sql"');
    expect(error.hint).toContain('relative to the supabase folder');
  });

  it('schema_paths: a malformed pattern is an error naming it', async () => {
    const p = await projectWith({
      'supabase/config.toml': '[db.migrations]\nschema_paths = ["./schemas/[a-.sql"]\n',
    });
    const error = await refusal(p);
    expect(error.message).toContain('"./schemas/[a-.sql" is not a valid pattern');
    expect(error.hint).toContain('Go globs');
  });

  it('schema_paths: a file outside the project is refused, never read', async () => {
    const elsewhere = await mkdtemp(join(tmpdir(), 'supagate-elsewhere-'));
    try {
      await writeFile(join(elsewhere, 'runner.sql'), 'select 1;');
      const p = await projectWith({
        'supabase/config.toml': `[db.migrations]\nschema_paths = ["${elsewhere}/runner.sql"]\n`,
      });
      const error = await refusal(p);
      expect(error.message).toContain(`${elsewhere}/runner.sql is outside the project`);
      await writeFile(
        join(p.dir, 'supabase/config.toml'),
        `[db.migrations]\nschema_paths = ["../../../../../..${elsewhere}/*.sql"]\n`,
      );
      expect((await refusal(p)).message).toContain('is outside the project');
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  it('schema_paths: a file that is not .sql is refused, never read (a credentials file an earlier step wrote)', async () => {
    const p = await projectWith({
      'supabase/config.toml': '[db.migrations]\nschema_paths = ["../gha-creds-*.json"]\n',
      'gha-creds-1a2b.json': '{"private_key": "-----BEGIN PRIVATE KEY-----secret"}',
    });
    const error = await refusal(p);
    expect(error.message).toContain('matches gha-creds-1a2b.json, which is not a .sql file');
    expect(error.message).not.toContain('secret');
    await writeFile(
      join(p.dir, 'supabase/config.toml'),
      '[db.migrations]\nschema_paths = ["/etc/hostname"]\n',
    );
    expect((await refusal(p)).message).toContain('which is not a .sql file');
  });

  it('schema_paths: a link to a file outside the project is refused', async () => {
    const p = await projectWith({
      'supabase/config.toml': '[db.migrations]\nschema_paths = ["schemas/*.sql"]\n',
    });
    await mkdir(join(p.dir, 'supabase/schemas'), { recursive: true });
    await symlink('/etc/hostname', join(p.dir, 'supabase/schemas/a.sql'));
    expect((await refusal(p)).message).toContain('supabase/schemas/a.sql is outside the project');
  });
});
