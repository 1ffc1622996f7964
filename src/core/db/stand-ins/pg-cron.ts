import type { StandIn } from './stand-in.js';

/**
 * pg_cron: the `cron` schema, `cron.job` (kept in backups, as pg_cron's is) and
 * `cron.job_run_details`, and the functions that schedule, change and remove jobs. They keep
 * rows only: nothing runs. Each user sees and changes their own jobs, as with pg_cron.
 */
export const pgCron: StandIn = {
  name: 'pg_cron',
  version: '1.6',
  schema: 'pg_catalog',
  cannotPredict: 'whether a job’s command succeeds when it runs, and how long it takes (no job runs)',
  script: `
CREATE SCHEMA cron;
CREATE SEQUENCE cron.jobid_seq;
CREATE TABLE cron.job (
  jobid pg_catalog.int8 PRIMARY KEY DEFAULT pg_catalog.nextval('cron.jobid_seq'),
  schedule pg_catalog.text NOT NULL,
  command pg_catalog.text NOT NULL,
  nodename pg_catalog.text NOT NULL DEFAULT 'localhost',
  nodeport pg_catalog.int4 NOT NULL DEFAULT 5432,
  database pg_catalog.text NOT NULL DEFAULT pg_catalog.current_database(),
  username pg_catalog.text NOT NULL DEFAULT CURRENT_USER,
  active pg_catalog.bool NOT NULL DEFAULT true,
  jobname pg_catalog.text,
  CONSTRAINT jobname_username_uniq UNIQUE (jobname, username)
);
ALTER SEQUENCE cron.jobid_seq OWNED BY cron.job.jobid;
CREATE SEQUENCE cron.runid_seq;
CREATE TABLE cron.job_run_details (
  jobid pg_catalog.int8,
  runid pg_catalog.int8 PRIMARY KEY DEFAULT pg_catalog.nextval('cron.runid_seq'),
  job_pid pg_catalog.int4,
  database pg_catalog.text,
  username pg_catalog.text,
  command pg_catalog.text,
  status pg_catalog.text,
  return_message pg_catalog.text,
  start_time pg_catalog.timestamptz,
  end_time pg_catalog.timestamptz
);
ALTER SEQUENCE cron.runid_seq OWNED BY cron.job_run_details.runid;
SELECT pg_catalog.pg_extension_config_dump('cron.job', '');
SELECT pg_catalog.pg_extension_config_dump('cron.jobid_seq', '');
ALTER TABLE cron.job ENABLE ROW LEVEL SECURITY;
CREATE POLICY cron_job_policy ON cron.job USING (username OPERATOR(pg_catalog.=) CURRENT_USER);
ALTER TABLE cron.job_run_details ENABLE ROW LEVEL SECURITY;
CREATE POLICY cron_job_run_details_policy ON cron.job_run_details USING (username OPERATOR(pg_catalog.=) CURRENT_USER);
GRANT USAGE ON SCHEMA cron TO PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON cron.job TO PUBLIC;
GRANT SELECT, DELETE ON cron.job_run_details TO PUBLIC;
GRANT USAGE ON SEQUENCE cron.jobid_seq TO PUBLIC;

CREATE FUNCTION cron.schedule(job_name pg_catalog.text, schedule pg_catalog.text, command pg_catalog.text)
RETURNS pg_catalog.int8 LANGUAGE plpgsql STRICT AS $$
DECLARE id pg_catalog.int8;
BEGIN
  UPDATE cron.job j SET schedule = $2, command = $3
   WHERE j.jobname OPERATOR(pg_catalog.=) $1 AND j.username OPERATOR(pg_catalog.=) CURRENT_USER
  RETURNING j.jobid INTO id;
  IF id IS NULL THEN
    INSERT INTO cron.job (jobname, schedule, command) VALUES ($1, $2, $3) RETURNING jobid INTO id;
  END IF;
  RETURN id;
END $$;
CREATE FUNCTION cron.schedule(schedule pg_catalog.text, command pg_catalog.text)
RETURNS pg_catalog.int8 LANGUAGE sql STRICT AS $$
  INSERT INTO cron.job (schedule, command) VALUES ($1, $2) RETURNING jobid
$$;
CREATE FUNCTION cron.schedule_in_database(job_name pg_catalog.text, schedule pg_catalog.text, command pg_catalog.text,
  database pg_catalog.text, username pg_catalog.text DEFAULT NULL, active pg_catalog.bool DEFAULT true)
RETURNS pg_catalog.int8 LANGUAGE plpgsql AS $$
DECLARE id pg_catalog.int8;
BEGIN
  id := cron.schedule(job_name, schedule, command);
  UPDATE cron.job j SET database = schedule_in_database.database, active = schedule_in_database.active
   WHERE j.jobid OPERATOR(pg_catalog.=) id;
  RETURN id;
END $$;
CREATE FUNCTION cron.unschedule(job_id pg_catalog.int8) RETURNS pg_catalog.bool LANGUAGE plpgsql STRICT AS $$
BEGIN
  DELETE FROM cron.job j WHERE j.jobid OPERATOR(pg_catalog.=) $1;
  IF NOT FOUND THEN RAISE EXCEPTION 'could not find valid entry for job %', $1; END IF;
  RETURN true;
END $$;
CREATE FUNCTION cron.unschedule(job_name pg_catalog.text) RETURNS pg_catalog.bool LANGUAGE plpgsql STRICT AS $$
BEGIN
  DELETE FROM cron.job j WHERE j.jobname OPERATOR(pg_catalog.=) $1 AND j.username OPERATOR(pg_catalog.=) CURRENT_USER;
  IF NOT FOUND THEN RAISE EXCEPTION 'could not find valid entry for job ''%''', $1; END IF;
  RETURN true;
END $$;
CREATE FUNCTION cron.alter_job(job_id pg_catalog.int8, schedule pg_catalog.text DEFAULT NULL, command pg_catalog.text DEFAULT NULL,
  database pg_catalog.text DEFAULT NULL, username pg_catalog.text DEFAULT NULL, active pg_catalog.bool DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE cron.job j SET
    schedule = COALESCE(alter_job.schedule, j.schedule),
    command = COALESCE(alter_job.command, j.command),
    database = COALESCE(alter_job.database, j.database),
    username = COALESCE(alter_job.username, j.username),
    active = COALESCE(alter_job.active, j.active)
   WHERE j.jobid OPERATOR(pg_catalog.=) job_id;
  IF NOT FOUND THEN RAISE EXCEPTION 'could not find valid entry for job %', job_id; END IF;
END $$;
`,
};
