import Foundation
import PostgresNIO

/// Executions of `system.probe` jobs (a system table: no agency).
public struct ProbeStore: Sendable {
    public let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    public func record(job: Int64, attempt: Int, worker: String, on connection: PostgresConnection) async throws {
        try await connection.query(
            "INSERT INTO trellis_probe_runs (job_id, attempt, worker) VALUES (\(job), \(attempt), \(worker))", logger: logger)
    }
}
