import Hummingbird
import Logging
import Prometheus

/// `/metrics` alone, for a process that serves no API (the worker): the Prometheus text of `registry`, behind the
/// same bearer token as the API's `/metrics` (`METRICS_TOKEN`), and `/healthz`. The worker's counters
/// (`trellis_jobs_completed_total`, `trellis_job_duration_seconds`, …) live in the worker process, so they are
/// scraped from there; the API's `/metrics` adds the queue's depth, read from the database.
public func buildMetricsApplication(
    registry: PrometheusCollectorRegistry, token: String, host: String, port: Int, logger: Logger
) -> some ApplicationProtocol {
    let router = Router()
    router.get("/healthz") { _, _ in OperationsRoutes.alive }
    router.get("/metrics") { request, _ -> Response in
        try OperationsRoutes.requireMetricsToken(request, token)
        return OperationsRoutes.prometheusText(registry)
    }
    return Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "trellis-worker"), logger: logger)
}
