import Foundation
import Metrics
import Synchronization

/// A claimed job as the worker holds it (a class: it is shared by the running table, the handler's task and
/// the completer without copying its strings and data).
final class FetchedJob: Sendable {
    let id: JobID
    let queue: String
    let kind: String
    let args: Data
    let agencyID: UUID?
    let priority: Int
    let attempt: Int64
    let maxAttempts: Int
    let runAt: Date
    let metadata: Data
    let createdAt: Date

    init(
        id: JobID, queue: String = NewJob.defaultQueue, kind: String = "", args: Data = Data(), agencyID: UUID? = nil, priority: Int = 1,
        attempt: Int64, maxAttempts: Int = 1, runAt: Date = Date(timeIntervalSince1970: 0), metadata: Data = Data(),
        createdAt: Date = Date(timeIntervalSince1970: 0)
    ) {
        self.id = id
        self.queue = queue
        self.kind = kind
        self.args = args
        self.agencyID = agencyID
        self.priority = priority
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.runAt = runAt
        self.metadata = metadata
        self.createdAt = createdAt
    }
}

/// The worker's metrics per (queue, kind), made once: creating a swift-metrics handle per job costs a
/// lookup in the backend's registry under its lock.
final class WorkerMetrics: Sendable {
    final class Handles: Sendable {
        let duration: Metrics.Timer
        let completed: Counter
        let failed: Counter
        let discarded: Counter
        let snoozed: Counter
        let cancelled: Counter

        init(queue: String, kind: String, factory: any MetricsFactory) {
            let dimensions = [("queue", queue), ("kind", kind)]
            duration = Metrics.Timer(label: QueueMetricNames.duration, dimensions: dimensions, preferredDisplayUnit: .seconds, factory: factory)
            completed = Counter(label: QueueMetricNames.completed, dimensions: dimensions, factory: factory)
            failed = Counter(label: QueueMetricNames.failed, dimensions: dimensions, factory: factory)
            discarded = Counter(label: QueueMetricNames.discarded, dimensions: dimensions, factory: factory)
            snoozed = Counter(label: QueueMetricNames.snoozed, dimensions: dimensions, factory: factory)
            cancelled = Counter(label: QueueMetricNames.cancelled, dimensions: dimensions, factory: factory)
        }
    }

    private let factory: any MetricsFactory

    /// `factory`: the process's backend (`MetricsSystem.factory`), or a test's.
    init(factory: any MetricsFactory) {
        self.factory = factory
    }

    struct Key: Hashable {
        var queue: String
        var kind: String
    }

    private let handles = Mutex<[Key: Handles]>([:])

    func `for`(_ key: Key) -> Handles {
        handles.withLock { handles in
            if let existing = handles[key] { return existing }
            let made = Handles(queue: key.queue, kind: key.kind, factory: factory)
            handles[key] = made
            return made
        }
    }
}

/// What each of a worker's loops is doing right now (for diagnosing a stuck worker).
final class ActivityLog: Sendable {
    private let activity = Mutex<[String: String]>([:])
    func note(_ loop: String, _ what: String) { activity.withLock { $0[loop] = what } }
    var all: [String: String] { activity.withLock { $0 } }
}

/// Set once when the worker starts stopping; read by every part.
final class StopFlag: Sendable {
    private let value = Mutex(false)
    /// Sets the flag; true for the first caller.
    func set() -> Bool {
        value.withLock { stopping in
            defer { stopping = true }
            return !stopping
        }
    }
    var isSet: Bool { value.withLock { $0 } }
}
