import Foundation
import PostgresNIO
import Testing
import TrellisDomain
import TrellisTestSupport

/// What one task PATCH costs the database, counted by the server itself (`pg_stat_statements`, which the test
/// cluster preloads): every statement the API's role sends, BEGIN and COMMIT included, authentication included.
@Suite("A task edit's round trips")
struct RoundTripTests {
    @Test func aTaskPatchThatMovesTasksAnswersWithTheTimelineInAtMostSixRoundTrips() async throws {
        try await JobsHarness.run { h in
            let (_, plan) = try await h.clientWithPlan()
            try await h.db.owner.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", logger: h.logger)
            func apiStatements() async throws -> Int {
                try await h.count("""
                    SELECT coalesce(sum(calls), 0)::int8 FROM pg_stat_statements
                    WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND userid = 'trellis_api'::regrole
                    """)
            }
            func reset() async throws {
                try await h.db.owner.query("""
                    SELECT pg_stat_statements_reset('trellis_api'::regrole::oid, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)
                    """, logger: h.logger)
            }
            func drag(by minutes: Int) async throws -> (statements: Int, reply: JobsHarness.Reply) {
                let view = try await h.call(.get, "/v1/plans/\(plan.lowercasedString)")
                let etag = try #require(view.headers[.eTag])
                let first = try #require(((view.json["tasks"] as? [[String: Any]]) ?? []).first { ($0["durationMinutes"] as? Int ?? 0) > 0 })
                let id = try #require(first["id"] as? String)
                let grown = (first["durationMinutes"] as? Int ?? 0) + minutes
                try await reset()
                let reply = try await h.call(.patch, "/v1/plans/\(plan.lowercasedString)/tasks/\(id)", json: #"{"durationMinutes":\#(grown)}"#,
                                             headers: [.ifMatch: etag])
                return (try await apiStatements(), reply)
            }

            let (statements, reply) = try await drag(by: 300)
            #expect(reply.status == 200, "\(reply.text)")
            let timeline = try #require(reply.json["timeline"] as? [String: Any], "the answer carries the timeline")
            #expect(((timeline["tasks"] as? [[String: Any]]) ?? []).count == ((reply.json["tasks"] as? [[String: Any]]) ?? []).count)
            #expect(try await h.count("SELECT count(*) FROM notifications WHERE kind = 'task_moved'") == 1, "tasks moved and the assignee was told")
            #expect(statements >= 5, "the count sees the API's statements (\(statements))")
            #expect(statements <= 6, "authentication, BEGIN, the agency, load and lock, write, COMMIT: \(statements)")

            // With a webhook subscribed, the event's delivery job is one more statement.
            let hook = try await h.call(.post, "/v1/webhooks", json: #"{"url":"http://127.0.0.1:9/h","events":["plan.rescheduled"]}"#)
            #expect(hook.status == 201, "\(hook.text)")
            let (withWebhook, second) = try await drag(by: 300)
            #expect(second.status == 200, "\(second.text)")
            #expect(withWebhook <= 7, "\(withWebhook)")
            print("round trips of one task PATCH: \(statements); with a subscribed webhook: \(withWebhook)")
        }
    }
}
