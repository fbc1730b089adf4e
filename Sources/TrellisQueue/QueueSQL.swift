import Foundation
import PostgresNIO

/// Every SQL statement of the queue, one named statement each (River/Oban style), kept together here.
///
/// Conventions: timestamps compare against the server's `now()` (no client clock skew), except the cron clock
/// which is injected; arrays are bound as Swift arrays and zipped with `unnest`; nullable values inside arrays
/// travel as `''` text (`NULLIF(x, '')`); `jsonb` travels as text. Everything that touches a running job is
/// fenced by `(id, attempt, lease_owner, state = 'running')`, so a worker that lost its lease changes nothing.
enum QueueSQL {
    /// System jobs (no agency) as one agency, where NULL cannot stand: the fair claim's ranking, the claim's arrays.
    static let nilAgency = "'00000000-0000-0000-0000-000000000000'::uuid"
    /// `nilAgency` as it is decoded.
    static let nilAgencyID = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
    static let pendingStates = "('scheduled', 'available', 'running', 'retryable')"

    // MARK: Enqueue

    /// `insertJobs`: one statement for a whole batch. Ids are drawn first so each input row (by ordinality)
    /// learns its id; rows that hit a unique key held by a pending job are skipped (`ON CONFLICT DO NOTHING`
    /// keeps the caller's transaction usable) and come back with a NULL state. The insert trigger NOTIFYs.
    static func insertJobs(_ jobs: [NewJob]) -> PostgresQuery {
        let queues = jobs.map(\.queue)
        let kinds = jobs.map(\.kind)
        let args = jobs.map { JobJSON.text($0.args) }
        let agencies = jobs.map { $0.agencyID?.uuidString ?? "" }
        let priorities = jobs.map { Int64($0.priority) }
        let runAts = jobs.map { $0.runAt ?? Date(timeIntervalSince1970: 0) }
        let hasRunAt = jobs.map { $0.runAt != nil }
        let maxAttempts = jobs.map { Int64($0.maxAttempts) }
        let uniqueKeys = jobs.map { $0.uniqueKey ?? "" }
        let metadata = jobs.map { JobJSON.text($0.metadata) }
        return """
            WITH input AS (
                SELECT nextval(pg_get_serial_sequence('trellis_jobs', 'id')) AS id,
                       u.ord, u.queue, u.kind, u.args::jsonb AS args, NULLIF(u.agency, '')::uuid AS agency_id,
                       u.priority::smallint AS priority,
                       CASE WHEN u.has_run_at THEN u.run_at ELSE now() END AS run_at,
                       u.max_attempts::integer AS max_attempts, NULLIF(u.unique_key, '') AS unique_key,
                       u.metadata::jsonb AS metadata
                  FROM unnest(\(queues)::text[], \(kinds)::text[], \(args)::text[], \(agencies)::text[],
                              \(priorities)::int8[], \(runAts)::timestamptz[], \(hasRunAt)::bool[],
                              \(maxAttempts)::int8[], \(uniqueKeys)::text[], \(metadata)::text[])
                       WITH ORDINALITY AS u(queue, kind, args, agency, priority, run_at, has_run_at,
                                            max_attempts, unique_key, metadata, ord)
            ), inserted AS (
                INSERT INTO trellis_jobs (id, agency_id, queue, kind, args, priority, state, max_attempts, run_at,
                                          unique_key, metadata)
                SELECT id, agency_id, queue, kind, args, priority,
                       (CASE WHEN run_at > now() THEN 'scheduled' ELSE 'available' END)::trellis_job_state,
                       max_attempts, run_at, unique_key, metadata
                  FROM input
                 ORDER BY ord
                ON CONFLICT (unique_key)
                   WHERE unique_key IS NOT NULL AND state IN ('scheduled', 'available', 'running', 'retryable')
                   DO NOTHING
                RETURNING id, state
            )
            SELECT input.ord, input.id, inserted.state::text
              FROM input LEFT JOIN inserted ON inserted.id = input.id
             ORDER BY input.ord
            """
    }

    /// `findPendingByUniqueKeys`: which pending or running job holds each of these unique keys.
    static func findPendingByUniqueKeys(_ keys: [String]) -> PostgresQuery {
        """
        SELECT unique_key, id FROM trellis_jobs
         WHERE unique_key = ANY(\(keys)::text[])
           AND state IN ('scheduled', 'available', 'running', 'retryable')
        """
    }

    /// `promoteDueJobs`: scheduled and retryable jobs whose run time has come become available (bounded),
    /// and each queue that got some is NOTIFYed so idle workers wake.
    static func promoteDueJobs(limit: Int) -> PostgresQuery {
        """
        WITH due AS (
            SELECT id FROM trellis_jobs
             WHERE state IN ('scheduled', 'retryable') AND run_at <= now()
             ORDER BY run_at
             LIMIT \(limit)
               FOR UPDATE SKIP LOCKED
        ), promoted AS (
            UPDATE trellis_jobs j SET state = 'available'
              FROM due WHERE j.id = due.id
            RETURNING j.queue
        ), per_queue AS (
            SELECT queue, count(*) AS n FROM promoted GROUP BY queue
        )
        SELECT p.queue, p.n FROM per_queue p, LATERAL (SELECT pg_notify('trellis_jobs', p.queue)) AS notified
        """
    }

    // MARK: Leases

    /// `renewLeases`: one statement per worker for all its running jobs. Jobs not returned are no longer this
    /// worker's (rescued, finished); `cancel_requested` tells the worker to cancel the handler.
    static func renewLeases(owner: String, ids: [JobID], attempts: [Int64], leaseSeconds: Double) -> PostgresQuery {
        """
        UPDATE trellis_jobs j
           SET lease_expires_at = now() + make_interval(secs => \(leaseSeconds)::float8)
          FROM unnest(\(ids)::int8[], \(attempts)::int8[]) AS u(id, attempt)
         WHERE j.id = u.id AND j.attempt = u.attempt AND j.state = 'running' AND j.lease_owner = \(owner)
        RETURNING j.id, j.cancel_requested
        """
    }

    /// `rescueExpiredLeases`: running jobs whose lease expired (their worker died or hung) go back to
    /// available at once, with the lost attempt recorded in `errors`; a job out of attempts is discarded and a
    /// job whose cancellation was requested is cancelled. Queues that got jobs back are NOTIFYed.
    static func rescueExpiredLeases(limit: Int) -> PostgresQuery {
        """
        WITH expired AS (
            SELECT id FROM trellis_jobs
             WHERE state = 'running' AND lease_expires_at < now()
             ORDER BY lease_expires_at
             LIMIT \(limit)
               FOR UPDATE SKIP LOCKED
        ), rescued AS (
            UPDATE trellis_jobs j
               SET state = (CASE WHEN j.cancel_requested THEN 'cancelled'
                                 WHEN j.attempt >= j.max_attempts THEN 'discarded'
                                 ELSE 'available' END)::trellis_job_state,
                   finalized_at = CASE WHEN j.cancel_requested OR j.attempt >= j.max_attempts THEN now() END,
                   run_at = CASE WHEN j.cancel_requested OR j.attempt >= j.max_attempts THEN j.run_at ELSE now() END,
                   lease_expires_at = NULL,
                   errors = j.errors || jsonb_build_array(jsonb_build_object(
                       'attempt', j.attempt, 'at', now(),
                       'error', 'lease expired: worker ' || coalesce(j.lease_owner, '?') || ' stopped renewing it'))
              FROM expired WHERE j.id = expired.id
            RETURNING j.id, j.queue, j.state
        ), woken AS (
            SELECT DISTINCT queue FROM rescued WHERE state = 'available'
        )
        SELECT r.id, r.queue, r.state::text,
               (SELECT count(*) FROM woken, LATERAL (SELECT pg_notify('trellis_jobs', woken.queue)) AS n)
          FROM rescued r
        """
    }

    // MARK: Outcomes (batched, fenced)

    /// `completeMany`: `recordOutcomes` for a batch of completions only (what a busy worker writes almost
    /// always): the same fence, without the other outcomes' columns and arrays. The ids actually completed come
    /// back as one array (one row), not a row each: per-row output and decoding cost the worker more than the rest
    /// of handling the reply.
    static func completeMany(owner: String, ids: [JobID], attempts: [Int64]) -> PostgresQuery {
        """
        WITH done AS (
            UPDATE trellis_jobs j
               SET state = 'completed', finalized_at = now(), lease_expires_at = NULL
              FROM unnest(\(ids)::int8[], \(attempts)::int8[]) AS u(id, attempt)
             WHERE j.id = u.id AND j.attempt = u.attempt AND j.state = 'running' AND j.lease_owner = \(owner)
            RETURNING j.id
        )
        SELECT coalesce(array_agg(id), '{}') FROM done
        """
    }

    /// `recordOutcomes`: every finished attempt of one worker in one statement, whatever its outcome, fenced by
    /// attempt and lease owner (a stale attempt writes nothing and returns no row).
    /// - `complete`: completed.
    /// - `fail`: retryable after its delay, or discarded when out of attempts; `discard`: discarded at once. Both
    ///   append the error and attempt to `errors`; a discarded job stays visible.
    /// - `snooze`: scheduled after its delay; like River, it does not consume an attempt (`max_attempts` grows by
    ///   one with the attempt, so the attempt number stays a strictly increasing fence).
    /// - `cancel`: cancelled (on request, or by the handler), the reason in `errors`.
    /// - `release`: a worker shutting down hands the job back: available at once, the attempt not consumed; its
    ///   queue is NOTIFYed so another worker picks it up.
    static func recordOutcomes(
        owner: String, ids: [JobID], attempts: [Int64], outcomes: [String], errors: [String], delays: [Double]
    ) -> PostgresQuery {
        """
        WITH u AS (
            SELECT * FROM unnest(\(ids)::int8[], \(attempts)::int8[], \(outcomes)::text[], \(errors)::text[], \(delays)::float8[])
                AS u(id, attempt, outcome, error, delay)
        ), written AS (
            UPDATE trellis_jobs j
               SET state = (CASE u.outcome
                                WHEN 'complete' THEN 'completed'
                                WHEN 'fail' THEN CASE WHEN j.attempt >= j.max_attempts THEN 'discarded' ELSE 'retryable' END
                                WHEN 'discard' THEN 'discarded'
                                WHEN 'snooze' THEN 'scheduled'
                                WHEN 'cancel' THEN 'cancelled'
                                ELSE 'available' END)::trellis_job_state,
                   run_at = CASE WHEN u.outcome = 'snooze' OR (u.outcome = 'fail' AND j.attempt < j.max_attempts)
                                 THEN now() + make_interval(secs => u.delay) ELSE j.run_at END,
                   finalized_at = CASE WHEN u.outcome IN ('complete', 'discard', 'cancel')
                                            OR (u.outcome = 'fail' AND j.attempt >= j.max_attempts)
                                       THEN now() ELSE j.finalized_at END,
                   lease_expires_at = NULL,
                   max_attempts = j.max_attempts + CASE WHEN u.outcome = 'snooze' THEN 1 ELSE 0 END,
                   attempt = j.attempt - CASE WHEN u.outcome = 'release' THEN 1 ELSE 0 END,
                   errors = CASE WHEN u.outcome IN ('fail', 'discard', 'cancel')
                                 THEN j.errors || jsonb_build_array(jsonb_build_object('attempt', j.attempt, 'at', now(), 'error', u.error))
                                 ELSE j.errors END
              FROM u
             WHERE j.id = u.id AND j.attempt = u.attempt AND j.state = 'running' AND j.lease_owner = \(owner)
            RETURNING j.id, j.state, j.queue, u.outcome
        )
        SELECT w.id, w.state::text,
               (SELECT count(*) FROM (SELECT DISTINCT queue FROM written WHERE outcome = 'release') q,
                                     LATERAL (SELECT pg_notify('trellis_jobs', q.queue)) AS n)
          FROM written w
        """
    }

    /// `updateProgress`: a running handler reports progress (fenced: a stale attempt writes nothing).
    static func updateProgress(owner: String, id: JobID, attempt: Int64, progress: String) -> PostgresQuery {
        """
        UPDATE trellis_jobs SET progress = \(progress)::jsonb
         WHERE id = \(id) AND attempt = \(attempt) AND state = 'running' AND lease_owner = \(owner)
        RETURNING id
        """
    }

    // MARK: Control

    /// `cancelJob`: a pending job is cancelled at once; a running job gets `cancel_requested` (its worker sees
    /// it on the next lease renewal and cancels the handler); a finished job is left alone.
    static func cancelJob(id: JobID) -> PostgresQuery {
        """
        WITH target AS (
            SELECT id, state FROM trellis_jobs WHERE id = \(id) FOR UPDATE
        ), changed AS (
            UPDATE trellis_jobs j
               SET state = CASE WHEN t.state IN ('scheduled', 'available', 'retryable') THEN 'cancelled'
                                ELSE j.state END,
                   finalized_at = CASE WHEN t.state IN ('scheduled', 'available', 'retryable') THEN now()
                                       ELSE j.finalized_at END,
                   cancel_requested = j.cancel_requested OR t.state = 'running',
                   errors = CASE WHEN t.state IN ('scheduled', 'available', 'retryable')
                                 THEN j.errors || jsonb_build_array(jsonb_build_object(
                                        'attempt', j.attempt, 'at', now(), 'error', 'cancelled on request'))
                                 ELSE j.errors END
              FROM target t
             WHERE j.id = t.id
            RETURNING j.id
        )
        SELECT t.state::text FROM target t
        """
    }

    /// `retryJob`: a finished (discarded, cancelled, completed) job runs again now, with its attempt budget
    /// extended by one if it was exhausted. Refused (no row) while the job is pending or running.
    static func retryJob(id: JobID) -> PostgresQuery {
        """
        UPDATE trellis_jobs
           SET state = 'available', run_at = now(), finalized_at = NULL, cancel_requested = false,
               max_attempts = greatest(max_attempts, attempt + 1)
         WHERE id = \(id) AND state IN ('discarded', 'cancelled', 'completed')
        RETURNING id
        """
    }

    /// `pauseQueue`: workers stop fetching from the queue (running jobs go on).
    static func pauseQueue(_ queue: String) -> PostgresQuery {
        """
        INSERT INTO trellis_queue_state (queue, paused, updated_at) VALUES (\(queue), true, now())
        ON CONFLICT (queue) DO UPDATE SET paused = true, updated_at = now()
        """
    }

    /// `resumeQueue`: fetching resumes; workers are woken.
    static func resumeQueue(_ queue: String) -> PostgresQuery {
        """
        WITH resumed AS (
            INSERT INTO trellis_queue_state (queue, paused, updated_at) VALUES (\(queue), false, now())
            ON CONFLICT (queue) DO UPDATE SET paused = false, updated_at = now()
            RETURNING queue
        )
        SELECT queue FROM resumed, LATERAL (SELECT pg_notify('trellis_jobs', resumed.queue)) AS n
        """
    }

    /// `pausedQueues`
    static let pausedQueues: PostgresQuery = "SELECT queue FROM trellis_queue_state WHERE paused ORDER BY queue"

    // MARK: Retention

    /// `pruneFinalized`: deletes up to `limit` completed and cancelled jobs finalized more than
    /// `keepSeconds` ago, and discarded ones after `keepDiscardedSeconds` (never when that is negative).
    static func pruneFinalized(keepSeconds: Double, keepDiscardedSeconds: Double, limit: Int) -> PostgresQuery {
        """
        WITH doomed AS (
            SELECT id FROM trellis_jobs
             WHERE state IN ('completed', 'discarded', 'cancelled')
               AND finalized_at < now() - make_interval(secs => \(keepSeconds)::float8)
               AND (state <> 'discarded'
                    OR (\(keepDiscardedSeconds)::float8 >= 0
                        AND finalized_at < now() - make_interval(secs => greatest(\(keepDiscardedSeconds)::float8, 0))))
             ORDER BY finalized_at
             LIMIT \(limit)
               FOR UPDATE SKIP LOCKED
        )
        DELETE FROM trellis_jobs j USING doomed WHERE j.id = doomed.id
        RETURNING j.id
        """
    }

    /// `pruneCronSlots`: forgets cron slots older than `keepSeconds`, always keeping each schedule's latest.
    static func pruneCronSlots(keepSeconds: Double, limit: Int) -> PostgresQuery {
        """
        WITH doomed AS (
            SELECT s.schedule, s.fire_time FROM trellis_cron_slots s
             WHERE s.created_at < now() - make_interval(secs => \(keepSeconds)::float8)
               AND s.fire_time < (SELECT max(l.fire_time) FROM trellis_cron_slots l WHERE l.schedule = s.schedule)
             LIMIT \(limit)
        )
        DELETE FROM trellis_cron_slots c USING doomed
         WHERE c.schedule = doomed.schedule AND c.fire_time = doomed.fire_time
        RETURNING c.schedule
        """
    }

    // MARK: Inspection

    static let jobColumns = """
        id, agency_id, queue, kind, args::text, priority::int8, state::text, attempt::int8, max_attempts::int8,
        run_at, attempted_at, finalized_at, lease_owner, lease_expires_at, unique_key, errors::text,
        cancel_requested, progress::text, metadata::text, created_at
        """

    /// `getJob`
    static func getJob(id: JobID) -> PostgresQuery {
        "SELECT \(unescaped: jobColumns) FROM trellis_jobs WHERE id = \(id)"
    }

    /// `countsByQueueAndState`: queue depth per state (for gauges and the API).
    /// Through a security-definer function (migration 0008): the API's role reads counts, not other agencies' jobs.
    static let countsByQueueAndState: PostgresQuery = """
        SELECT queue, state, jobs FROM trellis_queue_depths()
        """

    /// `oldestAvailableAge`: per queue, seconds since the oldest available job became due.
    static let oldestAvailableAge: PostgresQuery = """
        SELECT queue, age_seconds FROM trellis_queue_oldest_available()
        """

    // MARK: Cron

    /// `acquireLeaderLease`: takes the named lease if it is free or expired, or renews it for its holder.
    /// Returns a row only when `holder` leads.
    static func acquireLeaderLease(name: String, holder: String, leaseSeconds: Double) -> PostgresQuery {
        """
        INSERT INTO trellis_leader (name, holder, expires_at, acquired_at)
        VALUES (\(name), \(holder), now() + make_interval(secs => \(leaseSeconds)::float8), now())
        ON CONFLICT (name) DO UPDATE
           SET holder = EXCLUDED.holder,
               expires_at = EXCLUDED.expires_at,
               acquired_at = CASE WHEN trellis_leader.holder = EXCLUDED.holder THEN trellis_leader.acquired_at
                                  ELSE now() END
         WHERE trellis_leader.holder = EXCLUDED.holder OR trellis_leader.expires_at < now()
        RETURNING holder
        """
    }

    /// `releaseLeaderLease`: a scheduler shutting down lets a spare take over at once.
    static func releaseLeaderLease(name: String, holder: String) -> PostgresQuery {
        "DELETE FROM trellis_leader WHERE name = \(name) AND holder = \(holder)"
    }

    /// `latestCronSlots`: the last enqueued fire time of each schedule.
    static func latestCronSlots(schedules: [String]) -> PostgresQuery {
        """
        SELECT schedule, max(fire_time) FROM trellis_cron_slots
         WHERE schedule = ANY(\(schedules)::text[]) GROUP BY schedule
        """
    }

    /// `claimCronSlot`: the (schedule, fire_time) primary key lets exactly one transaction claim a slot; a
    /// concurrent claimer waits for it and then gets no row.
    static func claimCronSlot(schedule: String, fireTime: Date) -> PostgresQuery {
        """
        INSERT INTO trellis_cron_slots (schedule, fire_time) VALUES (\(schedule), \(fireTime))
        ON CONFLICT (schedule, fire_time) DO NOTHING
        RETURNING schedule
        """
    }

    /// `recordCronSlotJob`
    static func recordCronSlotJob(schedule: String, fireTime: Date, jobID: JobID) -> PostgresQuery {
        "UPDATE trellis_cron_slots SET job_id = \(jobID) WHERE schedule = \(schedule) AND fire_time = \(fireTime)"
    }

    /// `loadAgencySchedules`: enabled per-agency schedules.
    static let loadAgencySchedules: PostgresQuery = """
        SELECT agency_id, name, expression, time_zone, kind, args::text, queue, priority::int8,
               max_attempts::int8, missed_slots
          FROM trellis_cron_schedules WHERE enabled ORDER BY agency_id, name
        """
}
