import Testing
@testable import TrellisBootstrap

@Suite("Trace export is off unless OTEL_* asks for it")
struct TraceExportTests {
    @Test func offByDefaultOnWithAnEndpointOrAnExporterOffWhenDisabled() {
        #expect(!TraceExport.isRequested([:]), "no OTEL_* variable: no exporter, no tracer")
        #expect(!TraceExport.isRequested(["OTEL_SERVICE_NAME": "trellis-api"]), "a name alone exports nothing")
        #expect(TraceExport.isRequested(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"]))
        #expect(TraceExport.isRequested(["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"]))
        #expect(TraceExport.isRequested(["OTEL_TRACES_EXPORTER": "otlp"]))
        #expect(!TraceExport.isRequested(["OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"]))
        #expect(!TraceExport.isRequested(["OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"]))
    }
}
