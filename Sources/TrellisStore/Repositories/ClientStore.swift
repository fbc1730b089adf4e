import Foundation
import PostgresNIO
import TrellisDomain

/// Client organizations of the current agency. Every method runs on a connection inside a tenant
/// transaction (`TenantDatabase.withTenant`), so row-level security scopes it.
public struct ClientStore: Sendable {
    public let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    public struct Filter: Sendable {
        public var status: ClientStatus?
        public var search: String?
        public var includeArchived: Bool
        /// Client viewers are limited to their own client.
        public var onlyID: UUID?

        public init(status: ClientStatus? = nil, search: String? = nil, includeArchived: Bool = false, onlyID: UUID? = nil) {
            self.status = status
            self.search = search
            self.includeArchived = includeArchived
            self.onlyID = onlyID
        }
    }

    static let columns = """
        id, name, slug, industry, time_zone, status::text, channels::text, goals::text, archived_at,
        version::int8, created_at, updated_at, (extract(epoch FROM created_at) * 1000000)::int8
        """

    public func create(id: UUID, _ draft: ClientDraft, on connection: TenantConnection) async throws -> ClientRecord {
        let channels = try JSONText.encode(draft.channels)
        let goals = try JSONText.encode(draft.goals)
        return try await translatingConstraints(unique: ["clients_agency_id_slug_key": "slug"]) {
            let rows = try await connection.query("""
                WITH written AS (
                    INSERT INTO clients (agency_id, id, name, slug, industry, time_zone, status, channels, goals)
                    VALUES (\(connection.agencyID), \(id), \(draft.name), \(draft.slug), \(draft.industry), \(draft.timeZone),
                            \(draft.status.rawValue)::client_status, \(channels)::jsonb, \(goals)::jsonb)
                    RETURNING *
                )
                SELECT \(unescaped: Self.columns) FROM written
                """, logger: logger)
            return try await Self.one(rows).record
        }
    }

    public func list(_ filter: Filter, after cursor: Cursor?, limit: Int, on connection: TenantConnection) async throws -> Page<ClientRecord> {
        let search = filter.search.map { "%" + $0.replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%" }
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.columns) FROM clients
            WHERE agency_id = \(connection.agencyID)
              AND (\(filter.status?.rawValue)::client_status IS NULL OR status = \(filter.status?.rawValue)::client_status)
              AND (\(search)::text IS NULL OR name ILIKE \(search) OR slug ILIKE \(search))
              AND (\(filter.includeArchived) OR archived_at IS NULL)
              AND (\(filter.onlyID)::uuid IS NULL OR id = \(filter.onlyID))
              AND (\(cursor?.micros)::int8 IS NULL
                   OR (created_at, id) > (timestamptz 'epoch' + \(cursor?.micros) * interval '1 microsecond', \(cursor?.id)))
            ORDER BY created_at, id
            LIMIT \(limit + 1)
            """, logger: logger)
        var decoded: [(record: ClientRecord, micros: Int64)] = []
        for try await row in rows { decoded.append(try Self.decode(row)) }
        let hasMore = decoded.count > limit
        let page = Array(decoded.prefix(limit))
        let next = hasMore ? page.last.map { Cursor(micros: $0.micros, id: $0.record.id).encoded } : nil
        return Page(items: page.map(\.record), nextCursor: next)
    }

    public func get(_ id: UUID, on connection: TenantConnection) async throws -> ClientRecord {
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.columns) FROM clients WHERE agency_id = \(connection.agencyID) AND id = \(id)
            """, logger: logger)
        return try await Self.one(rows).record
    }

    /// Replaces the editable fields; `expectedVersion` (from If-Match) guards against lost updates.
    public func update(_ id: UUID, _ draft: ClientDraft, expectedVersion: Int?, on connection: TenantConnection) async throws -> ClientRecord {
        try await lockForEdit(table: "clients", id: id, expected: expectedVersion, notFound: "client", on: connection, logger: logger)
        let channels = try JSONText.encode(draft.channels)
        let goals = try JSONText.encode(draft.goals)
        return try await translatingConstraints(unique: ["clients_agency_id_slug_key": "slug"]) {
            let rows = try await connection.query("""
                WITH written AS (
                    UPDATE clients SET name = \(draft.name), slug = \(draft.slug), industry = \(draft.industry),
                        time_zone = \(draft.timeZone), status = \(draft.status.rawValue)::client_status,
                        channels = \(channels)::jsonb, goals = \(goals)::jsonb, version = version + 1, updated_at = now()
                    WHERE agency_id = \(connection.agencyID) AND id = \(id)
                    RETURNING *
                )
                SELECT \(unescaped: Self.columns) FROM written
                """, logger: logger)
            return try await Self.one(rows).record
        }
    }

    public func archive(_ id: UUID, expectedVersion: Int?, on connection: TenantConnection) async throws -> ClientRecord {
        try await lockForEdit(table: "clients", id: id, expected: expectedVersion, notFound: "client", on: connection, logger: logger)
        let rows = try await connection.query("""
            WITH written AS (
                UPDATE clients SET archived_at = \(unescaped: firstTimeNow("archived_at")), version = version + 1, updated_at = now()
                WHERE agency_id = \(connection.agencyID) AND id = \(id) RETURNING *
            )
            SELECT \(unescaped: Self.columns) FROM written
            """, logger: logger)
        return try await Self.one(rows).record
    }

    static func one(_ rows: PostgresRowSequence) async throws -> (record: ClientRecord, micros: Int64) {
        for try await row in rows { return try decode(row) }
        throw StoreError.notFound("client")
    }

    static func decode(_ row: PostgresRow) throws -> (record: ClientRecord, micros: Int64) {
        let cells = row.makeRandomAccess()
        let channels = try cells[6].decode(String.self)
        let goals = try cells[7].decode(String.self)
        let record = ClientRecord(
            id: try cells[0].decode(UUID.self), name: try cells[1].decode(String.self), slug: try cells[2].decode(String.self),
            industry: try cells[3].decode(String?.self), timeZone: try cells[4].decode(String.self),
            status: try stored(ClientStatus.self, try cells[5].decode(String.self), column: "clients.status"),
            channels: try JSONText.decode([TrellisDomain.Channel].self, channels), goals: try JSONText.decode([Goal].self, goals),
            archivedAt: try cells[8].decode(Date?.self), version: try cells[9].decode(Int.self),
            createdAt: try cells[10].decode(Date.self), updatedAt: try cells[11].decode(Date.self))
        return (record, try cells[12].decode(Int64.self))
    }
}
