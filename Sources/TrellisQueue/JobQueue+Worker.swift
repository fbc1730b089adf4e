import Foundation
import PostgresNIO

/// The worker-side statements (the producer's fetch, the executor's lease renewals and progress, the completer's
/// outcomes) and leadership, as plain calls: the worker, the scheduler, tools and tests all go through these.
extension JobQueue {
    /// Claims up to `limit` available jobs of `queue` for `owner` (see `PreparedQueueStatements.FetchAvailable`).
    func fetchAvailable(
        queue: String, limit: Int, owner: String, lease: Duration, priorityAging: Duration?
    ) async throws -> [FetchedJob] {
        let statement = PreparedQueueStatements.FetchAvailable(
            queue: queue, limit: limit, owner: owner, leaseSeconds: lease.seconds,
            agingSeconds: priorityAging?.seconds ?? 0
        )
        var jobs: [FetchedJob] = []
        for try await batch in try await client.execute(statement, logger: logger) { jobs += batch }
        return jobs
    }

    /// Writes finished attempts (one statement, fenced); returns the jobs written with their new state. A batch of
    /// completions only goes through the narrower `completeMany`.
    func recordOutcomes(owner: String, _ outcomes: [PendingOutcome]) async throws -> [WrittenOutcome] {
        if outcomes.allSatisfy({ if case .complete = $0.outcome { true } else { false } }) {
            let query = QueueSQL.completeMany(owner: owner, ids: outcomes.map(\.job.id), attempts: outcomes.map(\.job.attempt))
            var written: [WrittenOutcome] = []
            written.reserveCapacity(outcomes.count)
            for try await ids in try await client.query(query, logger: logger).decode([JobID].self) {
                written += ids.map { WrittenOutcome(id: $0, state: .completed) }
            }
            return written
        }
        var errors: [String] = [], delays: [Double] = []
        errors.reserveCapacity(outcomes.count)
        delays.reserveCapacity(outcomes.count)
        for pending in outcomes {
            switch pending.outcome {
            case .fail(let error, let delay): errors.append(error); delays.append(delay)
            case .discard(let error): errors.append(error); delays.append(0)
            case .snooze(let delay): errors.append(""); delays.append(delay)
            case .cancel(let reason): errors.append(reason); delays.append(0)
            case .complete, .release: errors.append(""); delays.append(0)
            }
        }
        let query = QueueSQL.recordOutcomes(
            owner: owner, ids: outcomes.map(\.job.id), attempts: outcomes.map(\.job.attempt), outcomes: outcomes.map(\.outcome.name),
            errors: errors, delays: delays)
        var written: [WrittenOutcome] = []
        written.reserveCapacity(outcomes.count)
        for try await (id, state, _) in try await client.query(query, logger: logger).decode((JobID, String, Int64).self) {
            written.append(WrittenOutcome(id: id, state: try JobState.stored(state)))
        }
        return written
    }

    /// Completes attempts of `owner`; returns the ids actually completed (the others were fenced off).
    func completeMany(owner: String, _ jobs: [(id: JobID, attempt: Int64)]) async throws -> Set<JobID> {
        let pending = jobs.map { PendingOutcome(job: FetchedJob(id: $0.id, attempt: $0.attempt), outcome: .complete) }
        return Set(try await recordOutcomes(owner: owner, pending).map(\.id))
    }

    /// `renewLeases` for `owner`; returns id → cancel requested, for the jobs still ours.
    func renewLeases(owner: String, _ jobs: [(id: JobID, attempt: Int64)], lease: Duration) async throws -> [JobID: Bool] {
        let query = QueueSQL.renewLeases(
            owner: owner, ids: jobs.map(\.id), attempts: jobs.map(\.attempt), leaseSeconds: lease.seconds
        )
        var renewed: [JobID: Bool] = [:]
        for try await (id, cancel) in try await client.query(query, logger: logger).decode((JobID, Bool).self) {
            renewed[id] = cancel
        }
        return renewed
    }

    /// A running attempt's progress (fenced: a stale attempt writes nothing).
    func updateProgress(owner: String, id: JobID, attempt: Int64, progress: String) async throws {
        try await client.query(QueueSQL.updateProgress(owner: owner, id: id, attempt: attempt, progress: progress), logger: logger)
    }

    // MARK: Leadership (the scheduler, the worker's maintenance)

    /// Takes the named lease if it is free or expired, or renews it for `holder`; true while `holder` leads.
    public func acquireLeadership(_ name: String, holder: String, lease: Duration) async throws -> Bool {
        for try await _ in try await client.query(
            QueueSQL.acquireLeaderLease(name: name, holder: holder, leaseSeconds: lease.seconds), logger: logger) {
            return true
        }
        return false
    }

    /// Gives the named lease up, so a spare takes over at its next try rather than when the lease expires.
    public func releaseLeadership(_ name: String, holder: String) async throws {
        try await client.query(QueueSQL.releaseLeaderLease(name: name, holder: holder), logger: logger)
    }

    // MARK: Cron slots (the scheduler)

    /// The last enqueued fire time of each of `schedules`.
    func latestCronSlots(_ schedules: [String]) async throws -> [String: Date] {
        var latest: [String: Date] = [:]
        for try await (name, fireTime) in try await client.query(QueueSQL.latestCronSlots(schedules: schedules), logger: logger)
            .decode((String, Date).self) { latest[name] = fireTime }
        return latest
    }

    /// Claims `(schedule, fireTime)` and enqueues `job` for it in one transaction; nil if the slot was already taken.
    func enqueueCronSlot(_ schedule: String, fireTime: Date, job: NewJob) async throws -> EnqueueResult? {
        let logger = self.logger
        return try await client.withTransaction(logger: logger) { connection in
            var claimed = false
            for try await _ in try await connection.query(QueueSQL.claimCronSlot(schedule: schedule, fireTime: fireTime), logger: logger) {
                claimed = true
            }
            guard claimed else { return nil }
            let result = try await self.enqueueBatch([job], on: connection)[0]
            try await connection.query(
                QueueSQL.recordCronSlotJob(schedule: schedule, fireTime: fireTime, jobID: result.jobID), logger: logger)
            return result
        }
    }

    /// Enabled per-agency schedule rows.
    func agencyScheduleRows() async throws -> PostgresRowSequence {
        try await client.query(QueueSQL.loadAgencySchedules, logger: logger)
    }
}
