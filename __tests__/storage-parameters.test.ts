import { describe, expect, it } from 'vitest';
import { withoutStorageParameters } from '../src/core/sql/storage-parameters.js';

describe('withoutStorageParameters', () => {
  it('removes the top-level WITH ( … ) of an index statement', () => {
    expect(
      withoutStorageParameters(
        'create index on public.docs using ivfflat (embedding vector_cosine_ops) with (lists = 100)',
      ),
    ).toBe('create index on public.docs using ivfflat (embedding vector_cosine_ops)');
  });

  it('keeps what follows, as pg_get_indexdef writes it', () => {
    expect(
      withoutStorageParameters(
        "CREATE INDEX d ON public.docs USING hnsw (embedding extensions.vector_l2_ops) WITH (m='16', ef_construction='64') WHERE (kind = 'a')",
      ),
    ).toBe(
      "CREATE INDEX d ON public.docs USING hnsw (embedding extensions.vector_l2_ops) WHERE (kind = 'a')",
    );
  });

  it('ignores WITH inside parentheses, strings, quoted names and comments', () => {
    expect(withoutStorageParameters("create index i on t using hnsw ((a || 'with (x)'))")).toBeUndefined();
    expect(withoutStorageParameters('create index "with (x)" on t using hnsw (a)')).toBeUndefined();
    expect(withoutStorageParameters('create index i on t using hnsw (a) -- with (m = 4)\n')).toBeUndefined();
    expect(withoutStorageParameters('create index i on t using hnsw (a) /* with (m = 4) */')).toBeUndefined();
    expect(
      withoutStorageParameters(
        "create index i on t using hnsw (a) where b > '2020-01-01'::timestamp with time zone",
      ),
    ).toBeUndefined();
  });

  it('needs WITH to be a word of its own', () => {
    expect(withoutStorageParameters('create index i on t using hnsw (a) where notwith (b)')).toBeUndefined();
  });
});
