import Foundation
import Hummingbird
import Testing
@testable import TrellisHTTP
import TrellisStore

/// Another agency's resource is a 404 on every route that takes an id: never a 403 that hints it exists.
@Suite("Another agency's resources")
struct TenantBoundaryTests {
    /// A valid body for routes that validate before they look anything up.
    static let bodies: [String: String] = [
        "POST /v1/members/{memberId}/time-off": #"{"startsOn":"2026-03-02","endsOn":"2026-03-03"}"#,
        "POST /v1/plans/{planId}/baselines": #"{"name":"b"}"#,
        "POST /v1/plans/{planId}/tasks": #"{"name":"t","durationHours":1}"#,
    ]

    @Test func everyRouteWithAnIdAnswers404ToAnotherAgency() async throws {
        try await APIHarness.run { api in
            // One of everything in agency A.
            let client = try await api.createClient("Aurora")
            let member = try await api.member(.consultant)
            let role = try await api.roleID("community-manager")
            let contact = try await api.call(.post, "/v1/contacts", token: api.tokenA, json: #"{"clientId":"\#(client)","name":"Lucía"}"#).string("id") ?? ""
            let timeOff = try await api.call(.post, "/v1/members/\(member.id)/time-off", token: api.tokenA,
                                             json: #"{"startsOn":"2026-03-02","endsOn":"2026-03-06"}"#).string("id") ?? ""
            let assignment = try await api.call(.post, "/v1/assignments", token: api.tokenA, json: """
                {"memberId":"\(member.id)","clientId":"\(client)","roleId":"\(role)","allocation":{"percent":50},"startsOn":"2026-03-02","endsOn":"2026-06-30"}
                """).string("id") ?? ""
            let token = (try await api.call(.post, "/v1/tokens", token: api.tokenA, json: #"{"name":"x"}"#).json["token"] as? [String: Any])?["id"] as? String ?? ""
            let created = try await api.call(.post, "/v1/plans", token: api.tokenA, json: #"{"clientId":"\#(client)","startsOn":"2026-03-02"}"#)
            let plan = (created.json["plan"] as? [String: Any])?["id"] as? String ?? ""
            let tasks = created.json["tasks"] as? [[String: Any]] ?? []
            let link = (created.json["dependencies"] as? [[String: Any]])?.first ?? [:]
            let builtIn = try await api.call(.get, "/v1/templates/00000000-0000-4000-8000-000000000001", token: api.tokenA)
            let templateBody = String(decoding: try JSONSerialization.data(withJSONObject: builtIn.json["template"] ?? [:]), as: UTF8.self)
            let template = try await api.call(.post, "/v1/templates", token: api.tokenA, json: templateBody).string("id") ?? ""
            let calendarBody = try await api.call(.get, "/v1/clients/\(client)/calendar", token: api.tokenA).text
            var bodies = Self.bodies
            bodies["PUT /v1/templates/{templateId}"] = templateBody
            bodies["PUT /v1/clients/{clientId}/calendar"] = calendarBody
            bodies["POST /v1/plans/{planId}/dependencies"] = #"{"predecessorId":"\#(tasks.first?["id"] as? String ?? "")","successorId":"\#(tasks.last?["id"] as? String ?? "")"}"#
            let exportID = try await api.call(.post, "/v1/exports", token: api.tokenA, json: #"{"format":"csv","clientId":"\#(client)"}"#)
                .json["export"].flatMap { ($0 as? [String: Any])?["id"] as? String } ?? ""
            // Notifications, webhooks and jobs: one of each in agency A.
            let webhook = try await api.call(.post, "/v1/webhooks", token: api.tokenA, json: #"{"url":"http://127.0.0.1:9/hook","events":["task.due"]}"#).string("id") ?? ""
            let ownerA = ((try await api.call(.get, "/v1/me", token: api.tokenA)).json["member"] as? [String: Any])?["id"] as? String ?? ""
            let notification = try await api.db.tenantDatabase.withTenant(api.agencyA) { connection in
                try await NotificationStore(logger: api.db.logger).create(.init(
                    memberId: UUID(uuidString: ownerA) ?? UUID(), kind: "digest", title: "t", body: "b"), on: connection).id.uuidString
            }
            let exportJob = ((try await api.call(.get, "/v1/exports/\(exportID)", token: api.tokenA)).json["export"] as? [String: Any])?["jobId"] as? Int ?? 0
            var ids = [
                "webhookId": webhook, "notificationId": notification,
                "exportId": exportID,
                "clientId": client, "memberId": member.id, "roleId": role, "contactId": contact, "timeOffId": timeOff,
                "assignmentId": assignment, "tokenId": token, "planId": plan, "taskId": tasks.first?["id"] as? String ?? "",
                "templateId": template, "predecessorId": link["predecessorId"] as? String ?? "", "successorId": link["successorId"] as? String ?? "",
            ]
            #expect(ids.values.allSatisfy { UUID(uuidString: $0) != nil }, "fixture ids: \(ids)")
            #expect(exportJob > 0, "the export's job id")
            ids["jobId"] = "\(exportJob)"  // queue job ids are integers, not UUIDs

            let router = buildRouter(try APIHarness.dependencies(api.db))
            var checked = 0
            // Feeds are reached by their secret, not by an id of the agency's; the feed test covers them.
            for route in router.routes where route.path.description.contains("{") && route.path.description.hasPrefix("/v1/") {
                var uri = route.path.description
                for (name, id) in ids { uri = uri.replacingOccurrences(of: "{\(name)}", with: id) }
                #expect(!uri.contains("{"), "no fixture for a parameter of \(route.method) \(route.path) — add one here")
                if uri.contains("{") { continue }
                let key = "\(route.method.rawValue) \(route.path.description)"
                if key == "GET /v1/plans/{planId}/export" { uri += "?format=csv" }
                let body = [.post, .patch, .put].contains(route.method) ? (bodies[key] ?? "{}") : nil
                // Plan edits need If-Match; send one so the answer is about the tenant, not the precondition.
                let reply = try await api.call(route.method, uri, token: api.tokenB, json: body, headers: [.ifMatch: "\"1\""])
                #expect(reply.status == 404, "\(key) answered \(reply.status) to another agency: \(reply.text)")
                #expect(reply.problemType == "https://trellis.app/problems/not-found")
                // The owner agency still gets through (so the 404 is about the tenant, not the route).
                if route.method == .get {
                    // (An export still being made is 409 to its own agency: there, but not ready.)
                    #expect([200, 409].contains(try await api.call(.get, uri, token: api.tokenA).status), "\(key) for its own agency")
                }
                checked += 1
            }
            #expect(checked >= 30)
        }
    }

    @Test func listsNeverShowAnotherAgencysRows() async throws {
        try await APIHarness.run { api in
            _ = try await api.createClient("Only A")
            let inB = try await api.call(.get, "/v1/clients", token: api.tokenB)
            #expect((inB.json["items"] as? [Any])?.count == 0)
            let membersB = try await api.call(.get, "/v1/members", token: api.tokenB)
            #expect(membersB.array.compactMap { $0["email"] as? String } == ["owner@b.example"])
            // Referencing A's client from B is refused as a missing reference: 404, naming the field.
            let aClient = try await api.call(.get, "/v1/clients", token: api.tokenA).json["items"] as? [[String: Any]]
            let id = aClient?.first?["id"] as? String ?? ""
            let contact = try await api.call(.post, "/v1/contacts", token: api.tokenB, json: #"{"clientId":"\#(id)","name":"Spy"}"#)
            #expect(contact.status == 404)
            #expect(contact.failingFields == ["clientId"])
        }
    }
}
