import Foundation
import Logging
import PostgresNIO
import Synchronization
import Testing

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

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
func eventually(
    timeout: Duration = .seconds(5), every interval: Duration = .milliseconds(20),
    _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: interval)
    }
    return try await condition()
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

/// Runs a worker for the duration of `body`, then shuts it down gracefully and waits for it.
func withWorker<T>(
    _ client: PostgresClient, _ registry: JobRegistry, _ configuration: JobWorker.Configuration,
    _ body: (JobWorker) async throws -> T
) async throws -> T {
    let worker = JobWorker(client: client, registry: registry, configuration: configuration, logger: testLogger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await worker.run() }
        do {
            let result = try await body(worker)
            worker.requestShutdown()
            try await group.waitForAll()
            return result
        } catch {
            worker.requestShutdown()
            try? await group.waitForAll()
            throw error
        }
    }
}

func jobState(_ queue: JobQueue, _ id: JobID) async throws -> JobState? {
    try await queue.job(id)?.state
}

func scalar(_ client: PostgresClient, _ query: PostgresQuery) async throws -> Int64 {
    for try await value in try await client.query(query).decode(Int64.self) { return value }
    return 0
}
