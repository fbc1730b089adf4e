import CompressNIO
import Foundation
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Synchronization
import Testing
import TrellisDomain
@testable import TrellisHTTP
@testable import TrellisStore
import TrellisTestSupport

/// Reads an API process serves from memory (`ReadCaches`), checked against the database's announcements of each
/// agency's writes (`sql/0014`, `TenantChanges`). The harness's own router keeps nothing; a second router on the same
/// database, with its own listener, plays another API process.
@Suite("Reads served from memory")
struct ReadCacheTests {
    /// A second API process on the harness's database: its own `TenantChanges`, listener and router.
    static func otherProcess(
        _ h: APIHarness, listening: Bool = true, _ body: @Sendable (any TestClientProtocol, TenantChanges) async throws -> Void
    ) async throws {
        let changes = TenantChanges()
        var dependencies = try APIHarness.dependencies(h.db)
        dependencies.database = TenantDatabase(client: h.db.api, logger: h.db.logger, connectionWait: .seconds(60), changes: changes)
        let listener = Task { if listening { try await TenantChangeListener(client: h.db.api, changes: changes, logger: h.db.logger).run() } }
        // The listener gives its connection back before the harness closes the pool.
        var failure: (any Error)?
        do {
            if listening { #expect(try await eventually(timeout: .seconds(20)) { changes.isListening }, "the listener connects") }
            try await Application(router: buildRouter(dependencies)).test(.router) { client in try await body(client, changes) }
        } catch {
            failure = error
        }
        listener.cancel()
        _ = await listener.result
        if let failure { throw failure }
    }

    static func get(_ client: any TestClientProtocol, _ uri: String, token: String) async throws -> (status: Int, text: String) {
        try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer \(token)"], body: nil) { response in
            (Int(response.status.code), String(buffer: response.body))
        }
    }

    /// A write the database does not announce: made outside any agency's transaction (the table owner's session
    /// sets no agency), so only what reads the database sees it.
    static func renameQuietly(_ h: APIHarness, client id: String, to name: String) async throws {
        try await h.db.owner.query("UPDATE clients SET name = \(name) WHERE id = \(UUID(uuidString: id))", logger: h.db.logger)
    }

    @Test func aReadKeptByOneProcessChangesWhenAnotherProcessWrites() async throws {
        try await APIHarness.run { h in
            let brand = try await h.createClient("Brand One")
            try await Self.otherProcess(h) { other, changes in
                #expect(try await Self.get(other, "/v1/clients", token: h.tokenA).text.contains("Brand One"))
                // Kept: a write nobody announced is not seen.
                try await Self.renameQuietly(h, client: brand, to: "Brand Quiet")
                #expect(try await Self.get(other, "/v1/clients", token: h.tokenA).text.contains("Brand One"), "served from memory")

                // A write through the other process (the harness's router): announced by the database, heard here.
                let heard = changes.announcementsHeard
                _ = try await h.createClient("Brand Two")
                #expect(try await eventually { changes.announcementsHeard > heard }, "the write is announced")
                let after = try await Self.get(other, "/v1/clients", token: h.tokenA).text
                #expect(after.contains("Brand Two") && after.contains("Brand Quiet") && !after.contains("Brand One"), "\(after)")

                // Another agency's write leaves this agency's kept read alone.
                try await Self.renameQuietly(h, client: brand, to: "Brand Quiet Again")
                _ = try await h.call(.post, "/v1/clients", token: h.tokenB, json: #"{"name":"B's brand","timeZone":"UTC"}"#)
                #expect(try await eventually { changes.announcementsHeard > heard + 1 })
                #expect(try await Self.get(other, "/v1/clients", token: h.tokenA).text.contains("Brand Quiet\""))
            }
        }
    }

    /// A kept answer is gzipped once and sent so to clients that accept it (browsers); others get it as it was.
    @Test func aKeptAnswerIsSentGzippedToClientsThatAcceptIt() async throws {
        try await APIHarness.run { h in
            let plan = try await h.call(.post, "/v1/plans", token: h.tokenA, json: #"{"clientId":"\#(try await h.createClient("Brand"))","startsOn":"2026-03-02"}"#)
            let id = try #require(plan.json["plan"] as? [String: Any])["id"] as? String
            let uri = "/v1/plans/\(try #require(id))/timeline"
            try await Self.otherProcess(h) { other, _ in
                func get(_ acceptEncoding: String?) async throws -> (encoding: String?, vary: String?, body: ByteBuffer) {
                    var headers: HTTPFields = [.authorization: "Bearer \(h.tokenA)"]
                    if let acceptEncoding { headers[.acceptEncoding] = acceptEncoding }
                    return try await other.execute(uri: uri, method: .get, headers: headers, body: nil) {
                        ($0.headers[.contentEncoding], $0.headers[.vary], $0.body)
                    }
                }
                let identity = try await get(nil)  // read and kept
                let plain = try await get(nil)  // served from memory
                #expect(plain.encoding == nil && plain.vary == "Accept-Encoding")
                #expect(plain.body == identity.body)
                var gzipped = try await get("br, gzip;q=0.8, deflate")
                #expect(gzipped.encoding == "gzip" && gzipped.vary == "Accept-Encoding")
                #expect(gzipped.body.readableBytes * 3 < plain.body.readableBytes, "\(gzipped.body.readableBytes) of \(plain.body.readableBytes) bytes")
                #expect(try gzipped.body.decompress(with: .gzip()) == plain.body)
                #expect(try await get("gzip;q=0, identity").encoding == nil, "q=0 refuses gzip")
                #expect(try await get("*").encoding == "gzip")
            }
        }
    }

    @Test func aProcessReadsItsOwnWritesAtOnce() async throws {
        try await APIHarness.run { h in
            try await Self.otherProcess(h) { other, _ in
                #expect(!(try await Self.get(other, "/v1/clients", token: h.tokenA).text.contains("Written Here")))
                let created = try await other.execute(
                    uri: "/v1/clients", method: .post, headers: [.authorization: "Bearer \(h.tokenA)", .contentType: "application/json"],
                    body: ByteBuffer(string: #"{"name":"Written Here","timeZone":"UTC"}"#)) { Int($0.status.code) }
                #expect(created == 201)
                // No waiting: the process's own commit makes what it kept stale.
                #expect(try await Self.get(other, "/v1/clients", token: h.tokenA).text.contains("Written Here"))
            }
        }
    }

    @Test func aRevokedTokenStopsWorkingInEveryProcess() async throws {
        try await APIHarness.run { h in
            let (member, _) = try await h.member(.manager)
            let created = try await h.call(.post, "/v1/tokens", token: h.tokenA, json: #"{"name":"kept","memberId":"\#(member)"}"#)
            let (id, token) = (try #require((created.json["token"] as? [String: Any])?["id"] as? String), try #require(created.string("secret")))
            try await Self.otherProcess(h) { other, _ in
                #expect(try await Self.get(other, "/v1/clients", token: token).status == 200)
                #expect(try await Self.get(other, "/v1/clients", token: token).status == 200, "the checked token is kept")
                let revoked = try await h.call(.post, "/v1/tokens/\(id)/revoke", token: h.tokenA)
                #expect(revoked.status == 200, "\(revoked.text)")
                #expect(try await eventually { try await Self.get(other, "/v1/clients", token: token).status == 401 }, "revoked elsewhere, refused here")
            }
        }
    }

    @Test func withoutListeningNothingIsKept() async throws {
        try await APIHarness.run { h in
            let brand = try await h.createClient("Brand One")
            try await Self.otherProcess(h, listening: false) { other, changes in
                #expect(!changes.isListening)
                #expect(try await Self.get(other, "/v1/clients", token: h.tokenA).text.contains("Brand One"))
                try await Self.renameQuietly(h, client: brand, to: "Brand Quiet")
                #expect(try await Self.get(other, "/v1/clients", token: h.tokenA).text.contains("Brand Quiet"), "read from the database")
            }
        }
    }

    /// Every table that holds an agency's data announces its writes (a table added later must call
    /// `trellis_announce_changes`).
    @Test func everyTenantTableAnnouncesItsWrites() async throws {
        try await withTestDatabase { db in
            let rows = try await db.owner.query("""
                SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname NOT LIKE 'trellis\\_%'
                  AND (c.relname = 'agencies' OR EXISTS (
                      SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'agency_id' AND NOT a.attisdropped))
                  AND NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = 'announce_tenant_change')
                """, logger: db.logger)
            var silent: [String] = []
            for try await name in rows.decode(String.self) { silent.append(name) }
            #expect(silent.isEmpty, "tables whose writes are not announced: \(silent)")
            let count = try await db.owner.query(
                "SELECT count(*)::int8 FROM pg_trigger WHERE tgname = 'announce_tenant_change'", logger: db.logger
            ).collect().first?.decode(Int.self) ?? 0
            #expect(count >= 20, "\(count)")
        }
    }
}

/// The cache on its own: what an entry is served under, and how much is kept.
@Suite("Read cache bounds")
struct ReadCacheBoundsTests {
    static func listeningChanges() -> TenantChanges {
        let changes = TenantChanges()
        changes.listening(true)
        return changes
    }

    @Test func anEntryIsServedOnlyUnderItsStampAndWithinItsLife() async throws {
        let changes = Self.listeningChanges()
        let cache = ReadCache<String, Int>(changes: changes, budget: 1_000)
        let (a, b) = (AgencyID(UUID()), AgencyID(UUID()))
        let stampA = try #require(cache.stamp(a))
        cache.keep(1, for: "a", agency: a, stamp: stampA, ttl: .seconds(60), cost: 10)
        cache.keep(2, for: "b", agency: b, stamp: try #require(cache.stamp(b)), ttl: .seconds(60), cost: 10)
        #expect(cache.value("a") == 1 && cache.value("b") == 2)

        changes.changed(a)
        #expect(cache.value("a") == nil, "agency A changed")
        #expect(cache.value("b") == 2, "agency B did not")

        // Read under the stamp before a change: stale the moment it is kept.
        let before = try #require(cache.stamp(a))
        changes.changed(a)
        cache.keep(3, for: "a", agency: a, stamp: before, ttl: .seconds(60), cost: 10)
        #expect(cache.value("a") == nil)

        cache.keep(4, for: "short", agency: b, stamp: try #require(cache.stamp(b)), ttl: .milliseconds(20), cost: 10)
        #expect(cache.value("short") == 4)
        try await Task.sleep(for: .milliseconds(60))
        #expect(cache.value("short") == nil, "past its life")

        // Not listening (the connection dropped): nothing is served, and what was kept is stale once it is back.
        changes.listening(false)
        #expect(cache.stamp(b) == nil)
        #expect(cache.value("b") == nil)
        changes.listening(true)
        #expect(cache.value("b") == nil)
    }

    @Test func theOldestEntriesGoFirstBeyondTheBudget() throws {
        let changes = Self.listeningChanges()
        let cache = ReadCache<String, Int>(changes: changes, budget: 100)
        let agency = AgencyID(UUID())
        for n in 0..<8 {
            cache.keep(n, for: "k\(n)", agency: agency, stamp: try #require(cache.stamp(agency)), ttl: .seconds(60), cost: 20)
        }
        let kept = (0..<8).filter { cache.value("k\($0)") != nil }
        #expect(kept == [3, 4, 5, 6, 7], "five of cost 20 fit in 100: \(kept)")
        // Larger than a quarter of the budget: not kept at all.
        cache.keep(99, for: "big", agency: agency, stamp: try #require(cache.stamp(agency)), ttl: .seconds(60), cost: 26)
        #expect(cache.value("big") == nil)
        #expect(cache.value("k7") == 7)
    }
}

extension ReadCacheBoundsTests {
    @Test func keepingTheSameKeysAgainAndAgainKeepsTheBookkeepingSmall() throws {
        let changes = Self.listeningChanges()
        let cache = ReadCache<String, Int>(changes: changes, budget: 1 << 20)
        let agency = AgencyID(UUID())
        for n in 0..<20_000 {
            cache.keep(n, for: "k\(n % 3)", agency: agency, stamp: try #require(cache.stamp(agency)), ttl: .seconds(60), cost: 10)
        }
        #expect(cache.bookkeeping.entries == 3)
        #expect(cache.bookkeeping.order <= 2 * 3 + 1_024 + 1, "\(cache.bookkeeping)")
        #expect(cache.value("k1") == 19_999, "the last kept value of k1 (19,999 % 3 == 1)")
    }
}

/// A value tasks share (a `Mutex` alone cannot be captured by a task's closure).
private final class Box<T: Sendable>: Sendable {
    let value: Mutex<T>
    init(_ initial: T) { value = Mutex(initial) }
}

extension ReadCacheBoundsTests {
    @Test func gzipIsSentOnlyWhereAcceptEncodingAllowsIt() {
        #expect(KeptResponse.acceptsGzip(["gzip, deflate, br"]))
        #expect(KeptResponse.acceptsGzip(["br", "GZIP;q=0.5"]))
        #expect(KeptResponse.acceptsGzip(["*"]))
        #expect(!KeptResponse.acceptsGzip([]))
        #expect(!KeptResponse.acceptsGzip(["br, deflate"]))
        #expect(!KeptResponse.acceptsGzip(["gzip;q=0"]))
        #expect(!KeptResponse.acceptsGzip(["gzip;q=0, *"]), "named gzip with q=0 outweighs *")
        #expect(!KeptResponse.acceptsGzip(["*;q=0"]))
    }

    /// What prepares a value for keeping (gzip, for responses) runs for a kept read only.
    @Test func aReadThatCannotBeKeptIsNotPreparedForKeeping() async throws {
        let changes = TenantChanges()  // not listening: nothing can be kept
        let cache = ReadCache<String, Int>(changes: changes, budget: 1 << 20)
        let agency = AgencyID(UUID())
        #expect(try await cache.through("k", agency: agency, ttl: .seconds(60), cost: { _ in 10 }, keeping: { $0 * 10 }) { 7 } == 7)
        changes.listening(true)
        #expect(try await cache.through("k", agency: agency, ttl: .seconds(60), cost: { _ in 10 }, keeping: { $0 * 10 }) { 7 } == 70)
        #expect(cache.value("k") == 70)
    }

    /// 16 callers miss the same entry together (it just went stale): one read, one value for all.
    @Test func callersThatMissTogetherShareOneRead() async throws {
        let changes = Self.listeningChanges()
        let cache = ReadCache<String, Int>(changes: changes, budget: 1 << 20)
        let agency = AgencyID(UUID())
        let reads = Box(0)
        let values = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    try await cache.through("timeline", agency: agency, ttl: .seconds(60), cost: { _ in 10 }) {
                        let n = reads.value.withLock { $0 += 1; return $0 }
                        try await Task.sleep(for: .milliseconds(200))
                        return 100 + n
                    }
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(reads.value.withLock { $0 } == 1)
        #expect(values == Array(repeating: 101, count: 16))
        #expect(cache.flightsUnderWay == 0)
    }

    /// A read that began before a change is not shared with callers who come after it.
    @Test func aCallerAfterAChangeDoesNotShareAReadFromBeforeIt() async throws {
        let changes = Self.listeningChanges()
        let cache = ReadCache<String, Int>(changes: changes, budget: 1 << 20)
        let agency = AgencyID(UUID())
        let started = Box(false)
        let before = Task {
            try await cache.through("k", agency: agency, ttl: .seconds(60), cost: { _ in 10 }) {
                started.value.withLock { $0 = true }
                try await Task.sleep(for: .milliseconds(400))
                return 1
            }
        }
        while !started.value.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
        changes.changed(agency)
        let after = try await cache.through("k", agency: agency, ttl: .seconds(60), cost: { _ in 10 }) { 2 }
        #expect(after == 2, "read again: the read under way began before the change")
        #expect(try await before.value == 1)
        #expect(cache.value("k") == 2, "the older read, kept under its older stamp, did not replace it")
        #expect(cache.flightsUnderWay == 0)
    }

    /// When the shared read fails, those waiting for it read for themselves; the failure is the leader's alone.
    @Test func whenTheSharedReadFailsTheWaitersReadThemselves() async throws {
        struct Boom: Error {}
        let changes = Self.listeningChanges()
        let cache = ReadCache<String, Int>(changes: changes, budget: 1 << 20)
        let agency = AgencyID(UUID())
        let reads = Box(0)
        let outcomes = await withTaskGroup(of: Int?.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    try? await cache.through("k", agency: agency, ttl: .seconds(60), cost: { _ in 10 }) {
                        let n = reads.value.withLock { $0 += 1; return $0 }
                        try await Task.sleep(for: .milliseconds(150))
                        if n == 1 { throw Boom() }
                        return 7
                    }
                }
            }
            return await group.reduce(into: [Int?]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == nil }.count == 1, "only the first read failed: \(outcomes)")
        #expect(outcomes.filter { $0 == 7 }.count == 7)
        #expect(cache.flightsUnderWay == 0)
    }
}
