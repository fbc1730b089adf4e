import Foundation
import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Fetches and runs jobs: a swift-service-lifecycle `Service` made of the parts River has.
///
/// - A **producer** per configured queue (`QueueProducer`) keeps at most `concurrency` of its jobs running,
///   claiming them in batches with `fetchAvailable`.
/// - The **executor** (`JobExecutor`) runs each job in a task of its own, keeps every handler's time limit with
///   one watchdog, stops handlers on cancellation or a lost lease, and renews its jobs' leases in one statement.
/// - The **completer** (`JobCompleter`) writes every outcome — completed, failed, snoozed, cancelled, released —
///   in one batched statement (`recordOutcomes`), fenced by attempt and lease owner.
/// - **Maintenance** (`QueueMaintenance`): promoting due jobs, rescuing expired leases and pruning run on the one
///   worker holding the `queue.maintenance` lease.
/// - Wake-up: a `NotificationListener` on `trellis_jobs`; polling every `pollInterval` is the fallback.
/// - Graceful shutdown: stop fetching, let running handlers finish within `shutdownGracePeriod`, then cancel
///   them and release their jobs to `available` without consuming an attempt.
///
/// Every statement goes through `JobQueue`.
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
    /// The lease that makes one worker of all those on a database do the queue's maintenance.
    public static let maintenanceLease = QueueMaintenance.leaseName

    public static func makeWorkerID() -> String {
        let host = ProcessInfo.processInfo.hostName
        let random = UInt32.random(in: 0...UInt32.max)
        return "\(host)-\(ProcessInfo.processInfo.processIdentifier)-\(String(random, radix: 16))"
    }

    public let configuration: Configuration
    public var workerID: String { configuration.workerID }
    let registry: JobRegistry
    let logger: Logger
    private let stopping: StopFlag
    private let shutdownBell = Doorbell()
    private let activity: ActivityLog
    private let producers: [String: QueueProducer]
    private let executor: JobExecutor
    private let completer: JobCompleter
    private let maintenance: QueueMaintenance
    private let listener: NotificationListener

    public init(
        client: PostgresClient,
        registry: JobRegistry,
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "trellis.worker"),
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) {
        self.registry = registry
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "worker"] = "\(configuration.workerID)"
        self.logger = logger
        let jobs = JobQueue(client: client, logger: logger)
        let metrics = WorkerMetrics(factory: metricsFactory)
        let (stopping, activity) = (StopFlag(), ActivityLog())
        self.stopping = stopping
        self.activity = activity
        let executorBox = Mutex<JobExecutor?>(nil)
        let completer = JobCompleter(
            queue: jobs, owner: configuration.workerID, statementTimeout: configuration.statementTimeout, metrics: metrics, logger: logger,
            written: { ids in executorBox.withLock { $0 }?.forget(ids) })
        let executor = JobExecutor(
            registry: registry, configuration: configuration, jobs: jobs, completer: completer, metrics: metrics, activity: activity,
            logger: logger, isStopping: { stopping.isSet })
        executorBox.withLock { $0 = executor }
        let producers = Dictionary(uniqueKeysWithValues: configuration.queues.filter { $0.value > 0 }.map { queue, concurrency in
            (queue, QueueProducer(queue: queue, concurrency: concurrency, configuration: configuration, jobs: jobs, executor: executor,
                                  activity: activity, logger: logger))
        })
        let ringAll: @Sendable () -> Void = { for producer in producers.values { producer.ring() } }
        self.completer = completer
        self.executor = executor
        self.producers = producers
        self.maintenance = QueueMaintenance(jobs: jobs, configuration: configuration, activity: activity, logger: logger, wake: ringAll)
        self.listener = NotificationListener(jobs: jobs, activity: activity, logger: logger) { queue in
            if let queue { producers[queue]?.ring() } else { ringAll() }
        }
    }

    // MARK: Service

    public func run() async throws {
        logger.info(
            "job worker starting",
            metadata: ["queues": "\(configuration.queues.sorted { $0.key < $1.key })", "kinds": "\(registry.kinds)"]
        )
        let isStopping: @Sendable () -> Bool = { [stopping] in stopping.isSet }
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { outer in
                outer.addTask { await self.completer.run { self.activity.note("complete", $0) } }
                await withTaskGroup(of: Void.self) { background in
                    if self.configuration.listenForNotifications {
                        background.addTask { await self.listener.run(); self.activity.note("listen", "ended") }
                    }
                    background.addTask { await self.maintenance.electLoop(isStopping: isStopping) }
                    background.addTask { await self.maintenance.workLoop(); self.activity.note("maintenance", "ended") }
                    background.addTask { await self.executor.renewLoop(); self.activity.note("renew", "ended") }
                    background.addTask { await self.executor.watchdogLoop(); self.activity.note("watchdog", "ended") }
                    background.addTask { await self.graceTimer(); self.activity.note("grace", "ended") }
                    // Handlers run in tasks of their own (see `JobExecutor.start`): a cancelled worker cancels them.
                    await withTaskCancellationHandler {
                        await withTaskGroup(of: Void.self) { fetchers in
                            for producer in self.producers.values {
                                fetchers.addTask { await producer.run(isStopping: isStopping) }
                            }
                        }
                    } onCancel: {
                        self.executor.cancelAllHandlers()
                    }
                    self.activity.note("run", "producers and their jobs are done; stopping background loops")
                    background.cancelAll()
                }
                self.activity.note("run", "background loops stopped; writing the last outcomes")
                self.completer.close()
            }
        } onGracefulShutdown: {
            self.requestShutdown()
        }
        logger.info("job worker stopped")
    }

    /// Stops fetching; running jobs get `shutdownGracePeriod` to finish, then are cancelled and released.
    /// `run()` returns when all is handed back. (A ServiceGroup's graceful shutdown calls this.)
    public func requestShutdown() {
        guard stopping.set() else { return }
        logger.info("job worker shutting down: no more fetching")
        for producer in producers.values { producer.ring() }
        maintenance.stop()
        shutdownBell.ring()
    }

    private func graceTimer() async {
        await shutdownBell.wait(timeout: nil)
        if Task.isCancelled { return }
        try? await Task.sleep(for: configuration.shutdownGracePeriod)
        if Task.isCancelled { return }
        executor.releaseAllRunning()
    }

    /// What each of the worker's loops is doing right now, e.g. `["fetch:default": "idle", "listen": "listening"]`.
    public var activities: [String: String] { activity.all }

    /// Whether the LISTEN connection is up (tests wait for it before measuring wake-up latency).
    var isListening: Bool { listener.isListening }

    /// How many times a LISTEN connection was established (1 after start; more after reconnections).
    var listenConnectionCount: Int { listener.connectionCount }

    /// Jobs this worker is running right now.
    public var runningJobCount: Int { executor.runningCount }

    /// True while this worker holds the maintenance lease (promote, rescue and prune run here only).
    public var leadsMaintenance: Bool { maintenance.isLeader }

    /// Renews the leases of every running job now (tests call it instead of waiting for the interval).
    func renewLeases() async { await executor.renewLeases() }
}
