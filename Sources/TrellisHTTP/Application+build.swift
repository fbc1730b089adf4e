import Foundation
import Hummingbird
import Logging
import Prometheus
import Tracing
import ServiceLifecycle
import TrellisApplication
import TrellisJobs
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
    public var limits: APILimits
    public var security: SecuritySettings
    /// Bcrypt runs here, on threads of its own.
    public var passwordHasher: PasswordHasher
    /// The web app's clock ("today", plan health); tests inject one.
    public var now: @Sendable () -> Date
    var webTemplates: WebTemplates
    var staticFiles: StaticFiles

    /// Throws when a web page template does not parse.
    public init(
        database: TenantDatabase, migrations: [Migration], openAPIDocument: String, metrics: PrometheusCollectorRegistry?,
        queue: JobQueue? = nil, directExportLimit: Int = 5_000, limits: APILimits = .init(), security: SecuritySettings = .init(),
        passwordHasher: PasswordHasher? = nil, now: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        self.now = now
        self.webTemplates = try WebTemplates.load()
        self.staticFiles = StaticFiles.load()
        self.database = database
        self.migrations = migrations
        self.openAPIDocument = openAPIDocument
        self.metrics = metrics
        self.queue = queue ?? JobQueue(client: database.client, logger: database.logger)
        self.directExportLimit = directExportLimit
        self.limits = limits
        self.security = security
        self.passwordHasher = passwordHasher ?? PasswordHasher()
    }

    /// The contract shipped in `docs/openapi.yaml`.
    public static func loadOpenAPIDocument() throws -> String {
        try String(contentsOf: ProjectFiles.docsDirectory.appendingPathComponent("openapi.yaml"), encoding: .utf8)
    }
}

/// What the server says about itself to the outside: cookies, links, the metrics endpoint, webhook targets.
public struct SecuritySettings: Sendable {
    /// The session cookie is `Secure` unless the operator runs plain-http local development.
    public var secureCookies = true
    /// The URL people and calendar apps reach the server at; links the server writes start with it.
    public var publicBaseURL = "http://127.0.0.1:8080"
    /// `/metrics` answers only with `Authorization: Bearer <metricsToken>`; nil: not served on this port.
    public var metricsToken: String?
    /// Where webhooks may point (https only, no internal addresses, unless a local-development operator allows it).
    public var outbound = OutboundPolicy()

    public init() {}

    /// Local development on loopback: plain http cookies and webhooks to this machine.
    public static var localDevelopment: SecuritySettings {
        var settings = SecuritySettings()
        settings.secureCookies = false
        settings.outbound = .localDevelopment
        return settings
    }
}

/// Rate limiters of one API process, built from its `APILimits`.
final class Limiters: Sendable {
    let signInByAddress: RateLimiter
    let signInByAccount: RateLimiter
    let signInBackoff = SignInBackoff()
    let perCredential: RateLimiter
    let webhookTests: RateLimiter

    init(_ limits: APILimits) {
        signInByAddress = RateLimiter(capacity: limits.signInsPerMinute, per: .seconds(60))
        signInByAccount = RateLimiter(capacity: limits.signInsPerMinute, per: .seconds(60))
        perCredential = RateLimiter(capacity: limits.requestsPerMinutePerCredential, per: .seconds(60))
        webhookTests = RateLimiter(capacity: limits.webhookTestsPerMinute, per: .seconds(60))
    }
}

/// The router with every route; tests call this to get the real application.
public func buildRouter(_ dependencies: APIDependencies) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    let logger = dependencies.database.logger
    let database = dependencies.database
    // A span per request when a tracer is bootstrapped (none: no middleware, no per-request cost); an incoming
    // `traceparent` continues its trace.
    if !(InstrumentationSystem.tracer is NoOpTracer) { router.add(middleware: TracingMiddleware()) }
    router.add(middleware: RequestLogAndProblemMiddleware())
    let routeTable = RouteTable()
    router.add(middleware: RequestGuardMiddleware(routes: routeTable))
    if dependencies.metrics != nil { router.add(middleware: RequestMetricsMiddleware()) }
    let limiters = Limiters(dependencies.limits)
    let caches = ReadCaches(changes: database.changes)
    router.add(middleware: AuthenticationMiddleware(
        database: database, credentials: CredentialStore(logger: logger), limiter: limiters.perCredential, caches: caches))
    OperationsRoutes(
        database: database, migrations: dependencies.migrations, openAPIDocument: dependencies.openAPIDocument,
        metrics: dependencies.metrics, metricsToken: dependencies.security.metricsToken, queue: dependencies.queue
    ).register(on: router)
    AccountRoutes(
        database: database, credentials: CredentialStore(logger: logger), people: PeopleStore(logger: logger),
        hasher: dependencies.passwordHasher, limiters: limiters, secureCookies: dependencies.security.secureCookies
    ).register(on: router)
    ClientRoutes(database: database, store: ClientStore(logger: logger), caches: caches).register(on: router)
    PeopleRoutes(
        database: database, store: PeopleStore(logger: logger), credentials: CredentialStore(logger: logger), hasher: dependencies.passwordHasher
    ).register(on: router)
    RoleRoutes(database: database, store: RoleStore(logger: logger)).register(on: router)
    AssignmentRoutes(database: database, store: AssignmentStore(logger: logger)).register(on: router)
    PlanRoutes(
        database: database, store: PlanStore(logger: logger), clients: ClientStore(logger: logger),
        operations: PlanOperations(database: database, maxTasksPerPlan: dependencies.limits.maxTasksPerPlan), caches: caches
    ).register(on: router)
    ExportRoutes(
        database: database, plans: PlanStore(logger: logger), exports: ExportStore(logger: logger), queue: dependencies.queue,
        directLimit: dependencies.directExportLimit, limits: dependencies.limits, publicBaseURL: dependencies.security.publicBaseURL
    ).register(on: router)
    WebhookRoutes(
        database: database, store: WebhookStore(logger: logger), queue: dependencies.queue, outbound: dependencies.security.outbound,
        testLimiter: limiters.webhookTests
    ).register(on: router)
    NotificationRoutes(database: database, store: NotificationStore(logger: logger)).register(on: router)
    JobRoutes(database: database, store: AgencyJobStore(logger: logger), queue: dependencies.queue).register(on: router)
    WebRoutes(
        database: database, templates: dependencies.webTemplates, staticFiles: dependencies.staticFiles,
        operations: PlanOperations(database: database, maxTasksPerPlan: dependencies.limits.maxTasksPerPlan),
        signIn: SignIn(database: database, credentials: CredentialStore(logger: logger), hasher: dependencies.passwordHasher, limiters: limiters),
        secureCookies: dependencies.security.secureCookies, caches: caches, publicBaseURL: dependencies.security.publicBaseURL,
        now: dependencies.now
    ).register(on: router)
    routeTable.fill(from: router.routes)
    return router
}

/// The API application. The database client is a service of the same group, so it runs first and
/// shuts down last.
/// `idleTimeout` closes keep-alive connections that send nothing, so neither they nor a half-sent request
/// can hold a shutdown.
public func buildApplication(
    _ dependencies: APIDependencies, host: String, port: Int, services: [any Service], logger: Logger,
    idleTimeout: Duration = .seconds(30)
) -> some ApplicationProtocol {
    Application(
        router: buildRouter(dependencies),
        server: .http1(configuration: .init(idleTimeout: .nanoseconds(Int64(idleTimeout.components.seconds) * 1_000_000_000))),
        configuration: .init(address: .hostname(host, port: port), serverName: "trellis"),
        services: services,
        logger: logger)
}
