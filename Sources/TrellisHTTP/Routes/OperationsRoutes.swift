import Foundation
import Hummingbird
import Prometheus
import TrellisStore

/// `/healthz` (alive), `/readyz` (database reachable, migrations current), `/metrics`, and the contract.
struct OperationsRoutes {
    let database: TenantDatabase
    let migrations: [Migration]
    let openAPIDocument: String
    let metrics: PrometheusCollectorRegistry?

    func register(on router: Router<AppRequestContext>) {
        router.get("/healthz", use: health)
        router.get("/readyz", use: ready)
        router.get("/metrics", use: metricsText)
        router.get("/openapi.yaml", use: contract)
    }

    @Sendable func health(_ request: Request, context: AppRequestContext) async throws -> JSONBody<[String: String]> {
        JSONBody(["status": "ok"])
    }

    @Sendable func ready(_ request: Request, context: AppRequestContext) async throws -> JSONBody<[String: String]> {
        guard await MigrationRunner.isCurrent(migrations, client: database.client, logger: context.logger) else {
            throw Problem(.unavailable, detail: "the database is unreachable or has pending migrations (run `trellis migrate`)")
        }
        return JSONBody(["status": "ready"])
    }

    @Sendable func metricsText(_ request: Request, context: AppRequestContext) async throws -> Response {
        var buffer: [UInt8] = []
        metrics?.emit(into: &buffer)
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
    }

    @Sendable func contract(_ request: Request, context: AppRequestContext) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(string: openAPIDocument)))
    }
}
