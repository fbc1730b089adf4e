import Foundation
import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle
import TrellisQueue
import TrellisStore

/// Everything the API needs, built once by the executable (or a test) and passed in: no globals.
public struct APIDependencies: Sendable {
    public var database: TenantDatabase
    public var migrations: [Migration]
    public var openAPIDocument: String
    public var metrics: PrometheusCollectorRegistry?
    public var queue: JobQueue
    /// Plans with more tasks than this are exported by the worker, not in the request.
    public var directExportLimit: Int

    public init(
        database: TenantDatabase, migrations: [Migration], openAPIDocument: String, metrics: PrometheusCollectorRegistry?,
        queue: JobQueue? = nil, directExportLimit: Int = 5_000
    ) {
        self.database = database
        self.migrations = migrations
        self.openAPIDocument = openAPIDocument
        self.metrics = metrics
        self.queue = queue ?? JobQueue(client: database.client, logger: database.logger)
        self.directExportLimit = directExportLimit
    }

    /// The contract shipped in `docs/openapi.yaml`.
    public static func loadOpenAPIDocument() throws -> String {
        try String(contentsOf: ProjectFiles.docsDirectory.appendingPathComponent("openapi.yaml"), encoding: .utf8)
    }
}

/// The router with every route; tests call this to get the real application.
public func buildRouter(_ dependencies: APIDependencies) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    let logger = dependencies.database.logger
    let database = dependencies.database
    router.add(middleware: RequestLogAndProblemMiddleware())
    if dependencies.metrics != nil { router.add(middleware: MetricsMiddleware()) }
    router.add(middleware: AuthenticationMiddleware(database: database, credentials: CredentialStore(logger: logger)))
    OperationsRoutes(
        database: database, migrations: dependencies.migrations, openAPIDocument: dependencies.openAPIDocument,
        metrics: dependencies.metrics, queue: dependencies.queue
    ).register(on: router)
    AccountRoutes(database: database, credentials: CredentialStore(logger: logger), people: PeopleStore(logger: logger)).register(on: router)
    ClientRoutes(database: database, store: ClientStore(logger: logger)).register(on: router)
    PeopleRoutes(database: database, store: PeopleStore(logger: logger)).register(on: router)
    RoleRoutes(database: database, store: RoleStore(logger: logger)).register(on: router)
    AssignmentRoutes(database: database, store: AssignmentStore(logger: logger)).register(on: router)
    PlanRoutes(database: database, store: PlanStore(logger: logger), clients: ClientStore(logger: logger)).register(on: router)
    ExportRoutes(
        database: database, plans: PlanStore(logger: logger), exports: ExportStore(logger: logger), queue: dependencies.queue,
        directLimit: dependencies.directExportLimit
    ).register(on: router)
    WebhookRoutes(database: database, store: WebhookStore(logger: logger), queue: dependencies.queue).register(on: router)
    NotificationRoutes(database: database, store: NotificationStore(logger: logger)).register(on: router)
    JobRoutes(database: database, store: AgencyJobStore(logger: logger), queue: dependencies.queue).register(on: router)
    return router
}

/// The API application. The database client is a service of the same group, so it runs first and
/// shuts down last.
public func buildApplication(
    _ dependencies: APIDependencies, host: String, port: Int, services: [any Service], logger: Logger
) -> some ApplicationProtocol {
    Application(
        router: buildRouter(dependencies),
        configuration: .init(address: .hostname(host, port: port), serverName: "trellis"),
        services: services,
        logger: logger)
}
