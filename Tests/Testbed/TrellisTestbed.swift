import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import TrellisBootstrap
import TrellisJobs
import TrellisQueue
import TrellisStore

/// The platform's worker and scheduler as the end-to-end tests run them as processes, with what only tests need:
/// `TESTBED_ROLE=worker` adds the `system.probe` job (it records every run in `probe_runs`, a table the test
/// creates); `TESTBED_ROLE=scheduler` reads its clock from `TRELLIS_CLOCK_FILE`, which the test moves forward to
/// drive many cron slots in seconds. Both run the same services as `trellis-worker` and `trellis-scheduler`.
@main
struct TrellisTestbed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "trellis-testbed", abstract: "Test-only worker and scheduler")

    @OptionGroup var common: CommonOptions

    func run() async throws {
        try common.bootstrapLogging()
        let role = ProcessInfo.processInfo.environment["TESTBED_ROLE"] ?? "worker"
        let logger = Logger(label: "trellis-testbed-\(role)")
        let client = try common.makeClient(logger: logger)
        switch role {
        case "scheduler":
            let scheduler = CronScheduler(
                client: client, schedules: try PlatformJobs.schedules(),
                configuration: .init(
                    leaseDuration: .seconds(try setting(nil, env: "SCHEDULER_LEASE_SECONDS", default: 15)),
                    tickInterval: .seconds(try setting(nil, env: "SCHEDULER_TICK_SECONDS", default: 1))),
                now: fileClock(), logger: logger)
            try await runServices([client, scheduler], tracing: nil, grace: .seconds(10), logger: logger)
        default:
            var queues: [String: Int] = [:]
            for part in (setting(nil, env: "WORKER_QUEUES") ?? "default=10").split(separator: ",") {
                let pair = part.split(separator: "=")
                if pair.count == 2, let n = Int(pair[1]) { queues[String(pair[0])] = n }
            }
            let configuration = JobWorker.Configuration(
                queues: queues,
                pollInterval: .milliseconds(try setting(nil, env: "WORKER_POLL_MS", default: 1000)),
                fetchBatchSize: try setting(nil, env: "WORKER_FETCH_BATCH", default: 10),
                leaseDuration: .seconds(try setting(nil, env: "WORKER_LEASE_SECONDS", default: 30)),
                shutdownGracePeriod: .seconds(try setting(nil, env: "WORKER_GRACE_SECONDS", default: 20)))
            var registry = PlatformJobs.registry(database: TenantDatabase(client: client, logger: logger))
            registry.register(ProbeJob(client: client))
            let worker = JobWorker(client: client, registry: registry, configuration: configuration, logger: logger)
            logger.info("worker started", metadata: ["queues": "\(configuration.queues)", "worker": "\(worker.workerID)"])
            try await runServices([client, worker], tracing: nil, grace: configuration.shutdownGracePeriod + .seconds(5), logger: logger)
        }
    }

    /// The instant in `TRELLIS_CLOCK_FILE` (ISO 8601), read on every tick.
    func fileClock() -> @Sendable () -> Date {
        let path = ProcessInfo.processInfo.environment["TRELLIS_CLOCK_FILE"] ?? ""
        return {
            let text = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            return ISO8601DateFormatter().date(from: text) ?? Date()
        }
    }
}

/// `system.probe`: works for `sleepMs`, then records the run (unless `noRecord`), so a test finds jobs that ran twice.
struct ProbeJob: JobKind {
    static let kind = "system.probe"

    struct Arguments: Codable, Sendable {
        var sleepMs: Int?
        var noRecord: Bool?
    }

    let client: PostgresClient

    func run(_ arguments: Arguments, _ context: JobContext) async throws -> JobOutcome {
        if let ms = arguments.sleepMs, ms > 0 { try await Task.sleep(for: .milliseconds(ms)) }
        if arguments.noRecord != true {
            let worker = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
            try await client.query(
                "INSERT INTO probe_runs (job_id, attempt, worker) VALUES (\(context.id), \(context.attempt), \(worker))",
                logger: context.logger)
        }
        return .completed
    }
}
