import Foundation
import Testing
import TrellisStore

@Suite("Authentication and authorization")
struct AuthAPITests {
    @Test func missingOrBadCredentialsAre401() async throws {
        try await APIHarness.run { api in
            let none = try await api.call(.get, "/v1/clients", token: nil)
            #expect(none.status == 401)
            #expect(none.headers[.wwwAuthenticate] != nil)
            #expect(none.problemType == "https://trellis.app/problems/unauthenticated")
            #expect(try await api.call(.get, "/v1/clients", token: "trl_not-a-real-token").status == 401)
            #expect(try await api.call(.get, "/v1/clients", token: nil, headers: [.authorization: "Basic Zm9vOmJhcg=="]).status == 401)
            // Health and the contract need no credentials.
            #expect(try await api.call(.get, "/healthz", token: nil).status == 200)
            #expect(try await api.call(.get, "/openapi.yaml", token: nil).status == 200)
        }
    }

    @Test func tokensAreShownOnceStoredHashedRevocableAndTrackLastUse() async throws {
        try await APIHarness.run { api in
            let created = try await api.call(.post, "/v1/tokens", token: api.tokenA, json: #"{"name":"ci"}"#)
            #expect(created.status == 201)
            let secret = try #require(created.string("secret"))
            #expect(secret.hasPrefix("trl_"))
            #expect(secret.count >= 4 + 43)  // 32 random bytes, base64url
            let id = try #require((created.json["token"] as? [String: Any])?["id"] as? String)
            // The secret is nowhere in the database; its SHA-256 is.
            let stored = try await api.db.owner.query("SELECT count(*) FROM api_tokens WHERE token_hash = sha256(convert_to(\(secret), 'UTF8'))", logger: api.db.logger)
            for try await n in stored.decode(Int.self) { #expect(n == 1) }
            let leaked = try await api.db.owner.query("SELECT count(*) FROM api_tokens WHERE encode(token_hash, 'escape') LIKE '%' || \(String(secret.dropFirst(4).prefix(12))) || '%'", logger: api.db.logger)
            for try await n in leaked.decode(Int.self) { #expect(n == 0) }
            // The list never shows secrets.
            let list = try await api.call(.get, "/v1/tokens", token: api.tokenA)
            #expect(!list.text.contains(secret))
            #expect(try await api.call(.get, "/v1/me", token: secret).status == 200)
            let afterUse = try await api.call(.get, "/v1/tokens", token: api.tokenA)
            #expect(afterUse.array.first { $0["id"] as? String == id }?["lastUsedAt"] is String)
            #expect(try await api.call(.post, "/v1/tokens/\(id)/revoke", token: api.tokenA).status == 200)
            #expect(try await api.call(.get, "/v1/me", token: secret).status == 401)
        }
    }

    @Test func rolesThatMayNotActGet403() async throws {
        try await APIHarness.run { api in
            let consultant = try await api.member(.consultant)
            #expect(try await api.call(.get, "/v1/clients", token: consultant.token).status == 200)
            let forbidden = try await api.call(.post, "/v1/roles", token: consultant.token, json: #"{"name":"Growth hacker"}"#)
            #expect(forbidden.status == 403)
            #expect(forbidden.problemType == "https://trellis.app/problems/forbidden")
            #expect(try await api.call(.post, "/v1/members", token: consultant.token, json: #"{"email":"x@a.example","displayName":"X","role":"owner"}"#).status == 403)
            #expect(try await api.call(.get, "/v1/tokens", token: consultant.token).status == 403)
            // A manager may add people but not make owners.
            let manager = try await api.member(.manager)
            #expect(try await api.call(.post, "/v1/members", token: manager.token, json: #"{"email":"y@a.example","displayName":"Y","role":"owner"}"#).status == 403)
            #expect(try await api.call(.post, "/v1/members", token: manager.token, json: #"{"email":"y@a.example","displayName":"Y","role":"consultant"}"#).status == 201)
        }
    }

    @Test func aClientViewerSeesOnlyTheirOwnClient() async throws {
        try await APIHarness.run { api in
            let mine = try await api.createClient("Mine")
            let other = try await api.createClient("Other")
            let viewer = try await api.member(.clientViewer, clientID: mine, capacity: 0)
            let list = try await api.call(.get, "/v1/clients", token: viewer.token)
            #expect((list.json["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [mine])
            #expect(try await api.call(.get, "/v1/clients/\(mine)", token: viewer.token).status == 200)
            #expect(try await api.call(.get, "/v1/clients/\(other)", token: viewer.token).status == 404)
            #expect(try await api.call(.patch, "/v1/clients/\(mine)", token: viewer.token, json: #"{"name":"x"}"#).status == 403)
            #expect(try await api.call(.get, "/v1/members", token: viewer.token).status == 403)
        }
    }

    @Test func passwordSignInSetsAnHttpOnlyCookieAndFormsNeedTheCSRFToken() async throws {
        try await APIHarness.run { api in
            let wrong = try await api.call(.post, "/v1/auth/login", token: nil, json: #"{"agency":"agency-a","email":"owner@a.example","password":"nope nope nope"}"#)
            #expect(wrong.status == 401)
            let login = try await api.call(.post, "/v1/auth/login", token: nil, json: #"{"agency":"agency-a","email":"owner@a.example","password":"correct horse battery"}"#)
            #expect(login.status == 200)
            let setCookie = try #require(login.headers[.setCookie])
            #expect(setCookie.contains("HttpOnly"))
            let session = try #require(setCookie.split(separator: ";").first.map(String.init))
            let csrf = try #require(login.string("csrfToken"))
            #expect(try await api.call(.get, "/v1/me", token: nil, headers: [.cookie: session]).status == 200)
            let noCSRF = try await api.call(.post, "/v1/clients", token: nil, json: #"{"name":"Via form","timeZone":"UTC"}"#, headers: [.cookie: session])
            #expect(noCSRF.status == 403)
            let withCSRF = try await api.call(.post, "/v1/clients", token: nil, json: #"{"name":"Via form","timeZone":"UTC"}"#,
                                              headers: [.cookie: session, .init("X-CSRF-Token")!: csrf])
            #expect(withCSRF.status == 201)
            // The stored password is a bcrypt hash.
            let hashes = try await api.db.owner.query("SELECT password_hash FROM members WHERE email = 'owner@a.example'", logger: api.db.logger)
            for try await hash in hashes.decode(String.self) { #expect(hash.hasPrefix("$2")) }
        }
    }
}
