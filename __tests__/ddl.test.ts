import { describe, expect, it } from 'vitest';
import { defaultPrivilegeId, grantSummary, objectDdl } from '../src/core/schema/ddl.js';
import type { SchemaModel } from '../src/core/schema/model.js';
import { qualifiedName, quoteIdent, splitIdentity } from '../src/core/sql/identifiers.js';
import { quoteLiteral } from '../src/core/sql/quote.js';
import {
  column,
  constraint,
  grants,
  index,
  model,
  policy,
  profilesTable,
  TABLE_PRIVILEGES,
  trigger,
} from './harness/model-factory.js';

describe('quoteIdent', () => {
  it('leaves plain lower-case names bare', () => {
    expect(quoteIdent('profiles')).toBe('profiles');
    expect(quoteIdent('_private_2')).toBe('_private_2');
    // Unreserved key words need no quotes.
    expect(quoteIdent('name')).toBe('name');
    expect(quoteIdent('comment')).toBe('comment');
  });

  it('quotes upper case, spaces, a leading digit, $, non-ASCII, and doubles embedded quotes', () => {
    expect(quoteIdent('Order')).toBe('"Order"');
    expect(quoteIdent('my table')).toBe('"my table"');
    expect(quoteIdent('1st')).toBe('"1st"');
    expect(quoteIdent('a$b')).toBe('"a$b"');
    expect(quoteIdent('café')).toBe('"café"');
    expect(quoteIdent('say "hi"')).toBe('"say ""hi"""');
    expect(quoteIdent('')).toBe('""');
  });

  it('quotes reserved, type/function-name and column-name key words', () => {
    for (const word of [
      'select',
      'user',
      'order',
      'table',
      'left',
      'authorization',
      'int',
      'values',
      'time',
    ]) {
      expect(quoteIdent(word)).toBe(`"${word}"`);
    }
  });

  it('follows the key-word list of the server version', () => {
    expect(quoteIdent('json', 150000)).toBe('json');
    expect(quoteIdent('json', 160000)).toBe('"json"');
    expect(quoteIdent('json_table', 160000)).toBe('json_table');
    expect(quoteIdent('json_table', 170000)).toBe('"json_table"');
    expect(quoteIdent('json_table')).toBe('"json_table"');
  });

  it('qualifies and splits identities', () => {
    expect(qualifiedName('public', 'Order')).toBe('public."Order"');
    expect(splitIdentity('public."Order"')).toEqual(['public', 'Order']);
    expect(splitIdentity('"my.schema"."a""b"')).toEqual(['my.schema', 'a"b']);
    expect(splitIdentity('public.t')).toEqual(['public', 't']);
  });

  it('quotes literals by doubling single quotes', () => {
    expect(quoteLiteral("it's")).toBe("'it''s'");
    expect(quoteLiteral('a\\b')).toBe("'a\\b'");
  });
});

describe('objectDdl: tables', () => {
  it('writes a complete table: columns, constraints, RLS, indexes, triggers, policies, owner, grants, comments', () => {
    const m = model((b) => {
      b.table('public', 'posts', {
        rlsEnabled: true,
        rlsForced: true,
        replicaIdentity: 'full',
        comment: 'Blog posts',
        columns: [
          column('id', 'bigint', { notNull: true, identity: 'by default' }),
          column('title', 'text', { notNull: true, default: "''::text", collation: '"C"' }),
          column('author_id', 'uuid', {
            comment: "The author's id",
            grants: grants({ anon: ['SELECT'] }),
          }),
          column('words', 'integer', { generated: 'length(title)' }),
        ],
        constraints: {
          posts_pkey: constraint('posts_pkey', { type: 'primary key', definition: 'PRIMARY KEY (id)' }),
          posts_author_fkey: constraint('posts_author_fkey', {
            type: 'foreign key',
            definition: 'FOREIGN KEY (author_id) REFERENCES public.profiles(id) ON DELETE CASCADE NOT VALID',
            validated: false,
          }),
          posts_title_check: constraint('posts_title_check', {
            type: 'check',
            definition: 'CHECK ((length(title) > 0))',
            validated: false,
            comment: 'non-empty',
          }),
        },
        indexes: {
          posts_pkey: index('posts_pkey', 'CREATE UNIQUE INDEX posts_pkey ON public.posts USING btree (id)', {
            constraint: 'posts_pkey',
          }),
          posts_title_idx: index(
            'posts_title_idx',
            'CREATE INDEX posts_title_idx ON public.posts USING btree (title)',
          ),
          posts_author_idx: index(
            'posts_author_idx',
            'CREATE INDEX posts_author_idx ON public.posts USING btree (author_id)',
            { valid: false },
          ),
        },
        triggers: {
          touch: trigger(
            'touch',
            'CREATE TRIGGER touch BEFORE UPDATE ON public.posts FOR EACH ROW EXECUTE FUNCTION public.tg()',
            { enabled: 'disabled' },
          ),
        },
        policies: {
          'Authors write': policy('Authors write', 'public.posts', {
            command: 'INSERT',
            permissive: false,
            roles: ['authenticated'],
            withCheck: '(auth.uid() = author_id)',
          }),
          'Anyone reads': policy('Anyone reads', 'public.posts', {
            command: 'SELECT',
            roles: ['anon', 'authenticated'],
            using: 'true',
          }),
        },
        grants: [
          ...grants({ anon: ['SELECT'], authenticated: ['SELECT', 'INSERT'], postgres: TABLE_PRIVILEGES }),
          ...grants({ service_role: ['SELECT'] }, true),
        ],
      });
    });
    expect(objectDdl(m, 'table', 'public.posts')).toBe(`CREATE TABLE public.posts (
    id bigint GENERATED BY DEFAULT AS IDENTITY NOT NULL,
    title text COLLATE "C" DEFAULT ''::text NOT NULL,
    author_id uuid,
    words integer GENERATED ALWAYS AS (length(title)) STORED,
    CONSTRAINT posts_pkey PRIMARY KEY (id)
);
ALTER TABLE public.posts ADD CONSTRAINT posts_title_check CHECK ((length(title) > 0)) NOT VALID;
ALTER TABLE public.posts ADD CONSTRAINT posts_author_fkey FOREIGN KEY (author_id) REFERENCES public.profiles(id) ON DELETE CASCADE NOT VALID;

ALTER TABLE public.posts ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.posts FORCE ROW LEVEL SECURITY;
ALTER TABLE public.posts REPLICA IDENTITY FULL;

CREATE INDEX posts_author_idx ON public.posts USING btree (author_id); -- INVALID
CREATE INDEX posts_title_idx ON public.posts USING btree (title);

CREATE TRIGGER touch BEFORE UPDATE ON public.posts FOR EACH ROW EXECUTE FUNCTION public.tg();
ALTER TABLE public.posts DISABLE TRIGGER touch;

CREATE POLICY "Anyone reads" ON public.posts
    AS PERMISSIVE
    FOR SELECT
    TO anon, authenticated
    USING (true);
CREATE POLICY "Authors write" ON public.posts
    AS RESTRICTIVE
    FOR INSERT
    TO authenticated
    WITH CHECK ((auth.uid() = author_id));

ALTER TABLE public.posts OWNER TO postgres;

GRANT SELECT ON TABLE public.posts TO anon;
GRANT SELECT, INSERT ON TABLE public.posts TO authenticated;
GRANT ALL ON TABLE public.posts TO postgres;
GRANT SELECT ON TABLE public.posts TO service_role WITH GRANT OPTION;
GRANT SELECT (author_id) ON TABLE public.posts TO anon;

COMMENT ON TABLE public.posts IS 'Blog posts';
COMMENT ON COLUMN public.posts.author_id IS 'The author''s id';
COMMENT ON CONSTRAINT posts_title_check ON public.posts IS 'non-empty';
`);
  });

  it('quotes odd names everywhere', () => {
    const m = model((b) => {
      b.table('My Schema', 'Order', {
        owner: 'Admin',
        columns: [column('select', 'integer'), column('Say "hi"', 'text', { comment: 'x' })],
        policies: {
          'it\'s "mine"': policy('it\'s "mine"', 'x', { roles: ['Editors', 'PUBLIC'], using: 'true' }),
        },
        grants: grants({ 'Weird Role': ['SELECT'] }),
      });
    });
    const ddl = objectDdl(m, 'table', '"My Schema"."Order"');
    expect(ddl).toContain(
      'CREATE TABLE "My Schema"."Order" (\n    "select" integer,\n    "Say ""hi""" text\n);',
    );
    expect(ddl).toContain('CREATE POLICY "it\'s ""mine""" ON "My Schema"."Order"');
    expect(ddl).toContain('    TO "Editors", PUBLIC');
    expect(ddl).toContain('ALTER TABLE "My Schema"."Order" OWNER TO "Admin";');
    expect(ddl).toContain('GRANT SELECT ON TABLE "My Schema"."Order" TO "Weird Role";');
    expect(ddl).toContain('COMMENT ON COLUMN "My Schema"."Order"."Say ""hi""" IS \'x\';');
  });

  it('shows only RLS, policies and grants of a managed table', () => {
    const m = model((b) => {
      b.table('storage', 'objects', {
        managed: true,
        rlsEnabled: true,
        columns: [column('id', 'uuid')],
        indexes: {
          objects_idx: index('objects_idx', 'CREATE INDEX objects_idx ON storage.objects USING btree (id)'),
        },
        policies: {
          'Avatar uploads': policy('Avatar uploads', 'storage.objects', {
            command: 'INSERT',
            roles: ['authenticated'],
            withCheck: "(bucket_id = 'avatars'::text)",
          }),
        },
        grants: grants({ authenticated: TABLE_PRIVILEGES }),
      });
    });
    expect(
      objectDdl(m, 'table', 'storage.objects'),
    ).toBe(`-- storage.objects is managed by Supabase: only its row level security, policies, grants and the app's triggers are shown.

ALTER TABLE storage.objects ENABLE ROW LEVEL SECURITY;

CREATE POLICY "Avatar uploads" ON storage.objects
    AS PERMISSIVE
    FOR INSERT
    TO authenticated
    WITH CHECK ((bucket_id = 'avatars'::text));

GRANT ALL ON TABLE storage.objects TO authenticated;
`);
  });

  it('writes partitioning: the parent’s key and a partition attached with its bound', () => {
    const m = model((b) => {
      b.table('public', 'events', {
        kind: 'partitioned',
        partitionKey: 'RANGE (at)',
        columns: [column('at', 'date', { notNull: true })],
      });
      b.table('public', 'events_2024', {
        partitionOf: 'public.events',
        partitionBound: "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
        columns: [column('at', 'date', { notNull: true })],
      });
    });
    expect(objectDdl(m, 'table', 'public.events')).toContain(
      'CREATE TABLE public.events (\n    at date NOT NULL\n)\nPARTITION BY RANGE (at);',
    );
    expect(objectDdl(m, 'table', 'public.events_2024')).toContain(
      "ALTER TABLE ONLY public.events ATTACH PARTITION public.events_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');",
    );
  });

  it('is deterministic whatever the order of the model’s records and grants', () => {
    const build = (reverse: boolean) =>
      model((b) => {
        const t = profilesTable(b);
        t.policies.Second = policy('Second', 'public.profiles', { using: 'false' });
        if (reverse) {
          t.policies = Object.fromEntries(Object.entries(t.policies).reverse());
          t.indexes = Object.fromEntries(Object.entries(t.indexes).reverse());
          t.grants = [...t.grants].reverse();
        }
      });
    const a = objectDdl(build(false), 'table', 'public.profiles');
    const b = objectDdl(build(true), 'table', 'public.profiles');
    expect(a).toBe(b);
    expect(a).toBe(objectDdl(build(false), 'table', 'public.profiles'));
  });

  it('returns null for an absent object or the wrong kind', () => {
    const m = model((b) => {
      b.view('public', 'v', ' SELECT 1;');
    });
    expect(objectDdl(m, 'table', 'public.nope')).toBeNull();
    expect(objectDdl(m, 'materialized view', 'public.v')).toBeNull();
    expect(objectDdl(m, 'view', 'public.v')).not.toBeNull();
  });
});

describe('objectDdl: other kinds', () => {
  const m: SchemaModel = model((b) => {
    b.schema('app', {
      comment: 'Application',
      grants: grants({ anon: ['USAGE'], postgres: ['USAGE', 'CREATE'] }),
    });
    b.extension('uuid-ossp', { version: '1.1' });
    b.enum('public', 'mood', ['happy', "it's ok"]);
    b.model.types['public.positive'] = {
      kind: 'domain',
      schema: 'public',
      name: 'positive',
      owner: 'postgres',
      comment: null,
      baseType: 'integer',
      notNull: true,
      default: '1',
      collation: null,
      checks: [{ name: 'positive_check', definition: 'CHECK ((VALUE > 0))' }],
    };
    b.model.types['public.pair'] = {
      kind: 'composite',
      schema: 'public',
      name: 'pair',
      owner: 'postgres',
      comment: 'two',
      attributes: [
        { name: 'a', type: 'integer', collation: null },
        { name: 'b', type: 'text', collation: '"C"' },
      ],
    };
    b.sequence('public', 'posts_id_seq', {
      ownedBy: 'public.posts.id',
      grants: grants({ anon: ['USAGE', 'SELECT'] }),
    });
    b.view('public', 'v', ' SELECT p.id\n   FROM public.profiles p;', {
      securityInvoker: true,
      securityBarrier: true,
      checkOption: 'cascaded',
      grants: grants({ anon: ['SELECT'] }),
      comment: 'public view',
      columns: [{ name: 'id', type: 'uuid', comment: 'the id' }],
    });
    b.view('public', 'stats', ' SELECT count(*) AS n\n   FROM public.profiles;', {
      kind: 'materialized',
      populated: false,
      indexes: { stats_n: index('stats_n', 'CREATE UNIQUE INDEX stats_n ON public.stats USING btree (n)') },
    });
    b.routine('public', 'is_admin', 'uuid', {
      definition:
        'CREATE OR REPLACE FUNCTION public.is_admin(uuid)\n RETURNS boolean\n LANGUAGE sql\nAS $function$select true$function$\n',
      comment: 'admin?',
      grants: grants({ authenticated: ['EXECUTE'] }),
    });
    b.routine('public', 'touch', '', {
      returns: 'trigger',
      language: 'plpgsql',
      body: 'begin new.updated_at = now(); return new; end',
      volatility: 'stable',
      securityDefiner: true,
      parallel: 'safe',
      config: ['search_path=""', 'statement_timeout=5s'],
    });
    b.routine('public', 'archive', 'integer', { kind: 'procedure', returns: null, grants: [] });
    b.defaultPrivilege({
      role: 'postgres',
      schema: 'public',
      objectType: 'functions',
      grants: grants({ anon: ['EXECUTE'], authenticated: ['EXECUTE'] }),
    });
    b.defaultPrivilege({ role: 'supabase_admin', schema: null, objectType: 'tables', grants: [] });
    b.publication('supabase_realtime', { tables: ['public.messages', 'public."Order"'] });
    b.publication('everything', {
      allTables: true,
      operations: { insert: true, update: false, delete: false, truncate: false },
    });
    b.cronJob('nightly cleanup', { command: "delete from logs where at < now() - interval '7 days'" });
    b.bucket('avatars', {
      public: true,
      fileSizeLimit: 1048576,
      allowedMimeTypes: ['image/png', 'image/jpeg'],
    });
  });

  it('schemas, extensions and types', () => {
    expect(objectDdl(m, 'schema', 'app')).toBe(`CREATE SCHEMA app;

ALTER SCHEMA app OWNER TO postgres;

GRANT USAGE ON SCHEMA app TO anon;
GRANT USAGE, CREATE ON SCHEMA app TO postgres;

COMMENT ON SCHEMA app IS 'Application';
`);
    expect(objectDdl(m, 'extension', 'uuid-ossp')).toBe(
      `CREATE EXTENSION "uuid-ossp" WITH SCHEMA extensions VERSION '1.1';\n`,
    );
    expect(objectDdl(m, 'type', 'public.mood')).toBe(`CREATE TYPE public.mood AS ENUM (
    'happy',
    'it''s ok'
);

ALTER TYPE public.mood OWNER TO postgres;
`);
    expect(objectDdl(m, 'type', 'public.positive')).toBe(`CREATE DOMAIN public.positive AS integer
    DEFAULT 1
    NOT NULL
    CONSTRAINT positive_check CHECK ((VALUE > 0));

ALTER DOMAIN public.positive OWNER TO postgres;
`);
    expect(objectDdl(m, 'type', 'public.pair')).toBe(`CREATE TYPE public.pair AS (
    a integer,
    b text COLLATE "C"
);

ALTER TYPE public.pair OWNER TO postgres;

COMMENT ON TYPE public.pair IS 'two';
`);
  });

  it('sequences', () => {
    expect(objectDdl(m, 'sequence', 'public.posts_id_seq')).toBe(`CREATE SEQUENCE public.posts_id_seq
    AS bigint
    START WITH 1
    INCREMENT BY 1
    MINVALUE 1
    MAXVALUE 9223372036854775807
    CACHE 1
    NO CYCLE;

ALTER SEQUENCE public.posts_id_seq OWNED BY public.posts.id;
ALTER SEQUENCE public.posts_id_seq OWNER TO postgres;

GRANT SELECT, USAGE ON SEQUENCE public.posts_id_seq TO anon;
`);
  });

  it('views and materialized views', () => {
    expect(
      objectDdl(m, 'view', 'public.v'),
    ).toBe(`CREATE VIEW public.v WITH (security_invoker=true, security_barrier=true, check_option=cascaded) AS
 SELECT p.id
   FROM public.profiles p;

ALTER VIEW public.v OWNER TO postgres;

GRANT SELECT ON TABLE public.v TO anon;

COMMENT ON VIEW public.v IS 'public view';
COMMENT ON COLUMN public.v.id IS 'the id';
`);
    expect(objectDdl(m, 'materialized view', 'public.stats')).toBe(`CREATE MATERIALIZED VIEW public.stats AS
 SELECT count(*) AS n
   FROM public.profiles
WITH NO DATA;

CREATE UNIQUE INDEX stats_n ON public.stats USING btree (n);

ALTER MATERIALIZED VIEW public.stats OWNER TO postgres;
`);
  });

  it('functions: the stored definition, or one built from the parts', () => {
    expect(
      objectDdl(m, 'function', 'public.is_admin(uuid)'),
    ).toBe(`CREATE OR REPLACE FUNCTION public.is_admin(uuid)
 RETURNS boolean
 LANGUAGE sql
AS $function$select true$function$;

ALTER FUNCTION public.is_admin(uuid) OWNER TO postgres;

REVOKE ALL ON FUNCTION public.is_admin(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.is_admin(uuid) TO authenticated;

COMMENT ON FUNCTION public.is_admin(uuid) IS 'admin?';
`);
    expect(objectDdl(m, 'function', 'public.touch()')).toBe(`CREATE OR REPLACE FUNCTION public.touch()
 RETURNS trigger
 LANGUAGE plpgsql
 STABLE SECURITY DEFINER PARALLEL SAFE
 SET search_path TO ''
 SET statement_timeout TO '5s'
AS $function$begin new.updated_at = now(); return new; end$function$;

ALTER FUNCTION public.touch() OWNER TO postgres;

GRANT EXECUTE ON FUNCTION public.touch() TO PUBLIC;
GRANT EXECUTE ON FUNCTION public.touch() TO postgres;
`);
    expect(
      objectDdl(m, 'function', 'public.archive(integer)'),
    ).toBe(`CREATE OR REPLACE PROCEDURE public.archive(integer)
 LANGUAGE sql
AS $function$select true$function$;

ALTER PROCEDURE public.archive(integer) OWNER TO postgres;

REVOKE ALL ON PROCEDURE public.archive(integer) FROM PUBLIC;
`);
  });

  it('default privileges, keyed by role, schema and object type', () => {
    const entry = m.defaultPrivileges[0];
    expect(entry && defaultPrivilegeId(entry)).toBe('postgres:public:functions');
    expect(objectDdl(m, 'default privileges', 'postgres:public:functions')).toBe(
      `ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO anon;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO authenticated;
`,
    );
    expect(objectDdl(m, 'default privileges', 'supabase_admin:*:tables')).toBe(
      '-- ALTER DEFAULT PRIVILEGES FOR ROLE supabase_admin: no privileges on new tables\n',
    );
  });

  it('publications, cron jobs and buckets', () => {
    expect(objectDdl(m, 'publication', 'supabase_realtime')).toBe(`CREATE PUBLICATION supabase_realtime
    FOR TABLE
        public.messages,
        public."Order"
    WITH (publish = 'insert, update, delete, truncate');
`);
    expect(objectDdl(m, 'publication', 'everything')).toBe(
      "CREATE PUBLICATION everything\n    FOR ALL TABLES\n    WITH (publish = 'insert');\n",
    );
    expect(objectDdl(m, 'cron job', 'nightly cleanup')).toBe(`-- database postgres, user postgres
SELECT cron.schedule('nightly cleanup', '0 3 * * *', 'delete from logs where at < now() - interval ''7 days''');
`);
    expect(
      objectDdl(m, 'bucket', 'avatars'),
    ).toBe(`INSERT INTO storage.buckets (id, name, public, file_size_limit, allowed_mime_types) VALUES (
    'avatars',
    'avatars',
    true,
    1048576,
    ARRAY['image/png', 'image/jpeg']::text[]
);
`);
  });
});

describe('grantSummary', () => {
  it('groups per grantee, abbreviates a full set to ALL and marks the grant option', () => {
    const list = [
      ...grants({ postgres: TABLE_PRIVILEGES, anon: ['SELECT'] }),
      ...grants({ service_role: ['SELECT', 'INSERT'] }, true),
    ];
    expect(grantSummary(list, 'table', 150000)).toEqual([
      'anon: SELECT',
      'postgres: ALL',
      'service_role: SELECT, INSERT WITH GRANT OPTION',
    ]);
    // PostgreSQL 17 tables also have MAINTAIN: without it the set is not ALL.
    expect(grantSummary(grants({ postgres: TABLE_PRIVILEGES }), 'table', 170000)).toEqual([
      'postgres: SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER',
    ]);
    expect(grantSummary(grants({ postgres: [...TABLE_PRIVILEGES, 'MAINTAIN'] }), 'table', 170000)).toEqual([
      'postgres: ALL',
    ]);
  });
});
