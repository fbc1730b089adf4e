import Foundation
import Testing
import TrellisDomain
import TrellisStore
import TrellisTestSupport

/// The Today page judges plans from the rows the last schedule stored; it must judge them as scheduling them would.
@Suite("Plan health from stored schedules")
struct PlanHealthReadsTests {
    @Test func theStoredFactsJudgeEveryPlanAsSchedulingItDoes() async throws {
        try await JobsHarness.run { h in
            let (_, first) = try await h.clientWithPlan(startsOn: "2026-03-02")
            let (_, second) = try await h.clientWithPlan(startsOn: "2026-03-02", timeZone: "America/New_York", name: "Brightside")
            // The second plan: a deadline it cannot meet (negative slack), and progress on its first tasks.
            let view = try await h.call(.get, "/v1/plans/\(second.lowercasedString)")
            let tasks = (view.json["tasks"] as? [[String: Any]]) ?? []
            let work = tasks.filter { ($0["durationMinutes"] as? Int ?? 0) > 0 }
            let last = try #require(work.last?["id"] as? String), early = try #require(work.first?["id"] as? String)
            var etag = try #require(view.headers[.eTag])
            let deadline = try await h.call(.patch, "/v1/plans/\(second.lowercasedString)/tasks/\(last)",
                                            json: #"{"constraint":{"kind":"mustFinishOn","date":"2026-03-20T17:00:00Z"}}"#, headers: [.ifMatch: etag])
            #expect(deadline.status == 200, "\(deadline.text)")
            etag = try #require(deadline.headers[.eTag])
            let progress = try await h.call(.patch, "/v1/plans/\(second.lowercasedString)/tasks/\(early)", json: #"{"percentComplete":100}"#,
                                            headers: [.ifMatch: etag])
            #expect(progress.status == 200, "\(progress.text)")
            let baseline = try await h.call(.post, "/v1/plans/\(first.lowercasedString)/baselines", json: #"{"name":"Agreed"}"#)
            #expect(baseline.status == 201, "\(baseline.text)")

            let (agency, database, logger) = (h.agency, h.database, h.logger)
            let store = PlanStore(logger: logger), reads = PlanHealthReads(logger: logger)
            var seen = Set<PlanHealth>()
            for now in ["2026-03-01T00:00:00Z", "2026-04-15T12:00:00Z", "2027-06-01T00:00:00Z"].compactMap({ ISO8601DateFormatter().date(from: $0) }) {
                let facts = try await database.withTenant(agency) { try await reads.plans(now: now, on: $0) }
                #expect(facts.count == 2)
                for plan in facts {
                    let loaded = try await database.withTenant(agency) { try await store.load(plan.id, lock: false, on: $0) }
                    let baseline = try await database.withTenant(agency) { try await store.baselines(plan: plan.id.rawValue, on: $0) }.last
                    let timeline = try loaded.plan.schedule()
                    let expected = PlanHealth.assess(loaded.plan, timeline, baselineFinish: baseline?.finish, now: now)
                    #expect(PlanHealth.judge(plan.facts) == expected, "\(plan.name) at \(now)")
                    #expect(plan.facts.finish == timeline.finish)
                    seen.insert(expected)
                }
            }
            // Not vacuous: the cases cover the verdicts the Today page sorts by.
            #expect(seen.isSuperset(of: [.late, .atRisk, .onTrack]), "\(seen)")

            // This week's work, on each plan's own calendar days.
            let week = try await database.withTenant(agency) {
                try await reads.weekTasks(from: LocalDate("2026-03-02")!, through: LocalDate("2026-03-08")!, on: $0)
            }
            let loaded = try await database.withTenant(agency) { try await store.load(PlanID(first), lock: false, on: $0) }
            let timeline = try loaded.plan.schedule()
            let expectedIDs = Set(timeline.tasks.filter { scheduled in
                guard !scheduled.isSummary, (loaded.plan.task(TaskID(UUID(uuidString: scheduled.id)!))?.percentComplete ?? 0) < 100 else { return false }
                let (s, f) = (loaded.plan.calendar.localDate(of: scheduled.earlyStart), loaded.plan.calendar.localDate(of: scheduled.earlyFinish))
                return (LocalDate("2026-03-02")!...LocalDate("2026-03-08")!).contains(s) || (LocalDate("2026-03-02")!...LocalDate("2026-03-08")!).contains(f)
            }.map(\.id))
            #expect(!expectedIDs.isEmpty)
            #expect(Set(week.filter { $0.plan == PlanID(first) }.map(\.task.description)) == expectedIDs)
            let critical = Dictionary(timeline.tasks.map { ($0.id, $0.isCritical) }, uniquingKeysWith: { a, _ in a })
            for task in week where task.plan == PlanID(first) { #expect(task.critical == critical[task.task.description]) }
        }
    }
}
