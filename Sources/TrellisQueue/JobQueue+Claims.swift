import Foundation
import PostgresNIO

/// The worker-side statements as plain calls (the worker uses them; tests and tools can drive a claim by hand).
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
        jobs.reserveCapacity(limit)
        for try await job in try await client.execute(statement, logger: logger) { jobs.append(job) }
        return jobs
    }

    /// `completeMany` for `owner`; returns the ids actually completed (the others were fenced off).
    func completeMany(owner: String, _ jobs: [(id: JobID, attempt: Int64)]) async throws -> Set<JobID> {
        let query = QueueSQL.completeMany(owner: owner, ids: jobs.map(\.id), attempts: jobs.map(\.attempt))
        var done = Set<JobID>(minimumCapacity: jobs.count)
        for try await id in try await client.query(query, logger: logger).decode(JobID.self) { done.insert(id) }
        return done
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
}
