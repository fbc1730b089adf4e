import Foundation
import Testing
import TrellisJobs
import TrellisQueue
import TrellisTestSupport

@Suite("Exports and feeds")
struct ExportAPITests {
    /// A client with Ana as community manager and a plan of the built-in template.
    func plan(_ api: APIHarness) async throws -> (plan: String, client: String, ana: String, tasks: [[String: Any]]) {
        let client = try await api.createClient("Aurora")
        let ana = try await api.member(.consultant)
        let cm = try await api.roleID("community-manager")
        _ = try await api.call(.post, "/v1/assignments", token: api.tokenA, json: """
            {"memberId":"\(ana.id)","clientId":"\(client)","roleId":"\(cm)","allocation":{"percent":60},"startsOn":"2026-01-01","endsOn":"2026-12-31"}
            """)
        let created = try await api.call(.post, "/v1/plans", token: api.tokenA, json: #"{"clientId":"\#(client)","startsOn":"2026-03-02"}"#)
        let plan = (created.json["plan"] as? [String: Any])?["id"] as? String ?? ""
        return (plan, client, ana.id, created.json["tasks"] as? [[String: Any]] ?? [])
    }

    /// Runs a real worker in this process until `done` says so (or 60 s pass).
    func withWorker(_ db: TestDatabase, until done: @Sendable () async throws -> Bool) async throws {
        let worker = JobWorker(
            client: db.app, registry: PlatformJobs.registry(database: db.tenantDatabase),
            configuration: .init(queues: ["exports": 1, "default": 1], pollInterval: .milliseconds(100)))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await worker.run() }
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline, try await !done() { try await Task.sleep(for: .milliseconds(100)) }
            worker.requestShutdown()
            try await group.waitForAll()
        }
    }

    @Test func eachFormatIsAnsweredDirectlyWithItsTypeAndAFileName() async throws {
        try await APIHarness.run { api in
            let (planID, _, _, tasks) = try await plan(api)
            let expectations: [(String, String, String)] = [
                ("mspdi", "application/xml", "<Project xmlns=\"http://schemas.microsoft.com/project\""),
                ("ical", "text/calendar; charset=utf-8", "BEGIN:VCALENDAR"),
                ("csv", "text/csv; charset=utf-8", "row,id,wbs,name"),
                ("svg", "image/svg+xml", "<svg"),
                ("mermaid", "text/plain; charset=utf-8", "gantt"),
                ("json", "application/json", "{\"plan\":"),
            ]
            for (format, type, marker) in expectations {
                let reply = try await api.call(.get, "/v1/plans/\(planID)/export?format=\(format)", token: api.tokenA)
                #expect(reply.status == 200, "\(format): \(reply.text.prefix(200))")
                #expect(reply.headers[.contentType] == type)
                #expect(reply.headers[.contentDisposition]?.contains("filename=\"aurora-") == true, "\(format)")
                #expect(reply.text.contains(marker), "\(format)")
            }
            // CSV: a header row and one row per task.
            let csv = try await api.call(.get, "/v1/plans/\(planID)/export?format=csv", token: api.tokenA).text
            #expect(csv.split(separator: "\r\n").count == tasks.count + 1)
        }
    }

    @Test func anUnknownFormatIs400WithTheList() async throws {
        try await APIHarness.run { api in
            let (planID, _, _, _) = try await plan(api)
            let reply = try await api.call(.get, "/v1/plans/\(planID)/export?format=pdf", token: api.tokenA)
            #expect(reply.status == 400)
            #expect(reply.json["allowed"] as? [String] == ["mspdi", "ical", "csv", "svg", "mermaid", "json"])
            #expect(try await api.call(.get, "/v1/plans/\(planID)/export", token: api.tokenA).status == 400)
        }
    }

    @Test func aPlanTooLargeForADirectAnswerGoesToAJobThenExpires() async throws {
        try await APIHarness.run(directExportLimit: 10) { api in
            let (planID, _, _, _) = try await plan(api)
            let reply = try await api.call(.get, "/v1/plans/\(planID)/export?format=csv", token: api.tokenA)
            #expect(reply.status == 303)
            let location = try #require(reply.headers[.location])
            #expect(location.hasPrefix("/v1/exports/"))
            #expect(try await api.call(.get, location, token: api.tokenA).json["export"].flatMap { ($0 as? [String: Any])?["status"] as? String } == "queued")
            #expect(try await api.call(.get, location + "/download", token: api.tokenA).status == 409)
            try await withWorker(api.db) {
                (try await api.call(.get, location, token: api.tokenA).json["export"] as? [String: Any])?["status"] as? String == "ready"
            }
            let download = try await api.call(.get, location + "/download", token: api.tokenA)
            #expect(download.status == 200)
            #expect(download.headers[.contentType] == "text/csv; charset=utf-8")
            #expect(download.text.hasPrefix("row,id,"))
            // Past its expiry the file is gone.
            try await api.db.owner.query("UPDATE exports SET expires_at = now() - interval '1 second'", logger: api.db.logger)
            let gone = try await api.call(.get, location + "/download", token: api.tokenA)
            #expect(gone.status == 410)
            #expect(gone.problemType == "https://trellis.app/problems/gone")
        }
    }

    @Test func allPlansOfAClientZippedByTheWorker() async throws {
        try await APIHarness.run { api in
            let (_, client, _, _) = try await plan(api)
            _ = try await api.call(.post, "/v1/plans", token: api.tokenA, json: #"{"clientId":"\#(client)","startsOn":"2026-09-07","name":"Second wave"}"#)
            let accepted = try await api.call(.post, "/v1/exports", token: api.tokenA, json: #"{"format":"ical","clientId":"\#(client)"}"#)
            #expect(accepted.status == 202)
            let location = try #require(accepted.headers[.location])
            try await withWorker(api.db) {
                (try await api.call(.get, location, token: api.tokenA).json["export"] as? [String: Any])?["status"] as? String == "ready"
            }
            let export = try await api.call(.get, location, token: api.tokenA).json["export"] as? [String: Any] ?? [:]
            #expect(export["plansDone"] as? Int == 2)
            #expect(export["plansTotal"] as? Int == 2)
            let zip = try await api.call(.get, location + "/download", token: api.tokenA)
            #expect(zip.headers[.contentType] == "application/zip")
            #expect(zip.data.prefix(2) == Data("PK".utf8))
            // Two entries, each an iCalendar file: count the local headers and the names.
            #expect(zip.text.components(separatedBy: "BEGIN:VCALENDAR").count - 1 == 2)
            #expect(zip.text.contains("aurora-second-wave.ics"))
            let bad = try await api.call(.post, "/v1/exports", token: api.tokenA, json: #"{"format":"docx"}"#)
            #expect(bad.status == 422)
            #expect(bad.failingFields == ["format"])
        }
    }

    @Test func subscriptionFeedsBehindRotatableSecrets() async throws {
        try await APIHarness.run { api in
            let (planID, _, ana, tasks) = try await plan(api)
            let created = try await api.call(.post, "/v1/plans/\(planID)/feed", token: api.tokenA)
            #expect(created.status == 201)
            let url = try #require(created.string("url"))
            #expect(created.string("webcal")?.hasPrefix("webcal://") == true)
            let path = String(url[url.range(of: "/feeds/")!.lowerBound...])
            let feed = try await api.call(.get, path, token: nil)
            #expect(feed.status == 200)
            #expect(feed.headers[.contentType] == "text/calendar; charset=utf-8")
            let leaves = tasks.filter { task in !tasks.contains { $0["parentId"] as? String == task["id"] as? String } }
            #expect(feed.text.components(separatedBy: "BEGIN:VEVENT").count - 1 == leaves.count)
            // Rotating retires the old URL.
            let rotated = try await api.call(.post, "/v1/plans/\(planID)/feed", token: api.tokenA)
            #expect(rotated.string("url") != url)
            #expect(try await api.call(.get, path, token: nil).status == 404)
            // A person's feed holds their tasks only.
            let personal = try await api.call(.post, "/v1/members/\(ana)/feed", token: api.tokenA)
            let personalURL = try #require(personal.string("url"))
            let personalFeed = try await api.call(.get, String(personalURL[personalURL.range(of: "/feeds/")!.lowerBound...]), token: nil)
            let hers = leaves.filter { $0["assigneeId"] as? String == ana }
            #expect(!hers.isEmpty)
            #expect(personalFeed.text.components(separatedBy: "BEGIN:VEVENT").count - 1 == hers.count)
            #expect(personalFeed.text.contains("BEGIN:VTIMEZONE"))
        }
    }
}
