import Foundation
import PostgresNIO
import Testing
import TrellisDomain
import TrellisStore
import TrellisTestSupport

/// Credentials carry their agency, so they are found by (agency, hash): one shard on Citus.
@Suite("Credential look-ups by agency")
struct CredentialLookupTests {
    static let owner = MemberDraft(email: "owner@a.example", displayName: "Owner", role: .owner, clientID: nil, weeklyCapacityHours: 40)

    @Test func aNewTokenCarriesItsAgencyAndOnlyThatAgencyFindsIt() async throws {
        try await withTestDatabase { db in
            let database = db.apiDatabase
            let (a, ownerA, secretA) = try await AgencyProvisioning.createAgency(
                database: db.tenantDatabase, name: "A", slug: "agency-a", owner: Self.owner, passwordHash: nil)
            let (b, _, _) = try await AgencyProvisioning.createAgency(
                database: db.tenantDatabase, name: "B", slug: "agency-b", owner: Self.owner, passwordHash: nil)
            #expect(CredentialStore.agency(ofSecret: secretA, prefix: "trl_") == a)
            let store = CredentialStore(logger: db.logger)
            let found = try await database.withSingleStatement { try await store.authenticateToken(secretA, on: $0) }
            #expect(found?.0.agencyID == a)
            #expect(found?.0.memberID.rawValue == ownerA)

            // The same random part under another agency's id is not a credential.
            let body = secretA.dropFirst("trl_".count)
            let otherID = CredentialStore.newSecret(prefix: "trl_", agency: b).prefix("trl_".count + 22)
            let forged = String(otherID) + body.dropFirst(22)
            #expect(CredentialStore.agency(ofSecret: forged, prefix: "trl_") == b)
            #expect(try await database.withSingleStatement { try await store.authenticateToken(forged, on: $0) } == nil)

            // Text that is not a credential of this shape names no agency.
            #expect(CredentialStore.agency(ofSecret: "trl_short", prefix: "trl_") == nil)
            #expect(CredentialStore.agency(ofSecret: "trs_" + body, prefix: "trl_") == nil)
        }
    }

    /// A token's last use is written at most once a minute, so requests that share a token do not queue on its row.
    @Test func aTokensLastUseIsWrittenAtMostOnceAMinute() async throws {
        try await withTestDatabase { db in
            let (a, ownerA, _) = try await AgencyProvisioning.createAgency(
                database: db.tenantDatabase, name: "A", slug: "agency-a", owner: Self.owner, passwordHash: nil)
            let store = CredentialStore(logger: db.logger)
            let (record, secret) = try await db.tenantDatabase.withTenant(a) { try await store.createToken(member: ownerA, name: "x", on: $0) }
            func use() async throws {
                #expect(try await db.apiDatabase.withSingleStatement { try await store.authenticateToken(secret, on: $0) } != nil)
            }
            func lastUse() async throws -> Date? {
                let rows = try await db.owner.query("SELECT last_used_at FROM api_tokens WHERE id = \(record.id)", logger: db.logger)
                for try await value in rows.decode(Date?.self) { return value }
                return nil
            }
            try await use()
            let first = try #require(try await lastUse())
            try await use()
            #expect(try await lastUse() == first, "a second use within the minute writes nothing")
            try await db.owner.query(
                "UPDATE api_tokens SET last_used_at = now() - interval '61 seconds' WHERE id = \(record.id)", logger: db.logger)
            let aged = try #require(try await lastUse())
            try await use()
            let after = try #require(try await lastUse())
            #expect(after > aged, "a use a minute later is written")
        }
    }

    /// A token list shows what the secret really holds, in order: `trl_`, an ellipsis for the agency's id (the same in
    /// every token of the agency), then the first characters of the random part.
    @Test func aTokenIsShownByItsRandomPartNotItsAgency() async throws {
        try await withTestDatabase { db in
            let (a, ownerA, _) = try await AgencyProvisioning.createAgency(
                database: db.tenantDatabase, name: "A", slug: "agency-a", owner: Self.owner, passwordHash: nil)
            let store = CredentialStore(logger: db.logger)
            let (record, secret) = try await db.tenantDatabase.withTenant(a) { try await store.createToken(member: ownerA, name: "x", on: $0) }
            let random = secret.dropFirst("trl_".count + 22)
            #expect(record.prefix == "trl_…" + random.prefix(6), "\(record.prefix) for \(secret)")
        }
    }

    /// A token or session issued before credentials carried their agency (the prefix and 32 random bytes) is still
    /// found, by its hash alone.
    @Test func anOlderTokenWithoutItsAgencyStillWorks() async throws {
        try await withTestDatabase { db in
            let (a, ownerA, _) = try await AgencyProvisioning.createAgency(
                database: db.tenantDatabase, name: "A", slug: "agency-a", owner: Self.owner, passwordHash: nil)
            let legacy = CredentialStore.newSecret(prefix: "trl_")
            #expect(CredentialStore.agency(ofSecret: legacy, prefix: "trl_") == nil)
            try await db.tenantDatabase.withTenant(a) { connection in
                try await connection.query("""
                    INSERT INTO api_tokens (agency_id, id, member_id, name, token_hash, prefix)
                    VALUES (\(a.rawValue), \(UUID()), \(ownerA), 'old', \(CredentialStore.hash(legacy)), 'trl_old')
                    """, logger: db.logger)
            }
            let store = CredentialStore(logger: db.logger)
            let found = try await db.apiDatabase.withSingleStatement { try await store.authenticateToken(legacy, on: $0) }
            #expect(found?.0.agencyID == a)

            // A session from before, found the same way.
            let oldSession = CredentialStore.newSecret(prefix: "trs_")
            try await db.tenantDatabase.withTenant(a) { connection in
                try await connection.query("""
                    INSERT INTO sessions (agency_id, id, member_id, secret_hash, csrf_token, expires_at)
                    VALUES (\(a.rawValue), \(UUID()), \(ownerA), \(CredentialStore.hash(oldSession)), 'csrf', now() + interval '1 hour')
                    """, logger: db.logger)
            }
            let session = try await db.apiDatabase.withSingleStatement { try await store.authenticateSession(oldSession, on: $0) }
            #expect(session?.0.agencyID == a && session?.csrfToken == "csrf")
            #expect(try await db.apiDatabase.withSingleStatement { try await store.authenticateSession(CredentialStore.newSecret(prefix: "trs_"), on: $0) } == nil)
        }
    }

    @Test func sessionsAndPasswordSignInGoByAgency() async throws {
        try await withTestDatabase { db in
            let (a, ownerA, _) = try await AgencyProvisioning.createAgency(
                database: db.tenantDatabase, name: "A", slug: "agency-a", owner: Self.owner, passwordHash: "not-a-real-hash")
            let store = CredentialStore(logger: db.logger)
            let candidate = try await db.apiDatabase.withSystem {
                try await store.loginCandidate(agencySlug: "agency-a", email: "OWNER@a.example", on: $0)
            }
            #expect(candidate?.agency == a)
            #expect(candidate?.member == ownerA)
            #expect(try await db.apiDatabase.withSystem { try await store.loginCandidate(agencySlug: "agency-b", email: "owner@a.example", on: $0) } == nil)

            let session = try await db.apiDatabase.withTenant(a) {
                try await store.createSession(member: ownerA, lifetime: .seconds(600), on: $0)
            }
            #expect(CredentialStore.agency(ofSecret: session.secret, prefix: "trs_") == a)
            let found = try await db.apiDatabase.withSingleStatement { try await store.authenticateSession(session.secret, on: $0) }
            #expect(found?.0.agencyID == a)
            #expect(found?.csrfToken == session.csrfToken)
        }
    }
}
