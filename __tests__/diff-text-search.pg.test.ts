import { describe, expect, it } from 'vitest';
import type { ObjectChange } from '../src/core/schema/changes.js';
import { splitOptions } from '../src/core/schema/kinds/text-search.js';
import { convergeHarness, only } from './harness/converge.js';
import { expectExtensionAvailable } from './harness/db.js';

/**
 * Text search dictionaries and configurations (kinds/text-search.ts) are compared like other
 * objects. Each case is read from real databases: "before" (`setup`), "after" (`setup` +
 * `change`), diffed; then it must converge: `change` applied to "before" for real re-diffs
 * empty, and (where `recreate` is given) the object dropped from "before" and re-created from
 * the normalized DDL of "after" re-diffs empty too.
 */

const { diffCase, database } = convergeHarness();

function attributes(change: ObjectChange): string[] {
  return change.attributes.map((a) => a.attribute).sort();
}

describe('text search dictionaries', () => {
  it('added: template and sorted options; the DDL re-creates them', async () => {
    const { changes, after } = await diffCase({
      setup: '',
      change: `create text search dictionary public.plain (template = simple, stopwords = english, accept = false);
create text search dictionary public.stem (template = snowball, language = english);
comment on text search dictionary public.stem is 'stems';`,
      recreate: { kind: 'text search dictionary', id: 'public.plain', drop: '' },
    });
    expect(changes.map((c) => [c.kind, c.id, c.action])).toEqual([
      ['text search dictionary', 'public.plain', 'added'],
      ['text search dictionary', 'public.stem', 'added'],
    ]);
    expect(after.textSearchDictionaries?.['public.plain']).toEqual({
      schema: 'public',
      name: 'plain',
      template: 'simple',
      options: ["accept = 'false'", "stopwords = 'english'"],
      owner: 'postgres',
      comment: null,
    });
    expect(only(changes, 'public.plain').ddl.after).toBe(
      `CREATE TEXT SEARCH DICTIONARY public.plain (
    TEMPLATE = simple,
    accept = 'false',
    stopwords = 'english'
);

ALTER TEXT SEARCH DICTIONARY public.plain OWNER TO postgres;
`,
    );
    expect(only(changes, 'public.stem').ddl.after).toContain(
      "TEMPLATE = snowball,\n    language = 'english'\n);",
    );
  });

  it('changed: an option, the owner and the comment', async () => {
    const { changes } = await diffCase({
      setup: 'create text search dictionary public.plain (template = simple, stopwords = english);',
      change: `alter text search dictionary public.plain (stopwords = french, accept = false);
alter text search dictionary public.plain owner to authenticated;
comment on text search dictionary public.plain is 'quiet';`,
      recreate: {
        kind: 'text search dictionary',
        id: 'public.plain',
        drop: 'drop text search dictionary public.plain',
      },
    });
    const change = only(changes, 'public.plain');
    expect(change.action).toBe('changed');
    expect(change.attributes).toEqual(
      expect.arrayContaining([
        {
          attribute: 'options',
          before: ["stopwords = 'english'"],
          after: ["accept = 'false'", "stopwords = 'french'"],
        },
        { attribute: 'owner', before: 'postgres', after: 'authenticated' },
        { attribute: 'comment', before: null, after: 'quiet' },
      ]),
    );
    expect(change.attributes).toHaveLength(3);
  });

  it('removed', async () => {
    const { changes } = await diffCase({
      setup: 'create text search dictionary public.plain (template = simple);',
      change: 'drop text search dictionary public.plain;',
    });
    expect(only(changes, 'public.plain')).toMatchObject({
      kind: 'text search dictionary',
      action: 'removed',
    });
  });

  it('splits options at commas outside literals and quoted names', () => {
    expect(splitOptions(`b = 'x, y', "a,""b" = E'it''s\\\\', c = '1'`)).toEqual([
      `"a,""b" = E'it''s\\\\'`,
      "b = 'x, y'",
      "c = '1'",
    ]);
    expect(splitOptions(null)).toEqual([]);
  });
});

describe('text search configurations', () => {
  it('added (COPY = english): parser and mappings; the DDL re-creates it', async () => {
    const { changes, after } = await diffCase({
      setup: '',
      change: 'create text search configuration public.docs (copy = english);',
      recreate: { kind: 'text search configuration', id: 'public.docs', drop: '' },
    });
    const change = only(changes, 'public.docs');
    expect(change).toMatchObject({ kind: 'text search configuration', action: 'added' });
    const docs = after.textSearchConfigurations?.['public.docs'];
    expect(docs).toMatchObject({ schema: 'public', name: 'docs', parser: '"default"', owner: 'postgres' });
    expect(docs?.mappings.asciiword).toEqual(['english_stem']);
    expect(docs?.mappings.int).toEqual(['simple']);
    expect(Object.keys(docs?.mappings ?? {})).toEqual(Object.keys(docs?.mappings ?? {}).sort());
    expect(change.ddl.after).toContain('CREATE TEXT SEARCH CONFIGURATION public.docs (PARSER = "default");');
    expect(change.ddl.after).toContain(
      'ALTER TEXT SEARCH CONFIGURATION public.docs ADD MAPPING FOR asciiword WITH english_stem;',
    );
  });

  it('changed: a mapping, a dropped mapping, an order, the owner and the comment', async () => {
    const { changes } = await diffCase({
      setup: `create text search dictionary public.plain (template = simple, stopwords = english);
create text search configuration public.docs (copy = english);
alter text search configuration public.docs alter mapping for word with public.plain, english_stem;`,
      change: `alter text search configuration public.docs alter mapping for asciiword with public.plain, english_stem;
alter text search configuration public.docs drop mapping for email;
alter text search configuration public.docs alter mapping for word with english_stem, public.plain;
alter text search configuration public.docs owner to authenticated;
comment on text search configuration public.docs is 'documents';`,
      recreate: {
        kind: 'text search configuration',
        id: 'public.docs',
        drop: 'drop text search configuration public.docs',
      },
    });
    const change = only(changes, 'public.docs');
    expect(change.action).toBe('changed');
    // One change per token type whose dictionaries differ, not the whole mapping twice.
    expect(attributes(change)).toEqual([
      'comment',
      'mappings.asciiword',
      'mappings.email',
      'mappings.word',
      'owner',
    ]);
    const mapping = (token: string) => change.attributes.find((a) => a.attribute === `mappings.${token}`);
    expect(mapping('email')).toMatchObject({ before: ['simple'], after: null });
    expect(mapping('asciiword')?.after).toEqual(['public.plain', 'english_stem']);
    expect(mapping('word')).toMatchObject({
      before: ['public.plain', 'english_stem'],
      after: ['english_stem', 'public.plain'],
    });
    expect(change.ddl.diff).toContain(
      '+ALTER TEXT SEARCH CONFIGURATION public.docs ADD MAPPING FOR word WITH english_stem, public.plain;',
    );
  });

  it('changed: only the order of a mapping', async () => {
    const setup = `create text search dictionary public.plain (template = simple);
create text search configuration public.docs (copy = simple);
alter text search configuration public.docs alter mapping for asciiword with public.plain, simple;`;
    const { changes } = await diffCase({
      setup,
      change:
        'alter text search configuration public.docs alter mapping for asciiword with simple, public.plain;',
      recreate: {
        kind: 'text search configuration',
        id: 'public.docs',
        drop: 'drop text search configuration public.docs',
      },
    });
    expect(attributes(only(changes, 'public.docs'))).toEqual(['mappings.asciiword']);
  });

  it('removed', async () => {
    const { changes } = await diffCase({
      setup: 'create text search configuration public.docs (copy = simple);',
      change: 'drop text search configuration public.docs;',
    });
    expect(only(changes, 'public.docs')).toMatchObject({
      kind: 'text search configuration',
      action: 'removed',
    });
  });
});

describe("an extension's dictionary", () => {
  it('is not reported; a configuration mapping to it is, by its qualified name', async () => {
    const probe = await database('');
    await expectExtensionAvailable(probe, 'unaccent');
    const { changes, after } = await diffCase({
      setup: 'create extension unaccent schema public;',
      change: `create text search configuration public.plain_unaccent (copy = simple);
alter text search configuration public.plain_unaccent alter mapping for asciiword, word with public.unaccent, simple;`,
      recreate: { kind: 'text search configuration', id: 'public.plain_unaccent', drop: '' },
    });
    expect(after.textSearchDictionaries).toEqual({});
    expect(changes.filter((c) => c.kind === 'text search dictionary')).toEqual([]);
    const change = only(changes, 'public.plain_unaccent');
    expect(change.action).toBe('added');
    expect(after.textSearchConfigurations?.['public.plain_unaccent']?.mappings.word).toEqual([
      'public.unaccent',
      'simple',
    ]);
    expect(change.ddl.after).toContain(
      'ALTER TEXT SEARCH CONFIGURATION public.plain_unaccent ADD MAPPING FOR word WITH public.unaccent, simple;',
    );
  });
});
