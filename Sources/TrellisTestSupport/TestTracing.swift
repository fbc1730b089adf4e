import Foundation
import InMemoryTracing
import Tracing

/// The tracer of the test process: spans are kept in memory (swift-distributed-tracing's `InMemoryTracer`), and
/// the context crosses processes and job metadata as a W3C `traceparent`, the way OpenTelemetry's propagator
/// writes it, so a test sees what production stores. Bootstrapped once, on first use; every suite's spans land
/// in it, so a test picks its own trace by the trace id it sent.
public enum TestTracing {
    public static let tracer: InMemoryTracer = {
        let recorder = InMemoryTracer(idGenerator: .init(nextTraceID: { randomHex(16) }, nextSpanID: { randomHex(8) }))
        InstrumentationSystem.bootstrap(W3CPropagatingTracer(recorder: recorder))
        return recorder
    }()

    /// A new trace id (32 hex digits) and the `traceparent` header that starts it.
    public static func newTraceparent() -> (traceID: String, header: String) {
        let traceID = randomHex(16)
        return (traceID, "00-\(traceID)-\(randomHex(8))-01")
    }

    static func randomHex(_ bytes: Int) -> String {
        (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }
}

/// `InMemoryTracer` with W3C Trace Context propagation (`traceparent: 00-<trace id>-<span id>-01`).
struct W3CPropagatingTracer: Tracer {
    typealias Span = InMemorySpan
    let recorder: InMemoryTracer

    func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> ServiceContext, ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant, function: String, file fileID: String, line: UInt
    ) -> InMemorySpan {
        recorder.startSpan(operationName, context: context(), ofKind: kind, at: instant(), function: function, file: fileID, line: line)
    }

    func forceFlush() { recorder.forceFlush() }

    func inject<Carrier, Inject: Injector>(_ context: ServiceContext, into carrier: inout Carrier, using injector: Inject)
    where Inject.Carrier == Carrier {
        guard let span = context.inMemorySpanContext else { return }
        injector.inject("00-\(span.traceID)-\(span.spanID)-01", forKey: "traceparent", into: &carrier)
    }

    func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract)
    where Extract.Carrier == Carrier {
        guard let header = extractor.extract(key: "traceparent", from: carrier) else { return }
        let parts = header.split(separator: "-")
        guard parts.count == 4, parts[0] == "00", parts[1].count == 32, parts[2].count == 16 else { return }
        context.inMemorySpanContext = InMemorySpanContext(traceID: String(parts[1]), spanID: String(parts[2]), parentSpanID: nil)
    }
}
