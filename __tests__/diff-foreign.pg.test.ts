import { describe, expect, it } from 'vitest';
import { connect, disconnect } from '../src/core/db/connect.js';
import { objectDdl } from '../src/core/schema/ddl.js';
import { diffSchemas } from '../src/core/schema/diff.js';
import { introspect } from '../src/core/schema/introspect.js';
import { lintSchema } from '../src/core/schema/lints.js';
import type { SchemaModel } from '../src/core/schema/model.js';
import { convergeHarness, only, read } from './harness/converge.js';

/**
 * Foreign data (issue 13): foreign data wrappers, foreign servers, user mappings and foreign
 * tables are compared like other objects. Each case is read from real databases: "before"
 * (`setup`), "after" (`setup` + `change`), diffed; then it must converge: `change` applied to
 * "before" for real re-diffs empty, and (where `recreate` is given) the object dropped from
 * "before" and re-created from the normalized DDL of "after" re-diffs empty too. postgres_fdw
 * (contrib) provides a wrapper with a handler and a validator that checks option names.
 */

const { database, diffCase } = convergeHarness();

const FDW = 'create extension postgres_fdw with schema extensions;';
const SERVER = `${FDW}
create server remote foreign data wrapper postgres_fdw options (host 'db.example', dbname 'app');`;
const TABLE = `${SERVER}
create foreign table public.orders (
  id bigint options (column_name 'order_id') not null,
  total numeric check (total >= 0)
) server remote options (schema_name 'sales', table_name 'orders');`;

describe('foreign servers', () => {
  it('added: the DDL names the wrapper and the options, and re-creates the server', async () => {
    const { changes, after } = await diffCase({
      setup: FDW,
      change:
        "create server remote type 'pg' version '16' foreign data wrapper postgres_fdw options (host 'db.example', dbname 'app'); comment on server remote is 'the warehouse';",
      recreate: { kind: 'foreign server', id: 'remote', drop: 'select 1' },
    });
    const change = only(changes, 'remote');
    expect(change).toMatchObject({ kind: 'foreign server', action: 'added' });
    expect(after.foreignServers?.remote).toMatchObject({
      name: 'remote',
      wrapper: 'postgres_fdw',
      type: 'pg',
      version: '16',
      options: { dbname: 'app', host: 'db.example' },
      comment: 'the warehouse',
    });
    expect(change.ddl.after).toContain(
      "CREATE SERVER remote\n    TYPE 'pg'\n    VERSION '16'\n    FOREIGN DATA WRAPPER postgres_fdw\n    OPTIONS (dbname 'app', host 'db.example');",
    );
  });

  it('changed: options, grants, owner and comment', async () => {
    const { changes } = await diffCase({
      setup: SERVER,
      change: `alter server remote options (set host 'db2.example', add port '6543');
grant usage on foreign server remote to authenticated;
comment on server remote is 'moved';`,
      recreate: { kind: 'foreign server', id: 'remote', drop: 'drop server remote' },
    });
    const change = only(changes, 'remote');
    expect(change.action).toBe('changed');
    expect(change.attributes).toEqual(
      expect.arrayContaining([
        {
          attribute: 'options',
          before: { dbname: 'app', host: 'db.example' },
          after: { dbname: 'app', host: 'db2.example', port: '6543' },
        },
        { attribute: 'comment', before: null, after: 'moved' },
        expect.objectContaining({
          attribute: 'grants',
          after: expect.arrayContaining(['authenticated: USAGE']),
        }),
      ]),
    );
    expect(change.ddl.diff).toContain('+GRANT USAGE ON FOREIGN SERVER remote TO authenticated;');
  });

  it('dropped', async () => {
    const { changes } = await diffCase({ setup: SERVER, change: 'drop server remote;' });
    expect(only(changes, 'remote')).toMatchObject({ kind: 'foreign server', action: 'removed' });
  });
});

describe('foreign data wrappers', () => {
  it('the user’s own wrapper (as Supabase Wrappers has): added, changed, re-created from its DDL', async () => {
    const { changes, after } = await diffCase({
      setup: FDW,
      change:
        "create foreign data wrapper app_fdw handler extensions.postgres_fdw_handler validator extensions.postgres_fdw_validator; grant usage on foreign data wrapper app_fdw to service_role; comment on foreign data wrapper app_fdw is 'ours';",
      recreate: { kind: 'foreign data wrapper', id: 'app_fdw', drop: 'select 1' },
    });
    expect(only(changes, 'app_fdw')).toMatchObject({ kind: 'foreign data wrapper', action: 'added' });
    expect(after.foreignDataWrappers?.app_fdw).toMatchObject({
      handler: 'extensions.postgres_fdw_handler',
      validator: 'extensions.postgres_fdw_validator',
      options: {},
      comment: 'ours',
    });
    // postgres_fdw's own wrapper is the extension's: not the user's.
    expect(Object.keys(after.foreignDataWrappers ?? {})).toEqual(['app_fdw']);

    const changed = await diffCase({
      setup: 'create foreign data wrapper plain;',
      change: "alter foreign data wrapper plain options (add mode 'fast');",
      recreate: { kind: 'foreign data wrapper', id: 'plain', drop: 'drop foreign data wrapper plain' },
    });
    expect(only(changed.changes, 'plain').attributes).toEqual([
      { attribute: 'options', before: {}, after: { mode: 'fast' } },
    ]);
  });
});

describe('user mappings', () => {
  it('added, with their option names only; a password never reaches the model, the DDL or the diff', async () => {
    const { changes, after } = await diffCase({
      setup: SERVER,
      change:
        "create user mapping for authenticated server remote options (user 'app', password 'hunter2-secret');",
      recreate: { kind: 'user mapping', id: 'authenticated@remote', drop: 'select 1' },
    });
    const change = only(changes, 'authenticated@remote');
    expect(change).toMatchObject({ kind: 'user mapping', action: 'added' });
    expect(after.userMappings?.['authenticated@remote']).toEqual({
      user: 'authenticated',
      server: 'remote',
      optionNames: ['password', 'user'],
    });
    expect(change.ddl.after).toBe(
      "CREATE USER MAPPING FOR authenticated SERVER remote\n    OPTIONS (password '…', \"user\" '…');\n",
    );
    for (const text of [JSON.stringify(after), JSON.stringify(changes)]) {
      expect(text).not.toContain('hunter2');
      expect(text).not.toContain("'app'");
    }
  });

  it('changed: an option added is a change; a value changed is not seen', async () => {
    const setup = `${SERVER}\ncreate user mapping for public server remote options (user 'app');`;
    const { changes } = await diffCase({
      setup,
      change: "alter user mapping for public server remote options (add password 'pw1');",
    });
    expect(only(changes, 'PUBLIC@remote').attributes).toEqual([
      { attribute: 'optionNames', before: ['user'], after: ['password', 'user'] },
    ]);
    const same = await diffCase({
      setup,
      change: "alter user mapping for public server remote options (set user 'other');",
    });
    expect(same.changes).toEqual([]);
  });

  it('dropped', async () => {
    const { changes } = await diffCase({
      setup: `${SERVER}\ncreate user mapping for anon server remote;`,
      change: 'drop user mapping for anon server remote;',
    });
    expect(only(changes, 'anon@remote')).toMatchObject({ kind: 'user mapping', action: 'removed' });
  });
});

describe('user mappings read by a role that may not see their options', () => {
  it('has no option names (null), and that is not a change', async () => {
    const db = await database(
      `${SERVER}\ncreate user mapping for authenticated server remote options (user 'app', password 'pw');`,
    );
    const full = await read(db);
    const connection = await connect(db.url);
    let limited: SchemaModel;
    try {
      // anon is not the mapped user, nor the server's owner, nor a superuser.
      await connection.client.query('SET ROLE anon');
      limited = await introspect(connection.client);
    } finally {
      await disconnect(connection);
    }
    expect(full.userMappings?.['authenticated@remote']?.optionNames).toEqual(['password', 'user']);
    expect(limited.userMappings?.['authenticated@remote']).toEqual({
      user: 'authenticated',
      server: 'remote',
      optionNames: null,
    });
    expect(diffSchemas(full, limited).changes.filter((c) => c.kind === 'user mapping')).toEqual([]);
    expect(objectDdl(limited, 'user mapping', 'authenticated@remote')).toContain('not readable');
  });
});

describe('secret options of servers', () => {
  it('an option named like a key, secret, password or token is redacted in the model and the DDL', async () => {
    const { changes, after } = await diffCase({
      setup: 'create foreign data wrapper api_fdw;',
      change:
        "create server stripe foreign data wrapper api_fdw options (api_key 'sk_live_abc123', api_key_id 'vault-id-1', endpoint 'https://api.example');",
    });
    expect(after.foreignServers?.stripe?.options).toEqual({
      api_key: '…',
      api_key_id: '…',
      endpoint: 'https://api.example',
    });
    const ddl = objectDdl(after, 'foreign server', 'stripe') ?? '';
    expect(ddl).toContain("OPTIONS (api_key '…', api_key_id '…', endpoint 'https://api.example')");
    for (const text of [JSON.stringify(after), JSON.stringify(changes)]) {
      expect(text).not.toContain('sk_live');
      expect(text).not.toContain('vault-id-1');
    }
  });
});

describe('foreign tables', () => {
  it('added: columns with their options, CHECK constraints, table options, grants, comments', async () => {
    const { changes, after } = await diffCase({
      setup: SERVER,
      change: `create foreign table public.orders (
  id bigint options (column_name 'order_id') not null,
  total numeric check (total >= 0)
) server remote options (schema_name 'sales', table_name 'orders');
grant select on public.orders to anon;
comment on foreign table public.orders is 'remote orders';
comment on column public.orders.total is 'in cents';`,
      recreate: { kind: 'foreign table', id: 'public.orders', drop: 'select 1' },
    });
    const change = only(changes, 'public.orders');
    expect(change).toMatchObject({ kind: 'foreign table', action: 'added' });
    const table = after.foreignTables?.['public.orders'];
    expect(table).toMatchObject({
      schema: 'public',
      name: 'orders',
      server: 'remote',
      options: { schema_name: 'sales', table_name: 'orders' },
      comment: 'remote orders',
    });
    expect(table?.columns).toEqual([
      expect.objectContaining({
        name: 'id',
        type: 'bigint',
        notNull: true,
        options: { column_name: 'order_id' },
      }),
      expect.objectContaining({ name: 'total', type: 'numeric', options: {}, comment: 'in cents' }),
    ]);
    expect(Object.keys(table?.constraints ?? {})).toEqual(['orders_total_check']);
    expect(table?.grants).toContainEqual({ grantee: 'anon', privilege: 'SELECT', grantable: false });
    expect(change.ddl.after).toContain(
      "CREATE FOREIGN TABLE public.orders (\n    id bigint OPTIONS (column_name 'order_id') NOT NULL,\n    total numeric,\n    CONSTRAINT orders_total_check CHECK ((total >= (0)::numeric))\n)\nSERVER remote\nOPTIONS (schema_name 'sales', table_name 'orders');",
    );
    // Supabase's default privileges give anon everything on new tables in public.
    expect(change.ddl.after).toContain('GRANT ALL ON TABLE public.orders TO anon;');

    // foreign_table_in_api: a foreign table in public that anon can read.
    const lints = lintSchema(after).filter((l) => l.code === 'foreign_table_in_api');
    expect(lints.map((l) => l.object)).toEqual(['public.orders']);
  });

  it('changed: server, table and column options, a column, a check, grants', async () => {
    const { changes } = await diffCase({
      setup: `${TABLE}\ncreate server other foreign data wrapper postgres_fdw;`,
      change: `alter foreign table public.orders options (set table_name 'orders_v2');
alter foreign table public.orders alter column id options (set column_name 'id');
alter foreign table public.orders add column placed_at timestamptz;
alter foreign table public.orders drop constraint orders_total_check;
grant select (total) on public.orders to authenticated;
alter foreign table public.orders owner to service_role;`,
      recreate: { kind: 'foreign table', id: 'public.orders', drop: 'drop foreign table public.orders' },
    });
    const change = only(changes, 'public.orders');
    expect(change.action).toBe('changed');
    expect(change.attributes).toEqual(
      expect.arrayContaining([
        {
          attribute: 'options',
          before: { schema_name: 'sales', table_name: 'orders' },
          after: { schema_name: 'sales', table_name: 'orders_v2' },
        },
        { attribute: 'owner', before: 'postgres', after: 'service_role' },
      ]),
    );
    expect(change.members).toEqual([
      expect.objectContaining({
        kind: 'column',
        name: 'id',
        action: 'changed',
        attributes: [
          { attribute: 'options', before: { column_name: 'order_id' }, after: { column_name: 'id' } },
        ],
      }),
      { kind: 'column', name: 'placed_at', action: 'added', attributes: [] },
      expect.objectContaining({ kind: 'column', name: 'total', action: 'changed' }),
      { kind: 'constraint', name: 'orders_total_check', action: 'removed', attributes: [] },
    ]);

    const moved = await diffCase({
      setup: `${TABLE}\ncreate server other foreign data wrapper postgres_fdw;`,
      change: 'alter foreign table public.orders rename to orders_old;',
    });
    expect(moved.changes.map((c) => `${c.kind} ${c.id} ${c.action}`)).toEqual([
      'foreign table public.orders removed',
      'foreign table public.orders_old added',
    ]);
  });

  it('dropped', async () => {
    const { changes } = await diffCase({ setup: TABLE, change: 'drop foreign table public.orders;' });
    expect(only(changes, 'public.orders')).toMatchObject({ kind: 'foreign table', action: 'removed' });
  });
});

describe('triggers on foreign tables', () => {
  const TOUCH = `${TABLE}
create function public.touch() returns trigger language plpgsql as $$ begin return new; end $$;`;
  const TRIGGER = `${TOUCH}
create trigger orders_touch before insert on public.orders for each row execute function public.touch();`;

  it('added: a member of the foreign table, in its model and DDL, re-created from it', async () => {
    const { changes, after } = await diffCase({
      setup: TOUCH,
      change: `create trigger orders_touch before insert or update on public.orders
  for each row when (new.total > 0) execute function public.touch();
alter foreign table public.orders disable trigger orders_touch;
comment on trigger orders_touch on public.orders is 'keeps it fresh';`,
      recreate: { kind: 'foreign table', id: 'public.orders', drop: 'drop foreign table public.orders' },
    });
    const change = only(changes, 'public.orders');
    expect(change).toMatchObject({ kind: 'foreign table', action: 'changed', attributes: [] });
    expect(change.members).toEqual([
      { kind: 'trigger', name: 'orders_touch', action: 'added', attributes: [] },
    ]);
    expect(after.foreignTables?.['public.orders']?.triggers).toEqual({
      orders_touch: {
        name: 'orders_touch',
        definition:
          'CREATE TRIGGER orders_touch BEFORE INSERT OR UPDATE ON public.orders FOR EACH ROW WHEN ((new.total > (0)::numeric)) EXECUTE FUNCTION public.touch()',
        function: 'public.touch()',
        enabled: 'disabled',
        comment: 'keeps it fresh',
      },
    });
    expect(change.ddl.diff).toContain(
      '+CREATE TRIGGER orders_touch BEFORE INSERT OR UPDATE ON public.orders FOR EACH ROW WHEN ((new.total > (0)::numeric)) EXECUTE FUNCTION public.touch();',
    );
    expect(change.ddl.diff).toContain('+ALTER FOREIGN TABLE public.orders DISABLE TRIGGER orders_touch;');
    expect(change.ddl.diff).toContain(
      "+COMMENT ON TRIGGER orders_touch ON public.orders IS 'keeps it fresh';",
    );
  });

  it('a foreign table without triggers has no triggers attribute', async () => {
    const model = await read(await database(TABLE));
    expect(model.foreignTables?.['public.orders']).not.toHaveProperty('triggers');
  });

  it('changed: enabled, WHEN', async () => {
    const enabled = await diffCase({
      setup: TRIGGER,
      change: 'alter foreign table public.orders enable always trigger orders_touch;',
      recreate: { kind: 'foreign table', id: 'public.orders', drop: 'drop foreign table public.orders' },
    });
    const change = only(enabled.changes, 'public.orders');
    expect(change.members).toEqual([
      {
        kind: 'trigger',
        name: 'orders_touch',
        action: 'changed',
        attributes: [{ attribute: 'enabled', before: 'origin', after: 'always' }],
      },
    ]);
    expect(change.ddl.diff).toContain(
      '+ALTER FOREIGN TABLE public.orders ENABLE ALWAYS TRIGGER orders_touch;',
    );

    const when = await diffCase({
      setup: TRIGGER,
      change: `drop trigger orders_touch on public.orders;
create trigger orders_touch before insert on public.orders
  for each row when (new.id is not null) execute function public.touch();`,
      recreate: { kind: 'foreign table', id: 'public.orders', drop: 'drop foreign table public.orders' },
    });
    expect(only(when.changes, 'public.orders').members).toEqual([
      {
        kind: 'trigger',
        name: 'orders_touch',
        action: 'changed',
        attributes: [
          {
            attribute: 'definition',
            before:
              'CREATE TRIGGER orders_touch BEFORE INSERT ON public.orders FOR EACH ROW EXECUTE FUNCTION public.touch()',
            after:
              'CREATE TRIGGER orders_touch BEFORE INSERT ON public.orders FOR EACH ROW WHEN ((new.id IS NOT NULL)) EXECUTE FUNCTION public.touch()',
          },
        ],
      },
    ]);
  });

  it('removed', async () => {
    const { changes } = await diffCase({
      setup: TRIGGER,
      change: 'drop trigger orders_touch on public.orders;',
      recreate: { kind: 'foreign table', id: 'public.orders', drop: 'drop foreign table public.orders' },
    });
    expect(only(changes, 'public.orders').members).toEqual([
      { kind: 'trigger', name: 'orders_touch', action: 'removed', attributes: [] },
    ]);
  });

  it('a foreign table renamed keeps its trigger: not a trigger change', async () => {
    const { changes, after } = await diffCase({
      setup: TRIGGER,
      change: 'alter foreign table public.orders rename to orders_old;',
    });
    const renamed = diffSchemas(await read(await database(TRIGGER)), after, {
      relations: { 'public.orders_old': 'public.orders' },
      columns: {},
    }).changes;
    expect(changes.map((c) => `${c.kind} ${c.id} ${c.action}`)).toEqual([
      'foreign table public.orders removed',
      'foreign table public.orders_old added',
    ]);
    expect(only(renamed, 'public.orders_old')).toMatchObject({ action: 'renamed', members: [] });
  });
});

describe('extension default versions', () => {
  it('are read, and never a change between two servers', async () => {
    const db = await database("create extension hstore with schema extensions version '1.4';");
    const model = await read(db);
    const hstore = model.extensions.hstore;
    expect(hstore?.version).toBe('1.4');
    expect(hstore?.defaultVersion).toMatch(/^1\.\d+$/);
    expect(hstore?.defaultVersion).not.toBe('1.4');
    // Up to date: no defaultVersion.
    expect(model.extensions.plpgsql).not.toHaveProperty('defaultVersion');

    const other: SchemaModel = {
      ...model,
      extensions: {
        ...model.extensions,
        hstore: { ...(hstore as NonNullable<typeof hstore>), defaultVersion: '9.9' },
      },
    };
    expect(diffSchemas(model, other).changes).toEqual([]);
  });
});
