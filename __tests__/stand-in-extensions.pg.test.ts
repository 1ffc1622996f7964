import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { STAND_IN_MARK, STAND_INS } from '../src/core/db/stand-ins/index.js';
import { withDatabase } from './harness/global-setup.js';

/**
 * The stand-in extensions of the embedded shadow server (src/core/db/stand-ins/), created as
 * Supabase's migrations and `supabase db dump` create them, by `postgres` (not a superuser), and
 * used as migrations use them. Each test has a database of its own on the Supabase-shaped
 * server (superuser supabase_admin), with an `extensions` schema as on Supabase.
 */

/** How `supabase db dump` creates each extension (the schema first where it must exist). */
const CREATE: Record<string, string> = {
  vector: 'CREATE EXTENSION IF NOT EXISTS "vector" WITH SCHEMA "extensions";',
  pg_cron: 'CREATE EXTENSION IF NOT EXISTS "pg_cron" WITH SCHEMA "pg_catalog";',
  pg_net: 'CREATE EXTENSION IF NOT EXISTS "pg_net" WITH SCHEMA "extensions";',
  supabase_vault:
    'CREATE SCHEMA IF NOT EXISTS "vault";\nCREATE EXTENSION IF NOT EXISTS "supabase_vault" WITH SCHEMA "vault";',
  pgsodium:
    'CREATE SCHEMA IF NOT EXISTS "pgsodium";\nCREATE EXTENSION IF NOT EXISTS "pgsodium" WITH SCHEMA "pgsodium";',
  pg_graphql:
    'CREATE SCHEMA IF NOT EXISTS "graphql";\nCREATE EXTENSION IF NOT EXISTS "pg_graphql" WITH SCHEMA "graphql";',
  pgjwt: 'CREATE EXTENSION IF NOT EXISTS "pgjwt" WITH SCHEMA "extensions";',
  http: 'CREATE EXTENSION IF NOT EXISTS "http" WITH SCHEMA "extensions";',
  wrappers: 'CREATE EXTENSION IF NOT EXISTS "wrappers" WITH SCHEMA "extensions";',
};

let database: string;
/** Connected as supabase_admin to the test's database, with `SET ROLE postgres` in effect. */
let client: pg.Client;

async function onServer(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: inject('shadowUrl') });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

beforeEach(async () => {
  database = `stand_ins_${randomBytes(6).toString('hex')}`;
  await onServer(`CREATE DATABASE ${database}`);
  client = new pg.Client({ connectionString: withDatabase(inject('shadowUrl'), database) });
  await client.connect();
  await client.query(`CREATE SCHEMA extensions;
    GRANT CREATE ON DATABASE ${database} TO postgres;
    GRANT USAGE, CREATE ON SCHEMA public, extensions TO postgres;
    SET ROLE postgres;`);
});
afterEach(async () => {
  await client.end();
  await onServer(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
});

async function rows<R extends pg.QueryResultRow = pg.QueryResultRow>(
  sql: string,
  params?: unknown[],
): Promise<R[]> {
  return (await client.query<R>(sql, params)).rows;
}

async function one<R extends pg.QueryResultRow = pg.QueryResultRow>(
  sql: string,
  params?: unknown[],
): Promise<R> {
  const [row] = await rows<R>(sql, params);
  if (!row) throw new Error(`no row from ${sql}`);
  return row;
}

/** Runs SQL as the superuser, then goes back to postgres. */
async function asSuperuser(sql: string): Promise<void> {
  await client.query('RESET ROLE');
  try {
    await client.query(sql);
  } finally {
    await client.query('SET ROLE postgres');
  }
}

/** Creates the extension as the dump does, as postgres, and checks it is the stand-in. */
async function createAsDumped(extension: string): Promise<void> {
  const role = await one<{ user: string; superuser: boolean }>(
    'SELECT current_user AS user, rolsuper AS superuser FROM pg_roles WHERE rolname = current_user',
  );
  expect(role).toEqual({ user: 'postgres', superuser: false });
  await client.query(CREATE[extension] as string);
  const available = await one<{ comment: string }>(
    'SELECT comment FROM pg_available_extensions WHERE name = $1 AND installed_version IS NOT NULL',
    [extension],
  );
  expect(available.comment.startsWith(STAND_IN_MARK)).toBe(true);
}

/** Whether the object (a catalog and an expression for its oid) belongs to the extension. */
async function member(extension: string, catalog: string, oid: string): Promise<boolean> {
  const row = await one<{ member: boolean }>(
    `SELECT EXISTS (
       SELECT FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
        WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e' AND e.extname = $1
          AND d.classid = $2::regclass AND d.objid = ${oid}) AS member`,
    [extension, catalog],
  );
  return row.member;
}

describe('stand-in extensions, created by postgres as Supabase does', () => {
  it('covers every stand-in', () => {
    expect(Object.keys(CREATE).sort()).toEqual(STAND_INS.map((standIn) => standIn.name).sort());
  });

  it('pg_net: a trigger function that calls net.http_post queues the request', async () => {
    await createAsDumped('pg_net');
    await client.query(`
      CREATE TABLE public.orders (id bigint PRIMARY KEY, total numeric);
      CREATE FUNCTION public.notify_order() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM net.http_post(
          url := 'https://hooks.example.com/orders',
          body := jsonb_build_object('id', NEW.id, 'total', NEW.total),
          headers := '{"Content-Type": "application/json", "Authorization": "Bearer x"}'::jsonb,
          timeout_milliseconds := 1000
        );
        RETURN NEW;
      END $$;
      CREATE TRIGGER orders_notify AFTER INSERT ON public.orders FOR EACH ROW EXECUTE FUNCTION public.notify_order();
      INSERT INTO public.orders VALUES (7, 12.5);`);
    const queued = await one(
      `SELECT method, url, headers, convert_from(body, 'UTF8')::jsonb AS body, timeout_milliseconds
         FROM net.http_request_queue`,
    );
    expect(queued).toEqual({
      method: 'POST',
      url: 'https://hooks.example.com/orders',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer x' },
      body: { id: 7, total: 12.5 },
      timeout_milliseconds: 1000,
    });
    const get = await one<{ id: string }>(`SELECT net.http_get('https://example.com') AS id`);
    const del = await one<{ id: string }>(`SELECT net.http_delete('https://example.com/1') AS id`);
    expect(Number(del.id)).toBeGreaterThan(Number(get.id));
    const collected = await one(
      `SELECT (r).status::text AS status, (r).response AS response
                                   FROM (SELECT net.http_collect_response($1, async := false) AS r) c`,
      [get.id],
    );
    expect(collected).toEqual({ status: 'PENDING', response: null });
    expect(await rows('SELECT * FROM net._http_response')).toEqual([]);
    const extension = await one(
      `SELECT extnamespace::regnamespace::text AS schema FROM pg_extension WHERE extname = 'pg_net'`,
    );
    expect(extension.schema).toBe('extensions');
    expect(await member('pg_net', 'pg_namespace', `'net'::regnamespace`)).toBe(true);
    expect(await member('pg_net', 'pg_class', `'net.http_request_queue'::regclass`)).toBe(true);
    expect(await member('pg_net', 'pg_class', `'net._http_response'::regclass`)).toBe(true);
    expect(
      await member('pg_net', 'pg_proc', `'net.http_post(text,jsonb,jsonb,jsonb,integer)'::regprocedure`),
    ).toBe(true);
  });

  it('supabase_vault: create_secret, update_secret, and reading vault.decrypted_secrets', async () => {
    await createAsDumped('supabase_vault');
    await client.query(`
      CREATE FUNCTION public.service_key() RETURNS text LANGUAGE sql STABLE AS $$
        SELECT decrypted_secret FROM vault.decrypted_secrets WHERE name = 'service_key'
      $$;`);
    const created = await one<{ id: string }>(
      `SELECT vault.create_secret('s3cr3t', 'service_key', 'the key') AS id`,
    );
    expect(await one('SELECT public.service_key() AS key')).toEqual({ key: 's3cr3t' });
    await client.query(`SELECT vault.update_secret($1, new_secret := 'rotated')`, [created.id]);
    const secret = await one(
      'SELECT id, name, description, secret, decrypted_secret FROM vault.decrypted_secrets WHERE id = $1',
      [created.id],
    );
    expect(secret).toEqual({
      id: created.id,
      name: 'service_key',
      description: 'the key',
      secret: 'rotated',
      decrypted_secret: 'rotated',
    });
    await expect(client.query(`SELECT vault.create_secret('other', 'service_key')`)).rejects.toThrow(
      /duplicate key/,
    );
    expect(await member('supabase_vault', 'pg_class', `'vault.secrets'::regclass`)).toBe(true);
    expect(await member('supabase_vault', 'pg_class', `'vault.decrypted_secrets'::regclass`)).toBe(true);
    expect(
      await member('supabase_vault', 'pg_proc', `'vault.create_secret(text,text,text,uuid)'::regprocedure`),
    ).toBe(true);
    const config = await one(
      `SELECT extconfig::regclass[]::text[] AS tables FROM pg_extension WHERE extname = 'supabase_vault'`,
    );
    expect(config.tables).toEqual(['vault.secrets']);
  });

  it('pgsodium: a function that encrypts with crypto_aead_det_encrypt and a key from create_key', async () => {
    await createAsDumped('pgsodium');
    await client.query(`
      CREATE TABLE public.notes (id bigint PRIMARY KEY, body bytea, key_id uuid);
      CREATE FUNCTION public.encrypt_note() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.body := pgsodium.crypto_aead_det_encrypt(NEW.body, convert_to(NEW.id::text, 'utf8'), NEW.key_id);
        RETURN NEW;
      END $$;
      CREATE TRIGGER notes_encrypt BEFORE INSERT ON public.notes FOR EACH ROW EXECUTE FUNCTION public.encrypt_note();`);
    const key = await one<{ id: string; key_type: string; name: string }>(
      `SELECT id, key_type::text, name FROM pgsodium.create_key(name := 'notes')`,
    );
    expect(key).toMatchObject({ key_type: 'aead-det', name: 'notes' });
    await client.query(`INSERT INTO public.notes VALUES (1, convert_to('hello', 'utf8'), $1)`, [key.id]);
    const note = await one(
      `SELECT convert_from(pgsodium.crypto_aead_det_decrypt(body, convert_to(id::text, 'utf8'), key_id), 'utf8') AS body
         FROM public.notes`,
    );
    expect(note.body).toBe('hello');
    const generated =
      await one(`SELECT pgsodium.randombytes_buf(4) AS random, length(pgsodium.crypto_secretbox_keygen()) AS key,
        length(pgsodium.crypto_secretbox_noncegen()) AS nonce,
        pgsodium.crypto_secretbox_open(pgsodium.crypto_secretbox('\\x01', pgsodium.crypto_secretbox_noncegen(),
          pgsodium.crypto_secretbox_keygen()), pgsodium.crypto_secretbox_noncegen(), pgsodium.crypto_secretbox_keygen()) AS opened`);
    expect(generated).toEqual({
      random: Buffer.alloc(4),
      key: 32,
      nonce: 24,
      opened: Buffer.from([1]),
    });
    expect(await member('pgsodium', 'pg_class', `'pgsodium.key'::regclass`)).toBe(true);
    expect(
      await member(
        'pgsodium',
        'pg_proc',
        `'pgsodium.crypto_aead_det_encrypt(bytea,bytea,uuid,bytea)'::regprocedure`,
      ),
    ).toBe(true);
  });

  it('pg_graphql: graphql.resolve behind a graphql_public.graphql function as on Supabase', async () => {
    await createAsDumped('pg_graphql');
    await client.query(`
      CREATE SCHEMA graphql_public;
      CREATE FUNCTION graphql_public.graphql("operationName" text DEFAULT NULL, query text DEFAULT NULL,
          variables jsonb DEFAULT NULL, extensions jsonb DEFAULT NULL)
      RETURNS jsonb LANGUAGE sql AS $$
        SELECT graphql.resolve(query := query, variables := coalesce(variables, '{}'),
                               "operationName" := "operationName", extensions := extensions);
      $$;
      CREATE TABLE public.todos (id bigint PRIMARY KEY);
      COMMENT ON TABLE public.todos IS e'@graphql({"totalCount": {"enabled": true}})';`);
    expect(
      await one(
        `SELECT graphql_public.graphql(query := '{ todosCollection { edges { node { id } } } }') AS r`,
      ),
    ).toEqual({
      r: { data: null },
    });
    const directive = await one(
      `SELECT graphql.comment_directive(obj_description('public.todos'::regclass, 'pg_class')) AS d,
              graphql.comment_directive('no directive') AS none`,
    );
    expect(directive).toEqual({ d: { totalCount: { enabled: true } }, none: {} });
    await expect(client.query(`SELECT graphql.exception('bad input')`)).rejects.toThrow('bad input');
    expect(
      await member('pg_graphql', 'pg_proc', `'graphql.resolve(text,jsonb,text,jsonb)'::regprocedure`),
    ).toBe(true);
  });

  it('pgjwt: sign and verify in a function, and base64url encoding', async () => {
    await createAsDumped('pgjwt');
    await client.query(`
      CREATE FUNCTION public.make_token(sub text) RETURNS text LANGUAGE sql AS $$
        SELECT extensions.sign(json_build_object('sub', sub, 'role', 'authenticated', 'exp',
                               extract(epoch FROM now() + interval '1 hour')::bigint), 'jwt-secret')
      $$;`);
    const { token } = await one<{ token: string }>(`SELECT public.make_token('user-1') AS token`);
    expect(token.split('.')).toHaveLength(3);
    const header = JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString('utf8'));
    expect(header).toEqual({ alg: 'HS256', typ: 'JWT' });
    const verified = await one(`SELECT header, payload, valid FROM extensions.verify($1, 'jwt-secret')`, [
      token,
    ]);
    expect(verified).toMatchObject({
      header: { alg: 'HS256', typ: 'JWT' },
      payload: { sub: 'user-1' },
      valid: true,
    });
    expect(await one(`SELECT valid FROM extensions.verify($1, 'wrong')`, [token])).toEqual({ valid: false });
    const expired = await one(
      `SELECT valid FROM extensions.verify(extensions.sign('{"sub": "x", "exp": 1}', 's', 'HS512'), 's', 'HS512')`,
    );
    expect(expired.valid).toBe(false);
    const encoded = await one(
      `SELECT extensions.url_encode('\\xfbff'::bytea) AS encoded, extensions.url_decode('-_8') AS decoded,
              extensions.url_decode(extensions.url_encode('hello!'::bytea)) AS round_trip,
              extensions.try_cast_double('1.5') AS number, extensions.try_cast_double('x') AS nan`,
    );
    expect(encoded).toEqual({
      encoded: '-_8',
      decoded: Buffer.from([0xfb, 0xff]),
      round_trip: Buffer.from('hello!'),
      number: 1.5,
      nan: null,
    });
    expect(await member('pgjwt', 'pg_proc', `'extensions.sign(json,text,text)'::regprocedure`)).toBe(true);
  });

  it('http: http_get in a function returns a response with no status; urlencode encodes', async () => {
    await createAsDumped('http');
    await client.query(`
      CREATE FUNCTION public.fetch_status(url text) RETURNS integer LANGUAGE sql AS $$
        SELECT status FROM extensions.http_get(url)
      $$;
      CREATE FUNCTION public.post_json(url text, payload jsonb) RETURNS text LANGUAGE sql AS $$
        SELECT content FROM extensions.http(('POST', url, ARRAY[extensions.http_header('X-Key', 'k')],
                                             'application/json', payload::text)::extensions.http_request)
      $$;`);
    expect(await one(`SELECT public.fetch_status('https://example.com') AS status`)).toEqual({
      status: null,
    });
    expect(await one(`SELECT public.post_json('https://example.com', '{"a": 1}') AS content`)).toEqual({
      content: null,
    });
    const others = await one(
      `SELECT (extensions.http_post('https://e.com', 'x', 'text/plain')).status AS post,
              (extensions.http_post('https://e.com', '{"a": 1}'::jsonb)).status AS form,
              (extensions.http_put('https://e.com', 'x', 'text/plain')).status AS put,
              (extensions.http_patch('https://e.com', 'x', 'text/plain')).status AS patch,
              (extensions.http_delete('https://e.com')).status AS delete,
              (extensions.http_head('https://e.com')).status AS head,
              (extensions.http_get('https://e.com', '{"q": "x"}'::jsonb)).status AS get,
              extensions.http_set_curlopt('CURLOPT_TIMEOUT', '5') AS set,
              extensions.http_reset_curlopt() AS reset`,
    );
    expect(others).toEqual({
      post: null,
      form: null,
      put: null,
      patch: null,
      delete: null,
      head: null,
      get: null,
      set: true,
      reset: true,
    });
    const encoded = await one(
      `SELECT extensions.urlencode('a b&c/é~') AS text, extensions.urlencode('{"q": "x y", "n": 1}'::jsonb) AS data`,
    );
    expect(encoded).toEqual({ text: 'a%20b%26c%2F%C3%A9~', data: 'n=1&q=x%20y' });
    expect(await member('http', 'pg_type', `'extensions.http_response'::regtype`)).toBe(true);
    expect(await member('http', 'pg_proc', `'extensions.http_get(character varying)'::regprocedure`)).toBe(
      true,
    );
  });

  it('wrappers: a foreign table can be created, and reading it fails cleanly', async () => {
    await createAsDumped('wrappers');
    // Only a superuser creates a foreign data wrapper (on Supabase too, through supabase_admin).
    await asSuperuser(`
      CREATE FOREIGN DATA WRAPPER stripe_wrapper HANDLER extensions.stripe_fdw_handler VALIDATOR extensions.stripe_fdw_validator;
      GRANT USAGE ON FOREIGN DATA WRAPPER stripe_wrapper TO postgres;`);
    await client.query(`
      CREATE SERVER stripe_server FOREIGN DATA WRAPPER stripe_wrapper OPTIONS (api_key 'sk_test_x', api_url 'https://api.stripe.com/v1');
      CREATE SCHEMA stripe;
      CREATE FOREIGN TABLE stripe.customers (id text, email text, attrs jsonb)
        SERVER stripe_server OPTIONS (object 'customers', rowid_column 'id');`);
    await expect(client.query('SELECT * FROM stripe.customers')).rejects.toThrow(
      /did not return an FdwRoutine struct/,
    );
    expect(await one('SELECT 1 AS alive')).toEqual({ alive: 1 });
    const meta = await one('SELECT name, version FROM extensions.stripe_fdw_meta()');
    expect(meta).toEqual({ name: 'stripe_fdw', version: '0.5.0' });
    expect(await member('wrappers', 'pg_proc', `'extensions.stripe_fdw_handler()'::regprocedure`)).toBe(true);
    expect(
      await member('wrappers', 'pg_proc', `'extensions.click_house_fdw_validator(text[],oid)'::regprocedure`),
    ).toBe(true);
  });

  it('pg_cron: cron.schedule keeps jobs in cron.job', async () => {
    await createAsDumped('pg_cron');
    await client.query(`
      CREATE TABLE public.logs (at timestamptz);
      SELECT cron.schedule('purge-logs', '0 3 * * *', $$DELETE FROM public.logs WHERE at < now() - interval '7 days'$$);
      SELECT cron.schedule('*/5 * * * *', 'SELECT 1');`);
    expect(await rows('SELECT jobname, schedule, username FROM cron.job ORDER BY jobid')).toEqual([
      { jobname: 'purge-logs', schedule: '0 3 * * *', username: 'postgres' },
      { jobname: null, schedule: '*/5 * * * *', username: 'postgres' },
    ]);
    await client.query(`SELECT cron.unschedule('purge-logs')`);
    expect(await rows('SELECT jobname FROM cron.job')).toEqual([{ jobname: null }]);
    expect(await member('pg_cron', 'pg_class', `'cron.job'::regclass`)).toBe(true);
    expect(await member('pg_cron', 'pg_namespace', `'cron'::regnamespace`)).toBe(true);
  });

  it('vector: a vector(1536) column, an hnsw index and a matching function using <=>', async () => {
    await createAsDumped('vector');
    await client.query(`
      SET search_path = public, extensions;
      CREATE TABLE public.documents (id bigint PRIMARY KEY, content text, embedding vector(1536));
      CREATE INDEX documents_embedding_idx ON public.documents USING hnsw (embedding vector_cosine_ops);
      CREATE FUNCTION public.match_documents(query_embedding vector(1536), match_count int)
      RETURNS TABLE (id bigint, content text, similarity float) LANGUAGE sql STABLE AS $$
        SELECT d.id, d.content, 1 - (d.embedding <=> query_embedding) AS similarity
          FROM public.documents d
         ORDER BY d.embedding <=> query_embedding
         LIMIT match_count
      $$;
      INSERT INTO public.documents
        SELECT 1, 'hello', array_agg(0.5::float4)::vector FROM generate_series(1, 1536);`);
    const matches = await rows(
      `SELECT id, content, similarity FROM public.match_documents(
         (SELECT array_agg(0.25::float4)::vector FROM generate_series(1, 1536)), 5)`,
    );
    expect(matches).toEqual([{ id: '1', content: 'hello', similarity: 1 }]);
    expect(
      await one(`SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute
                       WHERE attrelid = 'public.documents'::regclass AND attname = 'embedding'`),
    ).toEqual({
      type: 'vector(1536)',
    });
    expect(await member('vector', 'pg_type', `'extensions.vector'::regtype`)).toBe(true);
    expect(await member('vector', 'pg_am', `(SELECT oid FROM pg_am WHERE amname = 'hnsw')`)).toBe(true);
  });

  it('lets postgres create the contrib extensions Supabase lets it create, and no others', async () => {
    await client.query('CREATE EXTENSION moddatetime WITH SCHEMA extensions');
    await client.query('CREATE EXTENSION pg_stat_statements WITH SCHEMA extensions');
    await client.query(`CREATE TABLE public.items (id int, updated_at timestamptz);
      CREATE TRIGGER handle_updated_at BEFORE UPDATE ON public.items
        FOR EACH ROW EXECUTE PROCEDURE extensions.moddatetime(updated_at);
      INSERT INTO public.items VALUES (1, '2020-01-01'); UPDATE public.items SET id = 2;`);
    const [item] = await rows<{ recent: boolean }>(
      `SELECT updated_at > now() - interval '1 minute' AS recent FROM public.items`,
    );
    expect(item).toEqual({ recent: true });
    await expect(client.query('CREATE EXTENSION dblink')).rejects.toThrow(
      'permission denied to create extension "dblink"',
    );
    await expect(client.query('CREATE EXTENSION postgres_fdw')).rejects.toThrow('permission denied');
  });

  it('refuses to be installed in a system schema', async () => {
    await expect(client.query('CREATE EXTENSION vector WITH SCHEMA pg_catalog')).rejects.toThrow(
      'the stand-in for vector cannot be installed in the system schema pg_catalog',
    );
    expect(await rows(`SELECT 1 FROM pg_extension WHERE extname = 'vector'`)).toEqual([]);
  });

  it('creates every stand-in in one database, and dropping them leaves nothing of theirs', async () => {
    const objects = () =>
      rows<{ schema: string; relations: number; functions: number; types: number }>(
        `SELECT n.nspname AS schema,
                (SELECT count(*)::int FROM pg_class c WHERE c.relnamespace = n.oid) AS relations,
                (SELECT count(*)::int FROM pg_proc p WHERE p.pronamespace = n.oid) AS functions,
                (SELECT count(*)::int FROM pg_type t WHERE t.typnamespace = n.oid) AS types
           FROM pg_namespace n
          WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
          ORDER BY n.nspname`,
      );
    const before = await objects();
    for (const standIn of STAND_INS) await createAsDumped(standIn.name);
    const installed = await rows<{ extname: string }>(
      `SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY extname`,
    );
    expect(installed.map((row) => row.extname)).toEqual(STAND_INS.map((standIn) => standIn.name).sort());
    await asSuperuser(
      'CREATE FOREIGN DATA WRAPPER s3_wrapper HANDLER extensions.s3_fdw_handler VALIDATOR extensions.s3_fdw_validator',
    );
    await client.query(
      `DROP EXTENSION ${STAND_INS.map((standIn) => `"${standIn.name}"`).join(', ')} CASCADE`,
    );
    // Left: the schemas the migration created for WITH SCHEMA (vault, pgsodium, graphql), empty.
    const empty = { relations: 0, functions: 0, types: 0 };
    expect(await objects()).toEqual(
      [
        ...before,
        { schema: 'graphql', ...empty },
        { schema: 'pgsodium', ...empty },
        { schema: 'vault', ...empty },
      ].sort((a, b) => a.schema.localeCompare(b.schema)),
    );
    expect(await rows(`SELECT amname FROM pg_am WHERE amname IN ('hnsw', 'ivfflat')`)).toEqual([]);
    expect(await rows('SELECT fdwname FROM pg_foreign_data_wrapper')).toEqual([]);
  });
});
