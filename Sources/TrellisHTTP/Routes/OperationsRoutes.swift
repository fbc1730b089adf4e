import Foundation
import Hummingbird
import Prometheus
import TrellisJobs
import TrellisQueue
import TrellisStore

/// `/healthz` (alive), `/readyz` (database reachable, migrations current), `/metrics`, and the contract.
struct OperationsRoutes {
    let database: TenantDatabase
    let migrations: [Migration]
    let openAPIDocument: String
    let metrics: PrometheusCollectorRegistry?
    /// `/metrics` needs `Authorization: Bearer <metricsToken>`; without one configured it is not served here.
    let metricsToken: String?
    /// Its statistics become gauges on each scrape (depth by queue and state, age of the oldest available job).
    var queue: JobQueue? = nil

    func register(on router: Router<AppRequestContext>) {
        router.get("/healthz", use: health)
        router.get("/readyz", use: ready)
        router.get("/metrics", use: metricsText)
        router.get("/openapi.yaml", use: contract)
    }

    /// The same few bytes every time, encoded once: probes call it often, and a JSONEncoder per call was most of its cost.
    static let alive = KeptResponse(status: .ok, headers: [.contentType: "application/json"], body: ByteBuffer(string: #"{"status":"ok"}"#))

    @Sendable func health(_ request: Request, context: AppRequestContext) async throws -> KeptResponse { Self.alive }

    @Sendable func ready(_ request: Request, context: AppRequestContext) async throws -> JSONBody<[String: String]> {
        guard await MigrationRunner.isCurrent(migrations, client: database.client, logger: context.logger) else {
            throw Problem(.unavailable, detail: "the database is unreachable or has pending migrations (run `trellis migrate`)")
        }
        return JSONBody(["status": "ready"])
    }

    @Sendable func metricsText(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let metricsToken, let metrics else { throw Problem.notFound("metrics") }
        try Self.requireMetricsToken(request, metricsToken)
        if let queue {
            do {
                Self.recordQueueGauges(try await queue.stats(), into: metrics)
            } catch {
                context.logger.warning("queue statistics unavailable for /metrics", metadata: ["error": "\(error)"])
            }
        }
        return Self.prometheusText(metrics)
    }

    /// `/metrics` (here and on a worker's own port) needs `Authorization: Bearer <token>`, compared in constant time.
    static func requireMetricsToken(_ request: Request, _ token: String) throws {
        guard let presented = request.headers[.authorization], constantTimeEqual(presented, "Bearer \(token)") else {
            throw Problem(.unauthenticated, detail: "/metrics needs the metrics token (METRICS_TOKEN) as a bearer token")
        }
    }

    /// The registry in Prometheus's text format.
    static func prometheusText(_ registry: PrometheusCollectorRegistry) -> Response {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
    }

    /// The same gauges as `QueueStats.recordGauges` (same names and labels), set on this registry directly so
    /// they appear whether or not the process bootstrapped swift-metrics with it. Queues the worker serves by
    /// default are always present (0 when empty), so a drained queue does not keep stale values.
    static func recordQueueGauges(_ stats: QueueStats, into registry: PrometheusCollectorRegistry) {
        for queue in Set(stats.countsByQueueAndState.keys).union(PlatformJobs.defaultQueues.keys) {
            let states = stats.countsByQueueAndState[queue] ?? [:]
            for state in JobState.allCases {
                registry.makeGauge(name: QueueMetricNames.depth, labels: [("queue", queue), ("state", state.rawValue)])
                    .set(Double(states[state] ?? 0))
            }
            registry.makeGauge(name: QueueMetricNames.oldestAvailableAge, labels: [("queue", queue)])
                .set(stats.oldestAvailableAgeSeconds[queue] ?? 0)
        }
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    @Sendable func contract(_ request: Request, context: AppRequestContext) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(string: openAPIDocument)))
    }
}
