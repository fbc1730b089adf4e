import ArgumentParser
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
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
    @Option(help: "URL the server is reached at, for the links it writes (env: PUBLIC_BASE_URL)") var publicBaseURL: String?
    @Option(help: "bearer token that /metrics requires; unset: /metrics is off (env: METRICS_TOKEN)") var metricsToken: String?
    @Option(help: "plain-http local development: cookies without Secure, webhooks to this machine (env: TRELLIS_LOCAL_DEV=true)")
    var localDev: Bool?
    @Option(help: "seconds in-flight requests get on SIGTERM before connections are closed (env: SHUTDOWN_GRACE_SECONDS)")
    var shutdownGraceSeconds: Int?
    @Option(help: "seconds before an idle connection is closed (env: HTTP_IDLE_TIMEOUT_SECONDS)") var idleTimeoutSeconds: Int?
    @Option(help: "sign-in attempts per minute per address and per account (env: RATE_LIMIT_SIGNINS_PER_MINUTE)") var signInsPerMinute: Int?
    @Option(help: "requests per minute per API token or session (env: RATE_LIMIT_REQUESTS_PER_MINUTE)") var requestsPerMinute: Int?
    @Option(help: "tasks one plan may hold (env: MAX_TASKS_PER_PLAN)") var maxTasksPerPlan: Int?
    @Option(help: "serve repeated reads from memory until the database announces a change (env: READ_CACHE=on|off)") var readCache: String?
    @Option(help: "benchmarks: also serve a bare Hummingbird hello-world route on this port (env: BARE_HELLO_PORT)") var bareHelloPort: Int?

    func run() async throws {
        try common.bootstrapLogging()
        let tracing = try common.bootstrapTracing(serviceName: "trellis-api")
        let logger = Logger(label: "trellis-api")
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let client = try common.makeClient(logger: logger)
        let listenPort = try setting(port, env: "PORT", default: 8080)
        let listenHost = setting(host, env: "HOST") ?? "127.0.0.1"
        var security = try setting(localDev, env: "TRELLIS_LOCAL_DEV", default: false) ? SecuritySettings.localDevelopment : SecuritySettings()
        security.publicBaseURL = setting(publicBaseURL, env: "PUBLIC_BASE_URL") ?? "http://\(listenHost):\(listenPort)"
        security.metricsToken = setting(metricsToken, env: "METRICS_TOKEN")
        var limits = APILimits()
        limits.signInsPerMinute = try setting(signInsPerMinute, env: "RATE_LIMIT_SIGNINS_PER_MINUTE", default: limits.signInsPerMinute)
        limits.requestsPerMinutePerCredential = try setting(requestsPerMinute, env: "RATE_LIMIT_REQUESTS_PER_MINUTE", default: limits.requestsPerMinutePerCredential)
        limits.maxTasksPerPlan = try setting(maxTasksPerPlan, env: "MAX_TASKS_PER_PLAN", default: limits.maxTasksPerPlan)
        // What the API serves from memory is dropped when the database announces a change of its agency.
        let cacheSetting = setting(readCache, env: "READ_CACHE") ?? "on"
        guard ["on", "off"].contains(cacheSetting) else { throw ValidationError("READ_CACHE must be on or off, not \(cacheSetting)") }
        let changes: TenantChanges? = cacheSetting == "on" ? TenantChanges() : nil
        let dependencies = try APIDependencies(
            database: TenantDatabase(client: client, logger: logger, changes: changes),
            migrations: try Migration.load(directory: ProjectFiles.sqlDirectory),
            openAPIDocument: try APIDependencies.loadOpenAPIDocument(),
            metrics: registry, limits: limits, security: security)
        let app = buildApplication(
            dependencies, host: listenHost, port: listenPort,
            services: [client] + (changes.map { [TenantChangeListener(client: client, changes: $0, logger: logger)] } ?? []), logger: logger,
            idleTimeout: .seconds(try setting(idleTimeoutSeconds, env: "HTTP_IDLE_TIMEOUT_SECONDS", default: 30)))
        var services: [any Service] = [app]
        // Benchmarks/api compares every route with the cheapest request Hummingbird can answer, in this process.
        if let barePort = bareHelloPort ?? setting(nil, env: "BARE_HELLO_PORT").flatMap({ Int($0) }) {
            let bare = Router()
            bare.get("/") { _, _ in "Hello" }
            services.append(Application(router: bare, configuration: .init(address: .hostname(listenHost, port: barePort)), logger: logger))
        }
        try await runServices(
            services, tracing: tracing, grace: .seconds(try setting(shutdownGraceSeconds, env: "SHUTDOWN_GRACE_SECONDS", default: 10)), logger: logger)
    }
}
