import type { StandIn } from './stand-in.js';

/**
 * pg_net: the `net` schema (created by the script, so it goes with the extension), the request
 * queue and response tables, and `net.http_get`, `net.http_post`, `net.http_delete` and
 * `net.http_collect_response`. A request only adds a row to `net.http_request_queue` and
 * returns its id: nothing is sent, so no response ever arrives and collecting one says PENDING.
 */
export const pgNet: StandIn = {
  name: 'pg_net',
  version: '0.14.0',
  cannotPredict: 'the responses of HTTP requests (none is sent)',
  script: `
CREATE SCHEMA IF NOT EXISTS net;
GRANT USAGE ON SCHEMA net TO PUBLIC;

CREATE TYPE net.request_status AS ENUM ('PENDING', 'SUCCESS', 'ERROR');
CREATE TYPE net.http_response AS (
  status_code pg_catalog.int4,
  headers pg_catalog.jsonb,
  body pg_catalog.text
);
CREATE TYPE net.http_response_result AS (
  status net.request_status,
  message pg_catalog.text,
  response net.http_response
);

CREATE TABLE net.http_request_queue (
  id bigserial PRIMARY KEY,
  method pg_catalog.text NOT NULL,
  url pg_catalog.text NOT NULL,
  headers pg_catalog.jsonb NOT NULL,
  body pg_catalog.bytea,
  timeout_milliseconds pg_catalog.int4 NOT NULL
);
CREATE TABLE net._http_response (
  id pg_catalog.int8,
  status_code pg_catalog.int4,
  content_type pg_catalog.text,
  headers pg_catalog.jsonb,
  content pg_catalog.text,
  timed_out pg_catalog.bool,
  error_msg pg_catalog.text,
  created pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now()
);
GRANT SELECT, INSERT ON net.http_request_queue TO PUBLIC;
GRANT SELECT ON net._http_response TO PUBLIC;
GRANT USAGE ON SEQUENCE net.http_request_queue_id_seq TO PUBLIC;

CREATE FUNCTION net.http_get(
  url pg_catalog.text,
  params pg_catalog.jsonb DEFAULT '{}'::pg_catalog.jsonb,
  headers pg_catalog.jsonb DEFAULT '{}'::pg_catalog.jsonb,
  timeout_milliseconds pg_catalog.int4 DEFAULT 5000
) RETURNS pg_catalog.int8 LANGUAGE sql AS $$
  INSERT INTO net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  VALUES ('GET', $1, COALESCE($3, '{}'::pg_catalog.jsonb), NULL, COALESCE($4, 5000))
  RETURNING id
$$;
CREATE FUNCTION net.http_post(
  url pg_catalog.text,
  body pg_catalog.jsonb DEFAULT '{}'::pg_catalog.jsonb,
  params pg_catalog.jsonb DEFAULT '{}'::pg_catalog.jsonb,
  headers pg_catalog.jsonb DEFAULT '{"Content-Type": "application/json"}'::pg_catalog.jsonb,
  timeout_milliseconds pg_catalog.int4 DEFAULT 5000
) RETURNS pg_catalog.int8 LANGUAGE sql AS $$
  INSERT INTO net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  VALUES ('POST', $1, COALESCE($4, '{}'::pg_catalog.jsonb),
          pg_catalog.convert_to(CAST($2 AS pg_catalog.text), 'UTF8'), COALESCE($5, 5000))
  RETURNING id
$$;
CREATE FUNCTION net.http_delete(
  url pg_catalog.text,
  params pg_catalog.jsonb DEFAULT '{}'::pg_catalog.jsonb,
  headers pg_catalog.jsonb DEFAULT '{}'::pg_catalog.jsonb,
  timeout_milliseconds pg_catalog.int4 DEFAULT 5000
) RETURNS pg_catalog.int8 LANGUAGE sql AS $$
  INSERT INTO net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  VALUES ('DELETE', $1, COALESCE($3, '{}'::pg_catalog.jsonb), NULL, COALESCE($4, 5000))
  RETURNING id
$$;
CREATE FUNCTION net.http_collect_response(request_id pg_catalog.int8, async pg_catalog.bool DEFAULT true)
RETURNS net.http_response_result LANGUAGE sql STABLE AS $$
  SELECT CAST(ROW('PENDING', 'request is pending', NULL) AS net.http_response_result)
$$;
`,
};
