import Logging
import Metrics
import PostgresNIO
import TrellisQueue

/// Runs a real `JobWorker` for the duration of `body`, then shuts it down gracefully and waits for it.
/// `metricsFactory`: where the worker's counters go (a test's `TestMetrics`); the process's backend by default.
public func withWorker<T: Sendable>(
    _ client: PostgresClient, _ registry: JobRegistry, _ configuration: JobWorker.Configuration, logger: Logger,
    metricsFactory: any MetricsFactory = MetricsSystem.factory,
    _ body: (JobWorker) async throws -> T
) async throws -> T {
    let worker = JobWorker(client: client, registry: registry, configuration: configuration, logger: logger, metricsFactory: metricsFactory)
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
