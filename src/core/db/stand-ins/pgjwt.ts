import type { StandIn } from './stand-in.js';

/**
 * pgjwt: `sign`, `verify`, `algorithm_sign`, `url_encode`, `url_decode` and `try_cast_double`
 * in the extension's schema (`extensions` on Supabase). url_encode and url_decode are real
 * base64url; tokens are JWT-shaped and `verify` checks them against `sign` (and `exp`/`nbf`),
 * but the signature is a SHA-2 digest of the secret and the signed text, not an HMAC: a token
 * made here does not verify anywhere else, nor one made elsewhere here.
 */
const OP = (op: string) => `OPERATOR(pg_catalog.${op})`;

export const pgjwt: StandIn = {
  name: 'pgjwt',
  version: '0.2.0',
  cannotPredict: 'token signatures (not real HMAC: tokens do not verify outside the shadow)',
  script: `
CREATE FUNCTION @extschema@.url_encode(data pg_catalog.bytea) RETURNS pg_catalog.text
LANGUAGE sql IMMUTABLE AS $$
  SELECT pg_catalog.translate(pg_catalog.encode($1, 'base64'), E'+/=\\n', '-_')
$$;

-- Base64url back to bytes: the URL-safe letters back to +/, padded to a multiple of 4.
CREATE FUNCTION @extschema@.url_decode(data pg_catalog.text) RETURNS pg_catalog.bytea
LANGUAGE sql IMMUTABLE AS $$
  SELECT pg_catalog.decode(
    pg_catalog.rpad(t, ((pg_catalog.length(t) ${OP('+')} 3) ${OP('/')} 4) ${OP('*')} 4, '='),
    'base64')
    FROM (SELECT pg_catalog.translate($1, '-_', '+/') AS t) d
$$;

-- Not an HMAC: a SHA-2 digest of the secret and the signed text (see cannotPredict).
CREATE FUNCTION @extschema@.algorithm_sign(signables pg_catalog.text, secret pg_catalog.text, algorithm pg_catalog.text)
RETURNS pg_catalog.text LANGUAGE sql IMMUTABLE AS $$
  SELECT @extschema@.url_encode(CASE
      WHEN $3 ${OP('=')} 'HS256' THEN pg_catalog.sha256(m)
      WHEN $3 ${OP('=')} 'HS384' THEN pg_catalog.sha384(m)
      WHEN $3 ${OP('=')} 'HS512' THEN pg_catalog.sha512(m)
    END)
    FROM (SELECT pg_catalog.convert_to($2 ${OP('||')} '.' ${OP('||')} $1, 'UTF8') AS m) d
$$;

CREATE FUNCTION @extschema@.sign(payload pg_catalog.json, secret pg_catalog.text, algorithm pg_catalog.text DEFAULT 'HS256')
RETURNS pg_catalog.text LANGUAGE sql IMMUTABLE AS $$
  SELECT signables ${OP('||')} '.' ${OP('||')} @extschema@.algorithm_sign(signables, $2, $3)
    FROM (SELECT
      @extschema@.url_encode(pg_catalog.convert_to(CAST(pg_catalog.json_build_object('alg', $3, 'typ', 'JWT') AS pg_catalog.text), 'UTF8'))
      ${OP('||')} '.' ${OP('||')}
      @extschema@.url_encode(pg_catalog.convert_to(CAST($1 AS pg_catalog.text), 'UTF8')) AS signables) d
$$;

CREATE FUNCTION @extschema@.try_cast_double(inp pg_catalog.text) RETURNS pg_catalog.float8
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN CAST(inp AS pg_catalog.float8);
EXCEPTION WHEN OTHERS THEN
  RETURN NULL;
END
$$;

CREATE FUNCTION @extschema@.verify(token pg_catalog.text, secret pg_catalog.text, algorithm pg_catalog.text DEFAULT 'HS256')
RETURNS TABLE(header pg_catalog.json, payload pg_catalog.json, valid pg_catalog.bool) LANGUAGE sql STABLE AS $$
  SELECT p.header, p.payload,
         p.signature ${OP('=')} @extschema@.algorithm_sign(p.signables, $2, $3)
         AND COALESCE(pg_catalog.now() ${OP('<')} pg_catalog.to_timestamp(@extschema@.try_cast_double(p.payload ${OP('->>')} 'exp')), true)
         AND COALESCE(pg_catalog.now() ${OP('>=')} pg_catalog.to_timestamp(@extschema@.try_cast_double(p.payload ${OP('->>')} 'nbf')), true)
    FROM (SELECT
      CAST(pg_catalog.convert_from(@extschema@.url_decode(pg_catalog.split_part($1, '.', 1)), 'UTF8') AS pg_catalog.json) AS header,
      CAST(pg_catalog.convert_from(@extschema@.url_decode(pg_catalog.split_part($1, '.', 2)), 'UTF8') AS pg_catalog.json) AS payload,
      pg_catalog.split_part($1, '.', 1) ${OP('||')} '.' ${OP('||')} pg_catalog.split_part($1, '.', 2) AS signables,
      pg_catalog.split_part($1, '.', 3) AS signature) p
$$;
`,
};
