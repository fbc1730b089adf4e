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
        guard let metricsToken, metrics != nil else { throw Problem.notFound("metrics") }
        guard let presented = request.headers[.authorization], Self.constantTimeEqual(presented, "Bearer \(metricsToken)") else {
            throw Problem(.unauthenticated, detail: "/metrics needs the metrics token (METRICS_TOKEN) as a bearer token")
        }
        if let metrics, let queue {
            do {
                Self.recordQueueGauges(try await queue.stats(), into: metrics)
            } catch {
                context.logger.warning("queue statistics unavailable for /metrics", metadata: ["error": "\(error)"])
            }
        }
        var buffer: [UInt8] = []
        metrics?.emit(into: &buffer)
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
