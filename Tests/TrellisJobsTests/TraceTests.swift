import Foundation
import HTTPTypes
import InMemoryTracing
import Testing
import TrellisApplication
import TrellisJobs
import TrellisQueue
import TrellisTestSupport

@Suite("Traces from a request through the job it enqueues")
struct TraceTests {
    /// A calendar change (PUT) enqueues `plan.recompute`; the request, its database transactions, the job's run
    /// and the run's transactions are one trace: the trace id the client sent in `traceparent`, carried by the
    /// job's metadata as a W3C `traceparent`.
    @Test func aCalendarChangeAndItsRecomputeJobAreOneTrace() async throws {
        let tracer = TestTracing.tracer
        try await JobsHarness.run { h in
            let (client, plan) = try await h.clientWithPlan()
            let calendar = try await h.call(.get, "/v1/clients/\(client.lowercasedString)/calendar")
            let shorter = calendar.text.replacingOccurrences(of: "14:00", with: "12:00")
            let (traceID, traceparent) = TestTracing.newTraceparent()
            var headers = HTTPFields()
            headers[HTTPField.Name("traceparent")!] = traceparent
            let put = try await h.call(.put, "/v1/clients/\(client.lowercasedString)/calendar", json: shorter, headers: headers)
            #expect(put.status == 200, "\(put.text)")

            // The job row carries the request's trace as W3C trace context.
            let key = PlanRecompute.uniqueKey(plan: plan)
            let stored = try await h.db.owner.query(
                "SELECT metadata->>'traceparent' FROM trellis_jobs WHERE unique_key = \(key)", logger: h.logger)
            var carried: String?
            for try await value in stored.decode(String?.self) { carried = value }
            let parts = (carried ?? "").split(separator: "-")
            #expect(parts.count == 4 && parts[0] == "00" && parts[1] == Substring(traceID) && parts[2].count == 16,
                    "the job's metadata carries traceparent 00-<the request's trace id>-<span id>-01, not \(carried ?? "nothing")")

            let registry = PlatformJobs.registry(database: h.database)
            let done = try await withWorker(h.db.app, registry, testWorkerConfiguration(queues: ["default": 2]), logger: h.logger) { _ in
                try await eventually(timeout: .seconds(20), every: .milliseconds(50)) {
                    try await h.count("SELECT count(*) FROM trellis_jobs WHERE kind = 'plan.recompute' AND state = 'completed'") == 1
                }
            }
            #expect(done)

            let spans = tracer.finishedSpans.filter { $0.traceID == traceID }
            let byID = Dictionary(spans.map { ($0.spanID, $0) }, uniquingKeysWith: { first, _ in first })
            let request = spans.first { $0.kind == .server }
            #expect(request?.operationName == "/v1/clients/{clientId}/calendar", "\(spans.map(\.operationName))")
            #expect(request?.parentSpanID == String(traceparent.split(separator: "-")[2]), "the request continues the caller's span")
            let requestTransactions = spans.filter { $0.operationName == "db.transaction" && $0.parentSpanID == request?.spanID }
            #expect(!requestTransactions.isEmpty, "the request's transaction is a child of the request's span")

            let job = spans.first { $0.operationName == "job plan.recompute" }
            #expect(job?.kind == .consumer)
            // The job's parent is the span that was current when it was enqueued: the request's transaction.
            let enqueuedIn = job?.parentSpanID.flatMap { byID[$0] }
            #expect(enqueuedIn?.operationName == "db.transaction" && enqueuedIn?.parentSpanID == request?.spanID,
                    "the job's run continues the span that enqueued it, inside the request")
            #expect(job?.parentSpanID == String(parts.count == 4 ? parts[2] : ""), "the metadata names that span")
            let jobTransactions = spans.filter { $0.operationName == "db.transaction" && $0.parentSpanID == job?.spanID }
            #expect(!jobTransactions.isEmpty, "the job's own transactions are children of its run")
        }
    }
}
