import Foundation
import Logging
import Synchronization

/// The queue's housekeeping — promoting due jobs, rescuing jobs whose lease expired, pruning finished ones — run
/// by one worker of all those on the database at a time, the holder of the `queue.maintenance` lease (as River
/// runs its maintenance services on the elected leader). Leadership is kept by its own loop, apart from the
/// maintenance work, so a slow prune cannot let the lease lapse; a worker that stops hands the lease over at once.
final class QueueMaintenance: Sendable {
    static let leaseName = "queue.maintenance"

    private let leading = Mutex(false)
    private let stopBell = Doorbell()
    private let jobs: JobQueue
    private let configuration: JobWorker.Configuration
    private let activity: ActivityLog
    private let logger: Logger
    /// Rings every producer: promoted or rescued jobs are available now.
    private let wake: @Sendable () -> Void

    init(jobs: JobQueue, configuration: JobWorker.Configuration, activity: ActivityLog, logger: Logger, wake: @escaping @Sendable () -> Void) {
        self.jobs = jobs
        self.configuration = configuration
        self.activity = activity
        self.logger = logger
        self.wake = wake
    }

    var isLeader: Bool { leading.withLock { $0 } }

    /// Long enough that a leader under load renews it well before it lapses; a spare takes over within it when
    /// a leader dies without handing it over.
    var lease: Duration { max(configuration.maintenanceInterval * 5, .seconds(5)) }

    private func setLeading(_ value: Bool) {
        let changed = leading.withLock { state -> Bool in
            defer { state = value }
            return state != value
        }
        if changed { logger.info(value ? "leading queue maintenance" : "no longer leading queue maintenance") }
    }

    /// Takes or renews the lease every third of it until `isStopping`, then hands it over.
    func electLoop(isStopping: @Sendable () -> Bool) async {
        let (jobs, holder, lease, timeout) = (self.jobs, configuration.workerID, self.lease, configuration.statementTimeout)
        while !Task.isCancelled && !isStopping() {
            do {
                activity.note("elect", "taking or renewing the maintenance lease")
                let leads = try await withDeadline(timeout, "acquireLeadership") {
                    try await jobs.acquireLeadership(Self.leaseName, holder: holder, lease: lease)
                }
                setLeading(leads)
            } catch {
                if Task.isCancelled { break }
                // Unsure whether we still lead: stop maintaining (it is safe on several workers, only wasteful).
                setLeading(false)
                logger.error("maintenance lease failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            activity.note("elect", isLeader ? "leading" : "standing by")
            await stopBell.wait(timeout: lease / 3)
        }
        guard isLeader else { return }
        setLeading(false)
        // A task of its own: if ours was cancelled, a query sent from it would not go out. Bounded, so a stopping
        // worker never waits on an unreachable database for it.
        await Task {
            try? await withDeadline(.seconds(2), "releaseLeadership") { try await jobs.releaseLeadership(Self.leaseName, holder: holder) }
        }.value
        activity.note("elect", "lease handed over")
    }

    /// The worker is stopping: hand the lease over now rather than at the next renewal.
    func stop() { stopBell.ring() }

    /// Every `maintenanceInterval`, while leading: promote, rescue, and prune every `retention.interval`.
    func workLoop() async {
        var lastPrune: ContinuousClock.Instant?
        let (jobs, timeout) = (self.jobs, configuration.statementTimeout)
        while !Task.isCancelled {
            if isLeader {
                do {
                    activity.note("maintenance", "promoting and rescuing")
                    let promoted = try await withDeadline(timeout, "promoteDueJobs") { try await jobs.promoteDueJobs() }
                    if promoted > 0 { wake() }
                    let rescued = try await withDeadline(timeout, "rescueExpiredLeases") { try await jobs.rescueExpiredLeases() }
                    if !rescued.isEmpty {
                        logger.warning("rescued jobs whose lease expired", metadata: ["ids": "\(rescued)"])
                        wake()
                    }
                    if let retention = configuration.retention, lastPrune.map({ ContinuousClock.now - $0 >= retention.interval }) ?? true {
                        lastPrune = .now
                        let pruned = try await withDeadline(timeout * 10, "pruning") { try await jobs.prune(retention) }
                        if pruned > 0 { logger.info("pruned finished jobs", metadata: ["count": "\(pruned)"]) }
                    }
                } catch {
                    if Task.isCancelled { return }
                    logger.error("queue maintenance failed", metadata: ["error": "\(String(reflecting: error))"])
                }
            }
            activity.note("maintenance", isLeader ? "sleeping" : "not the leader; sleeping")
            try? await Task.sleep(for: configuration.maintenanceInterval)
        }
    }
}

/// LISTEN `trellis_jobs` on a dedicated leased connection (re-established with backoff when it drops), ringing
/// the producer of the queue each notification names; polling is the fallback meanwhile.
final class NotificationListener: Sendable {
    private struct State {
        var listening = false
        var connections = 0
    }

    private let state = Mutex(State())
    private let jobs: JobQueue
    private let activity: ActivityLog
    private let logger: Logger
    private let ring: @Sendable (String?) -> Void

    /// `ring(queue)` wakes that queue's producer; `ring(nil)` wakes them all.
    init(jobs: JobQueue, activity: ActivityLog, logger: Logger, ring: @escaping @Sendable (String?) -> Void) {
        self.jobs = jobs
        self.activity = activity
        self.logger = logger
        self.ring = ring
    }

    var isListening: Bool { state.withLock { $0.listening } }
    var connectionCount: Int { state.withLock { $0.connections } }

    func run() async {
        var delay = Duration.milliseconds(100)
        while !Task.isCancelled {
            do {
                activity.note("listen", "leasing a connection")
                try await jobs.client.withConnection { connection in
                    self.activity.note("listen", "starting LISTEN on connection \(connection.id)")
                    try await connection.listen(on: JobWorker.notificationChannel) { notifications in
                        self.activity.note("listen", "listening")
                        self.state.withLock {
                            $0.listening = true
                            $0.connections += 1
                        }
                        delay = .milliseconds(100)
                        // Anything enqueued while we were not listening: look once.
                        self.ring(nil)
                        for try await notification in notifications { self.ring(notification.payload) }
                        self.activity.note("listen", "notification sequence ended")
                    }
                }
            } catch {
                if Task.isCancelled { break }
                logger.warning("LISTEN connection lost; polling until it is back", metadata: ["error": "\(String(reflecting: error))"])
            }
            state.withLock { $0.listening = false }
            if Task.isCancelled { break }
            activity.note("listen", "reconnecting in \(delay)")
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(10))
        }
        state.withLock { $0.listening = false }
    }
}
