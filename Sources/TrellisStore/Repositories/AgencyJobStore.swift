import Foundation
import PostgresNIO
import TrellisDomain

/// One agency's view of the job queue (`trellis_jobs` is a system table without row-level security, so
/// every statement here filters on `agency_id` itself).
public struct AgencyJobStore: Sendable {
    public let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    public struct Count: Sendable, Codable, Hashable {
        public var queue: String
        public var state: String
        public var count: Int
    }

    public struct ErrorEntry: Sendable, Codable, Hashable {
        public var attempt: Int
        public var at: String
        public var error: String
    }

    public struct JobView: Sendable, Codable, Hashable {
        public var id: Int64
        public var queue: String
        public var kind: String
        public var state: String
        public var attempt: Int
        public var maxAttempts: Int
        public var runAt: Date
        public var attemptedAt: Date?
        public var finalizedAt: Date?
        public var createdAt: Date
        public var errors: [ErrorEntry]
    }

    public func summary(on connection: TenantConnection) async throws -> [Count] {
        let rows = try await connection.query("""
            SELECT queue, state::text, count(*) FROM trellis_jobs WHERE agency_id = \(connection.agencyID) GROUP BY 1, 2 ORDER BY 1, 2
            """, logger: logger)
        var counts: [Count] = []
        for try await (queue, state, count) in rows.decode((String, String, Int).self) { counts.append(Count(queue: queue, state: state, count: count)) }
        return counts
    }

    static let columns = "id, queue, kind, state::text, attempt, max_attempts, run_at, attempted_at, finalized_at, created_at, errors::text"

    /// The agency's jobs, newest first, optionally in one state; `before` is an id cursor.
    public func list(state: String?, before: Int64?, limit: Int, on connection: TenantConnection) async throws -> [JobView] {
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.columns) FROM trellis_jobs
            WHERE agency_id = \(connection.agencyID) AND (\(state)::text IS NULL OR state::text = \(state))
              AND (\(before)::int8 IS NULL OR id < \(before))
            ORDER BY id DESC LIMIT \(limit)
            """, logger: logger)
        var jobs: [JobView] = []
        for try await row in rows { jobs.append(try Self.decode(row)) }
        return jobs
    }

    /// The job if it belongs to the connection's agency; nil otherwise (another agency's job is as missing as none).
    public func job(_ id: Int64, on connection: TenantConnection) async throws -> JobView? {
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.columns) FROM trellis_jobs WHERE id = \(id) AND agency_id = \(connection.agencyID)
            """, logger: logger)
        for try await row in rows { return try Self.decode(row) }
        return nil
    }

    static func decode(_ row: PostgresRow) throws -> JobView {
        let (id, queue, kind, state, attempt, maxAttempts, runAt, attemptedAt, finalizedAt, createdAt, errors) =
            try row.decode((Int64, String, String, String, Int, Int, Date, Date?, Date?, Date, String).self)
        let entries = (try? JSONDecoder().decode([ErrorEntry].self, from: Data(errors.utf8))) ?? []
        return JobView(id: id, queue: queue, kind: kind, state: state, attempt: attempt, maxAttempts: maxAttempts, runAt: runAt,
                       attemptedAt: attemptedAt, finalizedAt: finalizedAt, createdAt: createdAt, errors: entries)
    }
}
