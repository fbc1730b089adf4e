import Foundation
import Testing
import TrellisStore

@Suite("Clients API")
struct ClientAPITests {
    @Test func createReadUpdateArchive() async throws {
        try await APIHarness.run { api in
            let created = try await api.call(.post, "/v1/clients", token: api.tokenA, json: """
                {"name":"Café Aurora","industry":"Coffee","timeZone":"Europe/Madrid","status":"onboarding",
                 "channels":[{"network":"instagram","handle":"@aurora","audienceSize":1200}],
                 "goals":[{"name":"Grow","metric":"followers","target":5000,"dueOn":"2026-12-31"}]}
                """)
            #expect(created.status == 201)
            #expect(created.string("slug") == "cafe-aurora")
            #expect(created.headers[.eTag] == "\"1\"")
            let id = try #require(created.string("id"))
            let read = try await api.call(.get, "/v1/clients/\(id)", token: api.tokenA)
            #expect(read.string("name") == "Café Aurora")
            #expect((read.json["channels"] as? [[String: Any]])?.first?["audienceSize"] as? Int == 1200)

            let patched = try await api.call(.patch, "/v1/clients/\(id)", token: api.tokenA, json: #"{"status":"active","industry":null}"#, headers: [.ifMatch: "\"1\""])
            #expect(patched.status == 200)
            #expect(patched.string("status") == "active")
            #expect(patched.json["industry"] == nil || patched.json["industry"] is NSNull)
            #expect(patched.headers[.eTag] == "\"2\"")

            // A stale edit is refused, never silently applied.
            let stale = try await api.call(.patch, "/v1/clients/\(id)", token: api.tokenA, json: #"{"name":"Overwritten"}"#, headers: [.ifMatch: "\"1\""])
            #expect(stale.status == 409)
            #expect(stale.problemType == "https://trellis.app/problems/version-conflict")
            #expect(try await api.call(.get, "/v1/clients/\(id)", token: api.tokenA).string("name") == "Café Aurora")

            let archived = try await api.call(.post, "/v1/clients/\(id)/archive", token: api.tokenA)
            #expect(archived.json["archivedAt"] is String)
            let listed = try await api.call(.get, "/v1/clients", token: api.tokenA)
            #expect((listed.json["items"] as? [Any])?.count == 0)
            let withArchived = try await api.call(.get, "/v1/clients?archived=true", token: api.tokenA)
            #expect((withArchived.json["items"] as? [Any])?.count == 1)
        }
    }

    @Test func cursorPaginationAndFilters() async throws {
        try await APIHarness.run { api in
            for i in 0..<7 { _ = try await api.createClient("Brand \(i)", status: i % 2 == 0 ? "active" : "paused") }
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let reply = try await api.call(.get, "/v1/clients?limit=3" + (cursor.map { "&cursor=\($0)" } ?? ""), token: api.tokenA)
                #expect(reply.status == 200)
                seen += (reply.json["items"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
                cursor = reply.json["nextCursor"] as? String
                pages += 1
            } while cursor != nil && pages < 10
            #expect(pages == 3)
            #expect(seen == (0..<7).map { "Brand \($0)" })
            let paused = try await api.call(.get, "/v1/clients?status=paused", token: api.tokenA)
            #expect((paused.json["items"] as? [[String: Any]])?.count == 3)
            let bad = try await api.call(.get, "/v1/clients?status=sleeping&limit=0&cursor=zzz", token: api.tokenA)
            #expect(bad.status == 422)
            #expect(bad.failingFields == ["status", "limit", "cursor"])
            let search = try await api.call(.get, "/v1/clients?q=brand%205", token: api.tokenA)
            #expect((search.json["items"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["Brand 5"])
        }
    }

    @Test func validationNamesEveryFailingField() async throws {
        try await APIHarness.run { api in
            let reply = try await api.call(.post, "/v1/clients", token: api.tokenA, json: """
                {"name":"","timeZone":"Mars/Olympus","status":"asleep","colour":"red",
                 "channels":[{"network":"myspace","handle":"","audienceSize":-3},{"network":"instagram","handle":5}]}
                """)
            #expect(reply.status == 422)
            #expect(reply.headers[.contentType] == "application/problem+json")
            #expect(reply.problemType == "https://trellis.app/problems/validation")
            // Wrong types and unknown fields are caught before the domain sees anything.
            #expect(reply.failingFields == ["status", "colour", "channels[1].handle"])
            // Once types are right, the domain names every rule that fails.
            let second = try await api.call(.post, "/v1/clients", token: api.tokenA, json: """
                {"name":"","timeZone":"Mars/Olympus","channels":[{"network":"myspace","handle":"","audienceSize":-3}]}
                """)
            // (The slug derived from an empty name is a valid placeholder: the name itself is what is wrong.)
            #expect(second.failingFields == ["name", "timeZone", "channels[0].network", "channels[0].handle", "channels[0].audienceSize"])
            let count = try await api.db.owner.query("SELECT count(*) FROM clients", logger: api.db.logger)
            for try await n in count.decode(Int.self) { #expect(n == 0) }
        }
    }

    @Test func malformedJSONIs400AndNothingIsWritten() async throws {
        try await APIHarness.run { api in
            let reply = try await api.call(.post, "/v1/clients", token: api.tokenA, json: #"{"name": "x", "#)
            #expect(reply.status == 400)
            #expect(reply.problemType == "https://trellis.app/problems/malformed-request")
            let array = try await api.call(.post, "/v1/clients", token: api.tokenA, json: "[1,2]")
            #expect(array.status == 400)
            _ = try await api.createClient("Dup")
            let duplicate = try await api.call(.post, "/v1/clients", token: api.tokenA, json: #"{"name":"Dup","timeZone":"UTC"}"#)
            #expect(duplicate.status == 409)
            #expect(duplicate.failingFields == ["slug"])
            let count = try await api.db.owner.query("SELECT count(*) FROM clients", logger: api.db.logger)
            for try await n in count.decode(Int.self) { #expect(n == 1) }
        }
    }
}
