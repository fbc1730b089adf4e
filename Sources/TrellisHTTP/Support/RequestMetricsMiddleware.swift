import Dispatch
import Hummingbird
import Metrics
import Synchronization

/// Hummingbird's `MetricsMiddleware`, with its metric names and labels, except in one thing: an answer whose length
/// is known is timed when the handler hands it over, and its body is left as it is. Hummingbird's middleware wraps
/// every body in a closure to time its write, and a wrapped body loses the server's one-write path (head, body and
/// end in one batch): three writes, each a hop to the event loop, cost `/healthz` about a third of its rate.
/// A body of unknown length (a stream) is still timed to its last byte.
struct RequestMetricsMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let metrics: RequestMetrics

    init(metrics: RequestMetrics = RequestMetrics()) { self.metrics = metrics }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        let active = metrics.active(request.method)
        active.increment()
        do {
            var response = try await next(request, context)
            let endpoint = RequestMetrics.Endpoint(path: context.endpointPath ?? "Unknown", method: request.method, status: response.status)
            let metrics = self.metrics
            if response.body.contentLength != nil {
                metrics.record(endpoint, since: start, error: false)
                active.decrement()
            } else {
                let body = response.body
                response.body = ResponseBody { writer in
                    defer {
                        metrics.record(endpoint, since: start, error: false)
                        active.decrement()
                    }
                    try await body.write(writer)
                }
            }
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status ?? .internalServerError
            metrics.record(.init(path: context.endpointPath ?? "NotFound", method: request.method, status: status), since: start, error: true)
            active.decrement()
            throw error
        }
    }
}

/// The meters, counters and timers of each method and endpoint, made once and reused.
final class RequestMetrics: Sendable {
    struct Endpoint: Hashable, Sendable {
        var path: String
        var method: HTTPRequest.Method
        var status: HTTPResponse.Status
    }

    private struct EndpointMetrics: Sendable {
        let requests: Counter
        let duration: Timer
        let errors: Counter

        init(_ id: Endpoint, factory: any MetricsFactory) {
            let dimensions = [
                ("http.route", id.path), ("http.request.method", id.method.description),
                ("http.response.status_code", id.status.code.description),
            ]
            requests = Counter(label: "hb.requests", dimensions: dimensions, factory: factory)
            let timer = factory.makeTimer(label: "http.server.request.duration", dimensions: dimensions)
            timer.preferDisplayUnit(.seconds)
            duration = Timer(label: "http.server.request.duration", dimensions: dimensions, handler: timer, factory: factory)
            errors = Counter(label: "hb.request.errors", dimensions: dimensions, factory: factory)
        }
    }

    private let factory: any MetricsFactory
    private let meters = Mutex<[HTTPRequest.Method: Meter]>([:])
    private let endpoints = Mutex<[Endpoint: EndpointMetrics]>([:])

    /// The process's metrics system unless a test passes its own.
    init(factory: any MetricsFactory = MetricsSystem.factory) { self.factory = factory }

    func active(_ method: HTTPRequest.Method) -> Meter {
        meters.withLock { meters in
            if let meter = meters[method] { return meter }
            let meter = Meter(label: "http.server.active_requests", dimensions: [("http.request.method", method.description)], factory: factory)
            meters[method] = meter
            return meter
        }
    }

    func record(_ endpoint: Endpoint, since start: UInt64, error: Bool) {
        let metrics = endpoints.withLock { endpoints in
            if let metrics = endpoints[endpoint] { return metrics }
            let metrics = EndpointMetrics(endpoint, factory: factory)
            endpoints[endpoint] = metrics
            return metrics
        }
        metrics.requests.increment()
        if error {
            metrics.errors.increment()
        } else {
            metrics.duration.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - start))
        }
    }
}
