import ArgumentParser
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import TrellisBootstrap
import TrellisHTTP
import TrellisJobs
import TrellisQueue
import TrellisStore

/// Fetches and runs jobs from the PostgreSQL queue. SIGTERM: stop fetching, let running jobs finish
/// within the grace period, hand the rest back.
@main
struct TrellisWorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "trellis-worker", abstract: "Trellis job worker")

    @OptionGroup var common: CommonOptions

    @Option(help: "queues and their concurrency, e.g. default=10,exports=2 (env: WORKER_QUEUES)") var queues: String?
    @Option(help: "jobs claimed per fetch (env: WORKER_FETCH_BATCH)") var fetchBatch: Int?
    @Option(help: "polling interval in ms when no notification arrives (env: WORKER_POLL_MS)") var pollMs: Int?
    @Option(help: "lease length in seconds; a dead worker's jobs return after it (env: WORKER_LEASE_SECONDS)") var leaseSeconds: Int?
    @Option(help: "seconds running jobs get to finish on shutdown (env: WORKER_GRACE_SECONDS)") var graceSeconds: Int?
    @Option(help: "local development: webhooks may go to this machine over plain http (env: TRELLIS_LOCAL_DEV=true)") var localDev: Bool?
    @Option(help: "port for this worker's /metrics (needs METRICS_TOKEN); unset: none (env: WORKER_METRICS_PORT)") var metricsPort: Int?
    @Option(help: "address the /metrics port listens on (env: WORKER_METRICS_HOST, default 127.0.0.1)") var metricsHost: String?

    func run() async throws {
        try common.bootstrapLogging()
        let tracing = try common.bootstrapTracing(serviceName: "trellis-worker")
        let logger = Logger(label: "trellis-worker")
        let client = try common.makeClient(logger: logger)
        let queueSpec = setting(queues, env: "WORKER_QUEUES")
        let configuration = JobWorker.Configuration(
            queues: try queueSpec.map(Self.parseQueues) ?? PlatformJobs.defaultQueues,
            pollInterval: .milliseconds(try setting(pollMs, env: "WORKER_POLL_MS", default: 1000)),
            fetchBatchSize: try setting(fetchBatch, env: "WORKER_FETCH_BATCH", default: 10),
            leaseDuration: .seconds(try setting(leaseSeconds, env: "WORKER_LEASE_SECONDS", default: 30)),
            shutdownGracePeriod: .seconds(try setting(graceSeconds, env: "WORKER_GRACE_SECONDS", default: 20)))
        // The worker's own counters (completed, failed, run time…) are scraped from the worker: they live here.
        var metricsServer: (any Service)?
        if let port = try setting(metricsPort, env: "WORKER_METRICS_PORT") {
            guard let token = setting(nil, env: "METRICS_TOKEN") else {
                throw ValidationError("WORKER_METRICS_PORT needs METRICS_TOKEN: /metrics is only served behind a bearer token")
            }
            let registry = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            metricsServer = buildMetricsApplication(
                registry: registry, token: token, host: setting(metricsHost, env: "WORKER_METRICS_HOST") ?? "127.0.0.1", port: port,
                logger: logger)
        }
        let worker = JobWorker(
            client: client,
            registry: PlatformJobs.registry(
                database: TenantDatabase(client: client, logger: logger),
                outbound: try setting(localDev, env: "TRELLIS_LOCAL_DEV", default: false) ? .localDevelopment : OutboundPolicy()),
            configuration: configuration, logger: logger, metricsFactory: MetricsSystem.factory)
        logger.info("worker started", metadata: ["queues": "\(configuration.queues)", "worker": "\(worker.workerID)"])
        // Running jobs get their grace period; a few seconds more for the database client, then cancellation.
        try await runServices(
            [client, worker] + (metricsServer.map { [$0] } ?? []), tracing: tracing, grace: configuration.shutdownGracePeriod + .seconds(5),
            logger: logger)
    }

    static func parseQueues(_ spec: String) throws -> [String: Int] {
        var queues: [String: Int] = [:]
        for part in spec.split(separator: ",") {
            let pair = part.split(separator: "=")
            guard pair.count == 2, let n = Int(pair[1]), n > 0 else {
                throw ValidationError("queues look like default=10,exports=2; got \(spec)")
            }
            queues[String(pair[0])] = n
        }
        return queues
    }
}
