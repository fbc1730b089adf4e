import ArgumentParser
import Hummingbird
import Logging
import Metrics
import Prometheus
import TrellisBootstrap
import TrellisHTTP
import TrellisStore

/// The HTTP API: stateless, run as many replicas as needed.
@main
struct TrellisAPI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "trellis-api", abstract: "Trellis HTTP API")

    @OptionGroup var common: CommonOptions

    @Option(help: "address to listen on (env: HOST)") var host: String?
    @Option(help: "port to listen on (env: PORT)") var port: Int?

    func run() async throws {
        try common.bootstrapLogging()
        let logger = Logger(label: "trellis-api")
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let client = try common.makeClient(logger: logger)
        let dependencies = APIDependencies(
            database: TenantDatabase(client: client, logger: logger),
            migrations: try Migration.load(directory: ProjectFiles.sqlDirectory),
            openAPIDocument: try APIDependencies.loadOpenAPIDocument(),
            metrics: registry)
        let app = buildApplication(
            dependencies, host: setting(host, env: "HOST") ?? "127.0.0.1", port: try setting(port, env: "PORT", default: 8080),
            services: [client], logger: logger)
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }
}
