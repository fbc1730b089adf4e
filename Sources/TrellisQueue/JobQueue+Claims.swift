import Foundation
import PostgresNIO

/// The worker-side statements as plain calls (the worker uses them; tests and tools can drive a claim by hand).
extension JobQueue {
    /// Claims up to `limit` available jobs of `queue` for `owner` (see `QueueSQL.fetchAvailable`).
    func fetchAvailable(
        queue: String, limit: Int, owner: String, lease: Duration, priorityAging: Duration?
    ) async throws -> [FetchedJob] {
        let query = QueueSQL.fetchAvailable(
            queue: queue, limit: limit, owner: owner, leaseSeconds: lease.seconds,
            agingSeconds: priorityAging?.seconds ?? 0
        )
        var jobs: [FetchedJob] = []
        let rows = try await client.query(query, logger: logger)
        for try await (id, queue, kind, args, agency, priority, attempt, maxAttempts, runAt, metadata, createdAt)
            in rows.decode((Int64, String, String, String, UUID?, Int64, Int64, Int64, Date, String, Date).self)
        {
            jobs.append(
                FetchedJob(
                    id: id, queue: queue, kind: kind, args: Data(args.utf8), agencyID: agency, priority: Int(priority),
                    attempt: attempt, maxAttempts: Int(maxAttempts), runAt: runAt, metadata: Data(metadata.utf8),
                    createdAt: createdAt
                )
            )
        }
        return jobs
    }

    /// `completeMany` for `owner`; returns the ids actually completed (the others were fenced off).
    func completeMany(owner: String, _ jobs: [(id: JobID, attempt: Int64)]) async throws -> Set<JobID> {
        var done = Set<JobID>()
        let rows = try await client.query(
            QueueSQL.completeMany(owner: owner, ids: jobs.map(\.id), attempts: jobs.map(\.attempt)), logger: logger
        )
        for try await id in rows.decode(Int64.self) { done.insert(id) }
        return done
    }

    /// `renewLeases` for `owner`; returns id → cancel requested, for the jobs still ours.
    func renewLeases(owner: String, _ jobs: [(id: JobID, attempt: Int64)], lease: Duration) async throws -> [JobID: Bool] {
        var renewed: [JobID: Bool] = [:]
        let rows = try await client.query(
            QueueSQL.renewLeases(owner: owner, ids: jobs.map(\.id), attempts: jobs.map(\.attempt), leaseSeconds: lease.seconds),
            logger: logger
        )
        for try await (id, cancel) in rows.decode((Int64, Bool).self) { renewed[id] = cancel }
        return renewed
    }
}
