import Foundation
import Logging
import PostgresNIO
import TrellisTestSupport

/// A running client on a fresh copy of the migrated template database (the shared test pool), as the
/// schema owner: the queue's tests enqueue, fetch and terminate backends as an operator would.
func withFreshQueueDatabase<T: Sendable>(
    label: String = #function, _ body: @Sendable (PostgresClient) async throws -> T
) async throws -> T {
    try await withTestDatabase(label: label) { db in try await body(db.owner) }
}

enum QueueTestDatabase {
    static let logger: Logger = {
        var logger = Logger(label: "trellis.queue.tests")
        logger.logLevel = .warning
        return logger
    }()
}
