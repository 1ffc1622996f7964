import { describe, expect, it } from 'vitest';
import type { ObjectChange } from '../src/core/schema/changes.js';
import { convergeHarness, only } from './harness/converge.js';

/**
 * Range types and collations (issue 13) are compared like other objects. Each case is read from
 * real databases: "before" (`setup`), "after" (`setup` + `change`), diffed; then it must
 * converge: `change` applied to "before" for real re-diffs empty, and (where `recreate` is
 * given) the object dropped from "before" and re-created from the normalized DDL of "after"
 * re-diffs empty too.
 */

const { diffCase } = convergeHarness();

function attribute(change: ObjectChange, name: string) {
  return change.attributes.find((a) => a.attribute === name);
}

describe('range types', () => {
  it('added: modeled with its subtype, functions and multirange; the DDL re-creates it', async () => {
    const { changes, after } = await diffCase({
      setup: '',
      change: `create type public.floatrange as range (subtype = float8, subtype_diff = float8mi);
comment on type public.floatrange is 'spans';`,
      recreate: { kind: 'type', id: 'public.floatrange', drop: 'select 1' },
    });
    const change = only(changes, 'public.floatrange');
    expect(change).toMatchObject({ kind: 'type', action: 'added' });
    expect(after.types['public.floatrange']).toEqual({
      schema: 'public',
      name: 'floatrange',
      owner: 'postgres',
      comment: 'spans',
      kind: 'range',
      subtype: 'double precision',
      subtypeOpclass: null,
      collation: null,
      canonical: null,
      subtypeDiff: 'float8mi',
      multirange: 'public.floatmultirange',
    });
    expect(change.ddl.after).toContain(
      'CREATE TYPE public.floatrange AS RANGE (\n    SUBTYPE = double precision,\n    SUBTYPE_DIFF = float8mi,\n    MULTIRANGE_TYPE_NAME = public.floatmultirange\n);',
    );
    // Its multirange and constructor functions are the range's: not objects of their own.
    expect(changes.map((c) => c.id)).toEqual(['public.floatrange']);
  });

  it('changed: opclass, collation, multirange name, owner and comment', async () => {
    const { changes } = await diffCase({
      setup: 'create type public.textrange as range (subtype = text);',
      change: `drop type public.textrange;
create type public.textrange as range (subtype = text, subtype_opclass = text_pattern_ops, collation = "C",
  multirange_type_name = public.textranges);
alter type public.textrange owner to authenticated;
comment on type public.textrange is 'by pattern';`,
      recreate: { kind: 'type', id: 'public.textrange', drop: 'drop type public.textrange' },
    });
    const change = only(changes, 'public.textrange');
    expect(change.action).toBe('changed');
    expect(change.attributes).toEqual(
      expect.arrayContaining([
        { attribute: 'subtypeOpclass', before: null, after: 'pg_catalog.text_pattern_ops' },
        { attribute: 'collation', before: null, after: '"C"' },
        { attribute: 'multirange', before: 'public.textmultirange', after: 'public.textranges' },
        { attribute: 'owner', before: 'postgres', after: 'authenticated' },
        { attribute: 'comment', before: null, after: 'by pattern' },
      ]),
    );
    expect(change.attributes).toHaveLength(5);
    expect(change.ddl.diff).toContain('+    SUBTYPE_OPCLASS = pg_catalog.text_pattern_ops,');
  });

  it('changed: the subtype', async () => {
    const { changes } = await diffCase({
      setup: 'create type public.span as range (subtype = int4);',
      change: 'drop type public.span; create type public.span as range (subtype = int8);',
      recreate: { kind: 'type', id: 'public.span', drop: 'drop type public.span' },
    });
    const change = only(changes, 'public.span');
    expect(attribute(change, 'subtype')).toEqual({
      attribute: 'subtype',
      before: 'integer',
      after: 'bigint',
    });
  });

  it('removed: shown with the DDL it had', async () => {
    const { changes } = await diffCase({
      setup: 'create type public.floatrange as range (subtype = float8);',
      change: 'drop type public.floatrange;',
    });
    const change = only(changes, 'public.floatrange');
    expect(change).toMatchObject({ kind: 'type', action: 'removed' });
    expect(change.ddl.before).toContain('CREATE TYPE public.floatrange AS RANGE (');
  });
});

describe('collations', () => {
  it('added (ICU, nondeterministic): modeled and re-created from the DDL', async () => {
    const { changes, after } = await diffCase({
      setup: '',
      change: `create collation public.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
comment on collation public.ci is 'case-insensitive';`,
      recreate: { kind: 'collation', id: 'public.ci', drop: 'select 1' },
    });
    const change = only(changes, 'public.ci');
    expect(change).toMatchObject({ kind: 'collation', action: 'added' });
    expect(after.collations?.['public.ci']).toEqual({
      schema: 'public',
      name: 'ci',
      owner: 'postgres',
      provider: 'icu',
      locale: 'und-u-ks-level2',
      lcCollate: null,
      lcCtype: null,
      deterministic: false,
      comment: 'case-insensitive',
    });
    expect(change.ddl.after).toContain(
      "CREATE COLLATION public.ci (\n    provider = icu,\n    locale = 'und-u-ks-level2',\n    deterministic = false\n);",
    );
    expect(change.ddl.after).toContain("COMMENT ON COLLATION public.ci IS 'case-insensitive';");
  });

  it('added (libc): one locale, or LC_COLLATE and LC_CTYPE apart', async () => {
    const { changes, after } = await diffCase({
      setup: '',
      change: `create collation public.c_copy from "C";
create collation public.mixed (lc_collate = 'C', lc_ctype = 'POSIX');`,
      recreate: { kind: 'collation', id: 'public.mixed', drop: 'select 1' },
    });
    expect(changes.map((c) => [c.kind, c.id, c.action])).toEqual([
      ['collation', 'public.c_copy', 'added'],
      ['collation', 'public.mixed', 'added'],
    ]);
    expect(after.collations?.['public.c_copy']).toMatchObject({
      provider: 'libc',
      locale: 'C',
      lcCollate: null,
      lcCtype: null,
      deterministic: true,
    });
    expect(after.collations?.['public.mixed']).toMatchObject({
      provider: 'libc',
      locale: null,
      lcCollate: 'C',
      lcCtype: 'POSIX',
    });
    expect(only(changes, 'public.mixed').ddl.after).toContain(
      "CREATE COLLATION public.mixed (\n    provider = libc,\n    lc_collate = 'C',\n    lc_ctype = 'POSIX',\n    deterministic = true\n);",
    );
  });

  it('changed: locale, deterministic, owner and comment', async () => {
    const { changes } = await diffCase({
      setup:
        "create collation public.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);",
      change: `drop collation public.ci;
create collation public.ci (provider = icu, locale = 'und', deterministic = true);
alter collation public.ci owner to authenticated;
comment on collation public.ci is 'plain';`,
      recreate: { kind: 'collation', id: 'public.ci', drop: 'drop collation public.ci' },
    });
    const change = only(changes, 'public.ci');
    expect(change.action).toBe('changed');
    expect(change.attributes).toEqual(
      expect.arrayContaining([
        { attribute: 'locale', before: 'und-u-ks-level2', after: 'und' },
        { attribute: 'deterministic', before: false, after: true },
        { attribute: 'owner', before: 'postgres', after: 'authenticated' },
        { attribute: 'comment', before: null, after: 'plain' },
      ]),
    );
    expect(change.attributes).toHaveLength(4);
    expect(change.ddl.diff).toContain('+    deterministic = true');
  });

  it('removed, and a domain that uses one keeps comparing equal', async () => {
    const { changes } = await diffCase({
      setup: `create collation public.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
create collation public.gone from "C";
create domain public.name_ci as text collate public.ci;`,
      change: 'drop collation public.gone;',
    });
    const change = only(changes, 'public.gone');
    expect(change).toMatchObject({ kind: 'collation', action: 'removed' });
    expect(change.ddl.before).toContain('CREATE COLLATION public.gone (');
    expect(changes).toHaveLength(1);
  });
});
