import Foundation
import Hummingbird
import Testing
@testable import TrellisHTTP
import TrellisStore

@Suite("Notifications API")
struct NotificationAPITests {
    func notify(_ api: APIHarness, member: String, title: String) async throws -> String {
        try await api.db.tenantDatabase.withTenant(api.agencyA) { connection in
            try await NotificationStore(logger: api.db.logger).create(.init(
                memberId: UUID(uuidString: member)!, kind: "task_due", title: title, body: "b"), on: connection).id.uuidString.lowercased()
        }
    }

    @Test func theInboxPagesMarksReadAndStaysPrivate() async throws {
        try await APIHarness.run { api in
            let owner = ((try await api.call(.get, "/v1/me", token: api.tokenA)).json["member"] as? [String: Any])?["id"] as? String ?? ""
            var ids: [String] = []
            for n in 1...3 { ids.append(try await notify(api, member: owner, title: "n\(n)")) }
            let consultant = try await api.member(.consultant)
            let theirs = try await notify(api, member: consultant.id, title: "theirs")

            let page1 = try await api.call(.get, "/v1/notifications?limit=2", token: api.tokenA)
            #expect(page1.status == 200)
            let items1 = page1.json["items"] as? [[String: Any]] ?? []
            #expect(items1.map { $0["title"] as? String } == ["n3", "n2"])
            #expect(page1.json["unreadCount"] as? Int == 3)
            let cursor = try #require(page1.json["nextCursor"] as? String)
            let page2 = try await api.call(.get, "/v1/notifications?limit=2&cursor=\(cursor)", token: api.tokenA)
            #expect((page2.json["items"] as? [[String: Any]] ?? []).map { $0["title"] as? String } == ["n1"])
            #expect(page2.json["nextCursor"] == nil || page2.json["nextCursor"] is NSNull)

            let read = try await api.call(.post, "/v1/notifications/\(ids[0])/read", token: api.tokenA)
            #expect(read.status == 200)
            #expect(read.json["readAt"] is String)
            let unread = try await api.call(.get, "/v1/notifications?unread=true", token: api.tokenA)
            #expect((unread.json["items"] as? [[String: Any]] ?? []).count == 2)

            // Someone else's notification: 404, in the same agency and from another one.
            #expect(try await api.call(.post, "/v1/notifications/\(theirs)/read", token: api.tokenA).status == 404)
            #expect(try await api.call(.post, "/v1/notifications/\(ids[1])/read", token: api.tokenB).status == 404)
            #expect(try await api.call(.post, "/v1/notifications/\(ids[1])/read", token: consultant.token).status == 404)
            #expect(((try await api.call(.get, "/v1/notifications", token: api.tokenB)).json["items"] as? [Any])?.count == 0)

            let all = try await api.call(.post, "/v1/notifications/read-all", token: api.tokenA)
            #expect(all.json["updated"] as? Int == 2)
            #expect((try await api.call(.get, "/v1/notifications", token: api.tokenA)).json["unreadCount"] as? Int == 0)
            #expect((try await api.call(.get, "/v1/notifications", token: consultant.token)).json["unreadCount"] as? Int == 1)

            let bad = try await api.call(.get, "/v1/notifications?unread=maybe&limit=0", token: api.tokenA)
            #expect(bad.status == 422)
            #expect(bad.failingFields == ["unread", "limit"])
            #expect(try await api.call(.get, "/v1/notifications", token: nil).status == 401)
        }
    }
}
