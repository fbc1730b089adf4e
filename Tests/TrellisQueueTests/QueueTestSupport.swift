import Foundation
import Logging
import PostgresNIO
import Synchronization
import Testing
import TrellisTestSupport

@testable import TrellisQueue

let testLogger = QueueTestDatabase.logger

/// A value shared between a test and its handlers.
final class Shared<Value: Sendable>: Sendable {
    private let box: Mutex<Value>
    init(_ value: Value) { box = Mutex(value) }
    var value: Value { box.withLock { $0 } }
    @discardableResult
    func update<R: Sendable>(_ body: (inout Value) -> R) -> R { box.withLock { body(&$0) } }
}

/// Counts the handlers running at once, and the most there ever were.
final class RunningGauge: Sendable {
    private let counts = Mutex((current: 0, peak: 0))
    func enter() { counts.withLock { $0.current += 1; $0.peak = max($0.peak, $0.current) } }
    func leave() { counts.withLock { $0.current -= 1 } }
    var peak: Int { counts.withLock { $0.peak } }
}

/// A worker configured for fast tests.
func testWorkerConfiguration(
    queues: [String: Int] = ["default": 4], workerID: String = "test-worker-\(UUID().uuidString.prefix(8))"
) -> JobWorker.Configuration {
    JobWorker.Configuration(
        queues: queues,
        workerID: workerID,
        pollInterval: .milliseconds(200),
        fetchBatchSize: 10,
        leaseDuration: .seconds(5),
        leaseRenewInterval: .milliseconds(100),
        handlerTimeout: .seconds(10),
        shutdownGracePeriod: .seconds(2),
        maintenanceInterval: .milliseconds(50),
        retryPolicy: RetryPolicy(curve: .exponential(base: .milliseconds(20)), maximum: .milliseconds(200), jitter: 0.2),
        retention: nil,
        statementTimeout: .seconds(5)
    )
}

func jobState(_ queue: JobQueue, _ id: JobID) async throws -> JobState? {
    try await queue.job(id)?.state
}

func scalar(_ client: PostgresClient, _ query: PostgresQuery) async throws -> Int64 {
    for try await value in try await client.query(query).decode(Int64.self) { return value }
    return 0
}
