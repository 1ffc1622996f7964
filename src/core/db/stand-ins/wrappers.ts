import type { StandIn } from './stand-in.js';

/**
 * wrappers (Supabase Wrappers): for each foreign data wrapper it ships, the handler, validator
 * and meta functions (`stripe_fdw_handler`, `stripe_fdw_validator`, `stripe_fdw_meta`…) in the
 * extension's schema (`extensions` on Supabase), so `CREATE FOREIGN DATA WRAPPER … HANDLER …
 * VALIDATOR …`, `CREATE SERVER` and `CREATE FOREIGN TABLE` run. The validator accepts any options.
 *
 * The handler is the built-in `pg_is_in_recovery` under another name: on a primary it returns
 * false, which as a pointer is NULL, so a query on a foreign table fails cleanly with
 * "foreign-data wrapper handler function … did not return an FdwRoutine struct" before anything
 * is read or sent anywhere.
 */
const WRAPPERS = [
  'stripe',
  'firebase',
  'airtable',
  's3',
  'click_house',
  'big_query',
  'logflare',
  'auth0',
  'cognito',
  'mssql',
  'redis',
  'wasm',
] as const;

function wrapperScript(wrapper: string): string {
  const fdw = `@extschema@.${wrapper}_fdw`;
  return `
CREATE FUNCTION ${fdw}_handler() RETURNS pg_catalog.fdw_handler LANGUAGE internal STRICT AS 'pg_is_in_recovery';
CREATE FUNCTION ${fdw}_validator(options pg_catalog.text[], catalog pg_catalog.oid) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
END
$$;
CREATE FUNCTION ${fdw}_meta() RETURNS TABLE(name pg_catalog.text, version pg_catalog.text, author pg_catalog.text, website pg_catalog.text)
LANGUAGE sql AS $$
  SELECT '${wrapper}_fdw'::pg_catalog.text, '0.5.0'::pg_catalog.text, 'supagate stand-in'::pg_catalog.text, NULL::pg_catalog.text
$$;`;
}

export const wrappers: StandIn = {
  name: 'wrappers',
  version: '0.5.0',
  cannotPredict: 'reading foreign tables (queries on them fail in the shadow)',
  script: WRAPPERS.map(wrapperScript).join('\n'),
};
