import Foundation
import NIOCore
import PostgresNIO

/// The fetch, run for every batch of jobs, as a server-side prepared statement: each connection parses it
/// once, and after five executions PostgreSQL may reuse a generic plan instead of planning again (planning a
/// fetch of 500 jobs took ~2 ms of its ~12; in one measured drain a third of the fetches reused the plan, and
/// drains were ~7 % faster than with a plan made for every call). With statistics taken while the table was
/// empty, the generic and the custom plan of the fetch both still claimed 500 of 100,000 jobs in ~15 ms.
/// `completeMany` and `renewLeases` stay unnamed statements in `QueueSQL`, planned for their actual arrays:
/// the generic plan seen for their `unnest` of ids, made while the statistics saw no running job, joined
/// every running job against every id. Same conventions as `QueueSQL`.
enum PreparedQueueStatements {
    /// `fetchAvailable`: claims up to `limit` available jobs of one queue in one statement, unless the queue
    /// is paused. Order: effective priority, then the job's rank within its agency, then run time — so
    /// agencies take turns within a priority level: agency B's 10 new jobs interleave with agency A's 10,000
    /// instead of waiting behind them.
    ///
    /// Candidates (bounded): a skip scan finds each agency that has available jobs in the queue (NULL, i.e.
    /// system jobs, counts as one agency) and takes its `limit` best jobs; plus the queue's `limit` oldest
    /// jobs that have waited at least one aging step, so an aged low-priority job always gets in (a job that
    /// has not aged competes at its own priority, and then its agency's `limit` best already include it if
    /// it can be chosen at all). Cost grows with the number of agencies that have work queued, not with the
    /// number of jobs.
    ///
    /// Aging (no priority starves forever): effective priority = max(1, priority − ⌊wait / agingSeconds⌋); a
    /// job that has waited `agingSeconds × (priority − 1)` competes as priority 1. `agingSeconds <= 0`
    /// disables it.
    ///
    /// The claim takes `FOR UPDATE SKIP LOCKED` over the best `5 × limit` candidates (a small, bounded set
    /// that the planner joins by primary key; the slack lets several workers fetching at the same moment each
    /// get jobs), so concurrent workers never claim the same job nor wait for each other; it bumps the
    /// attempt (the fence) and starts a lease owned by `owner`.
    ///
    /// The plain path: when the queue's waiting jobs all belong to one agency (system jobs count as one) and
    /// none has aged, the fair order is the plain (priority, run_at, id) order of the available index, so the
    /// claim locks straight off that index and the ranking is never run (`mode` decides once per statement,
    /// with whether the queue is paused; the branch not taken is cut off by a one-time filter). The ranking
    /// costs ~3 ms of a ~9 ms claim of 500 jobs, on the worker's critical path (`docs/benchmarks.md`, the
    /// queue); a queue with several agencies' jobs waiting pays it.
    struct FetchAvailable: PostgresPreparedStatement {
        static let name = "trellis_fetch_available_v3"
        static let sql = """
            WITH RECURSIVE agencies(k) AS (
                (SELECT coalesce(agency_id, \(QueueSQL.nilAgency))
                   FROM trellis_jobs
                  WHERE state = 'available' AND queue = $1
                  ORDER BY 1 LIMIT 1)
                UNION ALL
                SELECT (SELECT coalesce(j.agency_id, \(QueueSQL.nilAgency))
                          FROM trellis_jobs j
                         WHERE j.state = 'available' AND j.queue = $1
                           AND coalesce(j.agency_id, \(QueueSQL.nilAgency)) > a.k
                         ORDER BY 1 LIMIT 1)
                  FROM agencies a
                 WHERE a.k IS NOT NULL
            ), candidates AS (
                SELECT c.id, c.k, c.priority, c.run_at
                  FROM agencies a
                 CROSS JOIN LATERAL (
                        SELECT j.id, a.k, j.priority, j.run_at
                          FROM trellis_jobs j
                         WHERE j.state = 'available' AND j.queue = $1
                           AND coalesce(j.agency_id, \(QueueSQL.nilAgency)) = a.k
                         ORDER BY j.priority, j.run_at, j.id
                         LIMIT $2
                       ) c
                 WHERE a.k IS NOT NULL
                UNION
                (SELECT j.id, coalesce(j.agency_id, \(QueueSQL.nilAgency)), j.priority, j.run_at
                   FROM trellis_jobs j
                  WHERE j.state = 'available' AND j.queue = $1
                    AND $5::float8 > 0 AND j.run_at < now() - make_interval(secs => $5::float8)
                  ORDER BY j.run_at, j.id
                  LIMIT $2)
            ), ranked AS (
                SELECT e.id, e.eff, e.run_at,
                       row_number() OVER (PARTITION BY e.k ORDER BY e.eff, e.run_at, e.id) AS agency_rank
                  FROM (SELECT id, k, run_at,
                               CASE WHEN $5::float8 > 0
                                    THEN greatest(1, priority - floor(extract(epoch FROM now() - run_at)
                                                                      / $5::float8))::int
                                    ELSE priority::int END AS eff
                          FROM candidates) e
            ), ordered AS (
                SELECT id, eff, agency_rank, run_at
                  FROM ranked
                 ORDER BY eff, agency_rank, run_at, id
                 LIMIT $2 * 5
            ), mode AS MATERIALIZED (
                SELECT (SELECT count(*) FROM (SELECT 1 FROM agencies WHERE k IS NOT NULL LIMIT 2) AS two) <= 1
                       AND NOT ($5::float8 > 0 AND coalesce((
                            SELECT min(j.run_at) FROM trellis_jobs j WHERE j.state = 'available' AND j.queue = $1
                           ) < now() - make_interval(secs => $5::float8), false)) AS plain,
                       NOT EXISTS (SELECT 1 FROM trellis_queue_state qs WHERE qs.queue = $1 AND qs.paused) AS open
            ), plain AS (
                SELECT j.id, j.priority::int AS eff, 1::int8 AS agency_rank, j.run_at
                  FROM trellis_jobs j
                 WHERE (SELECT open AND plain FROM mode)
                   AND j.state = 'available' AND j.queue = $1
                 ORDER BY j.priority, j.run_at, j.id
                 LIMIT $2
                   FOR UPDATE OF j SKIP LOCKED
            ), fair AS (
                SELECT j.id, r.eff, r.agency_rank, r.run_at
                  FROM ordered r
                  JOIN trellis_jobs j ON j.id = r.id
                 WHERE (SELECT open AND NOT plain FROM mode)
                   AND j.state = 'available'
                 ORDER BY r.eff, r.agency_rank, r.run_at, j.id
                 LIMIT $2
                   FOR UPDATE OF j SKIP LOCKED
            ), claimed AS (
                SELECT id, eff, agency_rank, run_at FROM plain
                UNION ALL
                SELECT id, eff, agency_rank, run_at FROM fair
            ), running AS (
                -- By the array of claimed ids, not a join: a generic plan estimates the two branches' rows
                -- far too high and hashes the whole table to join them.
                UPDATE trellis_jobs j
                   SET state = 'running',
                       attempt = j.attempt + 1,
                       attempted_at = now(),
                       lease_owner = $3,
                       lease_expires_at = now() + make_interval(secs => $4::float8)
                 WHERE j.id = ANY (ARRAY(SELECT id FROM claimed))
                RETURNING j.id, j.kind, j.args::text AS args, j.agency_id, j.priority, j.attempt,
                          j.max_attempts, j.run_at, j.metadata::text AS metadata, j.created_at
            )
            SELECT array_agg(o.id), array_agg(o.kind), array_agg(o.args), array_agg(o.agency_id), array_agg(o.priority),
                   array_agg(o.attempt), array_agg(o.max_attempts), array_agg(o.run_at), array_agg(o.metadata),
                   array_agg(o.created_at)
              FROM (SELECT r.id, r.kind, r.args, coalesce(r.agency_id, \(QueueSQL.nilAgency)) AS agency_id,
                           r.priority::int8 AS priority, r.attempt::int8 AS attempt, r.max_attempts::int8 AS max_attempts,
                           r.run_at, r.metadata, r.created_at
                      FROM running r
                      JOIN claimed c ON c.id = r.id
                     ORDER BY c.eff, c.agency_rank, c.run_at, r.id) o
            HAVING count(*) > 0
            """
        static let bindingDataTypes: [PostgresDataType] = [.text, .int8, .text, .float8, .float8]

        var queue: String
        var limit: Int
        var owner: String
        var leaseSeconds: Double
        var agingSeconds: Double

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 5)
            bindings.append(queue)
            bindings.append(Int64(limit))
            bindings.append(owner)
            bindings.append(leaseSeconds)
            bindings.append(agingSeconds)
            return bindings
        }

        /// The claimed jobs come back as ONE row of arrays, one array per column, each in the claim's order (the
        /// arrays aggregate the same sorted rows; no row at all when nothing was claimed). Per claimed row, the
        /// server's row output and PostgresNIO's row messages, row stream and row decode were ~25 % of the worker's
        /// CPU in a drain (perf, 2026-12-02), and the worker's CPU is taken from the database on the same cores.
        /// A system job's agency comes back as the nil UUID (an array element cannot be NULL here).
        func decodeRow(_ row: PostgresRow) throws -> [FetchedJob] {
            var cells = row.makeIterator()
            func next<T: PostgresDecodable>(_: T.Type) throws -> T {
                guard let cell = cells.next() else { throw JobQueueError.invalidJob("the claim returned too few columns") }
                return try cell.decode(T.self)
            }
            let ids = try next([Int64].self), kinds = try next([String].self), args = try next([ByteBuffer].self)
            let agencies = try next([UUID].self), priorities = try next([Int64].self), attempts = try next([Int64].self)
            let maxAttempts = try next([Int64].self), runAts = try next([Date].self), metadata = try next([ByteBuffer].self)
            let createdAts = try next([Date].self)
            let count = ids.count
            guard [kinds.count, args.count, agencies.count, priorities.count, attempts.count, maxAttempts.count,
                   runAts.count, metadata.count, createdAts.count].allSatisfy({ $0 == count }) else {
                throw JobQueueError.invalidJob("the claim returned arrays of different lengths")
            }
            var jobs: [FetchedJob] = []
            jobs.reserveCapacity(count)
            for i in 0..<count {
                jobs.append(FetchedJob(
                    id: ids[i], queue: queue, kind: kinds[i], args: Data(args[i].readableBytesView),
                    agencyID: agencies[i] == QueueSQL.nilAgencyID ? nil : agencies[i], priority: Int(priorities[i]),
                    attempt: attempts[i], maxAttempts: Int(maxAttempts[i]), runAt: runAts[i],
                    metadata: Data(metadata[i].readableBytesView), createdAt: createdAts[i]
                ))
            }
            return jobs
        }
    }
}

/// The text of the worker's two hot statements, for measuring the database's own ceiling for them
/// (`trellis bench queue ceiling-script`, which Benchmarks/queue hands to pgbench): the claim with its
/// parameters `$1` queue, `$2` limit, `$3` owner, `$4` lease seconds, `$5` aging seconds; the completion with
/// `$1` ids, `$2` attempts, `$3` owner.
public enum WorkerStatementText {
    public static var claim: String { PreparedQueueStatements.FetchAvailable.sql }
    public static var complete: String { QueueSQL.completeMany(owner: "", ids: [], attempts: []).sql }
}
