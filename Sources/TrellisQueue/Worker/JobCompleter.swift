import Foundation
import Logging
import Synchronization

/// How a job's attempt ended, as the completer writes it.
enum AttemptOutcome: Sendable {
    case complete
    /// The handler threw or timed out: retryable after `delay`, or discarded when out of attempts.
    case fail(error: String, delay: Double)
    /// Discarded at once (unknown kind, the handler asked for it).
    case discard(error: String)
    case snooze(delay: Double)
    case cancel(reason: String)
    /// Handed back on shutdown without consuming the attempt.
    case release

    /// The outcome's name in `QueueSQL.recordOutcomes`.
    var name: String {
        switch self {
        case .complete: "complete"
        case .fail: "fail"
        case .discard: "discard"
        case .snooze: "snooze"
        case .cancel: "cancel"
        case .release: "release"
        }
    }
}

/// An outcome waiting to be written.
struct PendingOutcome: Sendable {
    var job: FetchedJob
    var outcome: AttemptOutcome
}

/// What one written outcome did: the state the job is now in (a fenced-off attempt writes nothing and is absent).
struct WrittenOutcome: Sendable {
    var id: JobID
    var state: JobState
}

/// Writes the outcomes of finished attempts, all kinds together in one batched statement
/// (`QueueSQL.recordOutcomes`), fenced by attempt and lease owner: an attempt whose lease was lost writes nothing.
/// Outcomes that arrive while a write is in flight go in the next one, so they batch under load.
final class JobCompleter: Sendable {
    private struct State {
        var items: [PendingOutcome] = []
        var closed = false
    }

    private let state = Mutex(State())
    private let bell = Doorbell()
    private let queue: JobQueue
    private let owner: String
    private let statementTimeout: Duration
    private let metrics: WorkerMetrics
    private let logger: Logger
    /// Called once a batch of outcomes is written (or fenced off): the executor forgets those jobs.
    private let written: @Sendable ([JobID]) -> Void

    init(queue: JobQueue, owner: String, statementTimeout: Duration, metrics: WorkerMetrics, logger: Logger,
         written: @escaping @Sendable ([JobID]) -> Void) {
        self.queue = queue
        self.owner = owner
        self.statementTimeout = statementTimeout
        self.metrics = metrics
        self.logger = logger
        self.written = written
    }

    func record(_ job: FetchedJob, _ outcome: AttemptOutcome) {
        state.withLock { $0.items.append(PendingOutcome(job: job, outcome: outcome)) }
        bell.ring()
    }

    /// Jobs whose outcome is decided but not yet written (their lease renewal is not a loss).
    func pendingIDs() -> Set<JobID> {
        state.withLock { Set($0.items.map(\.job.id)) }
    }

    /// No more outcomes will come: `run` writes what is left and returns.
    func close() {
        state.withLock { $0.closed = true }
        bell.ring()
    }

    private func takeAll() -> (batch: [PendingOutcome], closed: Bool) {
        state.withLock { state in
            defer { state.items = [] }
            return (state.items, state.closed)
        }
    }

    func run(note: @escaping @Sendable (String) -> Void) async {
        var failures = 0
        while true {
            let (batch, closed) = takeAll()
            if batch.isEmpty {
                if closed {
                    note("ended")
                    return
                }
                note("idle")
                await bell.wait(timeout: .seconds(1))
                continue
            }
            do {
                note("writing \(batch.count) outcomes")
                try await withDeadline(statementTimeout, "recording outcomes") { try await self.write(batch) }
                failures = 0
                written(batch.map(\.job.id))
            } catch {
                failures += 1
                logger.error("recording job outcomes failed", metadata: ["count": "\(batch.count)", "error": "\(String(reflecting: error))"])
                if closed && failures >= 5 {
                    logger.error("giving up on \(batch.count) outcomes: their leases will expire and be rescued")
                    return
                }
                state.withLock { $0.items.insert(contentsOf: batch, at: 0) }
                try? await Task.sleep(for: .milliseconds(min(200 * failures, 5000)))
            }
        }
    }

    private func write(_ batch: [PendingOutcome]) async throws {
        let results = try await queue.recordOutcomes(owner: owner, batch)
        let states = Dictionary(results.map { ($0.id, $0.state) }, uniquingKeysWith: { a, _ in a })
        // Completions are counted per queue and kind, one increment each: a batch is usually one kind.
        var completed: [WorkerMetrics.Key: Int64] = [:]
        for pending in batch {
            guard let state = states[pending.job.id] else {
                if case .complete = pending.outcome {
                    logger.warning("completion fenced off: the job is no longer ours", metadata: ["job_id": "\(pending.job.id)"])
                }
                continue
            }
            let key = WorkerMetrics.Key(queue: pending.job.queue, kind: pending.job.kind)
            switch pending.outcome {
            case .complete: completed[key, default: 0] += 1
            case .fail, .discard:
                let counters = metrics.for(key)
                counters.failed.increment()
                if state == .discarded { counters.discarded.increment() }
            case .snooze: metrics.for(key).snoozed.increment()
            case .cancel: metrics.for(key).cancelled.increment()
            case .release: break
            }
        }
        for (key, count) in completed { metrics.for(key).completed.increment(by: count) }
    }
}
