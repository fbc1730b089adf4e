import Foundation
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Prometheus
import Testing
@testable import TrellisHTTP
import TrellisQueue
import TrellisStore
import TrellisTestSupport

@Suite("Jobs API and queue metrics")
struct JobAPITests {
    @Test func summaryFailedJobsRetryAndCancelWithinTheAgency() async throws {
        try await APIHarness.run { api in
            let client = try await api.createClient("Aurora")
            _ = try await api.call(.post, "/v1/plans", token: api.tokenA, json: #"{"clientId":"\#(client)","startsOn":"2026-03-02"}"#)
            let export = try await api.call(.post, "/v1/exports", token: api.tokenA, json: #"{"format":"csv","clientId":"\#(client)"}"#)
            let jobID = try #require((export.json["export"] as? [String: Any])?["jobId"] as? Int)

            let summary = try await api.call(.get, "/v1/jobs/summary", token: api.tokenA)
            #expect(summary.status == 200)
            let counts = summary.json["counts"] as? [[String: Any]] ?? []
            #expect(counts.contains { $0["queue"] as? String == "exports" && $0["state"] as? String == "available" && $0["count"] as? Int == 1 })
            #expect(((try await api.call(.get, "/v1/jobs/summary", token: api.tokenB)).json["counts"] as? [Any])?.count == 0)

            // It fails for good.
            try await api.db.owner.query("""
                UPDATE trellis_jobs SET state = 'discarded', attempt = 5, finalized_at = now(),
                    errors = '[{"attempt": 5, "at": "2026-03-02T09:00:00.000000+00:00", "error": "boom"}]'::jsonb WHERE id = \(Int64(jobID))
                """, logger: api.db.logger)
            let failed = try await api.call(.get, "/v1/jobs?state=discarded", token: api.tokenA)
            let items = failed.json["items"] as? [[String: Any]] ?? []
            #expect(items.count == 1)
            #expect(((items.first?["errors"] as? [[String: Any]])?.first?["error"] as? String) == "boom")
            #expect(((try await api.call(.get, "/v1/jobs?state=discarded", token: api.tokenB)).json["items"] as? [Any])?.count == 0)
            #expect(try await api.call(.get, "/v1/jobs?state=bogus", token: api.tokenA).failingFields == ["state"])

            // Another agency cannot touch it.
            #expect(try await api.call(.post, "/v1/jobs/\(jobID)/retry", token: api.tokenB).status == 404)
            #expect(try await api.call(.post, "/v1/jobs/\(jobID)/cancel", token: api.tokenB).status == 404)
            #expect(try await api.call(.get, "/v1/jobs/\(jobID)", token: api.tokenB).status == 404)
            #expect(try await api.call(.get, "/v1/jobs/not-a-number", token: api.tokenA).status == 404)

            let retried = try await api.call(.post, "/v1/jobs/\(jobID)/retry", token: api.tokenA)
            #expect(retried.status == 200, "\(retried.text)")
            #expect(retried.string("state") == "available")
            #expect(try await api.call(.post, "/v1/jobs/\(jobID)/retry", token: api.tokenA).status == 409)
            let cancelled = try await api.call(.post, "/v1/jobs/\(jobID)/cancel", token: api.tokenA)
            #expect(cancelled.string("result") == "cancelled")
            #expect((cancelled.json["job"] as? [String: Any])?["state"] as? String == "cancelled")

            let consultant = try await api.member(.consultant)
            #expect(try await api.call(.get, "/v1/jobs/summary", token: consultant.token).status == 403)
        }
    }

    @Test func metricsShowQueueDepthAndAge() async throws {
        try await withTestDatabase { db in
            let registry = PrometheusCollectorRegistry()
            var security = SecuritySettings()
            security.metricsToken = "metrics-secret"
            // The API's own role: it reads the queue's counts through a function, not the jobs of every agency.
            let dependencies = try APIDependencies(
                database: db.apiDatabase, migrations: try Migration.load(directory: ProjectFiles.sqlDirectory),
                openAPIDocument: try APIDependencies.loadOpenAPIDocument(), metrics: registry, security: security)
            try await JobQueue(client: db.app, logger: db.logger).enqueue(NewJob(kind: "system.probe", queue: "default", runAt: Date().addingTimeInterval(-30)))
            let app = Application(router: buildRouter(dependencies))
            try await app.test(.router) { client in
                #expect(try await client.execute(uri: "/metrics", method: .get) { $0.status } == .unauthorized, "no token, no metrics")
                #expect(try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer wrong"]) { $0.status } == .unauthorized)
                #expect(try await client.execute(uri: "/v1/jobs", method: .get, headers: [.authorization: "Bearer metrics-secret"]) { $0.status } == .unauthorized,
                        "the metrics token opens nothing else")
                let text = try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer metrics-secret"]) { String(buffer: $0.body) }
                #expect(text.contains(#"trellis_queue_jobs{queue="default",state="available"} 1.0"#), "\(text)")
                #expect(text.contains(#"trellis_queue_jobs{queue="webhooks",state="available"} 0.0"#))
                let age = text.split(separator: "\n").first { $0.hasPrefix(#"trellis_queue_oldest_available_age_seconds{queue="default"}"#) }
                let seconds = age.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
                #expect(seconds >= 25, "the oldest available job waited about 30 s: \(age ?? "missing")")
            }
        }
    }
}
