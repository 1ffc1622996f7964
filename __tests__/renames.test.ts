import { describe, expect, it } from 'vitest';
import { parseMigrationSql } from '../src/core/migrations/statements.js';
import { renameHints, renameHintsFromSql } from '../src/core/schema/renames.js';

describe('renameHintsFromSql', () => {
  it('finds nothing in SQL without renames', async () => {
    expect(await renameHintsFromSql(['create table a (id int); alter table a add column b int;'])).toEqual({
      relations: {},
      columns: {},
    });
  });

  it('recognizes table, view and materialized view renames; unqualified names are in public', async () => {
    const hints = await renameHintsFromSql([
      `alter table profiles rename to members;
       alter table if exists app.orders rename to purchases;
       alter view v_old rename to v_new;
       alter materialized view app.m1 rename to m2;`,
    ]);
    expect(hints.relations).toEqual({
      'app.m2': 'app.m1',
      'app.purchases': 'app.orders',
      'public.members': 'public.profiles',
      'public.v_new': 'public.v_old',
    });
    expect(hints.columns).toEqual({});
  });

  it('recognizes column renames, with and without the COLUMN key word, on tables and views', async () => {
    const hints = await renameHintsFromSql([
      'alter table posts rename column title to headline; alter table public.posts rename body to content;',
      'alter view app.v rename column a to b;',
    ]);
    expect(hints.columns).toEqual({
      'app.v': { b: 'a' },
      'public.posts': { content: 'body', headline: 'title' },
    });
  });

  it('quotes identities as the model does', async () => {
    const hints = await renameHintsFromSql([
      'alter table "Order" rename to "select"; alter table "select" rename column "Total" to "grand ""total""";',
      'alter table "My Schema".t rename to "T2";',
    ]);
    expect(hints).toEqual({
      relations: { '"My Schema"."T2"': '"My Schema".t', 'public."select"': 'public."Order"' },
      columns: { 'public."select"': { 'grand "total"': 'Total' } },
    });
  });

  it('collapses chains across migrations, and a rename back to the start disappears', async () => {
    const hints = await renameHintsFromSql([
      'alter table a rename to b; alter table x rename column c1 to c2;',
      'alter table b rename to c; alter table x rename column c2 to c3;',
      'alter table t rename to t_tmp; alter table t_tmp rename to t;',
      'alter table x rename column k to k_tmp; alter table x rename column k_tmp to k;',
    ]);
    expect(hints).toEqual({
      relations: { 'public.c': 'public.a' },
      columns: { 'public.x': { c3: 'c1' } },
    });
  });

  it('keys column renames by the table’s identity after its own rename, whatever the order', async () => {
    const hints = await renameHintsFromSql([
      'alter table profiles rename column username to handle;',
      'alter table profiles rename to members;',
      'alter table members rename column bio to about;',
    ]);
    expect(hints).toEqual({
      relations: { 'public.members': 'public.profiles' },
      columns: { 'public.members': { about: 'bio', handle: 'username' } },
    });
  });

  it('follows SET SCHEMA as a move', async () => {
    const hints = await renameHintsFromSql(['alter table public.logs set schema archive;']);
    expect(hints.relations).toEqual({ 'archive.logs': 'public.logs' });
  });

  it('ignores other renames and text that does not parse', async () => {
    const hints = await renameHintsFromSql([
      'alter index i rename to j; alter table t rename constraint a to b; alter function f() rename to g;',
      'this is not sql',
      'alter sequence s rename to s2;',
    ]);
    expect(hints).toEqual({ relations: {}, columns: {} });
  });

  it('renameHints reads the parse trees of statements already parsed', async () => {
    const { statements } = await parseMigrationSql(
      'alter table a rename to b; alter table b rename column x to y;',
      'supabase/migrations/1_a.sql',
    );
    expect(renameHints(statements)).toEqual({
      relations: { 'public.b': 'public.a' },
      columns: { 'public.b': { y: 'x' } },
    });
  });
});
