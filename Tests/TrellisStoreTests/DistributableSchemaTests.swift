import Foundation
import PostgresNIO
import Testing
import TrellisDomain
import TrellisStore
import TrellisTestSupport

/// What Citus needs to distribute the tenant tables by agency, checked on the migrated catalog and on the store's SQL,
/// so that a new table, key or query that would not distribute fails here rather than on a cluster.
@Suite("Distributable schema")
struct DistributableSchemaTests {
    // MARK: The catalog

    @Test func everyTenantKeyLeadsWithTheAgencyAndEveryTableHasAPlace() async throws {
        try await withTestDatabase { db in
            let layout = try await SchemaLayout.read(db.owner, logger: db.logger)
            #expect(layout.tenant.count >= 20, "tenant tables found: \(layout.tenant.sorted())")
            #expect(layout.reference == ["agencies"])
            #expect(layout.coordinatorLocal.contains("trellis_jobs"))
            let violations = try await SchemaLayout.violations(db.owner, logger: db.logger)
            #expect(violations.isEmpty, "\(violations.joined(separator: "\n"))")
        }
    }

    /// The check itself finds each kind of mistake: a table with no place, a primary key, a unique key and a foreign key
    /// that do not lead with agency_id, a foreign key that sets NULL on delete, and a coordinator table that points at a
    /// tenant table.
    @Test func theCatalogCheckFindsEachKindOfMistake() async throws {
        try await withTestDatabase { db in
            try await db.owner.query("""
                CREATE TABLE stray (id uuid PRIMARY KEY)
                """, logger: db.logger)
            try await db.owner.query("ALTER TABLE clients ADD CONSTRAINT clients_id_agency_key UNIQUE (id, agency_id)", logger: db.logger)
            try await db.owner.query("""
                CREATE TABLE bad_tenant (agency_id uuid NOT NULL, id uuid NOT NULL, code text NOT NULL UNIQUE, client_id uuid,
                    PRIMARY KEY (id, agency_id), FOREIGN KEY (client_id, agency_id) REFERENCES clients (id, agency_id))
                """, logger: db.logger)
            try await db.owner.query("""
                CREATE TABLE contact_notes (agency_id uuid NOT NULL, id uuid NOT NULL, contact_id uuid, PRIMARY KEY (agency_id, id),
                    FOREIGN KEY (agency_id, contact_id) REFERENCES client_contacts (agency_id, id) ON DELETE SET NULL (contact_id))
                """, logger: db.logger)
            try await db.owner.query("""
                CREATE TABLE trellis_bad_local (agency_id uuid, client_id uuid, FOREIGN KEY (agency_id, client_id) REFERENCES clients (agency_id, id))
                """, logger: db.logger)
            let violations = try await SchemaLayout.violations(db.owner, logger: db.logger)
            let text = violations.joined(separator: "\n")
            #expect(violations.contains { $0.hasPrefix("stray:") && $0.contains("neither") }, "\(text)")
            #expect(violations.contains { $0.hasPrefix("bad_tenant:") && $0.contains("primary key") }, "\(text)")
            #expect(violations.contains { $0.hasPrefix("bad_tenant:") && $0.contains("bad_tenant_code_key") }, "\(text)")
            #expect(violations.contains { $0.hasPrefix("bad_tenant:") && $0.contains("foreign key") }, "\(text)")
            #expect(violations.contains { $0.hasPrefix("clients:") && $0.contains("clients_id_agency_key") }, "\(text)")
            #expect(violations.contains { $0.hasPrefix("contact_notes:") && $0.contains("sets NULL") }, "\(text)")
            #expect(violations.contains { $0.hasPrefix("trellis_bad_local:") && $0.contains("tenant table") }, "\(text)")
        }
    }

    /// The one foreign key that set NULL (a portal member's contact, 0010) is cleared by the store now (0013).
    @Test func deletingAContactKeepsItsPortalMemberWithoutTheLink() async throws {
        try await withTestDatabase { db in
            let owner = MemberDraft(email: "owner@a.example", displayName: "Owner", role: .owner, clientID: nil, weeklyCapacityHours: 40)
            let (agency, ownerID, _) = try await AgencyProvisioning.createAgency(
                database: db.tenantDatabase, name: "A", slug: "agency-a", owner: owner, passwordHash: nil)
            let logger = db.logger
            let (member, contact) = try await db.tenantDatabase.withTenant(agency) { connection in
                let client = try await ClientStore(logger: logger).create(id: UUID(), ClientDraft(
                    name: "Brand", slug: "brand", industry: nil, timeZone: "Europe/Madrid", status: .active, channels: [], goals: []), on: connection)
                let contact = try await PeopleStore(logger: logger).createContact(id: UUID(), ContactDraft(
                    clientID: ClientID(client.id), name: "Casey", email: "casey@brand.example", title: nil, weeklyCapacityHours: nil), on: connection)
                _ = try await ShareLinkStore(logger: logger).create(
                    client: client.id, contact: contact.id, createdBy: MemberID(ownerID), lifetime: .seconds(3600), on: connection)
                let rows = try await connection.query(
                    "SELECT id FROM members WHERE agency_id = \(agency.rawValue) AND contact_id = \(contact.id)", logger: logger)
                var member: UUID?
                for try await id in rows.decode(UUID.self) { member = id }
                return (member, contact.id)
            }
            let portalMember = try #require(member)
            try await db.tenantDatabase.withTenant(agency) { try await PeopleStore(logger: logger).deleteContact(contact, on: $0) }
            let (kept, links) = try await db.tenantDatabase.withTenant(agency) { connection in
                let kept = try await PeopleStore(logger: logger).member(portalMember, on: connection)
                var links = -1
                for try await n in try await connection.query(
                    "SELECT count(*)::int8 FROM share_links WHERE agency_id = \(agency.rawValue)", logger: logger).decode(Int.self) { links = n }
                return (kept, links)
            }
            #expect(kept.displayName == "Casey")
            #expect(links == 0, "the contact's links go with it")
        }
    }

    // MARK: The store's queries

    @Test func everyStoreQueryOnATenantTableNamesItsAgency() async throws {
        try await withTestDatabase { db in
            let tenant = try await SchemaLayout.read(db.owner, logger: db.logger).tenant
            let sources = try StoreSQL.sourceFiles()
            #expect(sources.count >= 10, "store sources found: \(sources.map(\.lastPathComponent))")
            var checked = 0
            var missing: [String] = []
            for file in sources {
                let literals = StoreSQL.literals(in: try String(contentsOf: file, encoding: .utf8))
                let report = StoreSQL.unscoped(literals, tenantTables: tenant)
                checked += report.checked
                missing += report.unscoped.map { "\(file.lastPathComponent):\($0.line): \($0.text.prefix(160))" }
            }
            #expect(checked >= 70, "statements on tenant tables found: \(checked)")
            #expect(missing.isEmpty, "store queries with no agency_id condition:\n\(missing.joined(separator: "\n"))")
        }
    }

    @Test func theQueryCheckFindsAQueryWithoutItsAgency() {
        let source = #"""
            let a = try await connection.query("SELECT name FROM clients WHERE id = \(id)", logger: logger)
            let b = try await connection.query("SELECT name FROM clients WHERE agency_id = \(connection.agency.rawValue) AND id = \(id)", logger: logger)
            let c = try await connection.query("""
                UPDATE plans p SET name = \(name) FROM clients c WHERE c.agency_id = p.agency_id AND p.id = \(id)
                """, logger: logger)
            static let fragment = """
                SELECT count(*) FROM plan_tasks t WHERE t.agency_id = p.agency_id AND t.plan_id = p.id
                """
            static let orphan = """
                SELECT t.name FROM plan_tasks t JOIN plans p ON p.agency_id = t.agency_id WHERE p.id = $2
                """
            let d = try await connection.query("INSERT INTO clients (id, agency_id) VALUES (\(id), \(agency))", logger: logger)
            let e = try await connection.query("INSERT INTO clients (agency_id, id) VALUES (\(agency), \(id))", logger: logger)
            """#
        let report = StoreSQL.unscoped(StoreSQL.literals(in: source), tenantTables: ["clients", "plans", "plan_tasks"])
        #expect(report.checked == 7)
        // a: no agency; c: joined by agency but never naming one; fragment and orphan: a correlation or a join only;
        // d: agency_id not first.
        #expect(report.unscoped.map(\.line) == [1, 3, 6, 9, 12], "\(report.unscoped)")
    }

    // MARK: The agency per transaction

    /// On one pooled connection, each transaction sees its own agency and the next one starts with none, whether the
    /// previous one committed or rolled back.
    @Test func theAgencyIsSetPerTransactionAndNeverLeaksToTheNext() async throws {
        try await withTestDatabase { db in
            let a = AgencyID(UUID()), b = AgencyID(UUID())
            let client = PostgresClient(configuration: db.appSettings.clientConfiguration(maximumConnections: 1), backgroundLogger: db.logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await client.run() }
                let database = TenantDatabase(client: client, logger: db.logger, connectionWait: .seconds(60))
                let current = { @Sendable (connection: PostgresConnection) async throws -> String in
                    let rows = try await connection.query(
                        "SELECT coalesce(current_setting('trellis.agency_id', true), '') || '|' || pg_backend_pid()", logger: db.logger)
                    for try await value in rows.decode(String.self) { return value }
                    return "?"
                }
                let inA = try await database.withTenant(a) { try await current($0.connection) }
                let afterA = try await database.withSystem(current)
                let inB = try await database.withTenant(b) { try await current($0.connection) }
                struct Abandon: Error {}
                await #expect(throws: Abandon.self) {
                    try await database.withTenant(a) { connection in
                        _ = try await current(connection.connection)
                        throw Abandon()
                    }
                }
                let afterRollback = try await database.withSystem(current)
                let outsideAnyTransaction = try await database.withSingleStatement(current)
                let sides = [inA, afterA, inB, afterRollback, outsideAnyTransaction].map { $0.split(separator: "|", omittingEmptySubsequences: false) }
                #expect(Set(sides.map { $0[1] }).count == 1, "one pooled connection throughout: \(sides)")
                #expect(sides.map { String($0[0]).lowercased() } == [a.rawValue.uuidString.lowercased(), "", b.rawValue.uuidString.lowercased(), "", ""])
                group.cancelAll()
            }
        }
    }
}

/// Which place each table of the schema has on Citus, read from the catalog: tenant tables (an `agency_id` column) are
/// distributed by agency, `agencies` is a reference table, and the `trellis_` tables (the queue, its leader and cron
/// slots, the migration log) stay local to the coordinator.
struct SchemaLayout {
    var tenant: Set<String>
    var reference: Set<String>
    var coordinatorLocal: Set<String>

    static let referenceTables: Set<String> = ["agencies"]

    static func read(_ client: PostgresClient, logger: Logger) async throws -> SchemaLayout {
        var layout = SchemaLayout(tenant: [], reference: [], coordinatorLocal: [])
        let rows = try await client.query("""
            SELECT c.relname, EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'agency_id' AND NOT a.attisdropped)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
            """, logger: logger)
        for try await (name, hasAgency) in rows.decode((String, Bool).self) {
            if referenceTables.contains(name) { layout.reference.insert(name) }
            else if name.hasPrefix("trellis_") { layout.coordinatorLocal.insert(name) }
            else if hasAgency { layout.tenant.insert(name) }
        }
        return layout
    }

    /// Every way the schema would not distribute, one line each, starting with the table's name.
    static func violations(_ client: PostgresClient, logger: Logger) async throws -> [String] {
        let layout = try await read(client, logger: logger)
        var found: [String] = []
        let tables = try await client.query("""
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1
            """, logger: logger)
        for try await name in tables.decode(String.self)
        where !layout.tenant.contains(name) && !layout.reference.contains(name) && !layout.coordinatorLocal.contains(name) {
            found.append("\(name): neither a tenant table (no agency_id), a reference table nor a coordinator (trellis_) table")
        }
        // Primary keys and unique indexes (constraints or not) of tenant tables: the first column is agency_id.
        let keys = try await client.query("""
            SELECT t.relname, i.relname, x.indisprimary, coalesce(a.attname, '(expression)')
            FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_namespace n ON n.oid = t.relnamespace
            LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0]
            WHERE n.nspname = 'public' AND x.indisunique ORDER BY 1, 2
            """, logger: logger)
        for try await (table, index, primary, first) in keys.decode((String, String, Bool, String).self)
        where layout.tenant.contains(table) && first != "agency_id" {
            found.append("\(table): \(primary ? "primary key" : "unique key") \(index) leads with \(first), not agency_id")
        }
        for table in layout.tenant.sorted() {
            let hasPrimary = try await client.query(
                "SELECT count(*)::int8 FROM pg_index WHERE indrelid = \(table)::regclass AND indisprimary", logger: logger)
            for try await n in hasPrimary.decode(Int.self) where n == 0 { found.append("\(table): no primary key") }
        }
        // Foreign keys: between tenant tables they lead with agency_id on both sides; a coordinator table never points
        // at a tenant table (a local table cannot reference a distributed one).
        let foreignKeys = try await client.query("""
            SELECT f.relname, k.conname, r.relname, fa.attname, ra.attname, k.confdeltype IN ('n', 'd') OR k.confupdtype IN ('n', 'd')
            FROM pg_constraint k JOIN pg_class f ON f.oid = k.conrelid JOIN pg_class r ON r.oid = k.confrelid
            JOIN pg_namespace n ON n.oid = f.relnamespace
            JOIN pg_attribute fa ON fa.attrelid = f.oid AND fa.attnum = k.conkey[1]
            JOIN pg_attribute ra ON ra.attrelid = r.oid AND ra.attnum = k.confkey[1]
            WHERE n.nspname = 'public' AND k.contype = 'f' ORDER BY 1, 2
            """, logger: logger)
        for try await (from, name, to, fromFirst, toFirst, setsNull) in foreignKeys.decode((String, String, String, String, String, Bool).self) {
            if layout.tenant.contains(from) && setsNull {
                found.append("\(from): foreign key \(name) sets NULL or a default on delete or update (Citus refuses it on a distributed key)")
            }
            if layout.tenant.contains(from) && layout.tenant.contains(to) && (fromFirst != "agency_id" || toFirst != "agency_id") {
                found.append("\(from): foreign key \(name) to \(to) leads with \(fromFirst) → \(toFirst), not agency_id")
            }
            if layout.tenant.contains(from) && layout.coordinatorLocal.contains(to) {
                found.append("\(from): foreign key \(name) points at the coordinator table \(to)")
            }
            if !layout.tenant.contains(from) && layout.tenant.contains(to) {
                found.append("\(from): foreign key \(name) points at the tenant table \(to) from a table that is not distributed")
            }
        }
        return found
    }
}

/// The SQL of the store's Swift sources, read as text: every string literal, and which of those that touch a tenant table
/// leave one of its tables without the agency. Each table a statement names (in FROM, JOIN, UPDATE or INSERT INTO,
/// subqueries and fragments included) must be tied to a value: `agency_id = <value>` for a table without an alias,
/// `x.agency_id = <value>` for the alias `x`, where the value is interpolated (`\(…)`) or a parameter (`$n`); an insert
/// names `agency_id` as its first column. A join such as `t.agency_id = p.agency_id` is not enough: inside a subquery
/// Citus does not carry it over, and sends the statement to every shard.
enum StoreSQL {
    struct Literal: Sendable {
        var line: Int
        var text: String
    }

    static func sourceFiles() throws -> [URL] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/TrellisStore")
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return [] }
        return walker.compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }.sorted { $0.path < $1.path }
    }

    /// Multi-line (`"""…"""`) and one-line (`"…"`) literals with the line they start on.
    static func literals(in source: String) -> [Literal] {
        let pattern = #/"""\n(?<multi>(?:.|\n)*?)"""|"(?<single>(?:[^"\\\n]|\\.)*)"/#
        var found: [Literal] = []
        for match in source.matches(of: pattern) {
            let text = String(match.output.multi ?? match.output.single ?? "")
            let line = source[..<match.range.lowerBound].reduce(1) { $1 == "\n" ? $0 + 1 : $0 }
            found.append(Literal(line: line, text: text))
        }
        return found
    }

    /// Word boundaries as in most regex engines (`.` between letters is one): Unicode's default would read `p.agency_id` as
    /// one word.
    static func unscoped(_ literals: [Literal], tenantTables: Set<String>) -> (checked: Int, unscoped: [Literal]) {
        var checked = 0
        var unscoped: [Literal] = []
        let occurrence = (#/\b(?:FROM|JOIN|UPDATE|INTO)\s+(?<table>[a-z_]+)(?:\s+(?:AS\s+)?(?<alias>[a-z]{1,2})\b)?/#).wordBoundaryKind(.simple)
        for literal in literals {
            let sql = literal.text
            let uses = sql.matches(of: occurrence).filter { tenantTables.contains(String($0.output.table)) }
            guard !uses.isEmpty else { continue }
            checked += 1
            let inserts = sql.contains((#/INSERT INTO [a-z_]+ \(agency_id\b/#).wordBoundaryKind(.simple))
            let tied = uses.allSatisfy { use in
                if let alias = use.output.alias {
                    let tie = try? Regex("\\b\(alias)\\.agency_id\\s*=\\s*(?:\\\\\\(|\\$\\d)")
                    return tie.map { sql.contains($0.wordBoundaryKind(.simple)) } ?? false
                }
                if sql[use.range].hasPrefix("INTO") { return inserts }
                return sql.contains((#/(?:^|[^.\w])agency_id\s*=\s*(?:\\\(|\$\d)/#).wordBoundaryKind(.simple))
            }
            if !tied { unscoped.append(literal) }
        }
        return (checked, unscoped)
    }
}
