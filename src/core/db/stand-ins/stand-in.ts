import type { ExtensionFile } from '../embedded-installation.js';

/**
 * A stand-in for a Supabase platform extension the embedded server does not have: a real
 * extension (control file and SQL script in the server's private extension directory, see
 * embedded-installation.ts) that creates the schemas, types, functions and tables migrations
 * use, with the same names and signatures, and no behaviour beyond keeping rows: nothing is
 * sent anywhere, nothing is scheduled, nothing is encrypted.
 *
 * Each is trusted, so the migrations' role (not a superuser, like Supabase's postgres) can
 * create it as Supabase lets it; the script then runs as the bootstrap superuser, so it names
 * every object with its schema (`@extschema@`, `pg_catalog`) and never runs what it is given.
 * Its objects belong to the extension: introspection leaves them out, as it does the real
 * extension's, so they never show as changes or drift.
 */
export interface StandIn {
  name: string;
  /** The version the control file offers: the one Supabase ships at the time of writing. */
  version: string;
  /** A schema the extension must live in (`pg_catalog` for pg_cron); otherwise WITH SCHEMA or the current schema. */
  schema?: string;
  /** What the plan cannot predict on this stand-in: said in the plan when it is used. */
  cannotPredict: string;
  /** The installation script (`@extschema@` is the extension's schema). */
  script: string;
}

/** The control file's comment starts with this: how a shadow tells a stand-in from the real extension. */
export const STAND_IN_MARK = 'supagate stand-in';

export function extensionFiles(standIn: StandIn): ExtensionFile[] {
  const control = [
    `comment = '${STAND_IN_MARK} for ${standIn.name}'`,
    `default_version = '${standIn.version}'`,
    'relocatable = false',
    'superuser = true',
    'trusted = true',
    ...(standIn.schema ? [`schema = '${standIn.schema}'`] : []),
  ];
  return [
    { name: `${standIn.name}.control`, contents: `${control.join('\n')}\n` },
    {
      name: `${standIn.name}--${standIn.version}.sql`,
      contents: `${standIn.schema ? '' : systemSchemaGuard(standIn.name)}${standIn.script.trim()}\n`,
    },
  ];
}

/**
 * PostgreSQL lets a non-superuser install a trusted extension into any schema, pg_catalog
 * included; the stand-ins refuse system schemas (the script runs in the target schema).
 */
function systemSchemaGuard(name: string): string {
  return `DO $guard$ BEGIN
  IF pg_catalog.current_schema() OPERATOR(pg_catalog.~) '^(pg_|information_schema$)' THEN
    RAISE EXCEPTION 'the stand-in for ${name} cannot be installed in the system schema %', pg_catalog.current_schema();
  END IF;
END $guard$;
`;
}
