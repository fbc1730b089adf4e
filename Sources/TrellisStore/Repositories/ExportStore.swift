import Foundation
import PostgresNIO
import TrellisDomain

public struct ExportRecord: Sendable, Codable, Hashable {
    public var id: UUID
    public var format: String
    public var clientId: UUID?
    public var planId: UUID?
    public var status: String
    public var plansDone: Int
    public var plansTotal: Int
    public var fileName: String?
    public var error: String?
    public var jobId: Int64?
    public var createdAt: Date
    public var finishedAt: Date?
    public var expiresAt: Date?
}

/// Bundled exports (made by a job, downloadable until they expire) and the secrets of calendar feeds.
public struct ExportStore: Sendable {
    public let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    static let columns = """
        id, format, client_id, plan_id, status, plans_done, plans_total, file_name, error, job_id, created_at, finished_at, expires_at
        """

    public func create(id: UUID, format: String, client: UUID?, plan: UUID?, requestedBy: UUID, on connection: TenantConnection) async throws -> ExportRecord {
        try await translatingConstraints(foreignKeys: ["exports_agency_id_client_id_fkey": "clientId", "exports_agency_id_plan_id_fkey": "planId"]) {
            try await Self.one(try await connection.query("""
                INSERT INTO exports (agency_id, id, format, client_id, plan_id, requested_by)
                VALUES (\(connection.agencyID), \(id), \(format), \(client), \(plan), \(requestedBy)) RETURNING \(unescaped: Self.columns)
                """, logger: logger))
        }
    }

    public func attachJob(_ id: UUID, job: Int64, on connection: TenantConnection) async throws {
        try await connection.query("UPDATE exports SET job_id = \(job) WHERE agency_id = \(connection.agencyID) AND id = \(id)", logger: logger)
    }

    public func get(_ id: UUID, on connection: TenantConnection) async throws -> ExportRecord {
        try await Self.one(try await connection.query("""
            SELECT \(unescaped: Self.columns) FROM exports WHERE agency_id = \(connection.agencyID) AND id = \(id)
            """, logger: logger))
    }

    public func progress(_ id: UUID, done: Int, total: Int, on connection: TenantConnection) async throws {
        try await connection.query("""
            UPDATE exports SET status = 'running', plans_done = \(done), plans_total = \(total) WHERE agency_id = \(connection.agencyID)
              AND id = \(id)
            """, logger: logger)
    }

    public func finish(_ id: UUID, file: Data, name: String, contentType: String, lifetime: Duration, on connection: TenantConnection) async throws {
        try await connection.query("""
            UPDATE exports SET status = 'ready', file = \(file), file_name = \(name), content_type = \(contentType), finished_at = now(),
                expires_at = now() + \(Double(lifetime.components.seconds)) * interval '1 second', plans_done = plans_total
            WHERE agency_id = \(connection.agencyID) AND id = \(id)
            """, logger: logger)
    }

    public func fail(_ id: UUID, error: String, on connection: TenantConnection) async throws {
        try await connection.query("""
            UPDATE exports SET status = 'failed', error = \(error), finished_at = now() WHERE agency_id = \(connection.agencyID)
              AND id = \(id)
            """, logger: logger)
    }

    public struct Download: Sendable {
        public var data: Data
        public var fileName: String
        public var contentType: String
    }

    /// The file while it lasts; nil once it has expired.
    public func download(_ id: UUID, on connection: TenantConnection) async throws -> Download? {
        let rows = try await connection.query("""
            SELECT file, file_name, content_type FROM exports WHERE agency_id = \(connection.agencyID)
              AND id = \(id) AND status = 'ready' AND expires_at > now() AND file IS NOT NULL
            """, logger: logger)
        for try await (file, name, type) in rows.decode((Data, String, String).self) {
            return Download(data: file, fileName: name, contentType: type)
        }
        return nil
    }

    /// Drops the files of expired exports (the rows stay, as a record); returns how many.
    public func pruneExpired(on connection: TenantConnection) async throws -> Int {
        let rows = try await connection.query("""
            UPDATE exports SET file = NULL WHERE agency_id = \(connection.agencyID)
              AND file IS NOT NULL AND expires_at <= now() RETURNING id
            """, logger: logger)
        var count = 0
        for try await _ in rows { count += 1 }
        return count
    }

    // MARK: Calendar feeds

    /// Feed secrets end up in calendar apps' URLs: a short prefix, so a leaked one is recognisable.
    static let feedPrefix = "trf_"

    public enum FeedOwner: Sendable, Hashable {
        case plan(UUID)
        case member(UUID)
    }

    /// A new secret for the owner's feed; the old one stops working at once.
    public func rotateFeed(_ owner: FeedOwner, on connection: TenantConnection) async throws -> String {
        let agency = connection.agency
        let secret = CredentialStore.newSecret(prefix: Self.feedPrefix, agency: agency)
        let (plan, member): (UUID?, UUID?) = switch owner {
        case .plan(let id): (id, nil)
        case .member(let id): (nil, id)
        }
        try await connection.query("""
            DELETE FROM calendar_feeds WHERE agency_id = \(connection.agencyID)
              AND ((\(plan)::uuid IS NOT NULL AND plan_id = \(plan)) OR (\(member)::uuid IS NOT NULL AND member_id = \(member)))
            """, logger: logger)
        try await translatingConstraints(foreignKeys: ["calendar_feeds_agency_id_plan_id_fkey": "planId", "calendar_feeds_agency_id_member_id_fkey": "memberId"]) {
            try await connection.query("""
                INSERT INTO calendar_feeds (agency_id, id, plan_id, member_id, token_hash)
                VALUES (\(connection.agencyID), \(UUID()), \(plan), \(member), \(CredentialStore.hash(secret)))
                """, logger: logger)
        }
        return secret
    }

    public func resolveFeed(secret: String, on connection: PostgresConnection) async throws -> (AgencyID, FeedOwner)? {
        let rows = try await CredentialStore.lookUp(
            secret, prefix: Self.feedPrefix, function: "trellis_resolve_feed", columns: "agency_id, plan_id, member_id",
            on: connection, logger: logger)
        for try await (agency, plan, member) in rows.decode((UUID, UUID?, UUID?).self) {
            if let plan { return (AgencyID(agency), .plan(plan)) }
            if let member { return (AgencyID(agency), .member(member)) }
        }
        return nil
    }

    static func one(_ rows: PostgresRowSequence) async throws -> ExportRecord {
        for try await row in rows {
            let c = row.makeRandomAccess()
            return ExportRecord(
                id: try c[0].decode(UUID.self), format: try c[1].decode(String.self), clientId: try c[2].decode(UUID?.self),
                planId: try c[3].decode(UUID?.self), status: try c[4].decode(String.self), plansDone: try c[5].decode(Int.self),
                plansTotal: try c[6].decode(Int.self), fileName: try c[7].decode(String?.self), error: try c[8].decode(String?.self),
                jobId: try c[9].decode(Int64?.self), createdAt: try c[10].decode(Date.self), finishedAt: try c[11].decode(Date?.self),
                expiresAt: try c[12].decode(Date?.self))
        }
        throw StoreError.notFound("export")
    }

    /// Exports of the transaction's agency that are queued or running, and that started in the last 24 hours.
    public func budgetUse(on connection: TenantConnection) async throws -> (active: Int, today: Int) {
        let rows = try await connection.query("""
            SELECT count(*) FILTER (WHERE status IN ('queued', 'running')), count(*) FILTER (WHERE created_at > now() - interval '1 day')
            FROM exports WHERE agency_id = \(connection.agencyID)
            """, logger: logger)
        for try await (active, today) in rows.decode((Int64, Int64).self) { return (Int(active), Int(today)) }
        return (0, 0)
    }
}
