import Foundation
import Logging
import Synchronization

/// The producer of one queue: keeps at most `concurrency` of its jobs running, claiming them in batches with
/// `fetchAvailable` (under load it waits for half a batch of free slots) and handing them to the executor. It
/// wakes on a doorbell (a notification for the queue, a freed slot) or every `pollInterval`.
///
/// When the queue has room for more than one batch (`concurrency > fetchBatchSize`), two claim loops share its
/// slots, so the next claim is already running in the database while the worker starts the last batch's jobs:
/// with one loop the claiming connection sat idle for that time, a third of a busy drain (`docs/benchmarks.md`).
/// A loop reserves the slots it claims for before its statement starts, so together they never exceed
/// `concurrency`.
final class QueueProducer: Sendable {
    let queue: String
    let concurrency: Int
    /// A fetch waits until at least this many slots are free (half a batch), so that under load the worker claims
    /// jobs in batches instead of one per finished job; fewer free slots are still filled `cooldown` after the last
    /// fetch ended.
    let threshold: Int
    /// One doorbell per claim loop (a doorbell wakes one waiter).
    private let bells: [Doorbell]
    private struct Claims {
        /// Slots reserved by claims in flight.
        var reserved = 0
        /// When the queue's last claim (of either loop) ended.
        var lastEnded = ContinuousClock.now - QueueProducer.cooldown
    }

    private let claims = Mutex(Claims())
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
        self.bells = (0..<(concurrency > configuration.fetchBatchSize ? 2 : 1)).map { _ in Doorbell() }
        self.configuration = configuration
        self.jobs = jobs
        self.executor = executor
        self.activity = activity
        self.logger = logger
    }

    /// Wakes every claim loop (a notification for the queue, shutdown).
    func ring() {
        for bell in bells { bell.ring() }
    }

    /// Slots neither running nor reserved by a claim in flight (called under `claims`' lock).
    private func free(running: Int, _ claims: Claims) -> Int {
        concurrency - running - claims.reserved
    }

    private func freeSlots() -> (free: Int, inFlight: Bool, sinceLastClaim: Duration) {
        claims.withLock { claims in
            (free(running: executor.running(in: queue), claims), claims.reserved > 0, .now - claims.lastEnded)
        }
    }

    /// Reserves up to `wanted` free slots for a claim; returns how many it got.
    private func reserve(upTo wanted: Int) -> Int {
        claims.withLock { claims in
            let taken = max(0, min(wanted, free(running: executor.running(in: queue), claims)))
            claims.reserved += taken
            return taken
        }
    }

    private func unreserve(_ count: Int, claimEnded: Bool) {
        claims.withLock { claims in
            claims.reserved -= count
            if claimEnded { claims.lastEnded = .now }
        }
    }

    /// Claims until `isStopping`, then waits for the queue's running jobs to be done.
    func run(isStopping: @escaping @Sendable () -> Bool) async {
        await withTaskGroup(of: Void.self) { group in
            for (index, bell) in bells.enumerated() {
                group.addTask { await self.claimLoop(bell: bell, name: index == 0 ? "fetch:\(self.queue)" : "fetch:\(self.queue)#\(index + 1)", isStopping: isStopping) }
            }
        }
        activity.note("fetch:\(queue)", "waiting for its running jobs")
        await executor.waitUntilIdle(queue: queue)
        activity.note("fetch:\(queue)", "ended")
    }

    private func claimLoop(bell: Doorbell, name loop: String, isStopping: @Sendable () -> Bool) async {
        var errorDelay = Duration.milliseconds(100)
        while !isStopping() && !Task.isCancelled {
            let (free, inFlight, sinceLastClaim) = freeSlots()
            if free <= 0 {
                activity.note(loop, "waiting for a free slot")
                await bell.wait(timeout: configuration.pollInterval)
                continue
            }
            if free < threshold {
                // Under load, claims stay batches: a few free slots wait while the other loop's claim is in flight,
                // and until `cooldown` after the queue's last claim ended.
                if inFlight {
                    await bell.wait(timeout: configuration.pollInterval)
                    continue
                }
                if sinceLastClaim < Self.cooldown {
                    await bell.wait(timeout: Self.cooldown - sinceLastClaim)
                    continue
                }
            }
            // The other loop may have taken the slots meanwhile.
            let limit = reserve(upTo: min(free, configuration.fetchBatchSize))
            if limit == 0 { continue }
            let fetched: [FetchedJob]
            do {
                activity.note(loop, "fetching")
                let (jobs, configuration, queue) = (self.jobs, self.configuration, self.queue)
                fetched = try await withDeadline(configuration.statementTimeout, "fetchAvailable") {
                    try await jobs.fetchAvailable(
                        queue: queue, limit: limit, owner: configuration.workerID,
                        lease: configuration.leaseDuration, priorityAging: configuration.priorityAging)
                }
                errorDelay = .milliseconds(100)
            } catch {
                unreserve(limit, claimEnded: false)
                logger.error("fetch failed", metadata: ["queue": "\(queue)", "error": "\(String(reflecting: error))"])
                await bell.wait(timeout: errorDelay)
                errorDelay = min(errorDelay * 2, .seconds(5))
                continue
            }
            // Running before unreserved: the two counts never let a third claim in between.
            executor.start(fetched, producer: self)
            unreserve(limit, claimEnded: true)
            // A loop waiting for this claim to end may now take the few slots left (after the cooldown). Not after an
            // empty claim: the queue is empty or paused, and the loops would wake each other in turn.
            if !fetched.isEmpty { ringOthers(than: bell) }
            // Claimed while the shutdown began: they start and are released by the grace timer.
            if isStopping() { break }
            if fetched.isEmpty {
                // Nothing (or all candidates were being claimed by other workers): wait for a notification, a freed
                // slot, or the poll interval. A partial batch loops at once.
                activity.note(loop, "idle")
                await bell.wait(timeout: configuration.pollInterval)
            }
        }
    }

    private func ringOthers(than bell: Doorbell) {
        for other in bells where other !== bell { other.ring() }
    }

    /// A job of this queue returned: wake the claim loops when they have something to do, not on every finished
    /// job — at the first free slot (a loop then waits up to `cooldown` for more) and at half a batch.
    func slotFreed(stillRunning running: Int, stopping: Bool) {
        if stopping || running == 0 {
            ring()
        } else if bells.count == 1 {
            let free = concurrency - running
            if free == 1 || free == threshold { ring() }
        } else {
            // Slots held by the other loop's claim in flight are not free, so the count can jump past half a batch.
            let free = claims.withLock { self.free(running: running, $0) }
            if free == 1 || free >= threshold { ring() }
        }
    }
}
