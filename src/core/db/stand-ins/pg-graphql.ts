import type { StandIn } from './stand-in.js';

/**
 * pg_graphql: `graphql.resolve` (what Supabase's `graphql_public.graphql` calls), with
 * `graphql.comment_directive` and `graphql.exception`. No GraphQL schema is built, so every
 * query resolves to `{"data": null}`. Like pg_graphql, the extension must live in the `graphql`
 * schema.
 */
export const pgGraphql: StandIn = {
  name: 'pg_graphql',
  version: '1.5.11',
  schema: 'graphql',
  cannotPredict: 'the results of GraphQL queries (each resolves to null data)',
  script: `
GRANT USAGE ON SCHEMA graphql TO PUBLIC;

CREATE FUNCTION graphql.resolve(
  query pg_catalog.text,
  variables pg_catalog.jsonb DEFAULT '{}'::pg_catalog.jsonb,
  "operationName" pg_catalog.text DEFAULT NULL,
  extensions pg_catalog.jsonb DEFAULT NULL
) RETURNS pg_catalog.jsonb LANGUAGE sql AS $$
  SELECT '{"data": null}'::pg_catalog.jsonb
$$;

-- The JSON inside a comment's @graphql(...) directive, or {} when there is none.
CREATE FUNCTION graphql.comment_directive(comment_ pg_catalog.text) RETURNS pg_catalog.jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT COALESCE(CAST(pg_catalog.substring($1, '@graphql\\((.+)\\)') AS pg_catalog.jsonb), '{}'::pg_catalog.jsonb)
$$;

CREATE FUNCTION graphql.exception(message pg_catalog.text) RETURNS pg_catalog.text LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING MESSAGE = message;
END
$$;
`,
};
