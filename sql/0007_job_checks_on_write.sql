-- 0007_job_checks_on_write.sql — the shape checks of a job's text and JSON columns run when those columns are
-- written, not on every update.
--
-- PostgreSQL evaluates every CHECK constraint of a table on every UPDATE, whichever columns the UPDATE sets. The
-- worker updates each job twice (claimed, then completed) and neither statement touches queue, kind, args or
-- errors; re-checking them was ~11 % of the claiming backend's CPU samples while draining jobs (perf), and
-- drains ran 21–23k jobs/s before this migration, 26k/s after. The same rules now live in a
-- trigger that fires on INSERT and on an UPDATE that sets one of those columns, raising the same SQLSTATE
-- (23514) and constraint name as before. The cheap integer checks and the state-machine invariants (a running
-- job has a lease; finalized ⇔ finalized_at) stay CHECK constraints: the worker's updates are what they guard.

ALTER TABLE trellis_jobs
    DROP CONSTRAINT trellis_jobs_queue_nonempty,
    DROP CONSTRAINT trellis_jobs_kind_nonempty,
    DROP CONSTRAINT trellis_jobs_args_object,
    DROP CONSTRAINT trellis_jobs_errors_array;

CREATE FUNCTION trellis_jobs_check_written() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    violated text;
BEGIN
    violated := CASE
        WHEN length(NEW.queue) NOT BETWEEN 1 AND 128 THEN 'trellis_jobs_queue_nonempty'
        WHEN length(NEW.kind) NOT BETWEEN 1 AND 128 THEN 'trellis_jobs_kind_nonempty'
        WHEN jsonb_typeof(NEW.args) <> 'object' THEN 'trellis_jobs_args_object'
        WHEN jsonb_typeof(NEW.errors) <> 'array' THEN 'trellis_jobs_errors_array'
    END;
    IF violated IS NOT NULL THEN
        RAISE EXCEPTION 'new row for relation "trellis_jobs" violates check constraint "%"', violated
            USING ERRCODE = 'check_violation', CONSTRAINT = violated, TABLE = 'trellis_jobs';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER trellis_jobs_check_written
    BEFORE INSERT OR UPDATE OF queue, kind, args, errors ON trellis_jobs
    FOR EACH ROW EXECUTE FUNCTION trellis_jobs_check_written();
