import Foundation
import Hummingbird
import Testing
@testable import TrellisHTTP
import TrellisJobs
import TrellisStore
import TrellisTestSupport

/// What an attacker or a fuzzer tries: input PostgreSQL refuses, roles reaching up, webhooks reaching inside,
/// floods of sign-ins, exports of another client.
@Suite("Hardening")
struct HardeningTests {
    @Test func textWithNULIsA422NamingTheFieldNeverA500() async throws {
        try await APIHarness.run { api in
            let member = try await api.call(.post, "/v1/members", token: api.tokenA,
                                            json: #"{"email":"n@a.example","displayName":"Ann\u0000","role":"consultant"}"#)
            #expect(member.status == 422, "\(member.text)")
            #expect(member.failingFields == ["displayName"])
            let query = try await api.call(.get, "/v1/clients?q=a%00b", token: api.tokenA)
            #expect(query.status == 422, "\(query.text)")
            #expect(query.failingFields == ["q"])
            let nested = try await api.call(.post, "/v1/clients", token: api.tokenA,
                                            json: #"{"name":"C","timeZone":"UTC","goals":[{"name":"x\u0000"}]}"#)
            #expect(nested.status == 422, "\(nested.text)")
            #expect(nested.failingFields.contains("goals[0].name"))
        }
    }

    @Test func aTinyAllocationIsRefusedNotRoundedToZero() async throws {
        try await APIHarness.run { api in
            let client = try await api.createClient("Tiny")
            let (member, _) = try await api.member(.consultant)
            let role = try await api.roleID("community-manager")
            let reply = try await api.call(.post, "/v1/assignments", token: api.tokenA, json: """
                {"memberId":"\(member)","clientId":"\(client)","roleId":"\(role)","allocation":{"percent":5e-324},
                 "startsOn":"2026-01-05","endsOn":"2026-02-05"}
                """)
            #expect(reply.status == 422, "\(reply.text)")
            #expect(reply.failingFields == ["allocation.percent"])
        }
    }

    @Test func aKnownPathWithAnotherMethodIs405WithAllow() async throws {
        try await APIHarness.run { api in
            let trace = try await api.call(.init("TRACE")!, "/v1/clients", token: api.tokenA)
            #expect(trace.status == 405)
            #expect(trace.headers[.allow] == "GET, HEAD, POST")
            let put = try await api.call(.put, "/v1/clients/\(UUID())", token: api.tokenA)
            #expect(put.status == 405)
            #expect(put.headers[.allow]?.contains("PATCH") == true)
            #expect(try await api.call(.get, "/v1/nothing-here", token: api.tokenA).status == 404)
        }
    }

    @Test func aManagerCannotTakeAnOwnersPowers() async throws {
        try await APIHarness.run { api in
            let (_, managerToken) = try await api.member(.manager)
            let me = try await api.call(.get, "/v1/me", token: api.tokenA)
            let ownerID = try #require((me.json["member"] as? [String: Any])?["id"] as? String)
            let mint = try await api.call(.post, "/v1/tokens", token: managerToken, json: #"{"name":"mine now","memberId":"\#(ownerID)"}"#)
            #expect(mint.status == 403, "\(mint.text)")
            let (consultant, _) = try await api.member(.consultant)
            #expect(try await api.call(.post, "/v1/tokens", token: managerToken, json: #"{"name":"x","memberId":"\#(consultant)"}"#).status == 403,
                    "a manager mints tokens for themself only")
            #expect(try await api.call(.post, "/v1/tokens", token: managerToken, json: #"{"name":"own"}"#).status == 201)
            let email = try await api.call(.patch, "/v1/members/\(ownerID)", token: managerToken, json: #"{"email":"evil@a.example"}"#)
            #expect(email.status == 403, "\(email.text)")
            let password = try await api.call(.patch, "/v1/members/\(ownerID)", token: managerToken, json: #"{"password":"new password 123"}"#)
            #expect(password.status == 403)
            let tokens = try await api.call(.get, "/v1/tokens", token: api.tokenA)
            let ownerToken = try #require(tokens.array.first { $0["memberId"] as? String == ownerID }?["id"] as? String)
            #expect(try await api.call(.post, "/v1/tokens/\(ownerToken)/revoke", token: managerToken).status == 403)
            #expect(try await api.call(.get, "/v1/me", token: api.tokenA).status == 200, "the owner's token still works")
        }
    }

    @Test func aPasswordChangeEndsThePersonsOtherSessionsAndTokens() async throws {
        try await APIHarness.run { api in
            let (id, _) = try await api.member(.consultant)
            #expect(try await api.call(.patch, "/v1/members/\(id)", token: api.tokenA, json: #"{"password":"first password 1"}"#).status == 200)
            let token = try #require(try await api.call(.post, "/v1/tokens", token: api.tokenA, json: #"{"name":"t","memberId":"\#(id)"}"#).string("secret"))
            let email = try #require(try await api.call(.get, "/v1/members/\(id)", token: api.tokenA).string("email"))
            let login = try await api.call(.post, "/v1/auth/login", token: nil, json: #"{"agency":"agency-a","email":"\#(email)","password":"first password 1"}"#)
            #expect(login.status == 200)
            let cookie = try #require(login.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            #expect(try await api.call(.get, "/v1/me", token: nil, headers: [.cookie: cookie]).status == 200)
            #expect(try await api.call(.get, "/v1/me", token: token).status == 200)
            let change = try await api.call(.patch, "/v1/members/\(id)", token: api.tokenA, json: #"{"password":"second password 2"}"#)
            #expect(change.status == 200)
            #expect(change.headers[.init("Trellis-Ended-Credentials")!] == "sessions=1, tokens=1")
            #expect(try await api.call(.get, "/v1/me", token: nil, headers: [.cookie: cookie]).status == 401, "the old session ended")
            #expect(try await api.call(.get, "/v1/me", token: token).status == 401, "the token was revoked")
        }
    }

    @Test func tokensExpireAndEmailsAreUniqueWhateverTheirCase() async throws {
        try await APIHarness.run { api in
            let past = try await api.call(.post, "/v1/tokens", token: api.tokenA, json: #"{"name":"old","expiresAt":"2020-01-01T00:00:00Z"}"#)
            #expect(past.status == 422)
            #expect(past.failingFields == ["expiresAt"])
            let soon = try await api.call(.post, "/v1/tokens", token: api.tokenA, json: #"{"name":"soon","expiresAt":"2028-01-01T00:00:00Z"}"#)
            #expect(soon.status == 201)
            let secret = try #require(soon.string("secret"))
            #expect(try await api.call(.get, "/v1/me", token: secret).status == 200)
            try await api.db.owner.query("UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE name = 'soon'", logger: api.db.logger)
            #expect(try await api.call(.get, "/v1/me", token: secret).status == 401, "an expired token no longer works")

            let first = try await api.call(.post, "/v1/members", token: api.tokenA, json: #"{"email":"Case@A.example","displayName":"A","role":"consultant"}"#)
            #expect(first.status == 201)
            let second = try await api.call(.post, "/v1/members", token: api.tokenA, json: #"{"email":"case@a.EXAMPLE","displayName":"B","role":"consultant"}"#)
            #expect(second.status == 409, "\(second.text)")
        }
    }

    @Test func theEleventhSignInInAMinuteIs429WithRetryAfter() async throws {
        try await APIHarness.run { api in
            // All at once: the budget is taken before the password is checked, so a loaded machine's slow bcrypt cannot
            // let the bucket refill between attempts (10 a minute refills one every 6 s).
            let replies = try await withThrowingTaskGroup(of: APIHarness.Reply.self) { group in
                for attempt in 1...11 {
                    group.addTask {
                        try await api.call(.post, "/v1/auth/login", token: nil,
                                           json: #"{"agency":"agency-a","email":"owner\#(attempt)@a.example","password":"wrong wrong"}"#)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let limited = replies.filter { $0.status == 429 }
            #expect(limited.count == 1, "\(replies.map(\.status))")
            #expect(replies.filter { $0.status == 401 }.count == 10)
            for reply in limited {
                #expect(Int(reply.headers[.retryAfter] ?? "") ?? 0 >= 1)
                #expect(reply.problemType == "https://trellis.app/problems/too-many-requests")
            }
        }
    }

    @Test func aTokenPastItsRequestBudgetGets429WithRetryAfter() async throws {
        var limits = APILimits()
        limits.requestsPerMinutePerCredential = 3
        try await APIHarness.run(limits: limits) { api in
            for _ in 0..<3 { #expect(try await api.call(.get, "/v1/me", token: api.tokenA).status == 200) }
            let fourth = try await api.call(.get, "/v1/me", token: api.tokenA)
            #expect(fourth.status == 429)
            #expect(Int(fourth.headers[.retryAfter] ?? "") ?? 0 >= 1)
            #expect(try await api.call(.get, "/v1/me", token: api.tokenB).status == 200, "another token has its own budget")
        }
    }

    @Test func aPlanHoldsAtMostTheConfiguredNumberOfTasks() async throws {
        var limits = APILimits()
        limits.maxTasksPerPlan = 10
        try await APIHarness.run(limits: limits) { api in
            let client = try await api.createClient("Cap")
            // The built-in template alone has more tasks than this cap: adding one more is refused.
            let plan = try await api.call(.post, "/v1/plans", token: api.tokenA, json: #"{"clientId":"\#(client)","startsOn":"2026-03-02"}"#)
            let planID = try #require((plan.json["plan"] as? [String: Any])?["id"] as? String)
            let added = try await api.call(.post, "/v1/plans/\(planID)/tasks", token: api.tokenA, json: #"{"name":"One more","durationHours":1}"#,
                                           headers: [.ifMatch: "*"])
            #expect(added.status == 422, "\(added.text)")
            #expect(added.failingFields == ["tasks"])
        }
    }

    @Test func theSessionCookieIsSecureUnlessLocalDevelopment() async throws {
        try await APIHarness.run(security: SecuritySettings()) { api in
            let login = try await api.call(.post, "/v1/auth/login", token: nil, json: #"{"agency":"agency-a","email":"owner@a.example","password":"correct horse battery"}"#)
            #expect(login.headers[.setCookie]?.contains("Secure") == true)
            #expect(login.headers[.setCookie]?.contains("HttpOnly") == true)
        }
        try await APIHarness.run(security: .localDevelopment) { api in
            let login = try await api.call(.post, "/v1/auth/login", token: nil, json: #"{"agency":"agency-a","email":"owner@a.example","password":"correct horse battery"}"#)
            #expect(login.headers[.setCookie]?.contains("Secure") == false)
        }
    }

    @Test func aClientViewerGets404ForAnotherClientsExport() async throws {
        try await APIHarness.run { api in
            let mine = try await api.createClient("Mine")
            let theirs = try await api.createClient("Theirs")
            let (_, viewer) = try await api.member(.clientViewer, clientID: mine)
            let other = try await api.call(.post, "/v1/exports", token: api.tokenA, json: #"{"format":"csv","clientId":"\#(theirs)"}"#)
            #expect(other.status == 202, "\(other.text)")
            let otherID = try #require((other.json["export"] as? [String: Any])?["id"] as? String)
            #expect(try await api.call(.get, "/v1/exports/\(otherID)", token: viewer).status == 404)
            #expect(try await api.call(.get, "/v1/exports/\(otherID)/download", token: viewer).status == 404)
            let own = try await api.call(.post, "/v1/exports", token: viewer, json: #"{"format":"csv","clientId":"\#(mine)"}"#)
            let ownID = try #require((own.json["export"] as? [String: Any])?["id"] as? String)
            #expect(try await api.call(.get, "/v1/exports/\(ownID)", token: viewer).status == 200)
        }
    }

    @Test func exportsPerAgencyAreCapped() async throws {
        var limits = APILimits()
        limits.concurrentExportsPerAgency = 2
        try await APIHarness.run(limits: limits) { api in
            for _ in 0..<2 {
                #expect(try await api.call(.post, "/v1/exports", token: api.tokenA, json: #"{"format":"csv"}"#).status == 202)
            }
            let third = try await api.call(.post, "/v1/exports", token: api.tokenA, json: #"{"format":"csv"}"#)
            #expect(third.status == 429)
            #expect(third.headers[.retryAfter] != nil)
            #expect(try await api.call(.post, "/v1/exports", token: api.tokenB, json: #"{"format":"csv"}"#).status == 202, "another agency has its own budget")
        }
    }

    /// Production settings: https only, and no address inside the platform's network, by any spelling.
    /// (One harness for every address: a database per case would load the suite's start for nothing.)
    @Test func aWebhookToAnInternalAddressIsRefused() async throws {
        let refused = [
            "http://hooks.example/h", "https://127.0.0.1/h", "https://127.1.2.3:8080/h", "https://10.1.2.3/h", "https://172.16.0.1/h",
            "https://192.168.1.1/h", "https://169.254.169.254/latest/meta-data", "https://100.64.0.1/h", "https://224.0.0.1/h",
            "https://0.0.0.0/h", "https://[::1]/h", "https://[fd00::1]/h", "https://[fe80::1]/h", "https://[::ffff:127.0.0.1]/h",
            "https://localhost/h", "https://localhost./h", "https://api.localhost/h", "https://intranet/h",
        ]
        try await APIHarness.run(security: SecuritySettings()) { api in
            for url in refused {
                let reply = try await api.call(.post, "/v1/webhooks", token: api.tokenA, json: #"{"url":"\#(url)","events":["task.due"]}"#)
                #expect(reply.status == 422, "\(url): \(reply.text)")
                #expect(reply.failingFields == ["url"], "\(url)")
            }
            let allowed = try await api.call(.post, "/v1/webhooks", token: api.tokenA, json: #"{"url":"https://hooks.example/h","events":["task.due"]}"#)
            #expect(allowed.status == 201, "a public https host is accepted: \(allowed.text)")
        }
    }

    @Test func aNameThatResolvesToLoopbackIsRefusedAfterDNS() async throws {
        await #expect(throws: OutboundPolicy.Refused.self) { try await OutboundPolicy().resolve(host: "localhost") }
        #expect(try await OutboundPolicy.localDevelopment.resolve(host: "localhost").isEmpty == false)
        #expect(try await OutboundPolicy().resolve(host: "93.184.215.14") == "93.184.215.14", "a public address passes")
    }

    @Test func webhookTestsAreRateLimited() async throws {
        try await APIHarness.run { api in
            let id = try #require(try await api.call(.post, "/v1/webhooks", token: api.tokenA,
                                                     json: #"{"url":"https://hooks.example/t","events":["task.due"]}"#).string("id"))
            for _ in 0..<5 { #expect(try await api.call(.post, "/v1/webhooks/\(id)/test", token: api.tokenA).status == 202) }
            let sixth = try await api.call(.post, "/v1/webhooks/\(id)/test", token: api.tokenA)
            #expect(sixth.status == 429)
            #expect(sixth.headers[.retryAfter] != nil)
        }
    }

    @Test func feedLinksUseThePublicBaseURLNotTheHostHeader() async throws {
        var security = SecuritySettings.localDevelopment
        security.publicBaseURL = "https://trellis.example"
        try await APIHarness.run(security: security) { api in
            let client = try await api.createClient("Feed")
            let plan = try await api.call(.post, "/v1/plans", token: api.tokenA, json: #"{"clientId":"\#(client)","startsOn":"2026-03-02"}"#)
            let planID = try #require((plan.json["plan"] as? [String: Any])?["id"] as? String, "\(plan.text)")
            let feed = try await api.call(.post, "/v1/plans/\(planID)/feed", token: api.tokenA)
            #expect(feed.string("url")?.hasPrefix("https://trellis.example/feeds/") == true, "\(feed.text)")
            #expect(feed.string("webcal")?.hasPrefix("webcal://trellis.example/feeds/") == true)
        }
    }
}

/// The rules `docs/openapi.yaml` states in words because JSON Schema cannot (schemathesis's positive-data check is
/// off for those operations alone, in Tests/contract/schemathesis.toml): each one, here, on its own.
@Suite("Rules the contract states in words")
struct ContractRuleTests {
    @Test func eachRuleIsEnforcedWithA422NamingTheField() async throws {
        try await APIHarness.run { api in
            let client = try await api.createClient("Rules")
            let (member, _) = try await api.member(.consultant)
            let role = try await api.roleID("community-manager")
            // Clients: a zone the tz database knows; no two channels with the same network and handle.
            let zone = try await api.call(.post, "/v1/clients", token: api.tokenA, json: #"{"name":"Z","timeZone":"Mars/Olympus"}"#)
            #expect(zone.status == 422 && zone.failingFields == ["timeZone"], "\(zone.text)")
            let twice = try await api.call(.post, "/v1/clients", token: api.tokenA, json: """
                {"name":"C","timeZone":"UTC","channels":[{"network":"x","handle":"Brand"},{"network":"x","handle":"brand"}]}
                """)
            #expect(twice.status == 422 && twice.failingFields == ["channels[1]"], "\(twice.text)")
            // Members: clientId exactly for client viewers.
            let viewer = try await api.call(.post, "/v1/members", token: api.tokenA, json: #"{"email":"v@a.example","displayName":"V","role":"client_viewer"}"#)
            #expect(viewer.status == 422 && viewer.failingFields == ["clientId"])
            let scoped = try await api.call(.patch, "/v1/members/\(member)", token: api.tokenA, json: #"{"clientId":"\#(client)"}"#)
            #expect(scoped.status == 422 && scoped.failingFields == ["clientId"])
            // Dates in order: time off, assignments, the workload's weeks, a person's timeline.
            let away = try await api.call(.post, "/v1/members/\(member)/time-off", token: api.tokenA, json: #"{"startsOn":"2026-03-10","endsOn":"2026-03-09"}"#)
            #expect(away.status == 422 && away.failingFields == ["endsOn"])
            let assignment = try await api.call(.post, "/v1/assignments", token: api.tokenA, json: """
                {"memberId":"\(member)","clientId":"\(client)","roleId":"\(role)","allocation":{"percent":50},"startsOn":"2026-03-10","endsOn":"2026-03-01"}
                """)
            #expect(assignment.status == 422 && assignment.failingFields == ["endsOn"], "\(assignment.text)")
            #expect(try await api.call(.get, "/v1/workload?from=2026-W20&to=2026-W10", token: api.tokenA).status == 422)
            #expect(try await api.call(.get, "/v1/workload?from=2025-W53&to=2025-W53", token: api.tokenA).status == 422, "2025 has 52 ISO weeks")
            #expect(try await api.call(.get, "/v1/members/\(member)/timeline?from=2026-03-10&to=2026-03-01", token: api.tokenA).status == 422)
            // Tokens expire in the future, within three years.
            let far = try await api.call(.post, "/v1/tokens", token: api.tokenA, json: #"{"name":"far","expiresAt":"2099-01-01T00:00:00Z"}"#)
            #expect(far.status == 422 && far.failingFields == ["expiresAt"])
            // Tasks: one duration unit; a parent of this plan. Dependencies: no self-link, no cycle.
            let created = try await api.call(.post, "/v1/plans", token: api.tokenA, json: #"{"clientId":"\#(client)","startsOn":"2026-03-02"}"#)
            let plan = try #require((created.json["plan"] as? [String: Any])?["id"] as? String)
            let tasks = try #require(created.json["tasks"] as? [[String: Any]])
            let (first, second) = (tasks[1]["id"] as? String ?? "", tasks[2]["id"] as? String ?? "")
            let units = try await api.call(.post, "/v1/plans/\(plan)/tasks", token: api.tokenA, json: #"{"name":"T","durationMinutes":60,"durationHours":1}"#,
                                           headers: [.ifMatch: "*"])
            #expect(units.status == 422 && units.failingFields == ["durationMinutes"], "\(units.text)")
            let orphan = try await api.call(.post, "/v1/plans/\(plan)/tasks", token: api.tokenA, json: #"{"name":"T","durationMinutes":60,"parentId":"\#(UUID())"}"#,
                                            headers: [.ifMatch: "*"])
            #expect(orphan.status == 422 || orphan.status == 404, "\(orphan.text)")
            let itself = try await api.call(.post, "/v1/plans/\(plan)/dependencies", token: api.tokenA, json: #"{"predecessorId":"\#(first)","successorId":"\#(first)"}"#,
                                            headers: [.ifMatch: "*"])
            #expect(itself.status == 422 && itself.failingFields == ["successorId"])
            _ = try await api.call(.post, "/v1/plans/\(plan)/dependencies", token: api.tokenA, json: #"{"predecessorId":"\#(first)","successorId":"\#(second)"}"#,
                                   headers: [.ifMatch: "*"])
            let cycle = try await api.call(.post, "/v1/plans/\(plan)/dependencies", token: api.tokenA, json: #"{"predecessorId":"\#(second)","successorId":"\#(first)"}"#,
                                           headers: [.ifMatch: "*"])
            #expect(cycle.status == 422, "\(cycle.text)")
            // A plan edit without If-Match is 428; a list cursor is digits; a bad one is 422.
            #expect(try await api.call(.post, "/v1/plans/\(plan)/archive", token: api.tokenA).status == 428)
            // A person who is not there is a 404 naming the field, whether the task is new or edited (the violation arrives with
            // the write's answer rows; schemathesis found it as a 500).
            let stranger = UUID().uuidString.lowercased()
            let newTask = try await api.call(.post, "/v1/plans/\(plan)/tasks", token: api.tokenA,
                                             json: #"{"name":"T","durationMinutes":60,"assigneeId":"\#(stranger)"}"#, headers: [.ifMatch: "*"])
            #expect(newTask.status == 404 && newTask.failingFields == ["assigneeId"], "\(newTask.text)")
            let edited = try await api.call(.patch, "/v1/plans/\(plan)/tasks/\(first)", token: api.tokenA,
                                            json: #"{"assigneeId":"\#(stranger)"}"#, headers: [.ifMatch: "*"])
            #expect(edited.status == 404 && edited.failingFields == ["assigneeId"], "\(edited.text)")
            // …even when its body is wrong too: the missing precondition is said first (schemathesis found the other order).
            let twoUnits = #"{"durationMinutes":0,"durationHours":0}"#
            #expect(try await api.call(.patch, "/v1/plans/\(plan)/tasks/\(first)", token: api.tokenA, json: twoUnits).status == 428)
            #expect(try await api.call(.post, "/v1/plans/\(plan)/tasks", token: api.tokenA, json: twoUnits).status == 428)
            #expect(try await api.call(.patch, "/v1/plans/\(plan)/tasks/\(first)", token: api.tokenA, json: twoUnits, headers: [.ifMatch: "*"]).status == 422)
            let page = try await api.call(.get, "/v1/roles?limit=2", token: api.tokenA)
            #expect(page.array.count == 2)
            let next = try #require(page.json["nextCursor"] as? String)
            let second2 = try await api.call(.get, "/v1/roles?limit=2&cursor=\(next)", token: api.tokenA)
            #expect(second2.array.first?["id"] as? String != page.array.first?["id"] as? String)
            #expect(try await api.call(.get, "/v1/roles?cursor=abc", token: api.tokenA).status == 422)
            let last = try await api.call(.get, "/v1/roles?limit=200", token: api.tokenA)
            #expect(last.json["nextCursor"] is NSNull, "the last page says so with null")
        }
    }
}

@Suite("Creations")
struct CreationTests {
    /// Every creation answers 201 with `Location`, and that location reads the created resource back.
    @Test func everyCreationAnswers201WithALocationThatReadsItBack() async throws {
        try await APIHarness.run { api in
            let client = try await api.call(.post, "/v1/clients", token: api.tokenA, json: #"{"name":"Loc","timeZone":"UTC"}"#)
            let clientID = try #require(client.string("id"))
            let (member, _) = try await api.member(.consultant)
            let role = try await api.call(.post, "/v1/roles", token: api.tokenA, json: #"{"name":"Podcast producer"}"#)
            let contact = try await api.call(.post, "/v1/contacts", token: api.tokenA, json: #"{"clientId":"\#(clientID)","name":"Marta"}"#)
            let assignment = try await api.call(.post, "/v1/assignments", token: api.tokenA, json: """
                {"memberId":"\(member)","clientId":"\(clientID)","roleId":"\(role.string("id") ?? "")","allocation":{"percent":20},
                 "startsOn":"2026-03-02","endsOn":"2026-04-30"}
                """)
            let plan = try await api.call(.post, "/v1/plans", token: api.tokenA, json: #"{"clientId":"\#(clientID)","startsOn":"2026-03-02"}"#)
            let etag = try #require(plan.headers[.eTag])
            let planID = try #require((plan.json["plan"] as? [String: Any])?["id"] as? String)
            let task = try await api.call(.post, "/v1/plans/\(planID)/tasks", token: api.tokenA, json: #"{"name":"Extra","durationHours":2}"#,
                                          headers: [.ifMatch: etag])
            for (what, reply) in [("client", client), ("role", role), ("contact", contact), ("assignment", assignment), ("plan", plan), ("task", task)] {
                #expect(reply.status == 201, "\(what): \(reply.text)")
                let location = try #require(reply.headers[.location], "\(what) has a Location")
                if what != "task" {
                    #expect(try await api.call(.get, location, token: api.tokenA).status == 200, "\(what): GET \(location)")
                } else {
                    let id = String(location.split(separator: "/").last ?? "")
                    #expect((task.json["tasks"] as? [[String: Any]])?.contains { $0["id"] as? String == id && $0["name"] as? String == "Extra" } == true)
                }
            }
        }
    }
}

extension [String: Any] {
    /// The items of a list envelope (`{"items": [...]}`) or nothing.
    var items: [[String: Any]] { self["items"] as? [[String: Any]] ?? [] }
}
