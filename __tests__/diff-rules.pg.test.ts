import { describe, expect, it } from 'vitest';
import { convergeHarness, only, read } from './harness/converge.js';

/**
 * Rules (members of their table or view) and event triggers (database-wide) are compared like
 * other objects. Each case is read from
 * real databases: "before" (`setup`), "after" (`setup` + `change`), diffed; then it must
 * converge: `change` applied to "before" for real re-diffs empty, and (where `recreate` is
 * given) the object dropped from "before" and re-created from the normalized DDL of "after"
 * re-diffs empty too.
 */

const { database, diffCase } = convergeHarness();

const TABLE = `
create table public.items (id int primary key, qty int);
create table public.items_log (id int, qty int);
create view public.items_view as select id, qty from public.items;
`;

describe('rules', () => {
  it('added on a table: a member with its event, DO ALSO/INSTEAD and definition; the DDL re-creates it', async () => {
    const { changes, after } = await diffCase({
      setup: TABLE,
      change: `create rule items_log as on insert to public.items do also insert into public.items_log values (new.id, new.qty);
comment on rule items_log on public.items is 'audit';`,
      recreate: { kind: 'table', id: 'public.items', drop: 'drop table public.items cascade' },
    });
    const change = only(changes, 'public.items');
    expect(change.action).toBe('changed');
    expect(change.members).toEqual([{ kind: 'rule', name: 'items_log', action: 'added', attributes: [] }]);
    const rule = after.tables['public.items']?.rules?.items_log;
    expect(rule).toMatchObject({ event: 'INSERT', instead: false, enabled: 'origin', comment: 'audit' });
    expect(rule?.definition).toContain('INSERT INTO public.items_log');
    expect(change.ddl.after).toContain('CREATE RULE items_log AS');
    expect(change.ddl.after).toContain("COMMENT ON RULE items_log ON public.items IS 'audit';");
  });

  it('added on a view (DO INSTEAD): a member of the view, not its _RETURN rule', async () => {
    const { changes, before, after } = await diffCase({
      setup: TABLE,
      change:
        'create rule items_view_insert as on insert to public.items_view do instead insert into public.items values (new.id, new.qty);',
      recreate: { kind: 'view', id: 'public.items_view', drop: 'drop view public.items_view' },
    });
    expect(before.views['public.items_view']?.rules).toBeUndefined();
    const change = only(changes, 'public.items_view');
    expect(change.members).toEqual([
      { kind: 'rule', name: 'items_view_insert', action: 'added', attributes: [] },
    ]);
    expect(after.views['public.items_view']?.rules?.items_view_insert).toMatchObject({
      event: 'INSERT',
      instead: true,
    });
  });

  it('changed: its definition, and disabled', async () => {
    const setup = `${TABLE}
create rule items_no_delete as on delete to public.items do instead nothing;`;
    const { changes } = await diffCase({
      setup,
      change: `create or replace rule items_no_delete as on delete to public.items where old.qty > 0 do instead nothing;
alter table public.items disable rule items_no_delete;`,
      recreate: { kind: 'table', id: 'public.items', drop: 'drop table public.items cascade' },
    });
    const change = only(changes, 'public.items');
    const member = change.members.find((m) => m.kind === 'rule');
    expect(member?.action).toBe('changed');
    expect(member?.attributes.map((a) => a.attribute).sort()).toEqual(['definition', 'enabled']);
    expect(change.ddl.after).toContain('ALTER TABLE public.items DISABLE RULE items_no_delete;');
  });

  it('dropped', async () => {
    const { changes } = await diffCase({
      setup: `${TABLE}
create rule items_no_delete as on delete to public.items do instead nothing;`,
      change: 'drop rule items_no_delete on public.items;',
    });
    expect(only(changes, 'public.items').members).toEqual([
      { kind: 'rule', name: 'items_no_delete', action: 'removed', attributes: [] },
    ]);
  });
});

const FUNCTION = `
create function public.audit_ddl() returns event_trigger language plpgsql as $$ begin end $$;
create function public.audit_drop() returns event_trigger language plpgsql as $$ begin end $$;
`;

describe('event triggers', () => {
  it('added: event, function, tags, enabled, owner, comment; the DDL re-creates it', async () => {
    const { changes, after } = await diffCase({
      setup: FUNCTION,
      change: `create event trigger audit_ddl on ddl_command_end when tag in ('CREATE TABLE', 'ALTER TABLE') execute function public.audit_ddl();
comment on event trigger audit_ddl is 'audit';`,
      recreate: { kind: 'event trigger', id: 'audit_ddl', drop: '' },
    });
    const change = only(changes, 'audit_ddl');
    expect(change).toMatchObject({ kind: 'event trigger', action: 'added' });
    expect(after.eventTriggers?.audit_ddl).toEqual({
      name: 'audit_ddl',
      event: 'ddl_command_end',
      function: 'public.audit_ddl()',
      tags: ['ALTER TABLE', 'CREATE TABLE'],
      enabled: 'origin',
      owner: expect.any(String),
      comment: 'audit',
    });
    expect(change.ddl.after).toContain("WHEN TAG IN ('ALTER TABLE', 'CREATE TABLE')");
    expect(change.ddl.after).toContain('EXECUTE FUNCTION public.audit_ddl();');
  });

  it('changed: disabled, and its function', async () => {
    const setup = `${FUNCTION}
create event trigger audit_ddl on ddl_command_end execute function public.audit_ddl();`;
    const { changes } = await diffCase({
      setup,
      change: `drop event trigger audit_ddl;
create event trigger audit_ddl on sql_drop execute function public.audit_drop();
alter event trigger audit_ddl disable;`,
      recreate: { kind: 'event trigger', id: 'audit_ddl', drop: 'drop event trigger audit_ddl' },
    });
    const change = only(changes, 'audit_ddl');
    expect(change.action).toBe('changed');
    expect(change.attributes.map((a) => a.attribute).sort()).toEqual(['enabled', 'event', 'function']);
    expect(change.ddl.after).toContain('ALTER EVENT TRIGGER audit_ddl DISABLE;');
  });

  it('dropped', async () => {
    const { changes } = await diffCase({
      setup: `${FUNCTION}
create event trigger audit_ddl on ddl_command_end execute function public.audit_ddl();`,
      change: 'drop event trigger audit_ddl;',
    });
    expect(only(changes, 'audit_ddl')).toMatchObject({ kind: 'event trigger', action: 'removed' });
  });

  it("leaves out those running a function of a managed schema (the platform's)", async () => {
    const db = await database(`create schema if not exists extensions;
create function extensions.platform_ddl() returns event_trigger language plpgsql as $$ begin end $$;
create event trigger platform_ddl on ddl_command_end execute function extensions.platform_ddl();`);
    expect((await read(db)).eventTriggers?.platform_ddl).toBeUndefined();
  });
});
