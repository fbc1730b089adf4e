import ArgumentParser
import Logging
import ServiceLifecycle
import TrellisBootstrap
import TrellisJobs
import TrellisStore

/// Fetches and runs jobs from the PostgreSQL queue.
@main
struct TrellisWorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "trellis-worker", abstract: "Trellis job worker")

    @OptionGroup var common: CommonOptions

    func run() async throws {
        try common.bootstrapLogging()
        let logger = Logger(label: "trellis-worker")
        let client = try common.makeClient(logger: logger)
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: client)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        logger.info("worker started")
        try await group.run()
    }
}
