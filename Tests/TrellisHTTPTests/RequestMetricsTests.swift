import Hummingbird
import HummingbirdTesting
import MetricsTestKit
import NIOCore
import Testing
@testable import TrellisHTTP

/// The request metrics keep Hummingbird's names and labels; an answer in memory is timed when handed over, a stream
/// when its last byte is written.
@Suite("Request metrics")
struct RequestMetricsTests {
    @Test func answersStreamsAndErrorsAreCountedAndTimed() async throws {
        let factory = TestMetrics()
        let router = Router(context: AppRequestContext.self)
        router.add(middleware: RequestMetricsMiddleware(metrics: RequestMetrics(factory: factory)))
        router.get("/answer") { _, _ in "Hello" }
        router.get("/stream") { _, _ in
            Response(status: .ok, body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: "one "))
                try await Task.sleep(for: .milliseconds(150))
                try await writer.write(ByteBuffer(string: "two"))
                try await writer.finish(nil)
            })
        }
        router.get("/missing") { _, _ -> String in throw HTTPError(.notFound) }
        let app = Application(router: router)
        try await app.test(.router) { (client: any TestClientProtocol) async throws -> Void in
            for _ in 0..<3 {
                let answer = try await client.execute(uri: "/answer", method: .get) { String(buffer: $0.body) }
                #expect(answer == "Hello")
            }
            let stream = try await client.execute(uri: "/stream", method: .get) { String(buffer: $0.body) }
            #expect(stream == "one two")
            let missing = try await client.execute(uri: "/missing", method: .get) { $0.status }
            #expect(missing == .notFound)
        }
        func labels(_ route: String, _ status: String) -> [(String, String)] {
            [("http.route", route), ("http.request.method", "GET"), ("http.response.status_code", status)]
        }
        #expect(try factory.expectCounter("hb.requests", labels("/answer", "200")).totalValue == 3)
        #expect(try factory.expectTimer("http.server.request.duration", labels("/answer", "200")).values.count == 3)
        #expect(try factory.expectCounter("hb.requests", labels("/stream", "200")).totalValue == 1)
        // Timed to its last byte, which came 150 ms after the handler returned.
        let stream = try factory.expectTimer("http.server.request.duration", labels("/stream", "200")).values
        #expect(stream.count == 1 && stream[0] >= 150_000_000, "\(stream)")
        #expect(try factory.expectCounter("hb.request.errors", labels("/missing", "404")).totalValue == 1)
        #expect(try factory.expectMeter("http.server.active_requests", [("http.request.method", "GET")]).lastValue == 0)
    }
}
