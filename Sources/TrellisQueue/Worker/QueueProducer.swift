import Foundation
import Logging

/// The producer of one queue: keeps at most `concurrency` of its jobs running, claiming them in batches with
/// `fetchAvailable` (under load it waits for half a batch of free slots) and handing them to the executor. It
/// wakes on its doorbell (a notification for the queue, a freed slot) or every `pollInterval`.
final class QueueProducer: Sendable {
    let queue: String
    let concurrency: Int
    /// A fetch waits until at least this many slots are free (half a batch), so that under load the worker claims
    /// jobs in batches instead of one per finished job; fewer free slots are still filled `cooldown` after the last
    /// fetch ended.
    let threshold: Int
    let bell = Doorbell()
    private let configuration: JobWorker.Configuration
    private let jobs: JobQueue
    private let executor: JobExecutor
    private let activity: ActivityLog
    private let logger: Logger

    static let cooldown = Duration.milliseconds(20)

    init(queue: String, concurrency: Int, configuration: JobWorker.Configuration, jobs: JobQueue, executor: JobExecutor,
         activity: ActivityLog, logger: Logger) {
        self.queue = queue
        self.concurrency = concurrency
        self.threshold = max(1, min(configuration.fetchBatchSize, concurrency) / 2)
        self.configuration = configuration
        self.jobs = jobs
        self.executor = executor
        self.activity = activity
        self.logger = logger
    }

    /// Fetches until `isStopping`, then waits for the queue's running jobs to be done.
    func run(isStopping: @Sendable () -> Bool) async {
        var lastFetch = ContinuousClock.now - Self.cooldown
        var errorDelay = Duration.milliseconds(100)
        let loop = "fetch:\(queue)"
        while !isStopping() && !Task.isCancelled {
            let free = concurrency - executor.running(in: queue)
            if free <= 0 {
                activity.note(loop, "waiting for a free slot")
                await bell.wait(timeout: configuration.pollInterval)
                continue
            }
            if free < threshold {
                let since = ContinuousClock.now - lastFetch
                if since < Self.cooldown {
                    await bell.wait(timeout: Self.cooldown - since)
                    continue
                }
            }
            let fetched: [FetchedJob]
            do {
                activity.note(loop, "fetching")
                let (jobs, configuration, queue) = (self.jobs, self.configuration, self.queue)
                fetched = try await withDeadline(configuration.statementTimeout, "fetchAvailable") {
                    try await jobs.fetchAvailable(
                        queue: queue, limit: min(free, configuration.fetchBatchSize), owner: configuration.workerID,
                        lease: configuration.leaseDuration, priorityAging: configuration.priorityAging)
                }
                lastFetch = .now
                errorDelay = .milliseconds(100)
            } catch {
                logger.error("fetch failed", metadata: ["queue": "\(queue)", "error": "\(String(reflecting: error))"])
                await bell.wait(timeout: errorDelay)
                errorDelay = min(errorDelay * 2, .seconds(5))
                continue
            }
            executor.start(fetched, producer: self)
            // Claimed while the shutdown began: they start and are released by the grace timer.
            if isStopping() { break }
            if fetched.isEmpty {
                // Nothing (or all candidates were being claimed by other workers): wait for a notification, a freed
                // slot, or the poll interval. A partial batch loops at once.
                activity.note(loop, "idle")
                await bell.wait(timeout: configuration.pollInterval)
            }
        }
        activity.note(loop, "waiting for its running jobs")
        await executor.waitUntilIdle(queue: queue)
        activity.note(loop, "ended")
    }

    /// A job of this queue returned: wake the producer when it has something to do, not on every finished job — at
    /// the first free slot (it then waits up to `cooldown` for more) and at half a batch.
    func slotFreed(stillRunning running: Int, stopping: Bool) {
        let free = concurrency - running
        if stopping || running == 0 || free == 1 || free == threshold { bell.ring() }
    }
}
