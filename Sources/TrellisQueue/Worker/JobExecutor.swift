import Foundation
import Logging
import Synchronization
import Tracing

/// Runs claimed jobs: one task per job, nothing else per job. Time limits are kept by one watchdog for all of
/// them; stop requests (cancel, lost lease, shutdown) arrive through the job's entry in the running table, which
/// holds the task to cancel. Whoever decides a job's outcome first (its handler, the watchdog, a stop) hands it
/// to the completer; later results are ignored. The executor also keeps its jobs' leases: one renewal statement
/// for all of them every `leaseRenewInterval`.
final class JobExecutor: Sendable {
    enum StopReason: Sendable {
        case cancelRequested
        case leaseLost
        case shutdown
    }

    private enum Result: Sendable {
        case finished(JobOutcome)
        case threw(any Error)
        case timedOut(Duration)
        case stopped(StopReason)
    }

    private struct RunningJob: Sendable {
        var job: FetchedJob
        var producer: QueueProducer
        var timeout: Duration
        var deadline: ContinuousClock.Instant
        /// The handler's task (set right after it is created).
        var task: Task<Void, Never>?
        /// The outcome was decided (handler returned, timed out, or stopped); later results are ignored.
        var decided = false
        /// The handler's task is to be cancelled (applied when the task is set, if it was not yet).
        var cancelled = false
    }

    private struct State: Sendable {
        var running: [JobID: RunningJob] = [:]
        var runningPerQueue: [String: Int] = [:]
        /// When the watchdog will next look at deadlines (nil: it sleeps until rung).
        var watchdogTarget: ContinuousClock.Instant?
        /// Producers waiting for their queue's last handler to return (shutdown).
        var idleWaiters: [String: [CheckedContinuation<Void, Never>]] = [:]
    }

    private let state = Mutex(State())
    private let watchdogBell = Doorbell()
    private let registry: JobRegistry
    private let configuration: JobWorker.Configuration
    private let jobs: JobQueue
    private let completer: JobCompleter
    private let metrics: WorkerMetrics
    private let activity: ActivityLog
    private let logger: Logger
    private let isStopping: @Sendable () -> Bool
    /// A tracer was bootstrapped before this worker started; without one a run skips the span machinery, which
    /// costs a task-local binding and generic look-ups per job even when it records nothing.
    private let traced = !(InstrumentationSystem.tracer is NoOpTracer)

    init(registry: JobRegistry, configuration: JobWorker.Configuration, jobs: JobQueue, completer: JobCompleter, metrics: WorkerMetrics,
         activity: ActivityLog, logger: Logger, isStopping: @escaping @Sendable () -> Bool) {
        self.registry = registry
        self.configuration = configuration
        self.jobs = jobs
        self.completer = completer
        self.metrics = metrics
        self.activity = activity
        self.logger = logger
        self.isStopping = isStopping
    }

    var runningCount: Int { state.withLock { $0.running.count } }

    func running(in queue: String) -> Int { state.withLock { $0.runningPerQueue[queue, default: 0] } }

    // MARK: Starting and ending a job

    func start(_ fetched: [FetchedJob], producer: QueueProducer) {
        guard !fetched.isEmpty else { return }
        let now = ContinuousClock.now
        let wakeWatchdog = state.withLock { state -> Bool in
            var wake = false
            for job in fetched {
                let timeout = registry.entry(for: job.kind)?.timeout ?? configuration.handlerTimeout
                let deadline = now + timeout
                state.running[job.id] = RunningJob(job: job, producer: producer, timeout: timeout, deadline: deadline)
                if state.watchdogTarget.map({ deadline < $0 }) ?? true {
                    state.watchdogTarget = deadline
                    wake = true
                }
            }
            state.runningPerQueue[producer.queue, default: 0] += fetched.count
            return wake
        }
        if wakeWatchdog { watchdogBell.ring() }
        for job in fetched {
            let task = Task { await self.execute(job, producer: producer) }
            let cancelNow = state.withLock { state -> Bool in
                guard state.running[job.id]?.job.attempt == job.attempt else { return false }
                state.running[job.id]?.task = task
                return state.running[job.id]?.cancelled ?? false
            }
            if cancelNow || Task.isCancelled { task.cancel() }
        }
    }

    private func execute(_ job: FetchedJob, producer: QueueProducer) async {
        defer { releaseSlot(producer) }
        guard let entry = registry.entry(for: job.kind) else {
            guard takeDecision(job) else { return }
            jobLogger(job).error("unknown job kind: discarded")
            completer.record(job, .discard(
                error: "unknown job kind '\(job.kind)': no handler is registered for it in worker \(configuration.workerID)"))
            return
        }
        let (owner, jobs) = (configuration.workerID, self.jobs)
        let context = JobContext(
            id: job.id, queue: job.queue, kind: job.kind, args: job.args, attempt: Int(job.attempt),
            maxAttempts: job.maxAttempts, agencyID: job.agencyID, priority: job.priority, runAt: job.runAt,
            createdAt: job.createdAt, metadata: job.metadata, logger: logger,
            progressReporter: { progress in
                guard JobJSON.isObject(progress) else { throw JobQueueError.invalidJob("progress must be a JSON object") }
                try await jobs.updateProgress(owner: owner, id: job.id, attempt: job.attempt, progress: JobJSON.text(progress))
            })
        let started = ContinuousClock.now
        let result: Result
        do {
            if traced {
                // One span per run, in the trace of whatever enqueued the job (its metadata carries the context).
                result = .finished(try await withSpan("job \(job.kind)", context: JobTraceContext.context(of: job.metadata), ofKind: .consumer) { span in
                    span.attributes["messaging.system"] = "trellis"
                    span.attributes["messaging.destination.name"] = job.queue
                    span.attributes["messaging.message.id"] = "\(job.id)"
                    span.attributes["trellis.job.attempt"] = Int(job.attempt)
                    return try await entry.handler.run(context)
                })
            } else {
                result = .finished(try await entry.handler.run(context))
            }
        } catch {
            result = .threw(error)
        }
        // A timeout or a stop may have decided already (and cancelled us); then this result is ignored.
        guard takeDecision(job) else { return }
        decide(job, result, elapsed: ContinuousClock.now - started)
    }

    /// The job's slot is free once its handler has returned (not when its outcome was decided).
    private func releaseSlot(_ producer: QueueProducer) {
        let (running, waiters) = state.withLock { state -> (Int, [CheckedContinuation<Void, Never>]) in
            let running = state.runningPerQueue[producer.queue, default: 1] - 1
            state.runningPerQueue[producer.queue] = running
            return (running, running == 0 ? state.idleWaiters.removeValue(forKey: producer.queue) ?? [] : [])
        }
        producer.slotFreed(stillRunning: running, stopping: isStopping())
        for waiter in waiters { waiter.resume() }
    }

    func waitUntilIdle(queue: String) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle = state.withLock { state -> Bool in
                if state.runningPerQueue[queue, default: 0] == 0 { return true }
                state.idleWaiters[queue, default: []].append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }

    /// The completer wrote these jobs' outcomes (or their lease was lost): they leave the running table, under one lock.
    func forget(_ ids: [JobID]) {
        state.withLock { state in
            for id in ids { state.running.removeValue(forKey: id) }
        }
    }

    /// True for the first caller for this attempt of the job: it decides the outcome.
    private func takeDecision(_ job: FetchedJob) -> Bool {
        state.withLock { state in
            guard let running = state.running[job.id], running.job.attempt == job.attempt, !running.decided else { return false }
            state.running[job.id]?.decided = true
            return true
        }
    }

    /// Decides `id`'s outcome from outside its handler (a stop) and cancels the handler's task.
    func stop(_ id: JobID, attempt: Int64, _ reason: StopReason) {
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

    /// The grace period is over: every job still running is cancelled and handed back.
    func releaseAllRunning() {
        let running = state.withLock { state in state.running.filter { !$0.value.decided }.map { ($0.key, $0.value.job.attempt) } }
        if !running.isEmpty { logger.warning("grace period over: cancelling and releasing \(running.count) running jobs") }
        for (id, attempt) in running { stop(id, attempt: attempt, .shutdown) }
    }

    /// Cancels every handler (the worker's own task was cancelled: not a graceful shutdown). Jobs whose handler
    /// then throws are released.
    func cancelAllHandlers() {
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

    // MARK: Time limits

    /// Sleeps until the earliest deadline (or until a job with an earlier one starts), then fails the jobs past
    /// theirs and cancels their handlers.
    func watchdogLoop() async {
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
            activity.note("watchdog", next == nil ? "no running jobs" : "sleeping until the next deadline")
            await watchdogBell.wait(timeout: next.map { $0 - ContinuousClock.now })
        }
    }

    // MARK: Leases

    func renewLoop() async {
        let interval = configuration.leaseRenewInterval ?? configuration.leaseDuration / 3
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            if Task.isCancelled { return }
            activity.note("renew", "renewing")
            await renewLeases()
            activity.note("renew", "sleeping")
        }
    }

    /// Renews the leases of every running job in one statement; stops handlers whose job was cancelled or is no
    /// longer ours.
    func renewLeases() async {
        let snapshot = state.withLock { state in state.running.map { ($0.key, $0.value.job.attempt) } }
        guard !snapshot.isEmpty else { return }
        let renewed: [JobID: Bool]
        do {
            let (jobs, owner, lease) = (self.jobs, configuration.workerID, configuration.leaseDuration)
            renewed = try await withDeadline(configuration.statementTimeout, "renewLeases") {
                try await jobs.renewLeases(owner: owner, snapshot.map { (id: $0.0, attempt: $0.1) }, lease: lease)
            }
        } catch {
            logger.error("lease renewal failed", metadata: ["error": "\(String(reflecting: error))"])
            return
        }
        let pendingOutcomes = completer.pendingIDs()
        for (id, attempt) in snapshot {
            switch renewed[id] {
            case true?: stop(id, attempt: attempt, .cancelRequested)
            case false?: break
            case nil where !pendingOutcomes.contains(id): stop(id, attempt: attempt, .leaseLost)
            case nil: break
            }
        }
    }

    // MARK: Outcomes

    private func jobLogger(_ job: FetchedJob) -> Logger {
        logger.forJob(id: job.id, kind: job.kind, attempt: job.attempt)
    }

    private func decide(_ job: FetchedJob, _ result: Result, elapsed: Duration) {
        metrics.for(.init(queue: job.queue, kind: job.kind)).duration.recordNanoseconds(Int64(elapsed.seconds * 1e9))
        var retryDelay: Double { configuration.retryPolicy.delay(afterAttempt: Int(job.attempt)) }
        switch result {
        case .finished(.completed):
            completer.record(job, .complete)
        case .finished(.snooze(let delay)):
            jobLogger(job).debug("snoozed", metadata: ["delay": "\(delay)"])
            completer.record(job, .snooze(delay: delay.seconds))
        case .finished(.discard(let reason)):
            jobLogger(job).warning("handler discarded the job", metadata: ["reason": "\(reason)"])
            completer.record(job, .discard(error: reason))
        case .finished(.cancel(let reason)):
            completer.record(job, .cancel(reason: reason))
        case .threw(let error):
            if Task.isCancelled {
                // The worker itself is being torn down (not a graceful shutdown): hand the job back.
                completer.record(job, .release)
                return
            }
            let (delay, message) = (error as? RetryAfter).map { ($0.delay.seconds, $0.reason) } ?? (retryDelay, Self.describe(error))
            jobLogger(job).warning("job failed", metadata: ["error": "\(message)", "retry_in_seconds": "\(delay)"])
            completer.record(job, .fail(error: message, delay: delay))
        case .timedOut(let limit):
            jobLogger(job).warning("job timed out", metadata: ["timeout": "\(limit)"])
            completer.record(job, .fail(error: "handler timed out after \(limit)", delay: retryDelay))
        case .stopped(.cancelRequested):
            jobLogger(job).info("cancelled on request while running")
            completer.record(job, .cancel(reason: "cancelled on request while running"))
        case .stopped(.leaseLost):
            jobLogger(job).warning("lease lost: the job was rescued or finished elsewhere; handler cancelled")
            forget([job.id])
        case .stopped(.shutdown):
            jobLogger(job).info("released on shutdown")
            completer.record(job, .release)
        }
    }

    static func describe(_ error: any Error) -> String {
        let text = String(reflecting: error)
        return text.count > 4000 ? String(text.prefix(4000)) + "…" : text
    }
}
