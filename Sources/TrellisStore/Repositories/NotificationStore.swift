import Foundation
import PostgresNIO
import TrellisDomain

public struct NotificationRecord: Sendable, Codable, Hashable {
    public var id: UUID
    public var memberId: UUID
    public var kind: String
    public var title: String
    public var body: String
    public var clientId: UUID?
    public var planId: UUID?
    public var taskId: UUID?
    public var createdAt: Date
    public var readAt: Date?
}

/// The in-app inbox (`notifications`) and the record of reminders already created (`reminders_sent`).
public struct NotificationStore: Sendable {
    public let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    static let columns = "id, member_id, kind, title, body, client_id, plan_id, task_id, created_at, read_at"

    public struct NewNotification: Sendable, Hashable {
        public var memberId: UUID
        public var kind: String
        public var title: String
        public var body: String
        public var clientId: UUID?
        public var planId: UUID?
        public var taskId: UUID?

        public init(memberId: UUID, kind: String, title: String, body: String, clientId: UUID? = nil, planId: UUID? = nil, taskId: UUID? = nil) {
            self.memberId = memberId
            self.kind = kind
            self.title = title
            self.body = body
            self.clientId = clientId
            self.planId = planId
            self.taskId = taskId
        }
    }

    @discardableResult
    public func create(_ new: NewNotification, on connection: TenantConnection) async throws -> NotificationRecord {
        try await translatingConstraints(foreignKeys: ["notifications_agency_id_member_id_fkey": "memberId"]) {
            try await Self.one(try await connection.query("""
                INSERT INTO notifications (agency_id, id, member_id, kind, title, body, client_id, plan_id, task_id)
                VALUES (\(connection.agencyID), \(UUID()), \(new.memberId), \(new.kind), \(new.title), \(new.body), \(new.clientId), \(new.planId), \(new.taskId))
                RETURNING \(unescaped: Self.columns)
                """, logger: logger))
        }
    }

    /// A member's inbox, newest first; `after` is a cursor: the id of the last notification already seen.
    public func inbox(member: UUID, unreadOnly: Bool, after cursor: UUID?, limit: Int, on connection: TenantConnection) async throws -> [NotificationRecord] {
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.columns) FROM notifications
            WHERE agency_id = \(connection.agencyID) AND member_id = \(member) AND (NOT \(unreadOnly) OR read_at IS NULL)
              AND (\(cursor)::uuid IS NULL OR (created_at, id) < (SELECT c.created_at, c.id FROM notifications c WHERE c.agency_id = \(connection.agencyID)
                AND c.id = \(cursor)))
            ORDER BY created_at DESC, id DESC LIMIT \(limit)
            """, logger: logger)
        var records: [NotificationRecord] = []
        for try await row in rows { records.append(try Self.decode(row)) }
        return records
    }

    public func unreadCount(member: UUID, on connection: TenantConnection) async throws -> Int {
        let rows = try await connection.query("""
            SELECT count(*) FROM notifications WHERE agency_id = \(connection.agencyID) AND member_id = \(member) AND read_at IS NULL
            """, logger: logger)
        for try await n in rows.decode(Int.self) { return n }
        return 0
    }

    /// Marks one of the member's notifications read (idempotent); another member's or agency's is not found.
    public func markRead(_ id: UUID, member: UUID, on connection: TenantConnection) async throws -> NotificationRecord {
        try await Self.one(try await connection.query("""
            UPDATE notifications SET read_at = \(unescaped: firstTimeNow("read_at")) WHERE agency_id = \(connection.agencyID) AND id = \(id) AND member_id = \(member)
            RETURNING \(unescaped: Self.columns)
            """, logger: logger))
    }

    public func markAllRead(member: UUID, on connection: TenantConnection) async throws -> Int {
        let rows = try await connection.query(
            "UPDATE notifications SET read_at = now() WHERE agency_id = \(connection.agencyID) AND member_id = \(member) AND read_at IS NULL RETURNING id", logger: logger)
        var n = 0
        for try await _ in rows { n += 1 }
        return n
    }

    /// Deletes read notifications older than `age`; returns how many.
    public func pruneRead(olderThan age: Duration, on connection: TenantConnection) async throws -> Int {
        let rows = try await connection.query("""
            DELETE FROM notifications WHERE agency_id = \(connection.agencyID)
              AND read_at IS NOT NULL AND read_at < now() - \(Double(age.components.seconds)) * interval '1 second' RETURNING id
            """, logger: logger)
        var n = 0
        for try await _ in rows { n += 1 }
        return n
    }

    // MARK: Reminders

    /// Records that a reminder was created; false when it already was (so the caller creates nothing).
    public func claimReminder(plan: UUID, task: UUID, kind: String, instant: Date, on connection: TenantConnection) async throws -> Bool {
        let rows = try await connection.query("""
            INSERT INTO reminders_sent (agency_id, plan_id, task_id, kind, instant)
            VALUES (\(connection.agencyID), \(plan), \(task), \(kind), \(instant))
            ON CONFLICT DO NOTHING RETURNING task_id
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// True when a digest about `client` was created within `within` (a retried digest job sends none twice).
    public func digestSent(client: UUID, within: Duration, on connection: TenantConnection) async throws -> Bool {
        let rows = try await connection.query("""
            SELECT EXISTS (SELECT 1 FROM notifications WHERE agency_id = \(connection.agencyID)
              AND kind = 'digest' AND client_id = \(client)
                           AND created_at > now() - \(Double(within.components.seconds)) * interval '1 second')
            """, logger: logger)
        for try await exists in rows.decode(Bool.self) { return exists }
        return false
    }

    // MARK: Recipients

    /// Owners and managers of the agency, plus the people assigned to `client` (any role) whose assignment
    /// overlaps `on` — who gets a client's digest.
    public func digestRecipients(client: UUID, on date: LocalDate, connection: TenantConnection) async throws -> [UUID] {
        let rows = try await connection.query("""
            SELECT id FROM members WHERE agency_id = \(connection.agencyID) AND role IN ('owner', 'manager')
            UNION
            SELECT a.member_id FROM assignments a JOIN members m ON m.agency_id = \(connection.agencyID) AND m.id = a.member_id
            WHERE a.agency_id = \(connection.agencyID) AND a.client_id = \(client) AND m.role = 'consultant'
              AND a.starts_on <= \(date.description)::date AND a.ends_on >= \(date.description)::date
            ORDER BY 1
            """, logger: logger)
        var ids: [UUID] = []
        for try await id in rows.decode(UUID.self) { ids.append(id) }
        return ids
    }

    static func one(_ rows: PostgresRowSequence) async throws -> NotificationRecord {
        for try await row in rows { return try decode(row) }
        throw StoreError.notFound("notification")
    }

    static func decode(_ row: PostgresRow) throws -> NotificationRecord {
        let (id, member, kind, title, body, client, plan, task, createdAt, readAt) =
            try row.decode((UUID, UUID, String, String, String, UUID?, UUID?, UUID?, Date, Date?).self)
        return NotificationRecord(id: id, memberId: member, kind: kind, title: title, body: body, clientId: client, planId: plan,
                                  taskId: task, createdAt: createdAt, readAt: readAt)
    }
}
