import type { StandIn } from './stand-in.js';

/**
 * pgsodium: the `pgsodium.key` table with its key types and statuses, `pgsodium.create_key`,
 * and the functions migrations most often call (deterministic AEAD, secretbox, random bytes,
 * key and nonce generation). Nothing is encrypted: "encryption" returns the message as it is,
 * keys and nonces are zero bytes of the right length. Like pgsodium, the extension must live
 * in the `pgsodium` schema. Transparent column encryption (SECURITY LABEL FOR pgsodium) is not
 * provided.
 */
const ZEROS = (bytes: number) => `pg_catalog.decode(pg_catalog.repeat('00', ${bytes}), 'hex')`;

const FN = 'LANGUAGE sql';

export const pgsodium: StandIn = {
  name: 'pgsodium',
  version: '3.1.8',
  schema: 'pgsodium',
  cannotPredict: 'encryption and key handling (values are stored and returned unencrypted)',
  script: `
CREATE TYPE pgsodium.key_status AS ENUM ('default', 'valid', 'invalid', 'expired');
CREATE TYPE pgsodium.key_type AS ENUM ('aead-ietf', 'aead-det', 'hmacsha512', 'hmacsha256', 'auth',
  'shorthash', 'generichash', 'kdf', 'secretbox', 'secretstream', 'stream_xchacha20');

CREATE SEQUENCE pgsodium.key_key_id_seq;
CREATE TABLE pgsodium.key (
  id pg_catalog.uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
  name pg_catalog.text UNIQUE,
  status pgsodium.key_status DEFAULT 'valid',
  key_type pgsodium.key_type,
  key_id pg_catalog.int8 DEFAULT pg_catalog.nextval('pgsodium.key_key_id_seq'),
  key_context pg_catalog.bytea DEFAULT 'pgsodium',
  created pg_catalog.timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
  expires pg_catalog.timestamptz,
  associated_data pg_catalog.text DEFAULT 'associated',
  raw_key pg_catalog.bytea,
  raw_key_nonce pg_catalog.bytea,
  parent_key pg_catalog.uuid REFERENCES pgsodium.key (id),
  comment pg_catalog.text,
  user_data pg_catalog.text
);
ALTER SEQUENCE pgsodium.key_key_id_seq OWNED BY pgsodium.key.key_id;
SELECT pg_catalog.pg_extension_config_dump('pgsodium.key', '');
SELECT pg_catalog.pg_extension_config_dump('pgsodium.key_key_id_seq', '');

GRANT USAGE ON SCHEMA pgsodium TO PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON pgsodium.key TO PUBLIC;
GRANT USAGE ON SEQUENCE pgsodium.key_key_id_seq TO PUBLIC;

CREATE FUNCTION pgsodium.create_key(
  key_type pgsodium.key_type DEFAULT 'aead-det',
  name pg_catalog.text DEFAULT NULL,
  raw_key pg_catalog.bytea DEFAULT NULL,
  raw_key_nonce pg_catalog.bytea DEFAULT NULL,
  parent_key pg_catalog.uuid DEFAULT NULL,
  key_context pg_catalog.bytea DEFAULT 'pgsodium',
  expires pg_catalog.timestamptz DEFAULT NULL,
  associated_data pg_catalog.text DEFAULT ''
) RETURNS pgsodium.key ${FN} AS $$
  INSERT INTO pgsodium.key (key_type, name, raw_key, raw_key_nonce, parent_key, key_context, expires, associated_data)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
  RETURNING *
$$;

CREATE FUNCTION pgsodium.randombytes_buf(size pg_catalog.int4) RETURNS pg_catalog.bytea ${FN} AS $$
  SELECT pg_catalog.decode(pg_catalog.repeat('00', $1), 'hex')
$$;
CREATE FUNCTION pgsodium.crypto_aead_det_keygen() RETURNS pg_catalog.bytea ${FN} AS $$ SELECT ${ZEROS(32)} $$;
CREATE FUNCTION pgsodium.crypto_aead_det_noncegen() RETURNS pg_catalog.bytea ${FN} AS $$ SELECT ${ZEROS(16)} $$;
CREATE FUNCTION pgsodium.crypto_aead_det_encrypt(message pg_catalog.bytea, additional pg_catalog.bytea,
  key_uuid pg_catalog.uuid, nonce pg_catalog.bytea DEFAULT NULL) RETURNS pg_catalog.bytea ${FN} AS $$ SELECT $1 $$;
CREATE FUNCTION pgsodium.crypto_aead_det_decrypt(message pg_catalog.bytea, additional pg_catalog.bytea,
  key_uuid pg_catalog.uuid, nonce pg_catalog.bytea DEFAULT NULL) RETURNS pg_catalog.bytea ${FN} AS $$ SELECT $1 $$;
CREATE FUNCTION pgsodium.crypto_aead_det_encrypt(message pg_catalog.bytea, additional pg_catalog.bytea,
  key pg_catalog.bytea, nonce pg_catalog.bytea DEFAULT NULL) RETURNS pg_catalog.bytea ${FN} AS $$ SELECT $1 $$;
CREATE FUNCTION pgsodium.crypto_aead_det_decrypt(message pg_catalog.bytea, additional pg_catalog.bytea,
  key pg_catalog.bytea, nonce pg_catalog.bytea DEFAULT NULL) RETURNS pg_catalog.bytea ${FN} AS $$ SELECT $1 $$;
CREATE FUNCTION pgsodium.crypto_aead_det_encrypt(message pg_catalog.bytea, additional pg_catalog.bytea,
  key_id pg_catalog.int8, context pg_catalog.bytea DEFAULT 'pgsodium', nonce pg_catalog.bytea DEFAULT NULL)
  RETURNS pg_catalog.bytea ${FN} AS $$ SELECT $1 $$;
CREATE FUNCTION pgsodium.crypto_aead_det_decrypt(message pg_catalog.bytea, additional pg_catalog.bytea,
  key_id pg_catalog.int8, context pg_catalog.bytea DEFAULT 'pgsodium', nonce pg_catalog.bytea DEFAULT NULL)
  RETURNS pg_catalog.bytea ${FN} AS $$ SELECT $1 $$;

CREATE FUNCTION pgsodium.crypto_secretbox_keygen() RETURNS pg_catalog.bytea ${FN} AS $$ SELECT ${ZEROS(32)} $$;
CREATE FUNCTION pgsodium.crypto_secretbox_noncegen() RETURNS pg_catalog.bytea ${FN} AS $$ SELECT ${ZEROS(24)} $$;
CREATE FUNCTION pgsodium.crypto_secretbox(message pg_catalog.bytea, nonce pg_catalog.bytea, key pg_catalog.bytea)
  RETURNS pg_catalog.bytea ${FN} AS $$ SELECT $1 $$;
CREATE FUNCTION pgsodium.crypto_secretbox_open(ciphertext pg_catalog.bytea, nonce pg_catalog.bytea, key pg_catalog.bytea)
  RETURNS pg_catalog.bytea ${FN} AS $$ SELECT $1 $$;
CREATE FUNCTION pgsodium.crypto_secretbox(message pg_catalog.bytea, nonce pg_catalog.bytea, key_uuid pg_catalog.uuid)
  RETURNS pg_catalog.bytea ${FN} AS $$ SELECT $1 $$;
CREATE FUNCTION pgsodium.crypto_secretbox_open(message pg_catalog.bytea, nonce pg_catalog.bytea, key_uuid pg_catalog.uuid)
  RETURNS pg_catalog.bytea ${FN} AS $$ SELECT $1 $$;
`,
};
