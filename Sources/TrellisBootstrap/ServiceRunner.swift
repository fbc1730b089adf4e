import Logging
import ServiceLifecycle

/// Runs an executable's services until SIGTERM or SIGINT, with a deadline: services get `grace` to finish
/// what they are doing, then they are cancelled, and the process ends within `grace` plus a few seconds even
/// when a client connection or a database that went away would hold it.
/// The trace exporter (`CommonOptions.bootstrapTracing`), when there is one, runs first so that it stops last
/// and flushes the spans of everything else.
public func runServices(_ services: [any Service], tracing: (any Service)?, grace: Duration, logger: Logger) async throws {
    var services = services
    if let tracing {
        services.insert(tracing, at: 0)
        logger.info("traces exported over OTLP")
    }
    var configuration = ServiceGroupConfiguration(
        services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    configuration.maximumGracefulShutdownDuration = grace
    configuration.maximumCancellationDuration = .seconds(3)
    do {
        try await ServiceGroup(configuration: configuration).run()
    } catch let error as ServiceGroupError {
        // The deadline did its work: what was left was cancelled. Not a failure of the process.
        logger.warning("shutdown deadline reached; what was still running was cancelled", metadata: ["error": "\(error)"])
    }
}
