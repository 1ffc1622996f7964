import { describe, expect, it } from 'vitest';
import type { ForeignTableLike } from '../src/core/schema/lints/foreign-tables.js';
import {
  introducedLints,
  isSensitiveColumnName,
  LINT_RULES,
  type LintFinding,
  lintSchema,
  unwrappedCalls,
} from '../src/core/schema/lints.js';
import {
  type Bucket,
  type Column,
  type Constraint,
  type Extension,
  emptyModel,
  type Grant,
  type Index,
  type Policy,
  type Routine,
  type SchemaModel,
  type Table,
  type View,
} from '../src/core/schema/model.js';

// ---------------------------------------------------------------------------------------------
// A small factory for hand-built models. Defaults describe a table that passes every lint:
// primary key, RLS on, one SELECT policy with a wrapped auth.uid(), Supabase's grants.
// ---------------------------------------------------------------------------------------------

const API_TABLE_GRANTS: Grant[] = ['anon', 'authenticated', 'service_role', 'postgres'].flatMap((grantee) =>
  ['SELECT', 'INSERT', 'UPDATE', 'DELETE'].map((privilege) => ({ grantee, privilege, grantable: false })),
);

function grants(grantees: string[], privilege: string): Grant[] {
  return grantees.map((grantee) => ({ grantee, privilege, grantable: false }));
}

function column(name: string, type = 'text', overrides: Partial<Column> = {}): Column {
  return {
    name,
    type,
    notNull: false,
    default: null,
    identity: null,
    generated: null,
    collation: null,
    comment: null,
    grants: [],
    ...overrides,
  };
}

function primaryKey(table: string, columns = ['id']): Constraint {
  return {
    name: `${table}_pkey`,
    type: 'primary key',
    definition: `PRIMARY KEY (${columns.join(', ')})`,
    columns,
    validated: true,
    deferrable: false,
    initiallyDeferred: false,
    references: null,
    comment: null,
  };
}

function foreignKey(name: string, columns: string[], table: string, refColumns: string[]): Constraint {
  return {
    name,
    type: 'foreign key',
    definition: `FOREIGN KEY (${columns.join(', ')}) REFERENCES ${table}(${refColumns.join(', ')})`,
    columns,
    validated: true,
    deferrable: false,
    initiallyDeferred: false,
    references: { table, columns: refColumns, onUpdate: 'no action', onDelete: 'no action' },
    comment: null,
  };
}

function index(table: string, name: string, columns: string[], overrides: Partial<Index> = {}): Index {
  const unique = overrides.unique ?? false;
  return {
    name,
    definition: `CREATE ${unique ? 'UNIQUE ' : ''}INDEX ${name} ON ${table} USING btree (${columns.join(', ')})`,
    unique,
    primary: false,
    constraint: null,
    columns,
    valid: true,
    comment: null,
    ...overrides,
  };
}

function policy(table: string, name: string, overrides: Partial<Policy> = {}): Policy {
  return {
    name,
    table,
    command: 'SELECT',
    permissive: true,
    roles: ['authenticated'],
    using: '(( SELECT auth.uid() AS uid) = id)',
    withCheck: null,
    comment: null,
    ...overrides,
  };
}

function table(id: string, overrides: Partial<Table> = {}): Table {
  const [schema = '', name = ''] = id.split('.');
  const pkeyIndex = index(id, `${name}_pkey`, ['id'], {
    unique: true,
    primary: true,
    constraint: `${name}_pkey`,
  });
  return {
    schema,
    name,
    kind: 'table',
    owner: 'postgres',
    managed: false,
    rlsEnabled: true,
    rlsForced: false,
    partitionKey: null,
    partitionOf: null,
    partitionBound: null,
    replicaIdentity: 'default',
    comment: null,
    columns: [column('id', 'uuid', { notNull: true })],
    constraints: { [`${name}_pkey`]: primaryKey(name) },
    indexes: { [pkeyIndex.name]: pkeyIndex },
    triggers: {},
    policies: { owner_reads: policy(id, 'owner_reads') },
    grants: API_TABLE_GRANTS,
    stats: { estimatedRows: 0, pages: 0 },
    ...overrides,
  };
}

function view(id: string, overrides: Partial<View> = {}): View {
  const [schema = '', name = ''] = id.split('.');
  return {
    schema,
    name,
    kind: 'view',
    owner: 'postgres',
    definition: ' SELECT posts.id\n   FROM posts;',
    securityInvoker: true,
    securityBarrier: false,
    checkOption: null,
    comment: null,
    columns: [{ name: 'id', type: 'uuid', comment: null }],
    indexes: {},
    grants: grants(['anon', 'authenticated', 'postgres'], 'SELECT'),
    populated: true,
    ...overrides,
  };
}

function fn(id: string, overrides: Partial<Routine> = {}): Routine {
  const match = /^([^.]+)\.([^(]+)\((.*)\)$/.exec(id);
  return {
    schema: match?.[1] ?? '',
    name: match?.[2] ?? '',
    kind: 'function',
    identityArguments: match?.[3] ?? '',
    arguments: match?.[3] ?? '',
    returns: 'boolean',
    language: 'sql',
    body: 'select true',
    definition: null,
    volatility: 'stable',
    securityDefiner: false,
    strict: false,
    leakproof: false,
    parallel: 'unsafe',
    config: ['search_path=""'],
    owner: 'postgres',
    comment: null,
    grants: grants(['PUBLIC', 'postgres'], 'EXECUTE'),
    ...overrides,
  };
}

/** A foreign table as foreign_table_in_api reads it (the model does not hold foreign tables yet). */
function foreignTable(id: string, overrides: Partial<ForeignTableLike> = {}): ForeignTableLike {
  const [schema = '', name = ''] = id.split('.');
  return { schema, name, grants: grants(['anon', 'authenticated', 'postgres'], 'SELECT'), ...overrides };
}

function model(
  parts: {
    tables?: Table[];
    views?: View[];
    functions?: Routine[];
    extensions?: (Extension & { defaultVersion?: string | null })[];
    buckets?: Bucket[];
    foreignTables?: ForeignTableLike[];
  },
  serverVersion = 170000,
): SchemaModel {
  const m = emptyModel(serverVersion);
  for (const b of parts.buckets ?? []) m.buckets[b.id] = b;
  if (parts.foreignTables) {
    (m as unknown as { foreignTables: Record<string, ForeignTableLike> }).foreignTables = Object.fromEntries(
      parts.foreignTables.map((t) => [`${t.schema}.${t.name}`, t]),
    );
  }
  for (const t of parts.tables ?? []) m.tables[`${t.schema}.${t.name}`] = t;
  for (const v of parts.views ?? []) m.views[`${v.schema}.${v.name}`] = v;
  for (const f of parts.functions ?? []) m.functions[`${f.schema}.${f.name}(${f.identityArguments})`] = f;
  for (const e of parts.extensions ?? []) m.extensions[e.name] = e;
  return m;
}

function lints(m: SchemaModel, code?: string): LintFinding[] {
  const all = lintSchema(m);
  return code ? all.filter((f) => f.code === code) : all;
}

function keys(findings: LintFinding[]): string[] {
  return findings.map((f) => `${f.code} ${f.object}`);
}

// ---------------------------------------------------------------------------------------------

describe('lintSchema', () => {
  it('finds nothing in a model that follows every rule', () => {
    const posts = table('public.posts', {
      columns: [column('id', 'uuid'), column('author_id', 'uuid'), column('title')],
      constraints: {
        posts_pkey: primaryKey('posts'),
        posts_author_id_fkey: foreignKey('posts_author_id_fkey', ['author_id'], 'auth.users', ['id']),
      },
      indexes: {
        ...table('public.posts').indexes,
        posts_author_id_idx: index('public.posts', 'posts_author_id_idx', ['author_id']),
      },
    });
    const m = model({
      tables: [posts],
      views: [view('public.post_ids')],
      functions: [fn('public.is_admin(uuid)')],
      extensions: [{ name: 'pg_trgm', schema: 'extensions', version: '1.6' }],
    });
    expect(lints(m)).toEqual([]);
  });

  it('describes each finding: level, title, object, a message naming the object, a remediation', () => {
    const [finding] = lints(model({ tables: [table('public.posts', { rlsEnabled: false, policies: {} })] }));
    expect(finding).toEqual({
      code: 'rls_disabled_in_public',
      level: 'ERROR',
      title: 'RLS disabled in public',
      object: 'public.posts',
      message: expect.stringContaining('public.posts'),
      remediation: expect.stringContaining('ALTER TABLE public.posts ENABLE ROW LEVEL SECURITY'),
    });
  });

  it('orders findings by level, rule and object', () => {
    const m = model({
      tables: [
        table('public.b', { rlsEnabled: false, policies: {} }),
        table('public.a', { rlsEnabled: false, policies: {} }),
        table('public.c', { constraints: {}, indexes: {} }),
      ],
      functions: [fn('public.f()', { config: [] })],
    });
    expect(keys(lints(m))).toEqual([
      'rls_disabled_in_public public.a',
      'rls_disabled_in_public public.b',
      'function_search_path_mutable public.f()',
      'no_primary_key public.c',
    ]);
    expect(lintSchema(m)).toEqual(lintSchema(structuredClone(m)));
  });

  it('lists every rule of the design with a level', () => {
    expect(LINT_RULES.map((r) => `${r.level} ${r.code}`)).toEqual([
      'ERROR rls_disabled_in_public',
      'ERROR policy_exists_rls_disabled',
      'ERROR auth_users_exposed',
      'ERROR security_definer_view',
      'ERROR rls_references_user_metadata',
      'ERROR sensitive_columns_exposed',
      'ERROR fkey_to_auth_unique',
      'WARN function_search_path_mutable',
      'WARN auth_rls_initplan',
      'WARN multiple_permissive_policies',
      'WARN duplicate_index',
      'WARN extension_in_public',
      'WARN extension_versions_outdated',
      'WARN materialized_view_in_api',
      'WARN foreign_table_in_api',
      'WARN unsupported_reg_types',
      'WARN rls_policy_always_true',
      'WARN public_bucket_allows_listing',
      'WARN anon_security_definer_function_executable',
      'WARN authenticated_security_definer_function_executable',
      'INFO unindexed_foreign_keys',
      'INFO no_primary_key',
      'INFO rls_enabled_no_policy',
    ]);
  });

  describe('rls_disabled_in_public', () => {
    it('flags a table without RLS in an API schema, whatever its grants', () => {
      const m = model({ tables: [table('public.posts', { rlsEnabled: false, policies: {}, grants: [] })] });
      expect(keys(lints(m))).toEqual(['rls_disabled_in_public public.posts']);
    });
    it('flags partitioned tables too', () => {
      const m = model({
        tables: [table('public.events', { kind: 'partitioned', rlsEnabled: false, policies: {} })],
      });
      expect(keys(lints(m, 'rls_disabled_in_public'))).toEqual(['rls_disabled_in_public public.events']);
    });
    it('passes once RLS is enabled, or when the schema is not exposed', () => {
      expect(lints(model({ tables: [table('public.posts')] }), 'rls_disabled_in_public')).toEqual([]);
      const privateTable = model({ tables: [table('private.jobs', { rlsEnabled: false, policies: {} })] });
      expect(lints(privateTable)).toEqual([]);
    });
    it('follows the configured API schemas', () => {
      const m = model({ tables: [table('api.jobs', { rlsEnabled: false, policies: {} })] });
      expect(keys(lintSchema(m, { apiSchemas: ['api'] }))).toEqual(['rls_disabled_in_public api.jobs']);
      expect(lintSchema(m, { apiSchemas: ['public'] })).toEqual([]);
    });
  });

  describe('policy_exists_rls_disabled', () => {
    it('flags a table with policies and RLS off, in any user schema', () => {
      const m = model({ tables: [table('private.jobs', { rlsEnabled: false })] });
      const [finding] = lints(m);
      expect(finding?.code).toBe('policy_exists_rls_disabled');
      expect(finding?.object).toBe('private.jobs');
      expect(finding?.message).toContain('"owner_reads"');
    });
    it('passes once RLS is enabled', () => {
      expect(lints(model({ tables: [table('private.jobs')] }))).toEqual([]);
    });
  });

  describe('auth_users_exposed', () => {
    const definition = ' SELECT users.id,\n    users.email\n   FROM auth.users;';
    it('flags a non-invoker view in an API schema over auth.users that anon/authenticated can read', () => {
      const m = model({ views: [view('public.user_emails', { definition, securityInvoker: false })] });
      expect(keys(lints(m))).toEqual([
        'auth_users_exposed public.user_emails',
        'security_definer_view public.user_emails',
      ]);
      expect(lints(m, 'auth_users_exposed')[0]?.message).toContain('anon and authenticated');
    });
    it('flags a materialized view over auth.users', () => {
      const m = model({ views: [view('public.user_emails', { definition, kind: 'materialized' })] });
      expect(keys(lints(m))).toEqual([
        'auth_users_exposed public.user_emails',
        'materialized_view_in_api public.user_emails',
      ]);
    });
    it('passes with security_invoker, without grants to the API roles, or outside the API', () => {
      expect(lints(model({ views: [view('public.user_emails', { definition })] }))).toEqual([]);
      const revoked = view('public.user_emails', {
        definition,
        securityInvoker: false,
        grants: grants(['postgres', 'service_role'], 'SELECT'),
      });
      expect(lints(model({ views: [revoked] }))).toEqual([]);
      const hidden = view('private.user_emails', { definition, securityInvoker: false });
      expect(lints(model({ views: [hidden] }))).toEqual([]);
    });
    it('does not mistake another relation for auth.users', () => {
      const other = view('public.v', {
        definition: ' SELECT users.id\n   FROM public.users;',
        securityInvoker: true,
      });
      const similar = view('public.w', {
        definition:
          " SELECT auth_users.id\n   FROM auth.users_archive auth_users\n  WHERE (auth_users.note = 'auth.users'::text);",
        kind: 'materialized',
        grants: [],
      });
      expect(lints(model({ views: [other, similar] }))).toEqual([]);
    });
  });

  describe('security_definer_view', () => {
    it('flags a view that is not security_invoker and that anon or authenticated can read', () => {
      const m = model({
        views: [view('public.feed', { securityInvoker: false, grants: grants(['authenticated'], 'SELECT') })],
      });
      expect(keys(lints(m))).toEqual(['security_definer_view public.feed']);
      expect(lints(m)[0]?.remediation).toBe('ALTER VIEW public.feed SET (security_invoker = true)');
    });
    it('counts a grant to PUBLIC', () => {
      const m = model({
        views: [view('public.feed', { securityInvoker: false, grants: grants(['PUBLIC'], 'SELECT') })],
      });
      expect(keys(lints(m))).toEqual(['security_definer_view public.feed']);
    });
    it('passes with security_invoker, without API grants, or before PostgreSQL 15', () => {
      expect(lints(model({ views: [view('public.feed')] }))).toEqual([]);
      const noGrant = view('public.feed', { securityInvoker: false, grants: [] });
      expect(lints(model({ views: [noGrant] }))).toEqual([]);
      const pg14 = model({ views: [view('public.feed', { securityInvoker: false })] }, 140010);
      expect(lints(pg14)).toEqual([]);
    });
  });

  describe('rls_references_user_metadata', () => {
    it('flags a policy deciding from the JWT user_metadata', () => {
      const m = model({
        tables: [
          table('public.posts', {
            policies: {
              admins: policy('public.posts', 'admins', {
                using:
                  "((( SELECT auth.jwt() AS jwt) -> 'user_metadata'::text) ->> 'role'::text) = 'admin'::text)",
              }),
            },
          }),
        ],
      });
      expect(keys(lints(m))).toEqual(['rls_references_user_metadata public.posts policy "admins"']);
    });
    it('flags a policy reading auth.users.raw_user_meta_data', () => {
      const m = model({
        tables: [
          table('public.posts', {
            policies: {
              admins: policy('public.posts', 'admins', {
                command: 'UPDATE',
                using: null,
                withCheck:
                  "(EXISTS ( SELECT 1\n   FROM auth.users u\n  WHERE ((u.id = ( SELECT auth.uid() AS uid)) AND ((u.raw_user_meta_data ->> 'admin'::text) = 'true'::text))))",
              }),
            },
          }),
        ],
      });
      expect(keys(lints(m))).toEqual(['rls_references_user_metadata public.posts policy "admins"']);
    });
    it('passes with app_metadata', () => {
      const m = model({
        tables: [
          table('public.posts', {
            policies: {
              admins: policy('public.posts', 'admins', {
                using:
                  "((( SELECT auth.jwt() AS jwt) -> 'app_metadata'::text) ->> 'role'::text) = 'admin'::text)",
              }),
            },
          }),
        ],
      });
      expect(lints(m)).toEqual([]);
    });
  });

  describe('sensitive_columns_exposed', () => {
    const columns = [column('id', 'uuid'), column('email'), column('password_hash'), column('apiKey')];
    it('flags an exposed table without RLS that has sensitive columns, naming them', () => {
      const m = model({ tables: [table('public.accounts', { rlsEnabled: false, policies: {}, columns })] });
      const [finding] = lints(m, 'sensitive_columns_exposed');
      expect(finding?.object).toBe('public.accounts');
      expect(finding?.message).toContain('password_hash, apiKey');
    });
    it('passes once RLS is enabled, or with no sensitive column', () => {
      expect(lints(model({ tables: [table('public.accounts', { columns })] }))).toEqual([]);
      const plain = table('public.accounts', {
        rlsEnabled: false,
        policies: {},
        columns: [column('id'), column('password_changed_at'), column('token_count')],
      });
      expect(lints(model({ tables: [plain] }), 'sensitive_columns_exposed')).toEqual([]);
    });
    it('recognizes sensitive names by words', () => {
      for (const name of [
        'password',
        'encrypted_password',
        'reset_token',
        'refreshToken',
        'stripe_api_key',
        'client_secret',
        'ssn',
        'credit_card_number',
        'tax_id',
        'iban',
      ])
        expect(isSensitiveColumnName(name), name).toBe(true);
      for (const name of [
        'id',
        'email',
        'tokens_used',
        'token_expires_at',
        'password_changed_at',
        'token_id',
        'passage',
      ])
        expect(isSensitiveColumnName(name), name).toBe(false);
    });
  });

  describe('fkey_to_auth_unique', () => {
    const profiles = (refColumns: string[]) =>
      table('public.profiles', {
        columns: [column('id', 'uuid'), column('email')],
        constraints: {
          profiles_pkey: primaryKey('profiles'),
          profiles_email_fkey: foreignKey('profiles_email_fkey', ['id'], 'auth.users', refColumns),
        },
      });
    it('flags a foreign key to a unique key of an auth table that is not its primary key', () => {
      const m = model({ tables: [profiles(['email'])] });
      expect(keys(lints(m))).toEqual([
        'fkey_to_auth_unique public.profiles constraint "profiles_email_fkey"',
      ]);
      expect(lints(m)[0]?.message).toContain('auth.users(email)');
    });
    it('passes for a foreign key to the primary key', () => {
      expect(lints(model({ tables: [profiles(['id'])] }))).toEqual([]);
    });
    it('uses the auth table primary key from the model when it has it', () => {
      const sessions = table('auth.sessions', {
        managed: true,
        constraints: { sessions_pkey: primaryKey('sessions', ['session_id']) },
      });
      const fk = (cols: string[]) =>
        table('public.devices', {
          constraints: {
            devices_pkey: primaryKey('devices'),
            devices_session_fkey: foreignKey('devices_session_fkey', ['id'], 'auth.sessions', cols),
          },
        });
      expect(lints(model({ tables: [sessions, fk(['session_id'])] }))).toEqual([]);
      expect(keys(lints(model({ tables: [sessions, fk(['id'])] })))).toEqual([
        'fkey_to_auth_unique public.devices constraint "devices_session_fkey"',
      ]);
    });
  });

  describe('function_search_path_mutable', () => {
    it('flags a function without a search_path setting', () => {
      const m = model({ functions: [fn('public.slugify(text)', { config: ['statement_timeout=5s'] })] });
      expect(keys(lints(m))).toEqual(['function_search_path_mutable public.slugify(text)']);
    });
    it('flags procedures, in any user schema', () => {
      const m = model({
        functions: [fn('private.cleanup()', { kind: 'procedure', returns: null, config: [] })],
      });
      expect(keys(lints(m))).toEqual(['function_search_path_mutable private.cleanup()']);
    });
    it('flags trigger functions, SECURITY DEFINER ones included', () => {
      const m = model({
        functions: [
          fn('private.on_signup()', { returns: 'trigger', securityDefiner: true, config: [] }),
          fn('private.touch()', { returns: 'trigger', config: ['search_path=""'] }),
        ],
      });
      expect(keys(lints(m))).toEqual(['function_search_path_mutable private.on_signup()']);
    });
    it('passes with search_path set, for aggregates and in managed schemas', () => {
      expect(
        lints(
          model({ functions: [fn('public.slugify(text)', { config: ['search_path=public, extensions'] })] }),
        ),
      ).toEqual([]);
      expect(
        lints(model({ functions: [fn('public.agg(text)', { kind: 'aggregate', config: [] })] })),
      ).toEqual([]);
      expect(lints(model({ functions: [fn('auth.uid()', { config: [] })] }))).toEqual([]);
    });
  });

  describe('auth_rls_initplan', () => {
    const withUsing = (
      using: string | null,
      withCheck: string | null = null,
      command: Policy['command'] = 'SELECT',
    ) =>
      model({
        tables: [
          table('public.posts', {
            policies: { own: policy('public.posts', 'own', { using, withCheck, command }) },
          }),
        ],
      });
    it('flags auth.uid() called directly in USING', () => {
      const m = withUsing('(auth.uid() = id)');
      expect(keys(lints(m))).toEqual(['auth_rls_initplan public.posts policy "own"']);
      expect(lints(m)[0]?.message).toContain('auth.uid()');
    });
    it('flags current_setting(), auth.jwt() and auth.role() in WITH CHECK', () => {
      const m = withUsing(
        null,
        "((((current_setting('request.jwt.claims'::text, true))::jsonb ->> 'sub'::text))::uuid = id) AND (auth.role() = 'authenticated'::text) AND ((auth.jwt() ->> 'aal'::text) = 'aal2'::text))",
        'INSERT',
      );
      expect(lints(m)[0]?.message).toContain('auth.jwt(), auth.role(), current_setting()');
    });
    it('flags a call inside a sub-SELECT with FROM (it runs per row of that subquery)', () => {
      const m = withUsing(
        '(EXISTS ( SELECT 1\n   FROM members m\n  WHERE ((m.post_id = posts.id) AND (m.user_id = auth.uid()))))',
      );
      expect(keys(lints(m))).toEqual(['auth_rls_initplan public.posts policy "own"']);
    });
    it('passes when every call is wrapped in a scalar subquery, as PostgreSQL deparses it', () => {
      expect(lints(withUsing('(( SELECT auth.uid() AS uid) = id)'))).toEqual([]);
      expect(
        lints(
          withUsing(
            '(EXISTS ( SELECT 1\n   FROM members m\n  WHERE ((m.post_id = posts.id) AND (m.user_id = ( SELECT auth.uid() AS uid)))))',
            "(id = ( SELECT ((current_setting('request.jwt.claims'::text, true))::jsonb ->> 'sub'::text)::uuid AS uuid))",
          ),
        ),
      ).toEqual([]);
      expect(lints(withUsing("(( SELECT (auth.jwt() ->> 'role'::text)) = 'admin'::text)"))).toEqual([]);
    });
    it('ignores the names inside string literals and column names', () => {
      expect(lints(withUsing("(note <> 'auth.uid()'::text)"))).toEqual([]);
      expect(lints(withUsing('(my_auth.uid() = id)'))).toEqual([]);
    });
    it('lints policies on managed tables too', () => {
      const objects = table('storage.objects', {
        managed: true,
        rlsEnabled: true,
        constraints: {},
        indexes: {},
        policies: {
          uploads: policy('storage.objects', 'uploads', {
            command: 'INSERT',
            using: null,
            withCheck: "((bucket_id = 'avatars'::text) AND (owner = auth.uid()))",
          }),
        },
      });
      expect(keys(lints(model({ tables: [objects] })))).toEqual([
        'auth_rls_initplan storage.objects policy "uploads"',
      ]);
    });
    it('finds unwrapped calls precisely', () => {
      expect(unwrappedCalls('(( SELECT auth.uid() AS uid) = user_id) OR (auth.uid() = owner)')).toEqual([
        'auth.uid()',
      ]);
      expect(unwrappedCalls('(x IS DISTINCT FROM ( SELECT auth.uid() AS uid))')).toEqual([]);
      expect(
        unwrappedCalls("(pg_catalog.current_setting('a'::text) = E'it''s \\\\ auth.uid()'::text)"),
      ).toEqual(['current_setting()']);
    });
  });

  describe('multiple_permissive_policies', () => {
    it('flags two permissive policies for the same role and command', () => {
      const m = model({
        tables: [
          table('public.posts', {
            policies: {
              a: policy('public.posts', 'a'),
              b: policy('public.posts', 'b', { using: 'published' }),
            },
          }),
        ],
      });
      expect(keys(lints(m))).toEqual(['multiple_permissive_policies public.posts (authenticated, SELECT)']);
      expect(lints(m)[0]?.message).toContain('"a", "b"');
    });
    it('expands ALL to each command and PUBLIC to anon, authenticated, authenticator and dashboard_user', () => {
      const m = model({
        tables: [
          table('public.posts', {
            policies: {
              everyone_reads: policy('public.posts', 'everyone_reads', {
                roles: ['PUBLIC'],
                using: 'published',
              }),
              owner_all: policy('public.posts', 'owner_all', { command: 'ALL', roles: ['PUBLIC'] }),
            },
          }),
        ],
      });
      expect(keys(lints(m))).toEqual([
        'multiple_permissive_policies public.posts (anon, SELECT)',
        'multiple_permissive_policies public.posts (authenticated, SELECT)',
        'multiple_permissive_policies public.posts (authenticator, SELECT)',
        'multiple_permissive_policies public.posts (dashboard_user, SELECT)',
      ]);
    });
    it('counts a PUBLIC policy for a role another policy names', () => {
      const m = model({
        tables: [
          table('public.posts', {
            policies: {
              editors: policy('public.posts', 'editors', { command: 'UPDATE', roles: ['editor'] }),
              everyone: policy('public.posts', 'everyone', { command: 'UPDATE', roles: ['PUBLIC'] }),
            },
          }),
        ],
      });
      expect(keys(lints(m))).toContain('multiple_permissive_policies public.posts (editor, UPDATE)');
    });
    it('passes for restrictive policies, different roles or commands, and roles that bypass RLS', () => {
      const m = model({
        tables: [
          table('public.posts', {
            policies: {
              a: policy('public.posts', 'a'),
              b: policy('public.posts', 'b', { permissive: false, using: 'published' }),
              c: policy('public.posts', 'c', { roles: ['anon'], using: 'published' }),
              d: policy('public.posts', 'd', { command: 'DELETE' }),
              s1: policy('public.posts', 's1', { command: 'ALL', roles: ['service_role'] }),
              s2: policy('public.posts', 's2', { command: 'ALL', roles: ['service_role'] }),
            },
          }),
        ],
      });
      expect(lints(m)).toEqual([]);
    });
  });

  describe('duplicate_index', () => {
    it('flags indexes identical apart from the name', () => {
      const t = table('public.posts', { columns: [column('id'), column('slug')] });
      t.indexes.posts_slug_idx = index('public.posts', 'posts_slug_idx', ['slug']);
      t.indexes.posts_slug_idx1 = index('public.posts', 'posts_slug_idx1', ['slug']);
      const m = model({ tables: [t] });
      expect(keys(lints(m))).toEqual([
        'duplicate_index public.posts indexes "posts_slug_idx", "posts_slug_idx1"',
      ]);
      expect(lints(m)[0]?.remediation).toContain('DROP INDEX public.posts_slug_idx1');
    });
    it('flags duplicates on materialized views', () => {
      const mv = view('private.stats', {
        kind: 'materialized',
        indexes: {
          a: index('private.stats', 'a', ['id']),
          b: index('private.stats', 'b', ['id']),
        },
      });
      expect(keys(lints(model({ views: [mv] })))).toEqual(['duplicate_index private.stats indexes "a", "b"']);
    });
    it('passes for indexes that differ in columns, uniqueness or predicate', () => {
      const t = table('public.posts');
      t.indexes.by_slug = index('public.posts', 'by_slug', ['slug']);
      t.indexes.by_slug_unique = index('public.posts', 'by_slug_unique', ['slug'], { unique: true });
      t.indexes.by_slug_live = index('public.posts', 'by_slug_live', ['slug'], {
        definition: 'CREATE INDEX by_slug_live ON public.posts USING btree (slug) WHERE live',
      });
      t.indexes.by_slug_title = index('public.posts', 'by_slug_title', ['slug', 'title']);
      expect(lints(model({ tables: [t] }))).toEqual([]);
    });
  });

  describe('extension_in_public', () => {
    it('flags an extension installed in public', () => {
      const m = model({ extensions: [{ name: 'pg_trgm', schema: 'public', version: '1.6' }] });
      expect(keys(lints(m))).toEqual(['extension_in_public pg_trgm']);
    });
    it('passes in the extensions schema', () => {
      expect(
        lints(model({ extensions: [{ name: 'pg_trgm', schema: 'extensions', version: '1.6' }] })),
      ).toEqual([]);
    });
  });

  describe('materialized_view_in_api', () => {
    it('flags a materialized view in an API schema readable by anon or authenticated', () => {
      const m = model({
        views: [view('public.stats', { kind: 'materialized', grants: grants(['anon'], 'SELECT') })],
      });
      expect(keys(lints(m))).toEqual(['materialized_view_in_api public.stats']);
    });
    it('passes without API grants or outside the API', () => {
      const revoked = view('public.stats', { kind: 'materialized', grants: grants(['postgres'], 'SELECT') });
      expect(lints(model({ views: [revoked] }))).toEqual([]);
      expect(lints(model({ views: [view('private.stats', { kind: 'materialized' })] }))).toEqual([]);
    });
  });

  describe('foreign_table_in_api', () => {
    it('flags a foreign table in an API schema that anon or authenticated can read', () => {
      const m = model({ foreignTables: [foreignTable('public.remote_orders')] });
      expect(keys(lints(m))).toEqual(['foreign_table_in_api public.remote_orders']);
      expect(lints(m)[0]?.message).toContain('anon and authenticated can read it');
      const viaPublic = model({
        foreignTables: [foreignTable('public.remote_orders', { grants: grants(['PUBLIC'], 'SELECT') })],
      });
      expect(keys(lints(viaPublic))).toEqual(['foreign_table_in_api public.remote_orders']);
    });
    it('passes without SELECT for the API roles, outside the API, and while the model has no foreign tables', () => {
      const revoked = foreignTable('public.remote_orders', {
        grants: [...grants(['postgres'], 'SELECT'), ...grants(['anon'], 'INSERT')],
      });
      expect(lints(model({ foreignTables: [revoked] }))).toEqual([]);
      expect(lints(model({ foreignTables: [foreignTable('private.remote_orders')] }))).toEqual([]);
      // Ordinary tables and views are never foreign tables, whatever their grants.
      const m = model({
        tables: [table('public.remote', { rlsEnabled: false, policies: {} })],
        views: [view('public.remote_view', { securityInvoker: false })],
      });
      expect(lints(m, 'foreign_table_in_api')).toEqual([]);
    });
  });

  describe('unsupported_reg_types', () => {
    it('flags each column of a user table whose type pg_upgrade cannot carry over, in any user schema', () => {
      const m = model({
        tables: [
          table('public.jobs', {
            columns: [
              column('id', 'uuid'),
              column('handler', 'regprocedure'),
              column('dictionaries', 'regdictionary[]'),
            ],
          }),
          table('private.search', { columns: [column('id', 'uuid'), column('config', 'regconfig')] }),
        ],
      });
      expect(keys(lints(m))).toEqual([
        'unsupported_reg_types private.search column "config"',
        'unsupported_reg_types public.jobs column "dictionaries"',
        'unsupported_reg_types public.jobs column "handler"',
      ]);
      expect(lints(m)[2]).toMatchObject({
        level: 'WARN',
        message: expect.stringContaining('handler of type regprocedure'),
        remediation: expect.stringContaining('ALTER TABLE public.jobs ALTER COLUMN handler TYPE text'),
      });
    });
    it('flags every type of the list, and materialized view columns', () => {
      const types = [
        'regcollation',
        'regconfig',
        'regdictionary',
        'regnamespace',
        'regoper',
        'regoperator',
        'regproc',
        'regprocedure',
      ];
      const m = model({
        tables: [table('public.t', { columns: [column('id', 'uuid'), ...types.map((t) => column(t, t))] })],
        views: [
          view('public.m', {
            kind: 'materialized',
            columns: [{ name: 'p', type: 'regproc', comment: null }],
          }),
        ],
      });
      expect(lints(m, 'unsupported_reg_types')).toHaveLength(types.length + 1);
    });
    it('passes for the supported reg types, names that only look alike, plain views and managed tables', () => {
      const m = model({
        tables: [
          table('public.t', {
            columns: [
              column('id', 'uuid'),
              column('rel', 'regclass'),
              column('typ', 'regtype'),
              column('role', 'regrole'),
              column('regproc', 'text'),
              column('p', 'public.regproc_like'),
            ],
          }),
          table('storage.objects', {
            managed: true,
            columns: [column('id', 'uuid'), column('p', 'regproc')],
          }),
        ],
        views: [view('public.fns', { columns: [{ name: 'p', type: 'regproc', comment: null }] })],
      });
      expect(lints(m)).toEqual([]);
    });
  });

  describe('public_bucket_allows_listing', () => {
    const LISTING = 'public_bucket_allows_listing';
    const bucket = (id: string, isPublic = true): Bucket => ({
      id,
      name: id,
      public: isPublic,
      fileSizeLimit: null,
      allowedMimeTypes: null,
    });
    const objects = (policies: Policy[]) =>
      table('storage.objects', {
        managed: true,
        columns: [column('id', 'uuid'), column('bucket_id'), column('name')],
        policies: Object.fromEntries(policies.map((p) => [p.name, p])),
      });
    const read = (name: string, overrides: Partial<Policy> = {}) =>
      policy('storage.objects', name, {
        roles: ['PUBLIC'],
        using: "(bucket_id = 'avatars'::text)",
        ...overrides,
      });

    it('flags a public bucket with a SELECT policy on storage.objects for the whole bucket', () => {
      const m = model({ buckets: [bucket('avatars')], tables: [objects([read('Public read')])] });
      expect(keys(lints(m))).toEqual(['public_bucket_allows_listing bucket "avatars"']);
      expect(lints(m)[0]).toMatchObject({
        level: 'WARN',
        message: expect.stringContaining('Public bucket "avatars" has 1 broad SELECT policy'),
        remediation: expect.stringContaining('DROP POLICY "Public read" ON storage.objects'),
      });
    });
    it('counts FOR ALL, anon or authenticated, USING (true) and policies naming the bucket with parentheses', () => {
      const m = model({
        buckets: [bucket('avatars')],
        tables: [
          objects([
            read('a all', { command: 'ALL', roles: ['anon'] }),
            read('b true', { roles: ['authenticated'], using: 'true' }),
            read('c parens', { using: "((bucket_id = 'avatars'::text))" }),
            read('d one', { using: '(1 = 1)' }),
          ]),
        ],
      });
      expect(keys(lints(m, LISTING))).toEqual(['public_bucket_allows_listing bucket "avatars"']);
      expect(lints(m, LISTING)[0]?.message).toContain('4 broad SELECT policies');
    });
    it('passes for private buckets, another bucket, narrower, restrictive, write or service-only policies', () => {
      expect(
        lints(model({ buckets: [bucket('avatars', false)], tables: [objects([read('r')])] }), LISTING),
      ).toEqual([]);
      const near = [
        read('other bucket', { using: "(bucket_id = 'documents'::text)" }),
        read('own folder', {
          using:
            "((bucket_id = 'avatars'::text) AND ((storage.foldername(name))[1] = (( SELECT auth.uid() AS uid))::text))",
        }),
        read('restrictive', { permissive: false }),
        read('insert', { command: 'INSERT', using: null, withCheck: "(bucket_id = 'avatars'::text)" }),
        read('service', { roles: ['service_role'] }),
      ];
      expect(lints(model({ buckets: [bucket('avatars')], tables: [objects(near)] }), LISTING)).toEqual([]);
      // A public bucket without any policy on storage.objects (or without storage.objects read).
      expect(lints(model({ buckets: [bucket('avatars')] }))).toEqual([]);
    });
  });

  describe('extension_versions_outdated', () => {
    it('flags an extension whose version is not the server default', () => {
      const m = model({
        extensions: [{ name: 'pg_trgm', schema: 'extensions', version: '1.5', defaultVersion: '1.6' }],
      });
      expect(keys(lints(m))).toEqual(['extension_versions_outdated pg_trgm']);
      expect(lints(m)[0]).toMatchObject({
        level: 'WARN',
        message: expect.stringContaining("version 1.5, but the server's default version is 1.6"),
        remediation: expect.stringContaining('ALTER EXTENSION pg_trgm UPDATE'),
      });
    });
    it('passes at the default version, or while the model does not know the default', () => {
      const current = { name: 'pg_trgm', schema: 'extensions', version: '1.6', defaultVersion: '1.6' };
      expect(lints(model({ extensions: [current] }))).toEqual([]);
      const unknown = { name: 'pg_trgm', schema: 'extensions', version: '1.5' };
      expect(lints(model({ extensions: [unknown] }))).toEqual([]);
      expect(lints(model({ extensions: [{ ...unknown, defaultVersion: null }] }))).toEqual([]);
    });
  });

  describe('rls_policy_always_true', () => {
    const withPolicy = (overrides: Partial<Policy>) =>
      model({
        tables: [
          table('public.posts', {
            policies: { p: policy('public.posts', 'p', overrides) },
          }),
        ],
      });
    it('flags an INSERT policy WITH CHECK (true) for anon', () => {
      const m = withPolicy({ command: 'INSERT', roles: ['anon'], using: null, withCheck: 'true' });
      expect(keys(lints(m))).toEqual(['rls_policy_always_true public.posts policy "p"']);
      expect(lints(m)[0]?.message).toContain('WITH CHECK (true)');
    });
    it('flags UPDATE, DELETE and ALL policies USING (true) for authenticated or PUBLIC', () => {
      for (const command of ['UPDATE', 'DELETE', 'ALL'] as const) {
        const m = withPolicy({ command, roles: ['PUBLIC'], using: 'true' });
        expect(keys(lints(m)), command).toEqual(['rls_policy_always_true public.posts policy "p"']);
      }
      const check = withPolicy({ command: 'UPDATE', roles: ['authenticated'], withCheck: '(true)' });
      expect(lints(check)[0]?.message).toContain('has WITH CHECK (true)');
    });
    it('passes for SELECT USING (true), other roles, restrictive policies and real conditions', () => {
      expect(lints(withPolicy({ roles: ['anon'], using: 'true' }))).toEqual([]);
      expect(
        lints(withPolicy({ command: 'INSERT', roles: ['service_role'], using: null, withCheck: 'true' })),
      ).toEqual([]);
      expect(
        lints(withPolicy({ command: 'DELETE', roles: ['authenticated'], permissive: false, using: 'true' })),
      ).toEqual([]);
      expect(
        lints(
          withPolicy({
            command: 'INSERT',
            roles: ['authenticated'],
            using: null,
            withCheck: '(( SELECT auth.uid() AS uid) = id)',
          }),
        ),
      ).toEqual([]);
    });
    it('lints policies on managed tables', () => {
      const objects = table('storage.objects', {
        managed: true,
        constraints: {},
        indexes: {},
        policies: {
          anyone_uploads: policy('storage.objects', 'anyone_uploads', {
            command: 'INSERT',
            roles: ['PUBLIC'],
            using: null,
            withCheck: 'true',
          }),
        },
      });
      expect(keys(lints(model({ tables: [objects] })))).toEqual([
        'rls_policy_always_true storage.objects policy "anyone_uploads"',
      ]);
    });
  });

  describe('anon_ / authenticated_security_definer_function_executable', () => {
    it('flags a SECURITY DEFINER function in an API schema executable through PUBLIC, for both roles', () => {
      const m = model({ functions: [fn('public.delete_user(uuid)', { securityDefiner: true })] });
      expect(keys(lints(m))).toEqual([
        'anon_security_definer_function_executable public.delete_user(uuid)',
        'authenticated_security_definer_function_executable public.delete_user(uuid)',
      ]);
      expect(lints(m)[0]?.message).toContain('anon (via PUBLIC)');
    });
    it('flags only the roles holding EXECUTE', () => {
      const m = model({
        functions: [
          fn('public.delete_user(uuid)', {
            securityDefiner: true,
            grants: grants(['authenticated', 'postgres'], 'EXECUTE'),
          }),
        ],
      });
      expect(keys(lints(m))).toEqual([
        'authenticated_security_definer_function_executable public.delete_user(uuid)',
      ]);
    });
    it('passes once revoked, for SECURITY INVOKER, procedures and outside the API', () => {
      const revoked = fn('public.delete_user(uuid)', {
        securityDefiner: true,
        grants: grants(['postgres', 'service_role'], 'EXECUTE'),
      });
      expect(lints(model({ functions: [revoked] }))).toEqual([]);
      expect(lints(model({ functions: [fn('public.delete_user(uuid)')] }))).toEqual([]);
      expect(
        lints(model({ functions: [fn('public.purge(uuid)', { securityDefiner: true, kind: 'procedure' })] })),
      ).toEqual([]);
      expect(
        lints(model({ functions: [fn('private.delete_user(uuid)', { securityDefiner: true })] })),
      ).toEqual([]);
    });

    it('flags trigger functions as the advisor does, saying that revoking keeps the triggers firing', () => {
      const onSignup = fn('public.on_signup()', { securityDefiner: true, returns: 'trigger' });
      const found = lints(model({ functions: [onSignup] }));
      expect(keys(found)).toEqual([
        'anon_security_definer_function_executable public.on_signup()',
        'authenticated_security_definer_function_executable public.on_signup()',
      ]);
      expect(found[0]?.message).toContain('SECURITY DEFINER trigger function public.on_signup()');
      expect(found[0]?.message).not.toContain('/rest/v1/rpc');
      expect(found[0]?.remediation).toContain(
        'REVOKE EXECUTE ON FUNCTION public.on_signup() FROM PUBLIC, anon',
      );
      expect(found[0]?.remediation).toContain('keep firing');
      const eventTrigger = fn('public.on_ddl()', { securityDefiner: true, returns: 'event_trigger' });
      expect(keys(lints(model({ functions: [eventTrigger] })))).toHaveLength(2);
    });

    it('passes for a trigger function once EXECUTE is revoked from PUBLIC, or when SECURITY INVOKER', () => {
      const revoked = fn('public.on_signup()', {
        securityDefiner: true,
        returns: 'trigger',
        grants: grants(['postgres', 'service_role'], 'EXECUTE'),
      });
      expect(lints(model({ functions: [revoked] }))).toEqual([]);
      expect(lints(model({ functions: [fn('public.on_signup()', { returns: 'trigger' })] }))).toEqual([]);
    });
  });

  describe('unindexed_foreign_keys', () => {
    const comments = (extra: Record<string, Index>) =>
      table('public.comments', {
        columns: [column('id'), column('post_id'), column('created_at')],
        constraints: {
          comments_pkey: primaryKey('comments'),
          comments_post_id_fkey: foreignKey('comments_post_id_fkey', ['post_id'], 'public.posts', ['id']),
        },
        indexes: { ...table('public.comments').indexes, ...extra },
      });
    it('flags a foreign key without an index led by its columns', () => {
      const m = model({ tables: [comments({})] });
      expect(keys(lints(m))).toEqual([
        'unindexed_foreign_keys public.comments constraint "comments_post_id_fkey"',
      ]);
      expect(lints(m)[0]?.remediation).toBe('CREATE INDEX ON public.comments (post_id)');
    });
    it('does not count an index where the columns are not leading, a partial or an invalid index', () => {
      const m = model({
        tables: [
          comments({
            trailing: index('public.comments', 'trailing', ['created_at', 'post_id']),
            partial: index('public.comments', 'partial', ['post_id'], {
              definition:
                'CREATE INDEX partial ON public.comments USING btree (post_id) WHERE (created_at > now())',
            }),
            broken: index('public.comments', 'broken', ['post_id'], { valid: false }),
          }),
        ],
      });
      expect(keys(lints(m, 'unindexed_foreign_keys'))).toHaveLength(1);
    });
    it('passes with an index led by the columns, in any order for composite keys', () => {
      expect(
        lints(model({ tables: [comments({ i: index('public.comments', 'i', ['post_id', 'created_at']) })] })),
      ).toEqual([]);
      const composite = table('public.lines', {
        constraints: {
          lines_pkey: primaryKey('lines'),
          lines_fkey: foreignKey('lines_fkey', ['order_id', 'tenant_id'], 'public.orders', [
            'id',
            'tenant_id',
          ]),
        },
        indexes: {
          ...table('public.lines').indexes,
          i: index('public.lines', 'i', ['tenant_id', 'order_id', 'id']),
        },
      });
      expect(lints(model({ tables: [composite] }))).toEqual([]);
    });
  });

  describe('no_primary_key', () => {
    it('flags a table without a primary key', () => {
      const m = model({ tables: [table('public.logs', { constraints: {}, indexes: {} })] });
      expect(keys(lints(m))).toEqual(['no_primary_key public.logs']);
    });
    it('passes with one', () => {
      expect(lints(model({ tables: [table('public.logs')] }))).toEqual([]);
    });
  });

  describe('rls_enabled_no_policy', () => {
    it('flags RLS enabled without any policy', () => {
      const m = model({ tables: [table('public.secrets_vault', { policies: {} })] });
      expect(keys(lints(m))).toEqual(['rls_enabled_no_policy public.secrets_vault']);
    });
    it('passes with a policy', () => {
      expect(lints(model({ tables: [table('public.secrets_vault')] }))).toEqual([]);
    });
  });

  it('does not lint managed tables except for their policies', () => {
    const objects = table('storage.objects', {
      managed: true,
      rlsEnabled: false,
      constraints: {},
      indexes: {},
      columns: [column('id'), column('token')],
    });
    const buckets = table('storage.buckets', { managed: true, policies: {} });
    expect(lints(model({ tables: [objects, buckets] }))).toEqual([]);
    const publicManaged = table('public.managed_thing', { managed: true, rlsEnabled: false, policies: {} });
    expect(lints(model({ tables: [publicManaged] }))).toEqual([]);
  });
});

describe('introducedLints', () => {
  it('splits findings into introduced, resolved and existing by code and object', () => {
    const before = model({
      tables: [
        table('public.legacy', { constraints: {}, indexes: {} }), // no_primary_key: stays
        table('public.posts', { rlsEnabled: false, policies: {} }), // rls_disabled_in_public: fixed
      ],
    });
    const after = model({
      tables: [
        table('public.legacy', { constraints: {}, indexes: {} }),
        table('public.posts'),
        table('public.notes', { rlsEnabled: false, policies: {} }), // new table without RLS
      ],
      functions: [fn('public.touch()', { config: [] })],
    });
    const result = introducedLints(before, after);
    expect(keys(result.introduced)).toEqual([
      'rls_disabled_in_public public.notes',
      'function_search_path_mutable public.touch()',
    ]);
    expect(keys(result.resolved)).toEqual(['rls_disabled_in_public public.posts']);
    expect(keys(result.existing)).toEqual(['no_primary_key public.legacy']);
  });

  it('treats the same code on another object as new, and a changed message as the same finding', () => {
    const before = model({ tables: [table('public.a', { rlsEnabled: false })] });
    const after = model({
      tables: [
        table('public.a', {
          rlsEnabled: false,
          policies: { x: policy('public.a', 'x'), y: policy('public.a', 'y', { command: 'DELETE' }) },
        }),
        table('public.b', { rlsEnabled: false }),
      ],
    });
    const result = introducedLints(before, after);
    expect(keys(result.introduced)).toEqual([
      'rls_disabled_in_public public.b',
      'policy_exists_rls_disabled public.b',
    ]);
    expect(keys(result.existing)).toEqual([
      'rls_disabled_in_public public.a',
      'policy_exists_rls_disabled public.a',
    ]);
    expect(result.existing[1]?.message).toContain('2 policies');
    expect(result.resolved).toEqual([]);
  });

  it('compares the new rules by their objects: a bucket made public, a column retyped, an extension updated', () => {
    const objects = table('storage.objects', {
      managed: true,
      policies: {
        'Public read': policy('storage.objects', 'Public read', {
          roles: ['PUBLIC'],
          using: "(bucket_id = 'avatars'::text)",
        }),
      },
    });
    const bucket = {
      id: 'avatars',
      name: 'avatars',
      public: false,
      fileSizeLimit: null,
      allowedMimeTypes: null,
    };
    const before = model({
      tables: [objects, table('public.jobs', { columns: [column('id', 'uuid'), column('fn', 'regproc')] })],
      buckets: [bucket],
      extensions: [{ name: 'pg_trgm', schema: 'extensions', version: '1.5', defaultVersion: '1.6' }],
    });
    const after = model({
      tables: [objects, table('public.jobs', { columns: [column('id', 'uuid'), column('fn', 'text')] })],
      buckets: [{ ...bucket, public: true }],
      extensions: [{ name: 'pg_trgm', schema: 'extensions', version: '1.6', defaultVersion: '1.6' }],
      functions: [fn('public.on_signup()', { returns: 'trigger', securityDefiner: true })],
    });
    const result = introducedLints(before, after);
    expect(keys(result.introduced)).toEqual([
      'public_bucket_allows_listing bucket "avatars"',
      'anon_security_definer_function_executable public.on_signup()',
      'authenticated_security_definer_function_executable public.on_signup()',
    ]);
    expect(keys(result.resolved)).toEqual([
      'extension_versions_outdated pg_trgm',
      'unsupported_reg_types public.jobs column "fn"',
    ]);
    expect(result.existing).toEqual([]);
  });

  it('passes the API schemas through', () => {
    const after = model({ tables: [table('api.jobs', { rlsEnabled: false, policies: {} })] });
    expect(introducedLints(emptyModel(), after).introduced).toEqual([]);
    expect(keys(introducedLints(emptyModel(), after, { apiSchemas: ['api'] }).introduced)).toEqual([
      'rls_disabled_in_public api.jobs',
    ]);
  });
});
