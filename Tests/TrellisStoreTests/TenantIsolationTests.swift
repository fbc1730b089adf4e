import Foundation
import PostgresNIO
import Testing
import TrellisDomain
import TrellisStore
import TrellisTestSupport

/// Row-level security proved against the real database, as the application's role sees it.
@Suite("Tenant isolation")
struct TenantIsolationTests {
    static let owner = MemberDraft(email: "owner@a.example", displayName: "Owner", role: .owner, clientID: nil, weeklyCapacityHours: 40)

    func twoAgencies(_ db: TestDatabase) async throws -> (AgencyID, AgencyID) {
        let database = db.tenantDatabase
        let (a, _, _) = try await AgencyProvisioning.createAgency(database: database, name: "A", slug: "agency-a", owner: Self.owner, passwordHash: nil)
        let (b, _, _) = try await AgencyProvisioning.createAgency(database: database, name: "B", slug: "agency-b", owner: Self.owner, passwordHash: nil)
        let store = ClientStore(logger: db.logger)
        for (agency, names) in [(a, ["Alpha", "Apex", "Arc"]), (b, ["Beta", "Bolt"])] {
            try await database.withTenant(agency) { connection in
                for name in names {
                    _ = try await store.create(id: UUID(), ClientDraft(
                        name: name, slug: Slug.make(from: name), industry: nil, timeZone: "Europe/Madrid", status: .active, channels: [], goals: []),
                        on: connection)
                }
            }
        }
        return (a, b)
    }

    @Test func theApplicationRoleCannotBypassRowLevelSecurity() async throws {
        try await withTestDatabase { db in
            let rows = try await db.app.query("SELECT rolbypassrls, rolsuper FROM pg_roles WHERE rolname = current_user", logger: db.logger)
            for try await (bypass, superuser) in rows.decode((Bool, Bool).self) {
                #expect(bypass == false)
                #expect(superuser == false)
            }
            // Every table with an agency_id column has RLS enabled and a policy.
            let unprotected = try await db.owner.query("""
                SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'agency_id'
                JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind = 'r' AND n.nspname = 'public' AND c.relname NOT LIKE 'trellis\\_%'
                  AND (NOT c.relrowsecurity OR NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid))
                """, logger: db.logger)
            var names: [String] = []
            for try await name in unprotected.decode(String.self) { names.append(name) }
            #expect(names.isEmpty, "tenant tables without row-level security: \(names)")
        }
    }

    @Test func aQueryWithoutAnyAgencyFilterSeesOnlyTheCurrentAgency() async throws {
        try await withTestDatabase { db in
            let (a, b) = try await twoAgencies(db)
            let database = db.tenantDatabase
            let unfiltered = { @Sendable (connection: PostgresConnection) async throws -> [String] in
                var names: [String] = []
                let rows = try await connection.query("SELECT name FROM clients ORDER BY name", logger: db.logger)
                for try await name in rows.decode(String.self) { names.append(name) }
                return names
            }
            #expect(try await database.withTenant(a, { try await unfiltered($0.connection) }) == ["Alpha", "Apex", "Arc"])
            #expect(try await database.withTenant(b, { try await unfiltered($0.connection) }) == ["Beta", "Bolt"])
            // No agency set: nothing at all.
            #expect(try await database.withSystem(unfiltered) == [])
            // The owner role (migrations, admin) sees all five: the rows are really there.
            let all = try await db.owner.query("SELECT count(*) FROM clients", logger: db.logger)
            for try await count in all.decode(Int.self) { #expect(count == 5) }
            // Roles and members too: each agency sees its own ten roles and one owner.
            let roles = try await database.withTenant(a) { try await RoleStore(logger: db.logger).list(includeArchived: true, on: $0) }
            #expect(roles.count == HybridRole.builtInCatalog.count)
        }
    }

    @Test func writingARowForAnotherAgencyIsRefused() async throws {
        try await withTestDatabase { db in
            let (a, b) = try await twoAgencies(db)
            let database = db.tenantDatabase
            await #expect(throws: PSQLError.self) {
                try await database.withTenant(a) { connection in
                    try await connection.query("""
                        INSERT INTO clients (agency_id, id, name, slug, time_zone) VALUES (\(b.rawValue), \(UUID()), 'Sneaky', 'sneaky', 'UTC')
                        """, logger: db.logger)
                }
            }
            // Updating or deleting another agency's rows touches nothing.
            let touched = try await database.withTenant(a) { connection in
                var count = 0
                let rows = try await connection.query("UPDATE clients SET name = 'Hijacked' WHERE agency_id = \(b.rawValue) RETURNING id", logger: db.logger)
                for try await _ in rows { count += 1 }
                let deleted = try await connection.query("DELETE FROM clients WHERE agency_id = \(b.rawValue) RETURNING id", logger: db.logger)
                for try await _ in deleted { count += 1 }
                return count
            }
            #expect(touched == 0)
            // Moving one's own row into another agency is refused too.
            await #expect(throws: PSQLError.self) {
                try await database.withTenant(a) { connection in
                    try await connection.query("UPDATE clients SET agency_id = \(b.rawValue)", logger: db.logger)
                }
            }
            let names = try await db.owner.query("SELECT name FROM clients WHERE agency_id = \(b.rawValue) ORDER BY name", logger: db.logger)
            var seen: [String] = []
            for try await name in names.decode(String.self) { seen.append(name) }
            #expect(seen == ["Beta", "Bolt"])
        }
    }

    /// Row-level security binds the tables' owner too: only the credential functions' own role passes it.
    @Test func rowLevelSecurityIsForcedOnEveryTenantTable() async throws {
        try await withTestDatabase { db in
            let rows = try await db.owner.query("""
                SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'agency_id'
                JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname NOT LIKE 'trellis\\_%' AND NOT c.relforcerowsecurity
                """, logger: db.logger)
            var unforced: [String] = []
            for try await name in rows.decode(String.self) { unforced.append(name) }
            #expect(unforced.isEmpty, "tables without FORCE ROW LEVEL SECURITY: \(unforced)")
            let functions = try await db.owner.query("""
                SELECT p.proname, r.rolname, r.rolbypassrls FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner
                WHERE p.prosecdef AND p.pronamespace = 'public'::regnamespace ORDER BY 1
                """, logger: db.logger)
            for try await (name, owner, bypass) in functions.decode((String, String, Bool).self) {
                #expect(owner == "trellis_definer" && bypass, "\(name) is owned by \(owner)")
            }
        }
    }

    /// The API's role reads and changes its agency's jobs only; the whole queue is the worker's.
    @Test func theAPIRoleSeesOnlyItsAgencysJobsAndNoQueueMachinery() async throws {
        try await withTestDatabase { db in
            let (a, b) = try await twoAgencies(db)
            try await db.owner.query("""
                INSERT INTO trellis_jobs (agency_id, queue, kind, args) VALUES (\(a.rawValue), 'default', 'x.y', '{}'), (\(b.rawValue), 'default', 'x.y', '{}'),
                    (NULL, 'default', 'system.noop', '{}')
                """, logger: db.logger)
            func count(_ database: TenantDatabase, _ agency: AgencyID?) async throws -> Int {
                let work: @Sendable (PostgresConnection) async throws -> Int = { connection in
                    for try await n in try await connection.query("SELECT count(*)::int8 FROM trellis_jobs", logger: db.logger).decode(Int.self) { return n }
                    return -1
                }
                if let agency { return try await database.withTenant(agency, { try await work($0.connection) }) }
                return try await database.withSystem(work)
            }
            #expect(try await count(db.apiDatabase, nil) == 0, "no agency set: the API role sees no job")
            #expect(try await count(db.apiDatabase, a) == 1, "its own agency's job only")
            #expect(try await count(db.tenantDatabase, nil) == 3, "the worker's role sees the whole queue")
            await #expect(throws: PSQLError.self) {
                try await db.apiDatabase.withTenant(a) { connection in
                    try await connection.query("INSERT INTO trellis_jobs (agency_id, queue, kind, args) VALUES (\(b.rawValue), 'default', 'x.y', '{}')", logger: db.logger)
                }
            }
            for table in ["trellis_leader", "trellis_cron_slots", "trellis_queue_state"] {
                await #expect(throws: PSQLError.self, "the API role has no rights on \(table)") {
                    try await db.apiDatabase.withSystem { connection in
                        try await connection.query("SELECT count(*) FROM \(unescaped: table)", logger: db.logger)
                    }
                }
            }
        }
    }
}
