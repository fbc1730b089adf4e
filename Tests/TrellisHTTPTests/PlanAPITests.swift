import Foundation
import Testing

@Suite("Onboarding plans")
struct PlanAPITests {
    /// A Madrid client with Ana holding community-manager: the built-in template's plan from Monday 2 March 2026.
    func setUp(_ api: APIHarness) async throws -> (client: String, plan: Reply, ana: String) {
        let client = try await api.createClient("Aurora")
        let ana = try await api.member(.consultant)
        let cm = try await api.roleID("community-manager")
        let assigned = try await api.call(.post, "/v1/assignments", token: api.tokenA, json: """
            {"memberId":"\(ana.id)","clientId":"\(client)","roleId":"\(cm)","allocation":{"percent":60},"startsOn":"2026-01-01","endsOn":"2026-12-31"}
            """)
        #expect(assigned.status == 201)
        let plan = try await api.call(.post, "/v1/plans", token: api.tokenA, json: #"{"clientId":"\#(client)","startsOn":"2026-03-02"}"#)
        #expect(plan.status == 201, "\(plan.text)")
        return (client, plan, ana.id)
    }

    func tasks(_ reply: Reply) -> [[String: Any]] { reply.json["tasks"] as? [[String: Any]] ?? [] }
    func plan(_ reply: Reply) -> [String: Any] { reply.json["plan"] as? [String: Any] ?? [:] }

    @Test func aPlanFromTheBuiltInTemplateHasATimelineWithAssignees() async throws {
        try await APIHarness.run { api in
            let (_, created, ana) = try await setUp(api)
            let planID = try #require(plan(created)["id"] as? String)
            #expect(created.headers[.eTag] == "\"1\"")
            let taskRows = tasks(created)
            #expect(taskRows.count > 30)
            // The community-manager tasks are Ana's, resolved from her hybrid-role assignment.
            let cmTasks = taskRows.filter { $0["roleKey"] as? String == "community-manager" }
            #expect(!cmTasks.isEmpty)
            #expect(cmTasks.allSatisfy { $0["assigneeId"] as? String == ana })

            let timeline = try await api.call(.get, "/v1/plans/\(planID)/timeline", token: api.tokenA)
            #expect(timeline.status == 200, "\(timeline.text)")
            let rows = timeline.json["tasks"] as? [[String: Any]] ?? []
            #expect(rows.count == taskRows.count)
            // Starts Monday 2 March 09:00 Madrid time; about six months of part-time work.
            let starts = rows.compactMap { $0["start"] as? String }.sorted()
            #expect(starts.first == "2026-03-02T09:00:00+01:00")
            let finish = try #require((timeline.json["plan"] as? [String: Any])?["finish"] as? String)
            #expect(finish.hasPrefix("2026-08") || finish.hasPrefix("2026-09"), "finish \(finish)")
            let criticalPath = (timeline.json["plan"] as? [String: Any])?["criticalPath"] as? [String] ?? []
            #expect(criticalPath.count > 3)
            #expect(rows.contains { ($0["assignee"] as? String)?.isEmpty == false })
        }
    }

    @Test func editsNeedTheCurrentVersionAndAStaleOneIs409() async throws {
        try await APIHarness.run { api in
            let (_, created, _) = try await setUp(api)
            let planID = try #require(plan(created)["id"] as? String)
            let task = try #require(tasks(created).first { $0["parentId"] is String })
            let taskID = try #require(task["id"] as? String)
            let missing = try await api.call(.patch, "/v1/plans/\(planID)/tasks/\(taskID)", token: api.tokenA, json: #"{"percentComplete":50}"#)
            #expect(missing.status == 428)
            let ok = try await api.call(.patch, "/v1/plans/\(planID)/tasks/\(taskID)", token: api.tokenA, json: #"{"percentComplete":50}"#, headers: [.ifMatch: "\"1\""])
            #expect(ok.status == 200, "\(ok.text)")
            #expect(ok.headers[.eTag] == "\"2\"")
            let stale = try await api.call(.patch, "/v1/plans/\(planID)/tasks/\(taskID)", token: api.tokenA, json: #"{"percentComplete":90}"#, headers: [.ifMatch: "\"1\""])
            #expect(stale.status == 409)
            #expect(stale.problemType == "https://trellis.app/problems/version-conflict")
            let now = try await api.call(.get, "/v1/plans/\(planID)", token: api.tokenA)
            #expect(tasks(now).first { $0["id"] as? String == taskID }?["percentComplete"] as? Int == 50)
        }
    }

    @Test func aCycleIs422NamingItsTasksAndChangesNothing() async throws {
        try await APIHarness.run { api in
            let client = try await api.createClient("Loop")
            let created = try await api.call(.post, "/v1/plans", token: api.tokenA, json: #"{"clientId":"\#(client)","startsOn":"2026-03-02"}"#)
            let planID = try #require(plan(created)["id"] as? String)
            // Three tasks of our own in a chain A → B → C, then C → A closes a cycle.
            var version = 1
            var ids: [String] = []
            for name in ["Write brief", "Review brief", "Publish brief"] {
                let added = try await api.call(.post, "/v1/plans/\(planID)/tasks", token: api.tokenA,
                                               json: #"{"name":"\#(name)","durationHours":5}"#, headers: [.ifMatch: "\"\(version)\""])
                #expect(added.status == 201, "\(added.text)")
                #expect(added.headers[.location]?.hasPrefix("/v1/plans/\(planID)/tasks/") == true)
                version += 1
                ids.append(tasks(added).first { $0["name"] as? String == name }?["id"] as? String ?? "")
            }
            for (p, s) in [(ids[0], ids[1]), (ids[1], ids[2])] {
                let linked = try await api.call(.post, "/v1/plans/\(planID)/dependencies", token: api.tokenA,
                                                json: #"{"predecessorId":"\#(p)","successorId":"\#(s)","kind":"FS"}"#, headers: [.ifMatch: "\"\(version)\""])
                #expect(linked.status == 200)
                version += 1
            }
            let cycle = try await api.call(.post, "/v1/plans/\(planID)/dependencies", token: api.tokenA,
                                           json: #"{"predecessorId":"\#(ids[2])","successorId":"\#(ids[0])","kind":"SS","lagHours":1}"#,
                                           headers: [.ifMatch: "\"\(version)\""])
            #expect(cycle.status == 422)
            #expect(cycle.failingFields == ["dependencies"])
            let message = ((cycle.json["errors"] as? [[String: Any]])?.first?["message"] as? String) ?? ""
            for name in ["Write brief", "Review brief", "Publish brief"] { #expect(message.contains(name), "\(message)") }
            // Rolled back: same version, two links.
            let after = try await api.call(.get, "/v1/plans/\(planID)", token: api.tokenA)
            #expect(after.headers[.eTag] == "\"\(version)\"")
            let links = (after.json["dependencies"] as? [[String: Any]] ?? []).filter { ids.contains($0["successorId"] as? String ?? "") }
            #expect(links.count == 2)
        }
    }

    @Test func baselinesReportVarianceAfterATaskGrows() async throws {
        try await APIHarness.run { api in
            let (_, created, _) = try await setUp(api)
            let planID = try #require(plan(created)["id"] as? String)
            #expect(try await api.call(.post, "/v1/plans/\(planID)/baselines", token: api.tokenA, json: #"{"name":"kickoff"}"#).status == 201)
            #expect(try await api.call(.post, "/v1/plans/\(planID)/baselines", token: api.tokenA, json: #"{"name":"kickoff"}"#).status == 409)
            // The first leaf task grows by two days; everything after it slips.
            let first = try #require(tasks(created).first { $0["parentId"] is String && ($0["durationMinutes"] as? Int ?? 0) > 0 })
            let firstID = try #require(first["id"] as? String)
            let grown = (first["durationMinutes"] as? Int ?? 0) + 600
            let edited = try await api.call(.patch, "/v1/plans/\(planID)/tasks/\(firstID)", token: api.tokenA,
                                            json: #"{"durationMinutes":\#(grown)}"#, headers: [.ifMatch: "\"1\""])
            #expect(edited.status == 200, "\(edited.text)")
            let timeline = try await api.call(.get, "/v1/plans/\(planID)/timeline?baseline=kickoff", token: api.tokenA)
            let row = try #require((timeline.json["tasks"] as? [[String: Any]])?.first { $0["id"] as? String == firstID })
            #expect((row["baseline"] as? [String: Any])?["finishVarianceMinutes"] as? Int == 600, "\(row)")
            #expect(try await api.call(.get, "/v1/plans/\(planID)/timeline?baseline=nope", token: api.tokenA).status == 404)
            let baselines = try await api.call(.get, "/v1/plans/\(planID)/baselines", token: api.tokenA)
            #expect(baselines.array.map { $0["name"] as? String } == ["kickoff"])
        }
    }

    @Test func aPersonsTimelineAcrossPlans() async throws {
        try await APIHarness.run { api in
            let (_, created, ana) = try await setUp(api)
            let planID = try #require(plan(created)["id"] as? String)
            let week = try await api.call(.get, "/v1/members/\(ana)/timeline?from=2026-03-02&to=2026-03-08", token: api.tokenA)
            #expect(week.status == 200, "\(week.text)")
            #expect(!week.array.isEmpty)
            #expect(week.array.allSatisfy { $0["planId"] as? String == planID })
            #expect(week.array.allSatisfy { ($0["start"] as? String ?? "") <= "2026-03-08T23:59:59+01:00" })
            let all = try await api.call(.get, "/v1/members/\(ana)/timeline", token: api.tokenA)
            #expect(all.array.count > week.array.count)
        }
    }

    @Test func aHolidayOnTheClientCalendarMovesThePlan() async throws {
        try await APIHarness.run { api in
            let (client, created, _) = try await setUp(api)
            let planID = try #require(plan(created)["id"] as? String)
            let before = (try await api.call(.get, "/v1/plans/\(planID)/timeline", token: api.tokenA).json["plan"] as? [String: Any])?["finish"] as? String
            let calendar = try await api.call(.get, "/v1/clients/\(client)/calendar", token: api.tokenA)
            #expect(calendar.status == 200)
            var body = calendar.json
            body["holidays"] = ["2026-03-03", "2026-03-04"]
            let data = try JSONSerialization.data(withJSONObject: body)
            let put = try await api.call(.put, "/v1/clients/\(client)/calendar", token: api.tokenA, json: String(decoding: data, as: UTF8.self))
            #expect(put.status == 200, "\(put.text)")
            let after = (try await api.call(.get, "/v1/plans/\(planID)/timeline", token: api.tokenA).json["plan"] as? [String: Any])?["finish"] as? String
            #expect(before != nil && after != nil && after! > before!, "\(String(describing: before)) → \(String(describing: after))")
            let bad = try await api.call(.put, "/v1/clients/\(client)/calendar", token: api.tokenA, json: #"{"timeZoneID":"Mars/Base","weekly":{}}"#)
            #expect(bad.status == 422 || bad.status == 400)
        }
    }
}
