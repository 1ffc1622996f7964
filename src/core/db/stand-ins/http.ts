import type { StandIn } from './stand-in.js';

/**
 * http (pgsql-http): the `http_method`, `http_header`, `http_request` and `http_response` types,
 * `http()` and the per-method helpers, `http_header()`, `urlencode()` and the curl option
 * functions, in the extension's schema (`extensions` on Supabase). No request is made: every
 * request returns a response whose fields (status included) are NULL. urlencode really
 * percent-encodes.
 */
const OP = (op: string) => `OPERATOR(pg_catalog.${op})`;
const V = 'pg_catalog.varchar';

/** A helper that makes the request `http()` would: method, uri, content and content type. */
function request(
  name: string,
  method: string,
  args: string,
  uri: string,
  content = 'NULL',
  type = 'NULL',
): string {
  return `CREATE FUNCTION @extschema@.${name}(${args}) RETURNS @extschema@.http_response LANGUAGE sql AS $$
  SELECT @extschema@.http(CAST(ROW('${method}', ${uri}, NULL, ${type}, ${content}) AS @extschema@.http_request))
$$;`;
}

export const http: StandIn = {
  name: 'http',
  version: '1.6',
  cannotPredict: 'the responses of HTTP requests (none is made; each returns a NULL status)',
  script: `
CREATE DOMAIN @extschema@.http_method AS pg_catalog.text;
CREATE TYPE @extschema@.http_header AS (field ${V}, value ${V});
CREATE TYPE @extschema@.http_request AS (
  method @extschema@.http_method,
  uri ${V},
  headers @extschema@.http_header[],
  content_type ${V},
  content ${V}
);
CREATE TYPE @extschema@.http_response AS (
  status pg_catalog.int4,
  content_type ${V},
  headers @extschema@.http_header[],
  content ${V}
);

CREATE FUNCTION @extschema@.http_header(field ${V}, value ${V}) RETURNS @extschema@.http_header
LANGUAGE sql IMMUTABLE AS $$
  SELECT CAST(ROW($1, $2) AS @extschema@.http_header)
$$;

-- Percent-encoding as curl does it: every byte of the UTF-8 text but A-Z a-z 0-9 - . _ ~
CREATE FUNCTION @extschema@.urlencode(string ${V}) RETURNS pg_catalog.text LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT COALESCE(pg_catalog.string_agg(
           CASE WHEN pg_catalog.chr(b) ${OP('~')} '^[A-Za-z0-9._~-]$' THEN pg_catalog.chr(b)
                ELSE '%' ${OP('||')} pg_catalog.upper(pg_catalog.lpad(pg_catalog.to_hex(b), 2, '0')) END,
           '' ORDER BY i), '')
    FROM (SELECT i, pg_catalog.get_byte(s, i) AS b
            FROM (SELECT pg_catalog.convert_to($1, 'UTF8') AS s) t,
                 pg_catalog.generate_series(0, pg_catalog.length(s) ${OP('-')} 1) AS i) bytes
$$;
CREATE FUNCTION @extschema@.urlencode(data pg_catalog.jsonb) RETURNS pg_catalog.text LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT COALESCE(pg_catalog.string_agg(
           @extschema@.urlencode(CAST(e.key AS ${V})) ${OP('||')} '=' ${OP('||')} @extschema@.urlencode(CAST(COALESCE(e.value, '') AS ${V})),
           '&'), '')
    FROM pg_catalog.jsonb_each_text($1) AS e
$$;

CREATE FUNCTION @extschema@.http(request @extschema@.http_request) RETURNS @extschema@.http_response
LANGUAGE sql AS $$
  SELECT CAST(ROW(NULL, NULL, NULL, NULL) AS @extschema@.http_response)
$$;
${request('http_get', 'GET', `uri ${V}`, '$1')}
${request('http_get', 'GET', `uri ${V}, data pg_catalog.jsonb`, `$1 ${OP('||')} '?' ${OP('||')} @extschema@.urlencode($2)`)}
${request('http_post', 'POST', `uri ${V}, content ${V}, content_type ${V}`, '$1', '$2', '$3')}
${request('http_post', 'POST', `uri ${V}, data pg_catalog.jsonb`, '$1', '@extschema@.urlencode($2)', "'application/x-www-form-urlencoded'")}
${request('http_put', 'PUT', `uri ${V}, content ${V}, content_type ${V}`, '$1', '$2', '$3')}
${request('http_patch', 'PATCH', `uri ${V}, content ${V}, content_type ${V}`, '$1', '$2', '$3')}
${request('http_delete', 'DELETE', `uri ${V}`, '$1')}
${request('http_delete', 'DELETE', `uri ${V}, content ${V}, content_type ${V}`, '$1', '$2', '$3')}
${request('http_head', 'HEAD', `uri ${V}`, '$1')}

-- Curl options: accepted and forgotten (no request is made with them).
CREATE FUNCTION @extschema@.http_set_curlopt(curlopt ${V}, value ${V}) RETURNS pg_catalog.bool LANGUAGE sql AS $$
  SELECT true
$$;
CREATE FUNCTION @extschema@.http_reset_curlopt() RETURNS pg_catalog.bool LANGUAGE sql AS $$
  SELECT true
$$;
CREATE FUNCTION @extschema@.http_list_curlopt() RETURNS TABLE(curlopt pg_catalog.text, value pg_catalog.text)
LANGUAGE sql AS $$
  SELECT NULL::pg_catalog.text, NULL::pg_catalog.text WHERE false
$$;
`,
};
