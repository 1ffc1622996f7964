import type { StandIn } from './stand-in.js';

/**
 * supabase_vault: `vault.secrets` (kept in backups, as Vault's is), the
 * `vault.decrypted_secrets` view, and `vault.create_secret` / `vault.update_secret`. The secret
 * is stored as given and "decrypted" as itself: the shadow is thrown away. Like Vault, the
 * extension must live in the `vault` schema.
 */
export const vault: StandIn = {
  name: 'supabase_vault',
  version: '0.3.1',
  schema: 'vault',
  cannotPredict: 'encryption of secrets (stored as given)',
  script: `
CREATE TABLE vault.secrets (
  id pg_catalog.uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
  name pg_catalog.text,
  description pg_catalog.text NOT NULL DEFAULT '',
  secret pg_catalog.text NOT NULL,
  key_id pg_catalog.uuid,
  nonce pg_catalog.bytea,
  created_at pg_catalog.timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at pg_catalog.timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX secrets_name_idx ON vault.secrets (name) WHERE name IS NOT NULL;
SELECT pg_catalog.pg_extension_config_dump('vault.secrets', '');

CREATE VIEW vault.decrypted_secrets AS
  SELECT s.id, s.name, s.description, s.secret, s.secret AS decrypted_secret,
         s.key_id, s.nonce, s.created_at, s.updated_at
    FROM vault.secrets s;

GRANT USAGE ON SCHEMA vault TO PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON vault.secrets TO PUBLIC;
GRANT SELECT ON vault.decrypted_secrets TO PUBLIC;

CREATE FUNCTION vault.create_secret(
  new_secret pg_catalog.text,
  new_name pg_catalog.text DEFAULT NULL,
  new_description pg_catalog.text DEFAULT '',
  new_key_id pg_catalog.uuid DEFAULT NULL
) RETURNS pg_catalog.uuid LANGUAGE sql AS $$
  INSERT INTO vault.secrets (secret, name, description, key_id)
  VALUES ($1, $2, COALESCE($3, ''), $4)
  RETURNING id
$$;
CREATE FUNCTION vault.update_secret(
  secret_id pg_catalog.uuid,
  new_secret pg_catalog.text DEFAULT NULL,
  new_name pg_catalog.text DEFAULT NULL,
  new_description pg_catalog.text DEFAULT NULL,
  new_key_id pg_catalog.uuid DEFAULT NULL
) RETURNS void LANGUAGE sql AS $$
  UPDATE vault.secrets s SET
    secret = COALESCE($2, s.secret),
    name = COALESCE($3, s.name),
    description = COALESCE($4, s.description),
    key_id = COALESCE($5, s.key_id),
    updated_at = CURRENT_TIMESTAMP
   WHERE s.id OPERATOR(pg_catalog.=) $1
$$;
`,
};
