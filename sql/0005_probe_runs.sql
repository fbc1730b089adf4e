-- `system.probe` jobs record each execution here: an end-to-end check of the queue (and what the crash
-- test and the queue benchmark count, to find jobs that ran twice).
CREATE TABLE trellis_probe_runs (
    job_id   bigint NOT NULL,
    attempt  integer NOT NULL,
    worker   text NOT NULL,
    ran_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX trellis_probe_runs_job ON trellis_probe_runs (job_id);
