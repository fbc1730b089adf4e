import Foundation
import PostgresNIO
import TrellisDomain

/// The agency's catalog of hybrid roles, seeded from the articles and editable.
public struct RoleStore: Sendable {
    public let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    static let columns = "id, key, name, description, built_in, archived_at"

    /// Copies the built-in catalog into a new agency (idempotent on the role key).
    public func seedCatalog(on connection: TenantConnection) async throws {
        for role in HybridRole.builtInCatalog {
            try await connection.query("""
                INSERT INTO roles (agency_id, id, key, name, description, built_in)
                VALUES (\(connection.agencyID), \(UUID()), \(role.key), \(role.name), \(role.description), true)
                ON CONFLICT (agency_id, key) DO NOTHING
                """, logger: logger)
        }
    }

    public func list(includeArchived: Bool, on connection: TenantConnection) async throws -> [RoleRecord] {
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.columns) FROM roles WHERE agency_id = \(connection.agencyID)
              AND (\(includeArchived) OR archived_at IS NULL) ORDER BY name, id
            """, logger: logger)
        var roles: [RoleRecord] = []
        for try await row in rows { roles.append(try Self.decode(row)) }
        return roles
    }

    public func get(_ id: UUID, on connection: TenantConnection) async throws -> RoleRecord {
        try await Self.one(try await connection.query("""
            SELECT \(unescaped: Self.columns) FROM roles WHERE agency_id = \(connection.agencyID) AND id = \(id)
            """, logger: logger))
    }

    public func byKey(_ key: String, on connection: TenantConnection) async throws -> RoleRecord {
        try await Self.one(try await connection.query("""
            SELECT \(unescaped: Self.columns) FROM roles WHERE agency_id = \(connection.agencyID) AND key = \(key)
            """, logger: logger))
    }

    public func create(id: UUID, _ role: HybridRole, on connection: TenantConnection) async throws -> RoleRecord {
        try await translatingConstraints(unique: ["roles_agency_id_key_key": "key"]) {
            try await Self.one(try await connection.query("""
                INSERT INTO roles (agency_id, id, key, name, description) VALUES (\(connection.agencyID), \(id), \(role.key), \(role.name), \(role.description))
                RETURNING \(unescaped: Self.columns)
                """, logger: logger))
        }
    }

    public func update(_ id: UUID, _ role: HybridRole, on connection: TenantConnection) async throws -> RoleRecord {
        try await translatingConstraints(unique: ["roles_agency_id_key_key": "key"]) {
            try await Self.one(try await connection.query("""
                UPDATE roles SET key = \(role.key), name = \(role.name), description = \(role.description)
                WHERE agency_id = \(connection.agencyID) AND id = \(id) RETURNING \(unescaped: Self.columns)
                """, logger: logger))
        }
    }

    /// Archived roles stay on past assignments but are no longer offered.
    public func archive(_ id: UUID, on connection: TenantConnection) async throws -> RoleRecord {
        try await Self.one(try await connection.query("""
            UPDATE roles SET archived_at = \(unescaped: firstTimeNow("archived_at")) WHERE agency_id = \(connection.agencyID) AND id = \(id) RETURNING \(unescaped: Self.columns)
            """, logger: logger))
    }

    static func one(_ rows: PostgresRowSequence) async throws -> RoleRecord {
        for try await row in rows { return try decode(row) }
        throw StoreError.notFound("role")
    }

    static func decode(_ row: PostgresRow) throws -> RoleRecord {
        let (id, key, name, description, builtIn, archivedAt) = try row.decode((UUID, String, String, String, Bool, Date?).self)
        return RoleRecord(id: id, key: key, name: name, description: description, builtIn: builtIn, archivedAt: archivedAt)
    }
}
