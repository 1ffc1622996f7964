import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  defaultVerifySettings,
  keyPath,
  loadProjectConfig,
  parseProjectConfig,
} from '../src/core/config-file.js';
import { SupagateError } from '../src/core/errors.js';

const FILE = 'supabase/supagate.yml';

function configError(text: string): SupagateError {
  let caught: unknown;
  try {
    parseProjectConfig(text, FILE);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(SupagateError);
  expect((caught as SupagateError).code).toBe('CONFIG_INVALID');
  return caught as SupagateError;
}

describe('parseProjectConfig', () => {
  it('reads a complete file', () => {
    const config = parseProjectConfig(
      `
acceptedHazards:
  - code: drop-column
    version: 20240501120000
    object: public.posts.body
    reason: moved to post_bodies
  - code: data-loss
    version: 001
    reason: old sessions
verify:
  countMode: estimate
  concurrency: 8
  countTolerance:
    "*": 0
    public.sessions: 5%
    Order: 3
  allowNoRls: [public.countries, '"Weird.Name"']
  identities:
    - name: anon
      role: anon
    - name: alice
      role: authenticated
      claims: { sub: 8d0fd2b3-9ca7-4d9e-a95f-9e13dded323e, role: authenticated }
    - role: service_role
  probeTables: [posts]
  expectations:
    - identity: anon
      table: public.posts
      visible: { max: 4 }
    - identity: alice
      table: notes
      canSee: true
    - identity: service_role
      table: public.posts
      visible: 6
  scriptsDir: db/checks
`,
      FILE,
    );
    expect(config).toEqual({
      path: FILE,
      acceptedHazards: [
        {
          code: 'drop-column',
          version: '20240501120000',
          object: 'public.posts.body',
          reason: 'moved to post_bodies',
        },
        { code: 'data-loss', version: '001', reason: 'old sessions' },
      ],
      verify: {
        countMode: 'estimate',
        concurrency: 8,
        countTolerance: { '*': 0, 'public.sessions': '5%', 'public."Order"': 3 },
        allowNoRls: ['public.countries', 'public."Weird.Name"'],
        identities: [
          { name: 'anon', role: 'anon' },
          {
            name: 'alice',
            role: 'authenticated',
            claims: { sub: '8d0fd2b3-9ca7-4d9e-a95f-9e13dded323e', role: 'authenticated' },
          },
          { name: 'service_role', role: 'service_role' },
        ],
        probeTables: ['public.posts'],
        expectations: [
          { identity: 'anon', table: 'public.posts', visible: { max: 4 } },
          { identity: 'alice', table: 'public.notes', canSee: true },
          { identity: 'service_role', table: 'public.posts', visible: 6 },
        ],
        scriptsDir: 'db/checks',
      },
    });
  });

  it('gives the defaults for an empty file or an empty verify section', () => {
    const defaults = { path: FILE, acceptedHazards: [], verify: defaultVerifySettings() };
    expect(parseProjectConfig('', FILE)).toEqual(defaults);
    expect(parseProjectConfig('# nothing yet\n', FILE)).toEqual(defaults);
    expect(parseProjectConfig('verify:\n', FILE)).toEqual(defaults);
    expect(defaultVerifySettings()).toMatchObject({
      countMode: 'exact',
      identities: [
        { name: 'anon', role: 'anon' },
        { name: 'authenticated', role: 'authenticated' },
      ],
      probeTables: null,
      scriptsDir: 'supabase/verify',
    });
  });

  it('names the key path, the line and what is expected', () => {
    const error = configError(`verify:
  identities:
    - name: anon
      role: anon
    - name: alice
      role: authenticated
      claims: [sub, role]
`);
    expect(error.message).toBe(
      'supabase/supagate.yml:7: verify.identities[1].claims must be a mapping of JWT claims (e.g. { sub: <uuid>, role: authenticated }), got a list',
    );
    expect(error.details).toMatchObject({ file: FILE, path: 'verify.identities[1].claims', line: 7 });
    expect(error.hint).toBe('Fix verify.identities[1].claims in supabase/supagate.yml.');
  });

  it.each([
    ['verify:\n  countMode: fast\n', 'verify.countMode', 'must be "exact" or "estimate", got "fast"'],
    [
      'verify:\n  concurrency: 0\n',
      'verify.concurrency',
      'must be a whole number from 1 to 64, got number 0',
    ],
    ['verify:\n  identities: anon\n', 'verify.identities', 'must be a list of identities'],
    ['verify:\n  identities:\n    - name: x\n', 'verify.identities[0].role', 'missing'],
    [
      'verify:\n  identities:\n    - role: anon\n    - role: anon\n',
      'verify.identities[1].name',
      '"anon" is used twice',
    ],
    [
      'verify:\n  expectations:\n    - identity: mallory\n      table: public.posts\n      canSee: false\n',
      'verify.expectations[0].identity',
      'must be the name of an identity in verify.identities (anon, authenticated), got "mallory"',
    ],
    [
      'verify:\n  expectations:\n    - identity: anon\n      table: public.posts\n',
      'verify.expectations[0]',
      'neither is given',
    ],
    [
      'verify:\n  expectations:\n    - identity: anon\n      table: public.posts\n      visible: { min: 5, max: 2 }\n',
      'verify.expectations[0].visible',
      'min is not above its max',
    ],
    [
      'verify:\n  expectations:\n    - identity: anon\n      table: a.b.c\n      canSee: true\n',
      'verify.expectations[0].table',
      'must be a table name (schema.table), got "a.b.c"',
    ],
    [
      'verify:\n  countTolerance:\n    public.sessions: lots\n',
      'verify.countTolerance["public.sessions"]',
      'must be a number of rows (5) or a percentage of the rows before (1%), got "lots"',
    ],
    ['verify:\n  countTolerance:\n    "*": 150%\n', 'verify.countTolerance["*"]', 'got "150%"'],
    ['verify:\n  allowNoRls: [public.x, 3]\n', 'verify.allowNoRls[1]', 'got number 3'],
    ['acceptedHazards:\n  - code: drop-table\n', 'acceptedHazards[0].reason', 'missing'],
    [
      'acceptedHazards:\n  - code: drop-colum\n    reason: ok\n',
      'acceptedHazards[0].code',
      '"drop-colum" is none (did you mean drop-column',
    ],
    [
      'acceptedHazards:\n  - code: rls_disabled_in_publik\n    reason: ok\n',
      'acceptedHazards[0].code',
      '(did you mean rls_disabled_in_public',
    ],
    [
      'acceptedHazards:\n  - code: drop-table\n    reason: ok\n    version: v2\n',
      'acceptedHazards[0].version',
      'must be a migration version',
    ],
    [
      'verify:\n  identites: []\n',
      'verify.identites',
      'unknown key "identites" (did you mean "identities"?)',
    ],
    ['verfy:\n  countMode: exact\n', 'verfy', 'unknown key "verfy" (did you mean "verify"?)'],
    ['- a\n- b\n', '(top level)', 'must be a mapping (with keys acceptedHazards, verify), got a list'],
  ])('refuses %j at %s', (text, path, message) => {
    const error = configError(text);
    expect(error.details.path).toBe(path);
    expect(error.message).toContain(`${path} `);
    expect(error.message).toContain(message);
    expect(error.message.startsWith('supabase/supagate.yml:')).toBe(true);
  });

  it('accepts hazard codes, lint codes and categories, written with - or _, as findings spell them', () => {
    const config = parseProjectConfig(
      [
        'acceptedHazards:',
        '  - { code: drop_column, reason: a }',
        '  - { code: rls-disabled-in-public, reason: b }',
        '  - { code: Security, reason: c }',
        '  - { code: role-change, reason: d }',
        '  - { code: visibility-changed, reason: e }',
      ].join('\n'),
      FILE,
    );
    expect(config.acceptedHazards.map((a) => a.code)).toEqual([
      'drop-column',
      'rls_disabled_in_public',
      'security',
      'role-change',
      'visibility-changed',
    ]);
  });

  it('reports YAML syntax errors and duplicate keys with their line', () => {
    expect(configError('verify:\n  countMode: exact\n  countMode: estimate\n').message).toMatch(
      /^supabase\/supagate\.yml:3: not valid YAML: Map keys must be unique/,
    );
    expect(configError('verify: [1\n').message).toMatch(/^supabase\/supagate\.yml(:\d+)?: not valid YAML/);
  });

  it('formats key paths', () => {
    expect(keyPath(['verify', 'identities', 1, 'claims'])).toBe('verify.identities[1].claims');
    expect(keyPath(['verify', 'countTolerance', 'public.sessions'])).toBe(
      'verify.countTolerance["public.sessions"]',
    );
    expect(keyPath([])).toBe('(top level)');
  });
});

describe('loadProjectConfig', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'supagate-config-file-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gives the defaults when the project has no file', async () => {
    expect(await loadProjectConfig(dir)).toEqual({
      path: null,
      acceptedHazards: [],
      verify: defaultVerifySettings(),
    });
  });

  it('reads supabase/supagate.yml, or .yaml', async () => {
    await mkdir(join(dir, 'supabase'));
    await writeFile(join(dir, 'supabase/supagate.yaml'), 'verify:\n  countMode: estimate\n');
    expect(await loadProjectConfig(dir)).toMatchObject({
      path: 'supabase/supagate.yaml',
      verify: { countMode: 'estimate' },
    });
    await writeFile(join(dir, 'supabase/supagate.yml'), '\uFEFFverify:\n  allowNoRls: [countries]\n');
    expect(await loadProjectConfig(dir)).toMatchObject({
      path: 'supabase/supagate.yml',
      verify: { countMode: 'exact', allowNoRls: ['public.countries'] },
    });
  });

  it('names the file in errors, and refuses an explicit file that does not exist', async () => {
    await mkdir(join(dir, 'config'));
    await writeFile(join(dir, 'config/gate.yml'), 'verify:\n  countMode: 3\n');
    await expect(loadProjectConfig(dir, 'config/gate.yml')).rejects.toThrow(
      'config/gate.yml:2: verify.countMode must be "exact" or "estimate", got number 3',
    );
    await expect(loadProjectConfig(dir, 'config/missing.yml')).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: 'Configuration file config/missing.yml not found',
    });
  });
});
