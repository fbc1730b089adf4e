import ArgumentParser
import Logging
import ServiceLifecycle
import TrellisBootstrap
import TrellisJobs
import TrellisStore

/// Fires cron schedules and time-based scans; leader-elected, safe to run two.
@main
struct TrellisSchedulerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "trellis-scheduler", abstract: "Trellis scheduler")

    @OptionGroup var common: CommonOptions

    func run() async throws {
        try common.bootstrapLogging()
        let logger = Logger(label: "trellis-scheduler")
        let client = try common.makeClient(logger: logger)
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: client)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        logger.info("scheduler started")
        try await group.run()
    }
}
