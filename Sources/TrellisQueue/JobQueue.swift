import Foundation
import Logging
import Metrics
import PostgresNIO

/// The queue's client-side API: enqueue (inside the caller's transaction or on its own), inspect, cancel,
/// retry, pause and resume queues, prune, and read statistics. A value type over a running `PostgresClient`.
public struct JobQueue: Sendable {
    public let client: PostgresClient
    public var logger: Logger

    public init(client: PostgresClient, logger: Logger = Logger(label: "trellis.queue")) {
        self.client = client
        self.logger = logger
    }

    // MARK: Enqueue

    /// Enqueues `job` on `connection`, typically inside the caller's transaction
    /// (`client.withTransaction { conn in …domain write…; try await queue.enqueue(job, on: conn) }`), so the
    /// domain write and its job commit or roll back together. Workers are notified at commit.
    ///
    /// - Throws: `JobQueueError.duplicateJob(uniqueKey:existingJobID:)` when a pending or running job holds
    ///   `job.uniqueKey`. That refusal does not abort the caller's transaction.
    @discardableResult
    public func enqueue(_ job: NewJob, on connection: PostgresConnection) async throws -> JobID {
        let result = try await enqueueBatch([job], on: connection)[0]
        switch result {
        case .enqueued(let id, _): return id
        case .duplicate(let key, let existing): throw JobQueueError.duplicateJob(uniqueKey: key, existingJobID: existing)
        }
    }

    /// Enqueues `job` in its own transaction.
    @discardableResult
    public func enqueue(_ job: NewJob) async throws -> JobID {
        try await client.withConnection { connection in
            try await self.enqueue(job, on: connection)
        }
    }

    /// Enqueues many jobs in ONE insert statement (plus one look-up when unique keys collided). Results come
    /// back in input order; a job whose unique key is held by a pending or running job (or by an earlier job of
    /// the same batch) is `.duplicate` naming the holder.
    public func enqueueBatch(_ jobs: [NewJob], on connection: PostgresConnection) async throws -> [EnqueueResult] {
        guard !jobs.isEmpty else { return [] }
        for job in jobs { try job.validate() }
        // The trace of whatever enqueues (a request, another job) continues in each job's run.
        let jobs = jobs.map { job in
            var job = job
            job.metadata = JobTraceContext.carrying(job.metadata)
            return job
        }
        var results = [EnqueueResult?](repeating: nil, count: jobs.count)
        var remaining = Array(jobs.indices)
        // A collision with a job that finishes between the insert and the look-up frees its key: try again.
        for _ in 0..<5 where !remaining.isEmpty {
            let batch = remaining.map { jobs[$0] }
            let rows = try await connection.query(QueueSQL.insertJobs(batch), logger: logger)
            var collided: [Int] = []
            var counts: [QueueAndKind: Int] = [:]
            defer {
                for (key, count) in counts {
                    Counter(label: QueueMetricNames.enqueued, dimensions: [("queue", key.queue), ("kind", key.kind)])
                        .increment(by: count)
                }
            }
            for try await (ordinal, id, state) in rows.decode((Int64, Int64, String?).self) {
                let index = remaining[Int(ordinal) - 1]
                if let state, let jobState = JobState(rawValue: state) {
                    results[index] = .enqueued(id, state: jobState)
                    counts[QueueAndKind(queue: jobs[index].queue, kind: jobs[index].kind), default: 0] += 1
                } else {
                    collided.append(index)
                }
            }
            guard !collided.isEmpty else { break }
            let keys = Array(Set(collided.compactMap { jobs[$0].uniqueKey }))
            var holders: [String: JobID] = [:]
            for try await (key, id) in try await connection.query(
                QueueSQL.findPendingByUniqueKeys(keys), logger: logger
            ).decode((String, Int64).self) {
                holders[key] = id
            }
            remaining = []
            for index in collided {
                let key = jobs[index].uniqueKey ?? ""
                if let holder = holders[key] {
                    results[index] = .duplicate(uniqueKey: key, existingJobID: holder)
                } else {
                    remaining.append(index)
                }
            }
        }
        return try results.enumerated().map { index, result in
            guard let result else {
                throw JobQueueError.invalidJob("could not enqueue \(jobs[index].kind): unique key kept changing hands")
            }
            return result
        }
    }

    /// `enqueueBatch(_:on:)` in its own transaction.
    public func enqueueBatch(_ jobs: [NewJob]) async throws -> [EnqueueResult] {
        try await client.withConnection { connection in
            try await self.enqueueBatch(jobs, on: connection)
        }
    }

    private struct QueueAndKind: Hashable {
        var queue: String
        var kind: String
    }

    // MARK: Inspect and control

    /// The job as stored, or nil (never existed, or pruned).
    public func job(_ id: JobID) async throws -> JobRecord? {
        let rows = try await client.query(QueueSQL.getJob(id: id), logger: logger)
        for try await row in rows {
            return try Self.record(from: row)
        }
        return nil
    }

    /// Cancels a job: a pending one at once; a running one by request (its worker cancels the handler's Task
    /// at its next lease renewal, and the job ends cancelled).
    @discardableResult
    public func cancel(_ id: JobID) async throws -> CancelResult {
        try await Self.cancelResult(try await client.query(QueueSQL.cancelJob(id: id), logger: logger))
    }

    /// The same, on the caller's transaction (the API's role sees only its agency's jobs there).
    public func cancel(_ id: JobID, on connection: PostgresConnection) async throws -> CancelResult {
        try await Self.cancelResult(try await connection.query(QueueSQL.cancelJob(id: id), logger: logger))
    }

    static func cancelResult(_ rows: PostgresRowSequence) async throws -> CancelResult {
        for try await state in rows.decode(String.self) {
            switch JobState(rawValue: state) {
            case .scheduled?, .available?, .retryable?: return .cancelled
            case .running?: return .cancelRequested
            case let final?: return .alreadyFinalized(final)
            case nil: return .notFound
            }
        }
        return .notFound
    }

    /// Runs a finished job (discarded, cancelled or completed) again now. Returns false if the job is missing
    /// or still pending/running.
    @discardableResult
    public func retry(_ id: JobID) async throws -> Bool {
        let rows = try await client.query(QueueSQL.retryJob(id: id), logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// The same, on the caller's transaction.
    public func retry(_ id: JobID, on connection: PostgresConnection) async throws -> Bool {
        let rows = try await connection.query(QueueSQL.retryJob(id: id), logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// Workers stop fetching from `queue` until it is resumed; running jobs go on.
    public func pause(queue: String) async throws {
        try await client.query(QueueSQL.pauseQueue(queue), logger: logger)
    }

    /// Resumes a paused queue and wakes its workers.
    public func resume(queue: String) async throws {
        try await client.query(QueueSQL.resumeQueue(queue), logger: logger)
    }

    public func pausedQueues() async throws -> [String] {
        var queues: [String] = []
        for try await queue in try await client.query(QueueSQL.pausedQueues, logger: logger).decode(String.self) {
            queues.append(queue)
        }
        return queues
    }

    // MARK: Maintenance (the worker runs these; exposed for tools and tests)

    /// Makes scheduled/retryable jobs whose time came available. Returns how many.
    @discardableResult
    public func promoteDueJobs(limit: Int = 1000) async throws -> Int {
        var total = 0
        for try await (_, count) in try await client.query(QueueSQL.promoteDueJobs(limit: limit), logger: logger)
            .decode((String, Int64).self)
        {
            total += Int(count)
        }
        return total
    }

    /// Returns running jobs whose lease expired to available (or discarded/cancelled). Returns their ids.
    @discardableResult
    public func rescueExpiredLeases(limit: Int = 1000) async throws -> [JobID] {
        var ids: [JobID] = []
        for try await (id, _, _, _) in try await client.query(QueueSQL.rescueExpiredLeases(limit: limit), logger: logger)
            .decode((Int64, String, String, Int64).self)
        {
            ids.append(id)
        }
        return ids
    }

    /// Deletes finished jobs past their retention, in batches of `batchSize` until none is left (or
    /// `maxBatches` ran). Also forgets old cron slots (keeping each schedule's latest). Returns jobs deleted.
    @discardableResult
    public func prune(_ retention: RetentionPolicy, batchSize: Int = 1000, maxBatches: Int = 100) async throws -> Int {
        var deleted = 0
        for _ in 0..<maxBatches {
            var n = 0
            let query = QueueSQL.pruneFinalized(
                keepSeconds: retention.completed.seconds,
                keepDiscardedSeconds: retention.discarded?.seconds ?? -1,
                limit: batchSize
            )
            for try await _ in try await client.query(query, logger: logger) { n += 1 }
            deleted += n
            if n < batchSize { break }
        }
        for _ in 0..<maxBatches {
            var n = 0
            let query = QueueSQL.pruneCronSlots(keepSeconds: retention.cronSlots.seconds, limit: batchSize)
            for try await _ in try await client.query(query, logger: logger) { n += 1 }
            if n < batchSize { break }
        }
        return deleted
    }

    // MARK: Statistics

    /// Queue depth by state and the age of the oldest available job, per queue.
    public func stats() async throws -> QueueStats {
        var counts: [String: [JobState: Int]] = [:]
        for try await (queue, state, count) in try await client.query(QueueSQL.countsByQueueAndState, logger: logger)
            .decode((String, String, Int64).self)
        {
            if let state = JobState(rawValue: state) { counts[queue, default: [:]][state] = Int(count) }
        }
        var oldest: [String: Double] = [:]
        for try await (queue, age) in try await client.query(QueueSQL.oldestAvailableAge, logger: logger)
            .decode((String, Double).self)
        {
            oldest[queue] = max(0, age)
        }
        return QueueStats(countsByQueueAndState: counts, oldestAvailableAgeSeconds: oldest)
    }

    // MARK: Row mapping

    static func record(from row: PostgresRow) throws -> JobRecord {
        let (
            id, agency, queue, kind, args, priority, state, attempt, maxAttempts, runAt,
            attemptedAt, finalizedAt, leaseOwner, leaseExpiresAt, uniqueKey, errorsText, cancelRequested, progress,
            metadata, createdAt
        ) = try row.decode(
            (
                Int64, UUID?, String, String, String, Int64, String, Int64, Int64, Date,
                Date?, Date?, String?, Date?, String?, String, Bool, String?, String, Date
            ).self
        )
        let errors = (try? JobErrorRecordDecoding.decode(errorsText)) ?? []
        return JobRecord(
            id: id, agencyID: agency, queue: queue, kind: kind, args: Data(args.utf8), priority: Int(priority),
            state: try JobState.stored(state), attempt: Int(attempt), maxAttempts: Int(maxAttempts),
            runAt: runAt, attemptedAt: attemptedAt, finalizedAt: finalizedAt, leaseOwner: leaseOwner,
            leaseExpiresAt: leaseExpiresAt, uniqueKey: uniqueKey, errors: errors, cancelRequested: cancelRequested,
            progress: progress.map { Data($0.utf8) }, metadata: Data(metadata.utf8), createdAt: createdAt
        )
    }
}

enum JobErrorRecordDecoding {
    private struct Raw: Decodable {
        var attempt: Int
        var at: String
        var error: String
    }

    /// PostgreSQL writes `now()` into jsonb as `2024-05-01T12:00:00.123456+00:00`.
    static func decode(_ text: String) throws -> [JobErrorRecord] {
        let raw = try JSONDecoder().decode([Raw].self, from: Data(text.utf8))
        return raw.map { JobErrorRecord(attempt: $0.attempt, at: parseTimestamp($0.at) ?? .distantPast, error: $0.error) }
    }

    static func parseTimestamp(_ text: String) -> Date? {
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = withFraction.date(from: text) { return date }
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        return plain.date(from: text)
    }
}

/// How long finished jobs are kept before pruning.
public struct RetentionPolicy: Sendable, Hashable {
    /// Completed and cancelled jobs.
    public var completed: Duration
    /// Discarded jobs (kept longer, for post-mortems); nil keeps them forever.
    public var discarded: Duration?
    /// Cron slot records (each schedule's latest slot is always kept).
    public var cronSlots: Duration
    /// How often a worker prunes.
    public var interval: Duration

    public init(
        completed: Duration = .seconds(24 * 3600),
        discarded: Duration? = .seconds(7 * 24 * 3600),
        cronSlots: Duration = .seconds(7 * 24 * 3600),
        interval: Duration = .seconds(300)
    ) {
        self.completed = completed
        self.discarded = discarded
        self.cronSlots = cronSlots
        self.interval = interval
    }
}

/// Queue depth and latency figures, e.g. for gauges and the API.
public struct QueueStats: Sendable, Hashable {
    /// queue → state → number of jobs.
    public var countsByQueueAndState: [String: [JobState: Int]]
    /// queue → seconds since its oldest available job became due (queues with no available job are absent).
    public var oldestAvailableAgeSeconds: [String: Double]

    public func count(queue: String, state: JobState) -> Int { countsByQueueAndState[queue]?[state] ?? 0 }

    /// Sets the gauges `trellis_queue_jobs{queue,state}` and `trellis_queue_oldest_available_age_seconds{queue}`
    /// for every queue that has jobs, and for `alsoQueues` (recorded as 0 when empty, so a drained queue's
    /// gauges do not keep stale values).
    public func recordGauges(alsoQueues: [String] = []) {
        for queue in Set(countsByQueueAndState.keys).union(alsoQueues) {
            let states = countsByQueueAndState[queue] ?? [:]
            for state in JobState.allCases {
                Gauge(label: QueueMetricNames.depth, dimensions: [("queue", queue), ("state", state.rawValue)])
                    .record(states[state] ?? 0)
            }
            Gauge(label: QueueMetricNames.oldestAvailableAge, dimensions: [("queue", queue)])
                .record(oldestAvailableAgeSeconds[queue] ?? 0)
        }
    }
}

/// Metric labels used by the queue (swift-metrics; the process picks the backend).
public enum QueueMetricNames {
    public static let enqueued = "trellis_jobs_enqueued_total"
    public static let completed = "trellis_jobs_completed_total"
    public static let failed = "trellis_jobs_failed_total"
    public static let discarded = "trellis_jobs_discarded_total"
    public static let cancelled = "trellis_jobs_cancelled_total"
    public static let snoozed = "trellis_jobs_snoozed_total"
    public static let duration = "trellis_job_duration_seconds"
    public static let depth = "trellis_queue_jobs"
    public static let oldestAvailableAge = "trellis_queue_oldest_available_age_seconds"
}

extension Duration {
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}
