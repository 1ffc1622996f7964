import { describe, expect, it } from 'vitest';
import {
  type Column,
  emptyModel,
  type Grant,
  type Policy,
  type SchemaModel,
  type Table,
} from '../src/core/schema/model.js';
import {
  accessLevel,
  accessMatrix,
  changedAccessTables,
  isFullyParenthesized,
  isLiteralTrue,
} from '../src/core/schema/rls.js';

// ---------------------------------------------------------------------------------------------
// Hand-built models. The default table is public.posts owned by postgres, RLS enabled, no
// policies, every table privilege granted to anon, authenticated and service_role.
// ---------------------------------------------------------------------------------------------

const COMMANDS = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'];

function grants(grantees: string[], privileges = COMMANDS): Grant[] {
  return grantees.flatMap((grantee) =>
    privileges.map((privilege) => ({ grantee, privilege, grantable: false })),
  );
}

function column(name: string, columnGrants: Grant[] = []): Column {
  return {
    name,
    type: 'text',
    notNull: false,
    default: null,
    identity: null,
    generated: null,
    collation: null,
    comment: null,
    grants: columnGrants,
  };
}

function policy(name: string, overrides: Partial<Policy> = {}): Policy {
  return {
    name,
    table: 'public.posts',
    command: 'ALL',
    permissive: true,
    roles: ['PUBLIC'],
    using: null,
    withCheck: null,
    comment: null,
    ...overrides,
  };
}

function table(overrides: Partial<Table> = {}, policies: Policy[] = []): Table {
  return {
    schema: 'public',
    name: 'posts',
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
    columns: [column('id'), column('user_id'), column('title')],
    constraints: {},
    indexes: {},
    triggers: {},
    policies: Object.fromEntries(policies.map((p) => [p.name, p])),
    grants: grants(['postgres', 'anon', 'authenticated', 'service_role']),
    stats: { estimatedRows: 0, pages: 0 },
    ...overrides,
  };
}

function model(...tables: Table[]): SchemaModel {
  const m = emptyModel(170000);
  for (const t of tables) m.tables[`${t.schema}.${t.name}`] = t;
  return m;
}

const OWN = '(( SELECT auth.uid() AS uid) = user_id)';
const PUBLISHED = 'published';

const level = (m: SchemaModel, role: string, command: 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE') =>
  accessLevel(m, 'public.posts', role, command);

// ---------------------------------------------------------------------------------------------

describe('accessLevel', () => {
  it('is null for a table that is not in the model', () => {
    expect(accessLevel(model(), 'public.posts', 'anon', 'SELECT')).toBeNull();
  });

  it('is none without a privilege for the command, even for roles that bypass RLS', () => {
    const m = model(table({ rlsEnabled: false, grants: grants(['anon', 'service_role'], ['SELECT']) }));
    expect(level(m, 'anon', 'SELECT')).toEqual({ kind: 'all' });
    expect(level(m, 'anon', 'INSERT')).toEqual({ kind: 'none' });
    expect(level(m, 'authenticated', 'SELECT')).toEqual({ kind: 'none' });
    expect(level(m, 'service_role', 'DELETE')).toEqual({ kind: 'none' });
    expect(level(m, 'service_role', 'SELECT')).toEqual({ kind: 'bypass' });
  });

  it('counts grants to PUBLIC', () => {
    const m = model(table({ rlsEnabled: false, grants: grants(['PUBLIC'], ['SELECT']) }));
    expect(level(m, 'anon', 'SELECT')).toEqual({ kind: 'all' });
    expect(level(m, 'someone_else', 'SELECT')).toEqual({ kind: 'all' });
    expect(level(m, 'anon', 'UPDATE')).toEqual({ kind: 'none' });
  });

  it('treats a column grant as having the privilege', () => {
    const m = model(
      table({
        rlsEnabled: false,
        grants: [],
        columns: [
          column('id', grants(['anon'], ['SELECT'])),
          column('title', grants(['authenticated'], ['UPDATE', 'INSERT'])),
        ],
      }),
    );
    expect(level(m, 'anon', 'SELECT')).toEqual({ kind: 'all' });
    expect(level(m, 'anon', 'UPDATE')).toEqual({ kind: 'none' });
    expect(level(m, 'authenticated', 'UPDATE')).toEqual({ kind: 'all' });
    expect(level(m, 'authenticated', 'INSERT')).toEqual({ kind: 'all' });
    expect(level(m, 'authenticated', 'DELETE')).toEqual({ kind: 'none' });
  });

  it('is all for every granted role when RLS is disabled', () => {
    const m = model(table({ rlsEnabled: false }, [policy('ignored', { using: OWN })]));
    for (const command of ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] as const)
      expect(level(m, 'anon', command)).toEqual({ kind: 'all' });
  });

  it('is bypass for BYPASSRLS roles (configurable) and the owner, unless RLS is forced', () => {
    const m = model(table({ owner: 'app_owner', grants: grants(['app_owner', 'service_role', 'auditor']) }));
    expect(level(m, 'service_role', 'SELECT')).toEqual({ kind: 'bypass' });
    expect(level(m, 'app_owner', 'DELETE')).toEqual({ kind: 'bypass' });
    expect(level(m, 'auditor', 'SELECT')).toEqual({ kind: 'none' });
    expect(accessLevel(m, 'public.posts', 'auditor', 'SELECT', { bypassRoles: ['auditor'] })).toEqual({
      kind: 'bypass',
    });
    expect(accessLevel(m, 'public.posts', 'service_role', 'SELECT', { bypassRoles: [] })).toEqual({
      kind: 'none',
    });

    const forced = model(
      table({ owner: 'app_owner', rlsForced: true, grants: grants(['app_owner', 'service_role']) }, [
        policy('owner_reads', { command: 'SELECT', roles: ['app_owner'], using: PUBLISHED }),
      ]),
    );
    expect(accessLevel(forced, 'public.posts', 'app_owner', 'SELECT')).toEqual({
      kind: 'rows',
      expression: PUBLISHED,
    });
    expect(accessLevel(forced, 'public.posts', 'app_owner', 'DELETE')).toEqual({ kind: 'none' });
    // FORCE does not touch BYPASSRLS.
    expect(accessLevel(forced, 'public.posts', 'service_role', 'SELECT')).toEqual({ kind: 'bypass' });
  });

  it('is none with RLS enabled and no applicable permissive policy', () => {
    expect(level(model(table()), 'anon', 'SELECT')).toEqual({ kind: 'none' });
    const m = model(
      table({}, [
        policy('authenticated_only', { command: 'SELECT', roles: ['authenticated'], using: OWN }),
        policy('restrictive_only', { command: 'SELECT', roles: ['anon'], permissive: false, using: 'true' }),
      ]),
    );
    expect(level(m, 'anon', 'SELECT')).toEqual({ kind: 'none' });
  });

  it('is rows for a policy with a condition and all for one that is literally true', () => {
    const m = model(
      table({}, [
        policy('own', { command: 'SELECT', roles: ['authenticated'], using: OWN }),
        policy('public_read', { command: 'SELECT', roles: ['anon'], using: 'true' }),
      ]),
    );
    expect(level(m, 'authenticated', 'SELECT')).toEqual({ kind: 'rows', expression: OWN });
    expect(level(m, 'anon', 'SELECT')).toEqual({ kind: 'all' });
  });

  it('is none for a permissive policy that is literally false, and for a restrictive false', () => {
    const m = model(
      table({}, [
        policy('never', { command: 'SELECT', roles: ['anon'], using: 'false' }),
        policy('own', { command: 'SELECT', roles: ['authenticated'], using: OWN }),
        policy('frozen', {
          command: 'SELECT',
          roles: ['authenticated'],
          permissive: false,
          using: '(false)',
        }),
      ]),
    );
    expect(level(m, 'anon', 'SELECT')).toEqual({ kind: 'none' });
    expect(level(m, 'authenticated', 'SELECT')).toEqual({ kind: 'none' });
  });

  it('applies ALL policies to every command and command policies to their own only', () => {
    const m = model(
      table({}, [
        policy('own_all', { command: 'ALL', roles: ['authenticated'], using: OWN }),
        policy('anon_delete', { command: 'DELETE', roles: ['anon'], using: PUBLISHED }),
      ]),
    );
    expect(level(m, 'authenticated', 'SELECT')).toEqual({ kind: 'rows', expression: OWN });
    expect(level(m, 'authenticated', 'INSERT')).toEqual({ kind: 'rows', expression: OWN });
    expect(level(m, 'authenticated', 'DELETE')).toEqual({ kind: 'rows', expression: OWN });
    expect(level(m, 'anon', 'DELETE')).toEqual({ kind: 'rows', expression: PUBLISHED });
    expect(level(m, 'anon', 'SELECT')).toEqual({ kind: 'none' });
  });

  it('applies PUBLIC policies to every role', () => {
    const m = model(
      table({}, [policy('everyone', { command: 'SELECT', roles: ['PUBLIC'], using: PUBLISHED })]),
    );
    expect(level(m, 'anon', 'SELECT')).toEqual({ kind: 'rows', expression: PUBLISHED });
    expect(level(m, 'authenticated', 'SELECT')).toEqual({ kind: 'rows', expression: PUBLISHED });
  });

  it('ORs permissive predicates and ANDs restrictive ones', () => {
    const m = model(
      table({}, [
        policy('own', { command: 'SELECT', roles: ['authenticated'], using: OWN }),
        policy('published', { command: 'SELECT', roles: ['PUBLIC'], using: PUBLISHED }),
        policy('not_deleted', {
          command: 'SELECT',
          roles: ['PUBLIC'],
          permissive: false,
          using: '(deleted_at IS NULL)',
        }),
        policy('tenant', {
          command: 'ALL',
          roles: ['authenticated'],
          permissive: false,
          using: '(tenant_id = 1)',
        }),
      ]),
    );
    expect(level(m, 'authenticated', 'SELECT')).toEqual({
      kind: 'rows',
      expression: `(${OWN} OR ${PUBLISHED}) AND (deleted_at IS NULL) AND (tenant_id = 1)`,
    });
    expect(level(m, 'anon', 'SELECT')).toEqual({
      kind: 'rows',
      expression: `${PUBLISHED} AND (deleted_at IS NULL)`,
    });
  });

  it('keeps restrictive predicates when a permissive one is true, and ignores true restrictive ones', () => {
    const m = model(
      table({}, [
        policy('anyone', { command: 'SELECT', using: 'true' }),
        policy('live', { command: 'SELECT', permissive: false, using: '(deleted_at IS NULL)' }),
        policy('noop', { command: 'SELECT', permissive: false, using: '(true)' }),
      ]),
    );
    expect(level(m, 'anon', 'SELECT')).toEqual({ kind: 'rows', expression: '(deleted_at IS NULL)' });
    const onlyTrue = model(
      table({}, [
        policy('anyone', { command: 'SELECT', using: 'true' }),
        policy('other', { command: 'SELECT', using: OWN }),
        policy('noop', { command: 'SELECT', permissive: false, using: 'true' }),
      ]),
    );
    expect(level(onlyTrue, 'anon', 'SELECT')).toEqual({ kind: 'all' });
  });

  it('uses WITH CHECK for INSERT, defaulting to USING', () => {
    const m = model(
      table({}, [
        policy('insert_own', { command: 'INSERT', roles: ['authenticated'], withCheck: OWN }),
        policy('anon_all', { command: 'ALL', roles: ['anon'], using: PUBLISHED }),
      ]),
    );
    expect(level(m, 'authenticated', 'INSERT')).toEqual({ kind: 'rows', expression: OWN });
    expect(level(m, 'anon', 'INSERT')).toEqual({ kind: 'rows', expression: PUBLISHED });
  });

  it('shows USING and CHECK for UPDATE, CHECK defaulting to USING per policy', () => {
    const m = model(
      table({}, [
        policy('update_own', {
          command: 'UPDATE',
          roles: ['authenticated'],
          using: OWN,
          withCheck: "(title <> ''::text)",
        }),
        policy('anon_all', { command: 'ALL', roles: ['anon'], using: PUBLISHED }),
        policy('svc', { command: 'UPDATE', roles: ['editor'], using: 'true', withCheck: 'true' }),
      ]),
    );
    expect(level(m, 'authenticated', 'UPDATE')).toEqual({
      kind: 'rows',
      expression: `USING ${OWN} CHECK (title <> ''::text)`,
    });
    expect(level(m, 'anon', 'UPDATE')).toEqual({
      kind: 'rows',
      expression: 'USING (published) CHECK (published)',
    });
    const editor = model(
      table({ grants: grants(['editor']) }, Object.values(m.tables['public.posts']?.policies ?? {})),
    );
    expect(accessLevel(editor, 'public.posts', 'editor', 'UPDATE')).toEqual({ kind: 'all' });
    const halfTrue = model(table({}, [policy('u', { command: 'UPDATE', using: 'true', withCheck: OWN })]));
    expect(level(halfTrue, 'anon', 'UPDATE')).toEqual({
      kind: 'rows',
      expression: `USING (true) CHECK ${OWN}`,
    });
  });

  it('is none when the applicable permissive policies have no predicate for the side', () => {
    // An ALL policy with only WITH CHECK gives no rows to read.
    const m = model(table({}, [policy('write_only', { command: 'ALL', using: null, withCheck: OWN })]));
    expect(level(m, 'anon', 'SELECT')).toEqual({ kind: 'none' });
    expect(level(m, 'anon', 'INSERT')).toEqual({ kind: 'rows', expression: OWN });
    expect(level(m, 'anon', 'UPDATE')).toEqual({ kind: 'none' });
  });

  it('gives the same text whatever the policy names and order', () => {
    const a = model(
      table({}, [
        policy('x', { command: 'SELECT', using: OWN }),
        policy('y', { command: 'SELECT', using: PUBLISHED }),
      ]),
    );
    const b = model(
      table({}, [
        policy('z', { command: 'SELECT', using: PUBLISHED }),
        policy('a', { command: 'SELECT', using: OWN }),
        policy('dup', { command: 'SELECT', using: OWN }),
      ]),
    );
    expect(level(a, 'anon', 'SELECT')).toEqual(level(b, 'anon', 'SELECT'));
    expect(level(a, 'anon', 'SELECT')).toEqual({ kind: 'rows', expression: `${OWN} OR ${PUBLISHED}` });
  });
});

describe('accessMatrix', () => {
  it('gives one cell per role and command with before, after and changed', () => {
    const before = model(
      table({}, [policy('own', { command: 'SELECT', roles: ['authenticated'], using: OWN })]),
    );
    const after = model(
      table({}, [
        policy('own', { command: 'SELECT', roles: ['authenticated'], using: OWN }),
        policy('public_read', { command: 'SELECT', roles: ['anon'], using: 'true' }),
      ]),
    );
    const [posts, ...rest] = accessMatrix(before, after);
    expect(rest).toEqual([]);
    expect(posts?.table).toBe('public.posts');
    expect(posts?.cells.map((c) => `${c.role} ${c.command}`)).toEqual(
      ['anon', 'authenticated', 'service_role'].flatMap((r) => COMMANDS.map((c) => `${r} ${c}`)),
    );
    expect(posts?.cells.filter((c) => c.changed)).toEqual([
      { role: 'anon', command: 'SELECT', before: { kind: 'none' }, after: { kind: 'all' }, changed: true },
    ]);
    expect(posts?.cells.find((c) => c.role === 'authenticated' && c.command === 'SELECT')).toEqual({
      role: 'authenticated',
      command: 'SELECT',
      before: { kind: 'rows', expression: OWN },
      after: { kind: 'rows', expression: OWN },
      changed: false,
    });
    expect(posts?.cells.find((c) => c.role === 'service_role')?.after).toEqual({ kind: 'bypass' });
  });

  it('marks a changed predicate and a table present on one side (null)', () => {
    const before = model(table({}, [policy('own', { command: 'SELECT', using: OWN })]));
    const after = model(
      table({}, [policy('own', { command: 'SELECT', using: PUBLISHED })]),
      table({ name: 'notes', rlsEnabled: false }),
    );
    const matrix = accessMatrix(before, after, { roles: ['anon'] });
    expect(matrix.map((t) => t.table)).toEqual(['public.notes', 'public.posts']);
    expect(matrix[0]?.cells[0]).toEqual({
      role: 'anon',
      command: 'SELECT',
      before: null,
      after: { kind: 'all' },
      changed: true,
    });
    expect(matrix[1]?.cells[0]).toMatchObject({
      changed: true,
      after: { kind: 'rows', expression: PUBLISHED },
    });
    const dropped = accessMatrix(after, before, { roles: ['anon'], tables: ['public.notes'] });
    expect(dropped[0]?.cells[0]).toMatchObject({ before: { kind: 'all' }, after: null, changed: true });
  });

  it('selects by default only the tables whose RLS flags, policies, grants or owner differ', () => {
    const same = table({ name: 'same' }, [policy('p', { using: OWN })]);
    const comment = table({ name: 'comment_only' }, [policy('p', { using: OWN })]);
    const before = model(
      same,
      comment,
      table({ name: 'rls' }),
      table({ name: 'forced' }),
      table({ name: 'policy' }),
      table({ name: 'grant' }),
      table({ name: 'column_grant' }),
      table({ name: 'owner' }),
      table({ name: 'gone' }),
      table({ name: 'data', columns: [column('a')] }),
    );
    const after = model(
      structuredClone(same),
      table({ name: 'comment_only', comment: 'now documented' }, [
        policy('p', { using: OWN, comment: 'why' }),
      ]),
      table({ name: 'rls', rlsEnabled: false }),
      table({ name: 'forced', rlsForced: true }),
      table({ name: 'policy' }, [policy('p', { using: OWN })]),
      table({ name: 'grant', grants: grants(['anon'], ['SELECT']) }),
      table({ name: 'column_grant', columns: [column('id', grants(['anon'], ['SELECT']))] }),
      table({ name: 'owner', owner: 'someone' }),
      table({ name: 'new' }),
      table({ name: 'data', columns: [column('a'), column('b')] }),
    );
    const expected = [
      'public.column_grant',
      'public.forced',
      'public.gone',
      'public.grant',
      'public.new',
      'public.owner',
      'public.policy',
      'public.rls',
    ];
    expect(changedAccessTables(before, after)).toEqual(expected);
    expect(accessMatrix(before, after).map((t) => t.table)).toEqual(expected);
  });

  it('takes explicit tables and roles', () => {
    const m = model(table());
    const matrix = accessMatrix(m, m, { tables: ['public.posts'], roles: ['authenticated'] });
    expect(matrix).toHaveLength(1);
    expect(matrix[0]?.cells.map((c) => c.command)).toEqual(COMMANDS);
    expect(matrix[0]?.cells.every((c) => !c.changed)).toBe(true);
  });

  it('passes bypassRoles through', () => {
    const m = model(table({ grants: grants(['anon', 'service_role']) }));
    const [posts] = accessMatrix(emptyModel(), m, { roles: ['service_role'], bypassRoles: [] });
    expect(posts?.cells[0]?.after).toEqual({ kind: 'none' });
  });
});

describe('expression helpers', () => {
  it('recognizes a literally true predicate', () => {
    expect(isLiteralTrue('true')).toBe(true);
    expect(isLiteralTrue(' ((TRUE)) ')).toBe(true);
    expect(isLiteralTrue("('true'::text = 'true'::text)")).toBe(false);
    expect(isLiteralTrue(null)).toBe(false);
  });
  it('tells a fully parenthesized expression, ignoring parentheses in literals', () => {
    expect(isFullyParenthesized('(a = b)')).toBe(true);
    expect(isFullyParenthesized('(a) OR (b)')).toBe(false);
    expect(isFullyParenthesized("(a = ')(')")).toBe(true);
    expect(isFullyParenthesized('("x)" = 1)')).toBe(true);
  });
});
