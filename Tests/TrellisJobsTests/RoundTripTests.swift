import Foundation
import PostgresNIO
import Testing
import TrellisDomain
import TrellisStore
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

/// The plan's tasks travel as one array per column with NULLs written as sentinels: every field must read back as written.
@Suite("A plan read back as written")
struct PlanColumnsRoundTripTests {
    @Test func everyTaskFieldSetAndUnsetReadsBackTheSame() async throws {
        try await JobsHarness.run { h in
            let (_, plan) = try await h.clientWithPlan()
            let store = PlanStore(logger: h.logger)
            let (agency, database) = (h.agency, h.database)
            let before = try await database.withTenant(agency) { try await store.load(PlanID(plan), lock: true, on: $0) }
            var changed = before.plan
            var delta = PlanDelta()
            let work = changed.tasks.indices.filter { changed.tasks[$0].durationMinutes > 0 }
            let (a, b) = (work[0], work[1])
            changed.tasks[a].roleKey = ""
            changed.tasks[a].checklist = ["Brief, \"quoted\"", "naïve — ünïcode"]
            changed.tasks[a].constraint = TaskConstraint(kind: .finishNoLaterThan, date: Date(timeIntervalSince1970: 1_780_000_000.5))
            changed.tasks[a].actualStart = Date(timeIntervalSince1970: 1_779_000_000)
            changed.tasks[a].clientAction = true
            changed.tasks[a].clientDone = ClientDone(at: Date(timeIntervalSince1970: 1_779_500_000), comment: "")
            changed.tasks[b].roleKey = nil
            changed.tasks[b].assigneeID = nil
            changed.tasks[b].parentID = nil
            changed.tasks[b].checklist = []
            changed.tasks[a].published.slackMinutes = -300
            changed.tasks[b].published.slackMinutes = nil
            delta.touch(changed.tasks[a].id)
            delta.touch(changed.tasks[b].id)
            let (written, touched) = (changed, delta)
            _ = try await database.withTenant(agency) { try await store.write(touched, of: written, notices: [], assignees: [], on: $0) }
            let after = try await database.withTenant(agency) { try await store.load(PlanID(plan), lock: false, on: $0) }
            #expect(after.plan.tasks[a] == written.tasks[a])
            #expect(after.plan.tasks[b] == written.tasks[b])
            #expect(after.plan.tasks.count == before.plan.tasks.count)
            #expect(after.plan.links == before.plan.links)
        }
    }

    /// The arrays come in position order, whatever order the rows have in the table or its index.
    @Test func tasksComeInPositionOrderWhateverTheRowsOrder() async throws {
        try await JobsHarness.run { h in
            let (_, plan) = try await h.clientWithPlan()
            let store = PlanStore(logger: h.logger)
            let (agency, database) = (h.agency, h.database)
            let before = try await database.withTenant(agency) { try await store.load(PlanID(plan), lock: false, on: $0) }
            // Reversed positions: every row rewritten in its old order, the newest versions now the wrong way round.
            try await h.db.owner.query(
                "UPDATE plan_tasks SET position = 100000 - position WHERE plan_id = \(plan)", logger: h.logger)
            let after = try await database.withTenant(agency) { try await store.load(PlanID(plan), lock: false, on: $0) }
            #expect(before.plan.tasks.count > 10)
            #expect(after.plan.tasks.map(\.id) == before.plan.tasks.map(\.id).reversed())
            #expect(after.plan.links == before.plan.links)
        }
    }
}
