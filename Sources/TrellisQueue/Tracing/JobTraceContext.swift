import Foundation
import Tracing

/// A job carries the trace of whatever enqueued it: the current span's context goes into the job's metadata as
/// the propagator writes it (W3C `traceparent` and `tracestate` with OpenTelemetry), and the run's span continues
/// that trace. With no tracer (the default) nothing is added and nothing is read.
enum JobTraceContext {
    /// `metadata` with the current trace context added; unchanged when there is no span or no tracer.
    static func carrying(_ metadata: Data) -> Data {
        guard let context = ServiceContext.current else { return metadata }
        var carrier: [String: String] = [:]
        InstrumentationSystem.instrument.inject(context, into: &carrier, using: DictionaryInjector())
        guard !carrier.isEmpty,
              var object = (try? JSONSerialization.jsonObject(with: metadata)) as? [String: Any] else { return metadata }
        for (key, value) in carrier where object[key] == nil { object[key] = value }
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? metadata
    }

    /// The context a job's run continues: the one its metadata carries, or a new trace.
    static func context(of metadata: Data) -> ServiceContext {
        var context = ServiceContext.topLevel
        guard metadata.count > 2,
              let object = (try? JSONSerialization.jsonObject(with: metadata)) as? [String: Any] else { return context }
        let carrier = object.compactMapValues { $0 as? String }
        InstrumentationSystem.instrument.extract(carrier, into: &context, using: DictionaryExtractor())
        return context
    }
}

struct DictionaryInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
}

struct DictionaryExtractor: Extractor {
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
}
