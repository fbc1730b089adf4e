import Foundation
import Hummingbird
import Testing
import TrellisQueue
@testable import TrellisHTTP
import TrellisStore

@Suite("Webhooks API")
struct WebhookAPITests {
    @Test func createListUpdateRotateTestDelete() async throws {
        try await APIHarness.run { api in
            let created = try await api.call(.post, "/v1/webhooks", token: api.tokenA,
                                             json: #"{"url":"https://hooks.example/trellis","events":["task.due","digest.weekly"],"description":"ops"}"#)
            #expect(created.status == 201, "\(created.text)")
            let id = try #require(created.string("id"))
            let secret = try #require(created.string("secret"))
            #expect(created.headers[.location] == "/v1/webhooks/\(id)")
            #expect(created.json["active"] as? Bool == true)

            let list = try await api.call(.get, "/v1/webhooks", token: api.tokenA)
            #expect(list.array.count == 1)
            #expect(!list.text.contains(secret), "the secret is shown once")
            #expect(!(try await api.call(.get, "/v1/webhooks/\(id)", token: api.tokenA)).text.contains(secret))

            let patched = try await api.call(.patch, "/v1/webhooks/\(id)", token: api.tokenA, json: #"{"active":false,"events":["task.overdue"],"description":null}"#)
            #expect(patched.status == 200, "\(patched.text)")
            #expect(patched.json["active"] as? Bool == false)
            #expect(patched.json["events"] as? [String] == ["task.overdue"])
            #expect(patched.json["description"] == nil || patched.json["description"] is NSNull)

            let rotated = try await api.call(.post, "/v1/webhooks/\(id)/rotate-secret", token: api.tokenA)
            #expect(rotated.status == 200)
            #expect(rotated.string("secret") != nil && rotated.string("secret") != secret)

            let test = try await api.call(.post, "/v1/webhooks/\(id)/test", token: api.tokenA)
            #expect(test.status == 202, "\(test.text)")
            let jobID = try #require(test.json["jobId"] as? Int)
            // Read as the worker would: the API's own role sees only jobs of the agency its transaction names.
            let job = try await JobQueue(client: api.db.app, logger: api.db.logger).job(Int64(jobID))
            #expect(job?.kind == "webhook.deliver")
            #expect(job?.agencyID == api.agencyA.rawValue)
            #expect((try await api.call(.get, "/v1/webhooks/\(id)/deliveries", token: api.tokenA)).array.isEmpty)

            #expect(try await api.call(.delete, "/v1/webhooks/\(id)", token: api.tokenA).status == 204)
            #expect(try await api.call(.get, "/v1/webhooks/\(id)", token: api.tokenA).status == 404)
        }
    }

    @Test func invalidBodiesNameEachField() async throws {
        try await APIHarness.run { api in
            let reply = try await api.call(.post, "/v1/webhooks", token: api.tokenA, json: #"{"url":"ftp://x","events":["nope"],"extra":1}"#)
            #expect(reply.status == 422)
            #expect(reply.failingFields == ["url", "events[0]", "extra"])
            let types = try await api.call(.post, "/v1/webhooks", token: api.tokenA, json: #"{"url":5,"events":"task.due"}"#)
            #expect(types.status == 422)
            #expect(types.failingFields == ["url", "events"])
            let empty = try await api.call(.post, "/v1/webhooks", token: api.tokenA, json: #"{"url":"https://a.example","events":[]}"#)
            #expect(empty.failingFields == ["events"])
            let ping = try await api.call(.post, "/v1/webhooks", token: api.tokenA, json: #"{"url":"https://a.example","events":["ping"]}"#)
            #expect(ping.failingFields == ["events[0]"])
        }
    }

    @Test func onlyOwnersAndManagersAndOnlyTheirAgency() async throws {
        try await APIHarness.run { api in
            let id = try await api.call(.post, "/v1/webhooks", token: api.tokenA, json: #"{"url":"https://a.example","events":["task.due"]}"#).string("id") ?? ""
            let consultant = try await api.member(.consultant)
            #expect(try await api.call(.get, "/v1/webhooks", token: consultant.token).status == 403)
            let manager = try await api.member(.manager)
            #expect(try await api.call(.get, "/v1/webhooks/\(id)", token: manager.token).status == 200)
            #expect(try await api.call(.get, "/v1/webhooks/\(id)", token: api.tokenB).status == 404)
            #expect(try await api.call(.post, "/v1/webhooks/\(id)/test", token: api.tokenB).status == 404)
            #expect(try await api.call(.delete, "/v1/webhooks/\(id)", token: api.tokenB).status == 404)
            #expect((try await api.call(.get, "/v1/webhooks", token: api.tokenB)).array.isEmpty)
            #expect(try await api.call(.get, "/v1/webhooks/\(id)", token: api.tokenA).status == 200)
        }
    }
}
