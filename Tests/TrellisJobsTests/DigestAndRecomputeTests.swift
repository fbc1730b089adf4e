import Foundation
import PostgresNIO
import Testing
import TrellisTestSupport
import TrellisApplication
import TrellisDomain
import TrellisJobs
import TrellisQueue
import TrellisStore

@Suite("Weekly digest")
struct DigestTests {
    let now = Date(timeIntervalSince1970: 1_772_442_000)  // Monday 2026-03-02T09:00:00Z
    func at(_ days: Double) -> Date { now.addingTimeInterval(days * 86_400) }

    @Test func theContentSortsTasksIntoDoneDueAndOverdue() {
        let tasks = [
            DigestTask(id: "1", planName: "P", name: "Audit done", start: at(-10), finish: at(-3), percentComplete: 100, actualFinish: at(-2)),
            DigestTask(id: "2", planName: "P", name: "Old done", start: at(-30), finish: at(-20), percentComplete: 100, actualFinish: at(-20)),
            DigestTask(id: "3", planName: "P", name: "Due soon", start: at(-1), finish: at(3), percentComplete: 50),
            DigestTask(id: "4", planName: "P", name: "Late", start: at(-9), finish: at(-1), percentComplete: 20),
            DigestTask(id: "5", planName: "P", name: "Later", start: at(8), finish: at(12), percentComplete: 0),
            DigestTask(id: "6", planName: "P", name: "Phase", start: at(-9), finish: at(3), percentComplete: 10, isSummary: true),
        ]
        let slip = PlanSlip(planName: "P", baselineName: "kick-off", baselineFinish: at(100), currentFinish: at(102.5))
        let digest = WeeklyDigest.build(clientName: "Aurora", timeZone: "UTC", now: now, tasks: tasks, slips: [slip])
        #expect(digest.doneLastWeek.map(\.name) == ["Audit done"])
        #expect(digest.dueThisWeek.map(\.name) == ["Due soon"])
        #expect(digest.overdue.map(\.name) == ["Late"])
        #expect(digest.slips.first?.slipSeconds == 2.5 * 86_400)
        #expect(digest.title == "Weekly digest — Aurora")
        #expect(digest.body.contains("Done last week (1)\n- Audit done — P, 2026-02-28 09:00 UTC"))
        #expect(digest.body.contains("Due this week (1)"))
        #expect(digest.body.contains("Overdue (1)\n- Late — P"))
        #expect(digest.body.contains("Critical path of P: +2.5 days vs. baseline “kick-off”"))
        let none = WeeklyDigest.build(clientName: "Aurora", timeZone: "UTC", now: now, tasks: [], slips: [])
        #expect(none.body.contains("no baseline"))
    }

    @Test func theDigestGoesToManagersAndAssignedConsultantsOnceAWeek() async throws {
        try await JobsHarness.run { h in
            let (client, plan) = try await h.clientWithPlan()
            // A consultant assigned to the client, and one who is not.
            func member(_ email: String) async throws -> String {
                let reply = try await h.call(.post, "/v1/members", json: #"{"email":"\#(email)","displayName":"C","role":"consultant","weeklyCapacityHours":40}"#)
                return reply.string("id") ?? ""
            }
            let assigned = try await member("assigned@agency.example")
            let other = try await member("other@agency.example")
            let roles = (try JSONSerialization.jsonObject(with: try await h.call(.get, "/v1/roles").data) as? [String: Any])?["items"] as? [[String: Any]] ?? []
            let role = roles.first?["id"] as? String ?? ""
            let assignment = try await h.call(.post, "/v1/assignments", json: """
                {"memberId":"\(assigned)","clientId":"\(client.lowercasedString)","roleId":"\(role)","allocation":{"percent":50},"startsOn":"2026-01-01","endsOn":"2026-12-31"}
                """)
            #expect(assignment.status == 201, "\(assignment.text)")
            // A baseline, then the plan slips: it starts a week later.
            #expect(try await h.call(.post, "/v1/plans/\(plan.lowercasedString)/baselines", json: #"{"name":"kick-off"}"#).status == 201)
            let (_, before) = try await h.timeline(plan)
            try await h.db.owner.query("UPDATE plans SET starts_at = starts_at + interval '7 days' WHERE id = \(plan)", logger: h.logger)
            let (_, after) = try await h.timeline(plan)
            #expect(after.finish > before.finish)

            let job = WeeklyDigestJob(database: h.database)
            let now = before.start.addingTimeInterval(14 * 86_400)
            let sent = try await job.send(agency: h.agency, now: now, logger: h.logger)
            let digest = try #require(sent[client])
            #expect(digest.slips.count == 1)
            #expect((digest.slips.first?.slipSeconds ?? 0) > 0)
            #expect(digest.body.contains("vs. baseline “kick-off”"))
            #expect(try await h.count("SELECT count(*) FROM notifications WHERE kind = 'digest' AND member_id = \(h.ownerID)") == 1)
            #expect(try await h.count("SELECT count(*) FROM notifications WHERE kind = 'digest' AND member_id = \(UUID(uuidString: assigned)!)") == 1)
            #expect(try await h.count("SELECT count(*) FROM notifications WHERE kind = 'digest' AND member_id = \(UUID(uuidString: other)!)") == 0)
            // A second run the same week (a retried job) sends nothing.
            #expect(try await job.send(agency: h.agency, now: now, logger: h.logger).isEmpty)
            #expect(try await h.count("SELECT count(*) FROM notifications WHERE kind = 'digest'") == 2)
        }
    }
}

@Suite("Plan recompute after a calendar change")
struct RecomputeTests {
    @Test func aCalendarChangeEnqueuesOneRecomputePerPlanAndTheJobMovesTasks() async throws {
        try await JobsHarness.run { h in
            let (client, plan) = try await h.clientWithPlan()
            let calendar = try await h.call(.get, "/v1/clients/\(client.lowercasedString)/calendar")
            #expect(calendar.text.contains("14:00"))
            let shorter = calendar.text.replacingOccurrences(of: "14:00", with: "12:00")
            let put = try await h.call(.put, "/v1/clients/\(client.lowercasedString)/calendar", json: shorter)
            #expect(put.status == 200, "\(put.text)")
            let key = PlanRecompute.uniqueKey(plan: plan)
            #expect(try await h.count("SELECT count(*) FROM trellis_jobs WHERE kind = 'plan.recompute' AND unique_key = \(key)") == 1)
            // A second change while the first is pending: still one job for the plan.
            _ = try await h.call(.put, "/v1/clients/\(client.lowercasedString)/calendar", json: shorter)
            #expect(try await h.count("SELECT count(*) FROM trellis_jobs WHERE kind = 'plan.recompute'") == 1)

            let sequencesBefore = try await h.count("SELECT coalesce(sum(ical_sequence), 0)::int8 FROM plan_tasks WHERE plan_id = \(plan)")
            let registry = PlatformJobs.registry(database: h.database)
            let done = try await withWorker(h.db.app, registry, testWorkerConfiguration(queues: ["default": 2]), logger: h.logger) { _ in
                try await eventually(timeout: .seconds(20), every: .milliseconds(50)) {
                    try await h.count("SELECT count(*) FROM trellis_jobs WHERE kind = 'plan.recompute' AND state = 'completed'") == 1
                }
            }
            #expect(done)
            let sequencesAfter = try await h.count("SELECT coalesce(sum(ical_sequence), 0)::int8 FROM plan_tasks WHERE plan_id = \(plan)")
            #expect(sequencesAfter > sequencesBefore, "moved tasks raise their iCalendar SEQUENCE")
            #expect(try await h.count("SELECT count(*) FROM notifications WHERE kind = 'task_moved' AND member_id = \(h.ownerID)") == 1)
        }
    }

    @Test func aRolledBackCalendarChangeLeavesNoJob() async throws {
        try await JobsHarness.run { h in
            let (client, _) = try await h.clientWithPlan()
            struct Abort: Error {}
            let store = PlanStore(logger: h.logger)
            let queue = h.queue
            let (agency, logger) = (h.agency, h.logger)
            await #expect(throws: Abort.self) {
                try await h.database.withTenant(agency) { connection in
                    let document = try await store.plans(client: client, on: connection)
                    #expect(document.count == 1)
                    let results = try await PlanOperations.enqueueRecompute(client: ClientID(client), plans: store, queue: queue, logger: logger, on: connection)
                    #expect(results.count == 1)
                    throw Abort()
                }
            }
            #expect(try await h.count("SELECT count(*) FROM trellis_jobs WHERE kind = 'plan.recompute'") == 0)
            // An invalid calendar is refused before anything is written: no job either.
            let bad = try await h.call(.put, "/v1/clients/\(client.lowercasedString)/calendar", json: #"{"timeZoneID":"Nowhere/Land","weekly":{}}"#)
            #expect(bad.status == 422 || bad.status == 400, "\(bad.text)")
            #expect(try await h.count("SELECT count(*) FROM trellis_jobs WHERE kind = 'plan.recompute'") == 0)
        }
    }

    /// Whichever path moves a task — an edit of the plan, or its client's calendar — the assignee gets the same
    /// notice and the agency's webhooks the same event.
    @Test func anEditThatMovesTasksAnnouncesWhatACalendarChangeAnnounces() async throws {
        try await JobsHarness.run { h in
            let (client, plan) = try await h.clientWithPlan()
            let hook = try await h.call(.post, "/v1/webhooks", json: #"{"url":"http://127.0.0.1:9/h","events":["plan.rescheduled"]}"#)
            #expect(hook.status == 201, "\(hook.text)")
            func announced() async throws -> (notices: [String], events: Int) {
                var titles: [String] = []
                for try await title in try await h.db.owner.query(
                    "SELECT title FROM notifications WHERE kind = 'task_moved' AND member_id = \(h.ownerID) ORDER BY created_at", logger: h.logger
                ).decode(String.self) { titles.append(title) }
                let events = try await h.count(
                    "SELECT count(*) FROM trellis_jobs WHERE kind = 'webhook.deliver' AND args->>'event' = 'plan.rescheduled'")
                return (titles, events)
            }
            #expect(try await announced().events == 0)

            // An edit: the first task grows by a day of work, so everything after it moves.
            let view = try await h.call(.get, "/v1/plans/\(plan.lowercasedString)")
            let etag = try #require(view.headers[.eTag])
            let first = try #require(((view.json["tasks"] as? [[String: Any]]) ?? []).first { ($0["durationMinutes"] as? Int ?? 0) > 0 })
            let firstID = try #require(first["id"] as? String)
            let grown = (first["durationMinutes"] as? Int ?? 0) + 300
            let patch = try await h.call(.patch, "/v1/plans/\(plan.lowercasedString)/tasks/\(firstID)", json: #"{"durationMinutes":\#(grown)}"#,
                                         headers: [.ifMatch: etag])
            #expect(patch.status == 200, "\(patch.text)")
            let afterEdit = try await announced()
            #expect(afterEdit.notices.count == 1, "the assignee heard of the move")
            #expect(afterEdit.events == 1, "the webhook got plan.rescheduled")

            // A calendar change that moves tasks: the recompute job announces the same way.
            let calendar = try await h.call(.get, "/v1/clients/\(client.lowercasedString)/calendar")
            _ = try await h.call(.put, "/v1/clients/\(client.lowercasedString)/calendar", json: calendar.text.replacingOccurrences(of: "14:00", with: "12:00"))
            let registry = PlatformJobs.registry(database: h.database)
            _ = try await withWorker(h.db.app, registry, testWorkerConfiguration(queues: ["default": 2]), logger: h.logger) { _ in
                try await eventually(timeout: .seconds(20), every: .milliseconds(50)) {
                    try await h.count("SELECT count(*) FROM trellis_jobs WHERE kind = 'plan.recompute' AND state = 'completed'") == 1
                }
            }
            let afterCalendar = try await announced()
            #expect(afterCalendar.notices.count == 2)
            #expect(afterCalendar.notices.first == afterCalendar.notices.last, "the same notice: \(afterCalendar.notices)")
            #expect(afterCalendar.events == 2)
        }
    }
}
