import Foundation
import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Fetches and runs jobs: a swift-service-lifecycle `Service`.
///
/// - One fetch loop per configured queue keeps at most `concurrency` handlers of that queue running, claiming
///   jobs in batches with `fetchAvailable`.
/// - Wake-up: LISTEN `trellis_jobs` on a dedicated leased connection (re-established with backoff when it
///   drops); polling every `pollInterval` is the fallback.
/// - Leases: one `renewLeases` statement per `leaseRenewInterval` for all the worker's running jobs. A job
///   that is no longer ours has its handler cancelled; a job whose cancellation was requested has its handler's
///   Task cancelled and ends `cancelled`.
/// - Maintenance (every `maintenanceInterval`): `promoteDueJobs`, `rescueExpiredLeases`, and retention
///   pruning every `retention.interval`.
/// - Outcomes are written in batches (`completeMany`, `failMany`, `snoozeMany`, `cancelRunningMany`,
///   `releaseMany`), fenced by attempt and lease owner.
/// - Graceful shutdown: stop fetching, let running handlers finish within `shutdownGracePeriod`, then cancel
///   them and release their jobs to `available` without consuming an attempt.
public final class JobWorker: Service, Sendable {
    public struct Configuration: Sendable {
        /// Queue name → how many of its jobs this worker runs at once.
        public var queues: [String: Int]
        /// Identifies this worker as the lease owner; unique per process.
        public var workerID: String
        /// Fallback polling when no notification arrives.
        public var pollInterval: Duration
        /// Most jobs claimed by one fetch.
        public var fetchBatchSize: Int
        /// How long a claimed job is ours without renewal; a dead worker's jobs return after at most this.
        public var leaseDuration: Duration
        /// How often leases are renewed and cancellation requests noticed (default: a third of the lease).
        public var leaseRenewInterval: Duration?
        /// Default handler time limit (a kind may set its own in the registry).
        public var handlerTimeout: Duration
        /// On graceful shutdown, how long running handlers may go on before they are cancelled and released.
        public var shutdownGracePeriod: Duration
        /// How often due jobs are promoted and expired leases rescued.
        public var maintenanceInterval: Duration
        public var retryPolicy: RetryPolicy
        /// Retention pruning; nil: this worker does not prune.
        public var retention: RetentionPolicy?
        /// A waiting job's priority improves by one level per this much waiting (nil: strict priorities).
        public var priorityAging: Duration?
        /// LISTEN for `trellis_jobs` notifications (false: polling only).
        public var listenForNotifications: Bool
        /// The longest the worker waits for one of its own database calls (fetch, renew, record, maintenance)
        /// before giving up on it and retrying later, so a call stuck on a broken connection cannot freeze it.
        public var statementTimeout: Duration

        public init(
            queues: [String: Int] = [NewJob.defaultQueue: 10],
            workerID: String = JobWorker.makeWorkerID(),
            pollInterval: Duration = .seconds(1),
            fetchBatchSize: Int = 10,
            leaseDuration: Duration = .seconds(30),
            leaseRenewInterval: Duration? = nil,
            handlerTimeout: Duration = .seconds(15 * 60),
            shutdownGracePeriod: Duration = .seconds(20),
            maintenanceInterval: Duration = .seconds(1),
            retryPolicy: RetryPolicy = RetryPolicy(),
            retention: RetentionPolicy? = RetentionPolicy(),
            priorityAging: Duration? = .seconds(300),
            listenForNotifications: Bool = true,
            statementTimeout: Duration = .seconds(60)
        ) {
            self.queues = queues
            self.workerID = workerID
            self.pollInterval = pollInterval
            self.fetchBatchSize = max(1, fetchBatchSize)
            self.leaseDuration = leaseDuration
            self.leaseRenewInterval = leaseRenewInterval
            self.handlerTimeout = handlerTimeout
            self.shutdownGracePeriod = shutdownGracePeriod
            self.maintenanceInterval = maintenanceInterval
            self.retryPolicy = retryPolicy
            self.retention = retention
            self.priorityAging = priorityAging
            self.listenForNotifications = listenForNotifications
            self.statementTimeout = statementTimeout
        }
    }

    public static let notificationChannel = "trellis_jobs"

    public static func makeWorkerID() -> String {
        let host = ProcessInfo.processInfo.hostName
        let random = UInt32.random(in: 0...UInt32.max)
        return "\(host)-\(ProcessInfo.processInfo.processIdentifier)-\(String(random, radix: 16))"
    }

    public let configuration: Configuration
    public var workerID: String { configuration.workerID }
    let client: PostgresClient
    let registry: JobRegistry
    let logger: Logger
    let queue: JobQueue
    private let state = Mutex(WorkerState())
    private let doorbells: [String: Doorbell]
    private let shutdownBell = Doorbell()
    private let outcomes = OutcomeBuffer()

    public init(
        client: PostgresClient,
        registry: JobRegistry,
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "trellis.worker")
    ) {
        self.client = client
        self.registry = registry
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "worker"] = "\(configuration.workerID)"
        self.logger = logger
        self.queue = JobQueue(client: client, logger: logger)
        self.doorbells = Dictionary(uniqueKeysWithValues: configuration.queues.keys.map { ($0, Doorbell()) })
    }

    // MARK: Service

    public func run() async throws {
        logger.info(
            "job worker starting",
            metadata: ["queues": "\(configuration.queues.sorted { $0.key < $1.key })", "kinds": "\(registry.kinds)"]
        )
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { outer in
                outer.addTask { await self.flushLoop() }
                await withTaskGroup(of: Void.self) { background in
                    if self.configuration.listenForNotifications {
                        background.addTask { await self.listenLoop(); self.note("listen", "ended") }
                    }
                    background.addTask { await self.maintenanceLoop(); self.note("maintenance", "ended") }
                    background.addTask { await self.renewLoop(); self.note("renew", "ended") }
                    background.addTask { await self.graceTimer(); self.note("grace", "ended") }
                    await withTaskGroup(of: Void.self) { fetchers in
                        for (queue, concurrency) in self.configuration.queues where concurrency > 0 {
                            fetchers.addTask { await self.fetchLoop(queue: queue, concurrency: concurrency) }
                        }
                    }
                    self.note("run", "fetch loops and their jobs are done; stopping background loops")
                    background.cancelAll()
                }
                self.note("run", "background loops stopped; flushing outcomes")
                self.outcomes.close()
            }
        } onGracefulShutdown: {
            self.requestShutdown()
        }
        logger.info("job worker stopped")
    }

    /// Stops fetching; running jobs get `shutdownGracePeriod` to finish, then are cancelled and released.
    /// `run()` returns when all is handed back. (A ServiceGroup's graceful shutdown calls this.)
    public func requestShutdown() {
        let first = state.withLock { state -> Bool in
            defer { state.shuttingDown = true }
            return !state.shuttingDown
        }
        guard first else { return }
        logger.info("job worker shutting down: no more fetching")
        for bell in doorbells.values { bell.ring() }
        shutdownBell.ring()
    }

    private let activity = Mutex<[String: String]>([:])

    /// Records what a loop is doing (for diagnosing a stuck worker; see `activities`).
    private func note(_ loop: String, _ what: String) {
        activity.withLock { $0[loop] = what }
    }

    /// What each of the worker's loops is doing right now, e.g. `["fetch:default": "idle", "listen": "listening"]`.
    public var activities: [String: String] { activity.withLock { $0 } }

    /// Whether the LISTEN connection is up (tests wait for it before measuring wake-up latency).
    var isListening: Bool { state.withLock { $0.listening } }

    /// Jobs this worker is running right now.
    public var runningJobCount: Int { state.withLock { $0.running.count } }

    private var isShuttingDown: Bool { state.withLock { $0.shuttingDown } }

    // MARK: Fetching

    private func fetchLoop(queue: String, concurrency: Int) async {
        guard let bell = doorbells[queue] else { return }
        await withDiscardingTaskGroup { jobs in
            var errorDelay = Duration.milliseconds(100)
            while !isShuttingDown && !Task.isCancelled {
                let free = concurrency - state.withLock { $0.runningPerQueue[queue, default: 0] }
                if free <= 0 {
                    note("fetch:\(queue)", "waiting for a free slot")
                    await bell.wait(timeout: configuration.pollInterval)
                    continue
                }
                let limit = min(free, configuration.fetchBatchSize)
                let fetched: [FetchedJob]
                do {
                    note("fetch:\(queue)", "fetching")
                    fetched = try await fetch(queue: queue, limit: limit)
                    errorDelay = .milliseconds(100)
                } catch {
                    logger.error("fetch failed", metadata: ["queue": "\(queue)", "error": "\(String(reflecting: error))"])
                    await bell.wait(timeout: errorDelay)
                    errorDelay = min(errorDelay * 2, .seconds(5))
                    continue
                }
                for job in fetched {
                    let (stream, continuation) = AsyncStream<StopReason>.makeStream(bufferingPolicy: .bufferingNewest(1))
                    state.withLock { state in
                        state.running[job.id] = RunningJob(attempt: job.attempt, queue: queue, signal: continuation)
                        state.runningPerQueue[queue, default: 0] += 1
                    }
                    jobs.addTask { await self.execute(job, stopSignals: stream) }
                }
                if isShuttingDown {
                    // Claimed while the shutdown began: they start and are released by the grace timer.
                    break
                }
                if fetched.isEmpty {
                    // Nothing (or all candidates were being claimed by other workers): wait for a
                    // notification, a freed slot, or the poll interval. A partial batch loops at once.
                    note("fetch:\(queue)", "idle")
                    await bell.wait(timeout: configuration.pollInterval)
                }
            }
        }
    }

    private func fetch(queue: String, limit: Int) async throws -> [FetchedJob] {
        let configuration = self.configuration
        let jobQueue = self.queue
        return try await withDeadline(configuration.statementTimeout, "fetchAvailable") {
            try await jobQueue.fetchAvailable(
                queue: queue, limit: limit, owner: configuration.workerID, lease: configuration.leaseDuration,
                priorityAging: configuration.priorityAging
            )
        }
    }

    // MARK: Running a job

    private enum Race: Sendable {
        case finished(JobOutcome)
        case threw(any Error)
        case timedOut(Duration)
        case stopped(StopReason)
        case ignored
    }

    private func execute(_ job: FetchedJob, stopSignals: AsyncStream<StopReason>) async {
        defer {
            let bell = state.withLock { state -> Doorbell? in
                state.runningPerQueue[job.queue, default: 1] -= 1
                return doorbells[job.queue]
            }
            bell?.ring()
        }
        var jobLogger = logger
        jobLogger[metadataKey: "job_id"] = "\(job.id)"
        jobLogger[metadataKey: "job_kind"] = "\(job.kind)"
        jobLogger[metadataKey: "attempt"] = "\(job.attempt)"

        guard let entry = registry.entry(for: job.kind) else {
            jobLogger.error("unknown job kind: discarded")
            record(
                job,
                .fail(
                    error: "unknown job kind '\(job.kind)': no handler is registered for it in worker \(workerID)",
                    delay: 0, discard: true
                )
            )
            return
        }
        let owner = configuration.workerID
        let client = self.client
        let progressLogger = jobLogger
        let context = JobContext(
            id: job.id, queue: job.queue, kind: job.kind, args: job.args, attempt: Int(job.attempt),
            maxAttempts: job.maxAttempts, agencyID: job.agencyID, priority: job.priority, runAt: job.runAt,
            createdAt: job.createdAt, metadata: job.metadata, logger: jobLogger,
            progressReporter: { progress in
                guard JobJSON.isObject(progress) else {
                    throw JobQueueError.invalidJob("progress must be a JSON object")
                }
                try await client.query(
                    QueueSQL.updateProgress(owner: owner, id: job.id, attempt: job.attempt, progress: JobJSON.text(progress)),
                    logger: progressLogger
                )
            }
        )
        let timeout = entry.timeout ?? configuration.handlerTimeout
        let handler = entry.handler
        let started = ContinuousClock.now

        await withTaskGroup(of: Race.self) { group in
            group.addTask {
                do {
                    return .finished(try await handler.run(context))
                } catch {
                    return .threw(error)
                }
            }
            group.addTask {
                do {
                    try await Task.sleep(for: timeout)
                    return .timedOut(timeout)
                } catch {
                    return .ignored
                }
            }
            group.addTask {
                for await reason in stopSignals { return .stopped(reason) }
                return .ignored
            }
            var decided: Race = .ignored
            while let next = await group.next() {
                if case .ignored = next { continue }
                decided = next
                break
            }
            let elapsed = ContinuousClock.now - started
            // Record now; the group then waits for the handler to actually return (the slot stays taken).
            self.decide(job, decided, elapsed: elapsed, logger: jobLogger)
            group.cancelAll()
        }
    }

    private func decide(_ job: FetchedJob, _ race: Race, elapsed: Duration, logger: Logger) {
        let dimensions = [("queue", job.queue), ("kind", job.kind)]
        Metrics.Timer(label: QueueMetricNames.duration, dimensions: dimensions, preferredDisplayUnit: .seconds)
            .recordNanoseconds(Int64(elapsed.seconds * 1e9))
        switch race {
        case .finished(.completed):
            record(job, .complete)
        case .finished(.snooze(let delay)):
            logger.debug("snoozed", metadata: ["delay": "\(delay)"])
            record(job, .snooze(delay: delay.seconds))
        case .finished(.discard(let reason)):
            logger.warning("handler discarded the job", metadata: ["reason": "\(reason)"])
            record(job, .fail(error: reason, delay: 0, discard: true))
        case .finished(.cancel(let reason)):
            record(job, .cancelled(reason: reason))
        case .threw(let error):
            if Task.isCancelled {
                // The worker itself is being torn down (not a graceful shutdown): hand the job back.
                record(job, .release)
                return
            }
            let delay: Double
            let message: String
            if let retry = error as? RetryAfter {
                delay = retry.delay.seconds
                message = retry.reason
            } else {
                delay = configuration.retryPolicy.delay(afterAttempt: Int(job.attempt))
                message = Self.describe(error)
            }
            logger.warning("job failed", metadata: ["error": "\(message)", "retry_in_seconds": "\(delay)"])
            record(job, .fail(error: message, delay: delay, discard: false))
        case .timedOut(let limit):
            logger.warning("job timed out", metadata: ["timeout": "\(limit)"])
            record(
                job,
                .fail(
                    error: "handler timed out after \(limit)",
                    delay: configuration.retryPolicy.delay(afterAttempt: Int(job.attempt)), discard: false
                )
            )
        case .stopped(.cancelRequested):
            logger.info("cancelled on request while running")
            record(job, .cancelled(reason: "cancelled on request while running"))
        case .stopped(.leaseLost):
            logger.warning("lease lost: the job was rescued or finished elsewhere; handler cancelled")
            forget(job.id)
        case .stopped(.shutdown):
            logger.info("released on shutdown")
            record(job, .release)
        case .ignored:
            record(job, .release)
        }
    }

    static func describe(_ error: any Error) -> String {
        let text = String(reflecting: error)
        return text.count > 4000 ? String(text.prefix(4000)) + "…" : text
    }

    private func record(_ job: FetchedJob, _ kind: PendingOutcome.Kind) {
        outcomes.append(PendingOutcome(job: job, kind: kind))
    }

    private func forget(_ id: JobID) {
        let signal = state.withLock { $0.running.removeValue(forKey: id)?.signal }
        signal?.finish()
    }

    // MARK: Outcomes

    private func flushLoop() async {
        var failures = 0
        while true {
            let batch = outcomes.takeAll()
            if batch.isEmpty {
                if outcomes.isClosed {
                    note("flush", "ended")
                    return
                }
                note("flush", "idle")
                await outcomes.bell.wait(timeout: .seconds(1))
                continue
            }
            do {
                note("flush", "writing \(batch.count) outcomes")
                try await withDeadline(configuration.statementTimeout, "recording outcomes") {
                    try await self.write(batch)
                }
                failures = 0
                for outcome in batch { forget(outcome.job.id) }
            } catch {
                failures += 1
                logger.error(
                    "recording job outcomes failed", metadata: ["count": "\(batch.count)", "error": "\(String(reflecting: error))"]
                )
                if outcomes.isClosed && failures >= 5 {
                    logger.error("giving up on \(batch.count) outcomes: their leases will expire and be rescued")
                    return
                }
                outcomes.prepend(batch)
                try? await Task.sleep(for: .milliseconds(min(200 * failures, 5000)))
            }
        }
    }

    private func write(_ batch: [PendingOutcome]) async throws {
        let logger = self.logger
        let owner = configuration.workerID
        var complete: [FetchedJob] = []
        var fail: [(FetchedJob, String, Double, Bool)] = []
        var snooze: [(FetchedJob, Double)] = []
        var cancel: [(FetchedJob, String)] = []
        var release: [FetchedJob] = []
        for outcome in batch {
            switch outcome.kind {
            case .complete: complete.append(outcome.job)
            case .fail(let error, let delay, let discard): fail.append((outcome.job, error, delay, discard))
            case .snooze(let delay): snooze.append((outcome.job, delay))
            case .cancelled(let reason): cancel.append((outcome.job, reason))
            case .release: release.append(outcome.job)
            }
        }
        if !complete.isEmpty {
            let rows = try await client.query(
                QueueSQL.completeMany(owner: owner, ids: complete.map(\.id), attempts: complete.map(\.attempt)),
                logger: logger
            )
            var done = Set<JobID>()
            for try await id in rows.decode(Int64.self) { done.insert(id) }
            for job in complete where done.contains(job.id) { Self.count(QueueMetricNames.completed, job) }
            for job in complete where !done.contains(job.id) {
                logger.warning("completion fenced off: the job is no longer ours", metadata: ["job_id": "\(job.id)"])
            }
        }
        if !fail.isEmpty {
            let rows = try await client.query(
                QueueSQL.failMany(
                    owner: owner, ids: fail.map(\.0.id), attempts: fail.map(\.0.attempt), errors: fail.map(\.1),
                    delays: fail.map(\.2), discard: fail.map(\.3)
                ),
                logger: logger
            )
            var states: [JobID: String] = [:]
            for try await (id, state) in rows.decode((Int64, String).self) { states[id] = state }
            for (job, _, _, _) in fail {
                guard let state = states[job.id] else { continue }
                Self.count(QueueMetricNames.failed, job)
                if state == JobState.discarded.rawValue { Self.count(QueueMetricNames.discarded, job) }
            }
        }
        if !snooze.isEmpty {
            try await client.query(
                QueueSQL.snoozeMany(
                    owner: owner, ids: snooze.map(\.0.id), attempts: snooze.map(\.0.attempt), delays: snooze.map(\.1)
                ),
                logger: logger
            )
            for (job, _) in snooze { Self.count(QueueMetricNames.snoozed, job) }
        }
        if !cancel.isEmpty {
            try await client.query(
                QueueSQL.cancelRunningMany(
                    owner: owner, ids: cancel.map(\.0.id), attempts: cancel.map(\.0.attempt), reasons: cancel.map(\.1)
                ),
                logger: logger
            )
            for (job, _) in cancel { Self.count(QueueMetricNames.cancelled, job) }
        }
        if !release.isEmpty {
            try await client.query(
                QueueSQL.releaseMany(owner: owner, ids: release.map(\.id), attempts: release.map(\.attempt)),
                logger: logger
            )
        }
    }

    private static func count(_ label: String, _ job: FetchedJob) {
        Counter(label: label, dimensions: [("queue", job.queue), ("kind", job.kind)]).increment()
    }

    // MARK: Leases

    private var renewInterval: Duration {
        configuration.leaseRenewInterval ?? configuration.leaseDuration / 3
    }

    private func renewLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: renewInterval)
            if Task.isCancelled { return }
            note("renew", "renewing")
            await renewLeases()
            note("renew", "sleeping")
        }
    }

    /// Renews the leases of every running job in one statement; signals handlers whose job was cancelled or
    /// is no longer ours.
    func renewLeases() async {
        let snapshot = state.withLock { state in state.running.map { ($0.key, $0.value.attempt) } }
        guard !snapshot.isEmpty else { return }
        let renewed: [JobID: Bool]
        do {
            let jobQueue = self.queue
            let owner = configuration.workerID
            let lease = configuration.leaseDuration
            renewed = try await withDeadline(configuration.statementTimeout, "renewLeases") {
                try await jobQueue.renewLeases(owner: owner, snapshot.map { (id: $0.0, attempt: $0.1) }, lease: lease)
            }
        } catch {
            logger.error("lease renewal failed", metadata: ["error": "\(String(reflecting: error))"])
            return
        }
        let pendingOutcomes = outcomes.pendingIDs()
        for (id, attempt) in snapshot {
            let signal = state.withLock { state -> AsyncStream<StopReason>.Continuation? in
                guard let job = state.running[id], job.attempt == attempt else { return nil }
                return job.signal
            }
            guard let signal else { continue }
            switch renewed[id] {
            case true?: signal.yield(.cancelRequested)
            case false?: break
            case nil where !pendingOutcomes.contains(id): signal.yield(.leaseLost)
            case nil: break
            }
        }
    }

    private func graceTimer() async {
        await shutdownBell.wait(timeout: nil)
        if Task.isCancelled { return }
        try? await Task.sleep(for: configuration.shutdownGracePeriod)
        if Task.isCancelled { return }
        let signals = state.withLock { state in state.running.values.map(\.signal) }
        if !signals.isEmpty {
            logger.warning("grace period over: cancelling and releasing \(signals.count) running jobs")
        }
        for signal in signals { signal.yield(.shutdown) }
    }

    // MARK: Wake-up

    private func listenLoop() async {
        var delay = Duration.milliseconds(100)
        while !Task.isCancelled {
            do {
                note("listen", "leasing a connection")
                try await client.withConnection { connection in
                    self.note("listen", "starting LISTEN on connection \(connection.id)")
                    try await connection.listen(on: Self.notificationChannel) { notifications in
                        self.note("listen", "listening")
                        self.state.withLock { $0.listening = true }
                        delay = .milliseconds(100)
                        // Anything enqueued while we were not listening: look once.
                        for bell in self.doorbells.values { bell.ring() }
                        for try await notification in notifications {
                            self.doorbells[notification.payload]?.ring()
                        }
                        self.note("listen", "notification sequence ended")
                    }
                }
            } catch {
                if Task.isCancelled { break }
                logger.warning("LISTEN connection lost; polling until it is back", metadata: ["error": "\(String(reflecting: error))"])
            }
            state.withLock { $0.listening = false }
            if Task.isCancelled { break }
            note("listen", "reconnecting in \(delay)")
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(10))
        }
        state.withLock { $0.listening = false }
    }

    // MARK: Maintenance

    private func maintenanceLoop() async {
        var lastPrune: ContinuousClock.Instant? = nil
        while !Task.isCancelled {
            do {
                note("maintenance", "promoting and rescuing")
                let jobQueue = self.queue
                let promoted = try await withDeadline(configuration.statementTimeout, "promoteDueJobs") {
                    try await jobQueue.promoteDueJobs()
                }
                if promoted > 0 { for bell in doorbells.values { bell.ring() } }
                let rescued = try await withDeadline(configuration.statementTimeout, "rescueExpiredLeases") {
                    try await jobQueue.rescueExpiredLeases()
                }
                if !rescued.isEmpty {
                    logger.warning("rescued jobs whose lease expired", metadata: ["ids": "\(rescued)"])
                    for bell in doorbells.values { bell.ring() }
                }
                if let retention = configuration.retention,
                    lastPrune.map({ ContinuousClock.now - $0 >= retention.interval }) ?? true
                {
                    lastPrune = .now
                    let pruned = try await withDeadline(configuration.statementTimeout * 10, "pruning") {
                        try await jobQueue.prune(retention)
                    }
                    if pruned > 0 { logger.info("pruned finished jobs", metadata: ["count": "\(pruned)"]) }
                }
            } catch {
                if Task.isCancelled { return }
                logger.error("queue maintenance failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            note("maintenance", "sleeping")
            try? await Task.sleep(for: configuration.maintenanceInterval)
        }
    }
}

// MARK: - Worker internals

enum StopReason: Sendable {
    case cancelRequested
    case leaseLost
    case shutdown
}

struct FetchedJob: Sendable {
    var id: JobID
    var queue: String
    var kind: String
    var args: Data
    var agencyID: UUID?
    var priority: Int
    var attempt: Int64
    var maxAttempts: Int
    var runAt: Date
    var metadata: Data
    var createdAt: Date
}

struct RunningJob: Sendable {
    var attempt: Int64
    var queue: String
    var signal: AsyncStream<StopReason>.Continuation
}

struct WorkerState: Sendable {
    var shuttingDown = false
    var listening = false
    var running: [JobID: RunningJob] = [:]
    var runningPerQueue: [String: Int] = [:]
}

struct PendingOutcome: Sendable {
    enum Kind: Sendable {
        case complete
        case fail(error: String, delay: Double, discard: Bool)
        case snooze(delay: Double)
        case cancelled(reason: String)
        case release
    }

    var job: FetchedJob
    var kind: Kind
}

/// Outcomes waiting to be written; the flush loop takes them all at once, so they batch under load.
final class OutcomeBuffer: Sendable {
    private struct State {
        var items: [PendingOutcome] = []
        var closed = false
    }

    private let state = Mutex(State())
    let bell = Doorbell()

    func append(_ outcome: PendingOutcome) {
        state.withLock { $0.items.append(outcome) }
        bell.ring()
    }

    func prepend(_ outcomes: [PendingOutcome]) {
        state.withLock { $0.items.insert(contentsOf: outcomes, at: 0) }
    }

    func takeAll() -> [PendingOutcome] {
        state.withLock { state in
            defer { state.items = [] }
            return state.items
        }
    }

    func pendingIDs() -> Set<JobID> {
        state.withLock { Set($0.items.map(\.job.id)) }
    }

    func close() {
        state.withLock { $0.closed = true }
        bell.ring()
    }

    var isClosed: Bool { state.withLock { $0.closed } }
}
