import Foundation
import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Fetches and runs jobs: a swift-service-lifecycle `Service`.
///
/// - One fetch loop per configured queue keeps at most `concurrency` handlers of that queue running, claiming
///   jobs in batches with `fetchAvailable` (under load it waits for half a batch of free slots). Each job runs
///   in one task; one watchdog keeps every handler's time limit.
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
    private let watchdogBell = Doorbell()
    private let metrics = WorkerMetrics()

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
                    background.addTask { await self.watchdogLoop(); self.note("watchdog", "ended") }
                    // Handlers run in tasks of their own (see `start`): a cancelled worker cancels them.
                    await withTaskCancellationHandler {
                        await withTaskGroup(of: Void.self) { fetchers in
                            for (queue, concurrency) in self.configuration.queues where concurrency > 0 {
                                fetchers.addTask { await self.fetchLoop(queue: queue, concurrency: concurrency) }
                            }
                        }
                    } onCancel: {
                        self.cancelAllHandlers()
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

    /// How many times a LISTEN connection was established (1 after start; more after reconnections).
    var listenConnectionCount: Int { state.withLock { $0.listenConnections } }

    /// Jobs this worker is running right now.
    public var runningJobCount: Int { state.withLock { $0.running.count } }

    private var isShuttingDown: Bool { state.withLock { $0.shuttingDown } }

    // MARK: Fetching

    /// A fetch waits until at least this many slots of the queue are free (half a batch), so that under load
    /// the worker claims jobs in batches instead of one per finished job; fewer free slots are still filled
    /// `fetchCooldown` after the last fetch ended.
    private func fetchThreshold(concurrency: Int) -> Int {
        max(1, min(configuration.fetchBatchSize, concurrency) / 2)
    }

    private static let fetchCooldown = Duration.milliseconds(20)

    private func fetchLoop(queue: String, concurrency: Int) async {
        guard let bell = doorbells[queue] else { return }
        let slot = QueueSlot(queue: queue, concurrency: concurrency, threshold: fetchThreshold(concurrency: concurrency))
        var lastFetch = ContinuousClock.now - Self.fetchCooldown
        var errorDelay = Duration.milliseconds(100)
        while !isShuttingDown && !Task.isCancelled {
            let free = concurrency - state.withLock { $0.runningPerQueue[queue, default: 0] }
            if free <= 0 {
                note("fetch:\(queue)", "waiting for a free slot")
                await bell.wait(timeout: configuration.pollInterval)
                continue
            }
            if free < slot.threshold {
                let since = ContinuousClock.now - lastFetch
                if since < Self.fetchCooldown {
                    await bell.wait(timeout: Self.fetchCooldown - since)
                    continue
                }
            }
            let limit = min(free, configuration.fetchBatchSize)
            let fetched: [FetchedJob]
            do {
                note("fetch:\(queue)", "fetching")
                fetched = try await fetch(queue: queue, limit: limit)
                lastFetch = .now
                errorDelay = .milliseconds(100)
            } catch {
                logger.error("fetch failed", metadata: ["queue": "\(queue)", "error": "\(String(reflecting: error))"])
                await bell.wait(timeout: errorDelay)
                errorDelay = min(errorDelay * 2, .seconds(5))
                continue
            }
            start(fetched, in: slot)
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
        note("fetch:\(queue)", "waiting for its running jobs")
        await waitUntilIdle(queue: queue)
        note("fetch:\(queue)", "ended")
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

    /// One task per job, nothing else per job: time limits are kept by one watchdog for the whole worker and
    /// stop requests (cancel, lost lease, shutdown) arrive through the job's entry in `state.running`, which
    /// holds the task to cancel. Whoever decides a job's outcome first (its handler, the watchdog, a stop)
    /// records it; later results are ignored.
    private func start(_ fetched: [FetchedJob], in slot: QueueSlot) {
        guard !fetched.isEmpty else { return }
        let now = ContinuousClock.now
        let wakeWatchdog = state.withLock { state -> Bool in
            var wake = false
            for job in fetched {
                let timeout = registry.entry(for: job.kind)?.timeout ?? configuration.handlerTimeout
                let deadline = now + timeout
                state.running[job.id] = RunningJob(job: job, timeout: timeout, deadline: deadline)
                if state.watchdogTarget.map({ deadline < $0 }) ?? true {
                    state.watchdogTarget = deadline
                    wake = true
                }
            }
            state.runningPerQueue[slot.queue, default: 0] += fetched.count
            return wake
        }
        if wakeWatchdog { watchdogBell.ring() }
        for job in fetched {
            let task = Task { await self.execute(job, slot: slot) }
            let cancelNow = state.withLock { state -> Bool in
                guard state.running[job.id]?.job.attempt == job.attempt else { return false }
                state.running[job.id]?.task = task
                return state.running[job.id]?.cancelled ?? false
            }
            if cancelNow || Task.isCancelled { task.cancel() }
        }
    }

    /// What a job's task needs to know of its queue to hand its slot back.
    private struct QueueSlot: Sendable {
        var queue: String
        var concurrency: Int
        var threshold: Int
    }

    private enum Race: Sendable {
        case finished(JobOutcome)
        case threw(any Error)
        case timedOut(Duration)
        case stopped(StopReason)
    }

    private func execute(_ job: FetchedJob, slot: QueueSlot) async {
        defer { releaseSlot(slot) }
        guard let entry = registry.entry(for: job.kind) else {
            guard takeDecision(job) else { return }
            jobLogger(job).error("unknown job kind: discarded")
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
        let baseLogger = logger
        let context = JobContext(
            id: job.id, queue: job.queue, kind: job.kind, args: job.args, attempt: Int(job.attempt),
            maxAttempts: job.maxAttempts, agencyID: job.agencyID, priority: job.priority, runAt: job.runAt,
            createdAt: job.createdAt, metadata: job.metadata, logger: baseLogger,
            progressReporter: { progress in
                guard JobJSON.isObject(progress) else {
                    throw JobQueueError.invalidJob("progress must be a JSON object")
                }
                try await client.query(
                    QueueSQL.updateProgress(owner: owner, id: job.id, attempt: job.attempt, progress: JobJSON.text(progress)),
                    logger: baseLogger
                )
            }
        )
        let started = ContinuousClock.now
        let race: Race
        do {
            race = .finished(try await entry.handler.run(context))
        } catch {
            race = .threw(error)
        }
        // A timeout or a stop may have decided already (and cancelled us); then this result is ignored.
        guard takeDecision(job) else { return }
        decide(job, race, elapsed: ContinuousClock.now - started)
    }

    /// The job's slot is free once its handler has returned (not when its outcome was decided).
    private func releaseSlot(_ slot: QueueSlot) {
        let (ring, waiters) = state.withLock { state -> (Bool, [CheckedContinuation<Void, Never>]) in
            let running = state.runningPerQueue[slot.queue, default: 1] - 1
            state.runningPerQueue[slot.queue] = running
            let free = slot.concurrency - running
            let waiters = running == 0 ? state.idleWaiters.removeValue(forKey: slot.queue) ?? [] : []
            // Wake the fetch loop when it has something to do, not on every finished job: at the first free
            // slot (it then waits up to `fetchCooldown` for more) and at half a batch.
            return (state.shuttingDown || running == 0 || free == 1 || free == slot.threshold, waiters)
        }
        if ring { doorbells[slot.queue]?.ring() }
        for waiter in waiters { waiter.resume() }
    }

    private func waitUntilIdle(queue: String) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle = state.withLock { state -> Bool in
                if state.runningPerQueue[queue, default: 0] == 0 { return true }
                state.idleWaiters[queue, default: []].append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }

    /// True for the first caller for this attempt of the job: it records the outcome.
    private func takeDecision(_ job: FetchedJob) -> Bool {
        state.withLock { state in
            guard let running = state.running[job.id], running.job.attempt == job.attempt, !running.decided else {
                return false
            }
            state.running[job.id]?.decided = true
            return true
        }
    }

    /// Decides `id`'s outcome from outside its handler (a stop) and cancels the handler's task.
    private func stop(_ id: JobID, attempt: Int64, _ reason: StopReason) {
        let taken = state.withLock { state -> (FetchedJob, Task<Void, Never>?)? in
            guard let running = state.running[id], running.job.attempt == attempt, !running.decided else { return nil }
            state.running[id]?.decided = true
            state.running[id]?.cancelled = true
            return (running.job, running.task)
        }
        guard let (job, task) = taken else { return }
        decide(job, .stopped(reason), elapsed: .zero)
        task?.cancel()
    }

    /// One watchdog for every running job's time limit: it sleeps until the earliest deadline (or until a
    /// job with an earlier one starts), then fails the jobs past theirs and cancels their handlers.
    private func watchdogLoop() async {
        while !Task.isCancelled {
            let now = ContinuousClock.now
            let (expired, next) = state.withLock { state -> ([(FetchedJob, Duration, Task<Void, Never>?)], ContinuousClock.Instant?) in
                var expired: [(FetchedJob, Duration, Task<Void, Never>?)] = []
                var next: ContinuousClock.Instant?
                for (id, running) in state.running where !running.decided {
                    if running.deadline <= now {
                        expired.append((running.job, running.timeout, running.task))
                        state.running[id]?.decided = true
                        state.running[id]?.cancelled = true
                    } else if next.map({ running.deadline < $0 }) ?? true {
                        next = running.deadline
                    }
                }
                state.watchdogTarget = next
                return (expired, next)
            }
            for (job, timeout, task) in expired {
                decide(job, .timedOut(timeout), elapsed: timeout)
                task?.cancel()
            }
            note("watchdog", next == nil ? "no running jobs" : "sleeping until the next deadline")
            await watchdogBell.wait(timeout: next.map { $0 - ContinuousClock.now })
        }
    }

    /// Cancels every handler (the worker's own task was cancelled: not a graceful shutdown). Jobs whose
    /// handler then throws are released.
    private func cancelAllHandlers() {
        let tasks = state.withLock { state -> [Task<Void, Never>] in
            var tasks: [Task<Void, Never>] = []
            for (id, running) in state.running {
                state.running[id]?.cancelled = true
                if let task = running.task { tasks.append(task) }
            }
            return tasks
        }
        for task in tasks { task.cancel() }
    }

    private func jobLogger(_ job: FetchedJob) -> Logger {
        logger.forJob(id: job.id, kind: job.kind, attempt: job.attempt)
    }

    private func decide(_ job: FetchedJob, _ race: Race, elapsed: Duration) {
        metrics.for(queue: job.queue, kind: job.kind).duration.recordNanoseconds(Int64(elapsed.seconds * 1e9))
        switch race {
        case .finished(.completed):
            record(job, .complete)
        case .finished(.snooze(let delay)):
            jobLogger(job).debug("snoozed", metadata: ["delay": "\(delay)"])
            record(job, .snooze(delay: delay.seconds))
        case .finished(.discard(let reason)):
            jobLogger(job).warning("handler discarded the job", metadata: ["reason": "\(reason)"])
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
            jobLogger(job).warning("job failed", metadata: ["error": "\(message)", "retry_in_seconds": "\(delay)"])
            record(job, .fail(error: message, delay: delay, discard: false))
        case .timedOut(let limit):
            jobLogger(job).warning("job timed out", metadata: ["timeout": "\(limit)"])
            record(
                job,
                .fail(
                    error: "handler timed out after \(limit)",
                    delay: configuration.retryPolicy.delay(afterAttempt: Int(job.attempt)), discard: false
                )
            )
        case .stopped(.cancelRequested):
            jobLogger(job).info("cancelled on request while running")
            record(job, .cancelled(reason: "cancelled on request while running"))
        case .stopped(.leaseLost):
            jobLogger(job).warning("lease lost: the job was rescued or finished elsewhere; handler cancelled")
            forget(job.id)
        case .stopped(.shutdown):
            jobLogger(job).info("released on shutdown")
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
        _ = state.withLock { $0.running.removeValue(forKey: id) }
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
            let done = try await queue.completeMany(owner: owner, complete.map { (id: $0.id, attempt: $0.attempt) })
            for job in complete where done.contains(job.id) { metrics.for(queue: job.queue, kind: job.kind).completed.increment() }
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
                let counters = metrics.for(queue: job.queue, kind: job.kind)
                counters.failed.increment()
                if state == JobState.discarded.rawValue { counters.discarded.increment() }
            }
        }
        if !snooze.isEmpty {
            try await client.query(
                QueueSQL.snoozeMany(
                    owner: owner, ids: snooze.map(\.0.id), attempts: snooze.map(\.0.attempt), delays: snooze.map(\.1)
                ),
                logger: logger
            )
            for (job, _) in snooze { metrics.for(queue: job.queue, kind: job.kind).snoozed.increment() }
        }
        if !cancel.isEmpty {
            try await client.query(
                QueueSQL.cancelRunningMany(
                    owner: owner, ids: cancel.map(\.0.id), attempts: cancel.map(\.0.attempt), reasons: cancel.map(\.1)
                ),
                logger: logger
            )
            for (job, _) in cancel { metrics.for(queue: job.queue, kind: job.kind).cancelled.increment() }
        }
        if !release.isEmpty {
            try await client.query(
                QueueSQL.releaseMany(owner: owner, ids: release.map(\.id), attempts: release.map(\.attempt)),
                logger: logger
            )
        }
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
        let snapshot = state.withLock { state in state.running.map { ($0.key, $0.value.job.attempt) } }
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
            switch renewed[id] {
            case true?: stop(id, attempt: attempt, .cancelRequested)
            case false?: break
            case nil where !pendingOutcomes.contains(id): stop(id, attempt: attempt, .leaseLost)
            case nil: break
            }
        }
    }

    private func graceTimer() async {
        await shutdownBell.wait(timeout: nil)
        if Task.isCancelled { return }
        try? await Task.sleep(for: configuration.shutdownGracePeriod)
        if Task.isCancelled { return }
        let running = state.withLock { state in state.running.filter { !$0.value.decided }.map { ($0.key, $0.value.job.attempt) } }
        if !running.isEmpty {
            logger.warning("grace period over: cancelling and releasing \(running.count) running jobs")
        }
        for (id, attempt) in running { stop(id, attempt: attempt, .shutdown) }
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
                        self.state.withLock {
                            $0.listening = true
                            $0.listenConnections += 1
                        }
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

/// A claimed job as the worker holds it (a class: it is shared by the running table, the handler's task and
/// the outcome buffer without copying its strings and data).
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
        id: JobID, queue: String, kind: String, args: Data, agencyID: UUID?, priority: Int, attempt: Int64,
        maxAttempts: Int, runAt: Date, metadata: Data, createdAt: Date
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

struct RunningJob: Sendable {
    var job: FetchedJob
    var timeout: Duration
    var deadline: ContinuousClock.Instant
    /// The handler's task (set right after it is created).
    var task: Task<Void, Never>?
    /// The outcome was decided (handler returned, timed out, or stopped); later results are ignored.
    var decided = false
    /// The handler's task is to be cancelled (applied when the task is set, if it was not yet).
    var cancelled = false
}

struct WorkerState: Sendable {
    var shuttingDown = false
    var listening = false
    var listenConnections = 0
    var running: [JobID: RunningJob] = [:]
    var runningPerQueue: [String: Int] = [:]
    /// When the watchdog will next look at deadlines (nil: it sleeps until rung).
    var watchdogTarget: ContinuousClock.Instant?
    /// Fetch loops waiting for their queue's last handler to return (shutdown).
    var idleWaiters: [String: [CheckedContinuation<Void, Never>]] = [:]
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

        init(queue: String, kind: String) {
            let dimensions = [("queue", queue), ("kind", kind)]
            duration = Metrics.Timer(label: QueueMetricNames.duration, dimensions: dimensions, preferredDisplayUnit: .seconds)
            completed = Counter(label: QueueMetricNames.completed, dimensions: dimensions)
            failed = Counter(label: QueueMetricNames.failed, dimensions: dimensions)
            discarded = Counter(label: QueueMetricNames.discarded, dimensions: dimensions)
            snoozed = Counter(label: QueueMetricNames.snoozed, dimensions: dimensions)
            cancelled = Counter(label: QueueMetricNames.cancelled, dimensions: dimensions)
        }
    }

    private struct Key: Hashable {
        var queue: String
        var kind: String
    }

    private let handles = Mutex<[Key: Handles]>([:])

    func `for`(queue: String, kind: String) -> Handles {
        let key = Key(queue: queue, kind: kind)
        return handles.withLock { handles in
            if let existing = handles[key] { return existing }
            let made = Handles(queue: queue, kind: kind)
            handles[key] = made
            return made
        }
    }
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
