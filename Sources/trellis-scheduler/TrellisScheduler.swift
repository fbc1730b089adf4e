import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import TrellisBootstrap
import TrellisJobs
import TrellisQueue
import TrellisStore

/// Fires cron schedules (in code and per agency) and time-based scans. Leader-elected through a lease
/// row, with a unique (schedule, fire time) insert: two running schedulers enqueue each slot once.
@main
struct TrellisSchedulerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "trellis-scheduler", abstract: "Trellis scheduler")

    @OptionGroup var common: CommonOptions

    @Option(help: "seconds between ticks (env: SCHEDULER_TICK_SECONDS)") var tickSeconds: Int?
    @Option(help: "leader lease in seconds (env: SCHEDULER_LEASE_SECONDS)") var leaseSeconds: Int?

    func run() async throws {
        try common.bootstrapLogging()
        let tracing = try common.bootstrapTracing(serviceName: "trellis-scheduler")
        let logger = Logger(label: "trellis-scheduler")
        let client = try common.makeClient(logger: logger)
        let scheduler = CronScheduler(
            client: client, schedules: try PlatformJobs.schedules(),
            configuration: .init(
                leaseDuration: .seconds(try setting(leaseSeconds, env: "SCHEDULER_LEASE_SECONDS", default: 15)),
                tickInterval: .seconds(try setting(tickSeconds, env: "SCHEDULER_TICK_SECONDS", default: 1))),
            logger: logger)
        logger.info("scheduler started")
        try await runServices([client, scheduler], tracing: tracing, grace: .seconds(10), logger: logger)
    }
}
