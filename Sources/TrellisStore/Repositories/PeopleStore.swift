import Foundation
import PostgresNIO
import TrellisDomain

/// Members (who sign in and hold roles), client contacts, and time off.
public struct PeopleStore: Sendable {
    public let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    static let memberColumns = """
        id, email, display_name, role::text, client_id, weekly_capacity_hours::float8, password_hash IS NOT NULL,
        version::int8, created_at
        """
    static let memberConstraints = (
        unique: ["members_agency_id_email_key": "email", "members_email_ci": "email"],
        foreignKeys: ["members_agency_id_client_id_fkey": "clientId"]
    )

    public func createMember(id: UUID, _ draft: MemberDraft, passwordHash: String?, on connection: TenantConnection) async throws -> MemberRecord {
        try await translatingConstraints(unique: Self.memberConstraints.unique, foreignKeys: Self.memberConstraints.foreignKeys) {
            let rows = try await connection.query("""
                WITH written AS (
                    INSERT INTO members (agency_id, id, email, display_name, role, client_id, weekly_capacity_hours, password_hash)
                    VALUES (\(connection.agencyID), \(id), \(draft.email), \(draft.displayName), \(draft.role.rawValue)::member_role,
                            \(draft.clientID?.rawValue), \(draft.weeklyCapacityHours)::float8::numeric, \(passwordHash))
                    RETURNING *
                )
                SELECT \(unescaped: Self.memberColumns) FROM written
                """, logger: logger)
            return try await Self.oneMember(rows)
        }
    }

    public func listMembers(role: MemberRole?, on connection: TenantConnection) async throws -> [MemberRecord] {
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.memberColumns) FROM members
            WHERE agency_id = \(connection.agencyID) AND (\(role?.rawValue)::member_role IS NULL OR role = \(role?.rawValue)::member_role)
            ORDER BY display_name, id
            """, logger: logger)
        var members: [MemberRecord] = []
        for try await row in rows { members.append(try Self.decodeMember(row)) }
        return members
    }

    public func member(_ id: UUID, on connection: TenantConnection) async throws -> MemberRecord {
        try await Self.oneMember(try await connection.query("""
            SELECT \(unescaped: Self.memberColumns) FROM members WHERE agency_id = \(connection.agencyID) AND id = \(id)
            """, logger: logger))
    }

    public func updateMember(_ id: UUID, _ draft: MemberDraft, expectedVersion: Int?, on connection: TenantConnection) async throws -> MemberRecord {
        try await lockForEdit(table: "members", id: id, expected: expectedVersion, notFound: "member", on: connection, logger: logger)
        return try await translatingConstraints(unique: Self.memberConstraints.unique, foreignKeys: Self.memberConstraints.foreignKeys) {
            try await Self.oneMember(try await connection.query("""
                WITH written AS (
                    UPDATE members SET email = \(draft.email), display_name = \(draft.displayName), role = \(draft.role.rawValue)::member_role,
                        client_id = \(draft.clientID?.rawValue), weekly_capacity_hours = \(draft.weeklyCapacityHours)::float8::numeric,
                        version = version + 1
                    WHERE agency_id = \(connection.agencyID) AND id = \(id) RETURNING *
                )
                SELECT \(unescaped: Self.memberColumns) FROM written
                """, logger: logger))
        }
    }

    public func memberID(email: String, on connection: TenantConnection) async throws -> UUID? {
        let rows = try await connection.query("""
            SELECT id FROM members WHERE agency_id = \(connection.agencyID) AND lower(email) = lower(\(email))
            """, logger: logger)
        for try await id in rows.decode(UUID.self) { return id }
        return nil
    }

    public func setPassword(member id: UUID, hash: String, on connection: TenantConnection) async throws {
        try await connection.query("""
            UPDATE members SET password_hash = \(hash) WHERE agency_id = \(connection.agencyID) AND id = \(id)
            """, logger: logger)
    }

    static func oneMember(_ rows: PostgresRowSequence) async throws -> MemberRecord {
        for try await row in rows { return try decodeMember(row) }
        throw StoreError.notFound("member")
    }

    static func decodeMember(_ row: PostgresRow) throws -> MemberRecord {
        let (id, email, name, role, clientID, capacity, canSignIn, version, createdAt) =
            try row.decode((UUID, String, String, String, UUID?, Double, Bool, Int, Date).self)
        return MemberRecord(
            id: id, email: email, displayName: name, role: try stored(MemberRole.self, role, column: "members.role"), clientId: clientID,
            weeklyCapacityHours: capacity, canSignIn: canSignIn, version: version, createdAt: createdAt)
    }

    // MARK: Client contacts

    static let contactColumns = "id, client_id, name, email, title, weekly_capacity_hours::float8, created_at"

    public func createContact(id: UUID, _ draft: ContactDraft, on connection: TenantConnection) async throws -> ContactRecord {
        try await translatingConstraints(foreignKeys: ["client_contacts_agency_id_client_id_fkey": "clientId"]) {
            try await Self.oneContact(try await connection.query("""
                INSERT INTO client_contacts (agency_id, id, client_id, name, email, title, weekly_capacity_hours)
                VALUES (\(connection.agencyID), \(id), \(draft.clientID.rawValue), \(draft.name), \(draft.email), \(draft.title),
                        \(draft.weeklyCapacityHours)::float8::numeric)
                RETURNING \(unescaped: Self.contactColumns)
                """, logger: logger))
        }
    }

    public func listContacts(client: UUID?, on connection: TenantConnection) async throws -> [ContactRecord] {
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.contactColumns) FROM client_contacts
            WHERE agency_id = \(connection.agencyID) AND (\(client)::uuid IS NULL OR client_id = \(client)) ORDER BY name, id
            """, logger: logger)
        var contacts: [ContactRecord] = []
        for try await row in rows { contacts.append(try Self.decodeContact(row)) }
        return contacts
    }

    public func contact(_ id: UUID, on connection: TenantConnection) async throws -> ContactRecord {
        try await Self.oneContact(try await connection.query("""
            SELECT \(unescaped: Self.contactColumns) FROM client_contacts WHERE agency_id = \(connection.agencyID) AND id = \(id)
            """, logger: logger))
    }

    /// The contact's portal member stays, without its link to the contact (its history keeps its name).
    public func deleteContact(_ id: UUID, on connection: TenantConnection) async throws {
        try await connection.query(
            "UPDATE members SET contact_id = NULL WHERE agency_id = \(connection.agencyID) AND contact_id = \(id)", logger: logger)
        let rows = try await connection.query("""
            DELETE FROM client_contacts WHERE agency_id = \(connection.agencyID) AND id = \(id) RETURNING id
            """, logger: logger)
        for try await _ in rows { return }
        throw StoreError.notFound("contact")
    }

    static func oneContact(_ rows: PostgresRowSequence) async throws -> ContactRecord {
        for try await row in rows { return try decodeContact(row) }
        throw StoreError.notFound("contact")
    }

    static func decodeContact(_ row: PostgresRow) throws -> ContactRecord {
        let (id, clientID, name, email, title, capacity, createdAt) =
            try row.decode((UUID, UUID, String, String?, String?, Double?, Date).self)
        return ContactRecord(id: id, clientId: clientID, name: name, email: email, title: title, weeklyCapacityHours: capacity, createdAt: createdAt)
    }

    // MARK: Time off

    public func addTimeOff(id: UUID, member: UUID, _ timeOff: TimeOff, on connection: TenantConnection) async throws -> TimeOffRecord {
        try await translatingConstraints(foreignKeys: ["time_off_agency_id_member_id_fkey": "memberId"]) {
            let rows = try await connection.query("""
                WITH written AS (
                    INSERT INTO time_off (agency_id, id, member_id, starts_on, ends_on, reason)
                    VALUES (\(connection.agencyID), \(id), \(member), \(timeOff.startsOn.description)::date, \(timeOff.endsOn.description)::date, \(timeOff.reason))
                    RETURNING *
                )
                SELECT id, member_id, starts_on::text, ends_on::text, reason FROM written
                """, logger: logger)
            for try await row in rows { return try Self.decodeTimeOff(row) }
            throw StoreError.notFound("member")
        }
    }

    public func timeOff(member: UUID?, on connection: TenantConnection) async throws -> [TimeOffRecord] {
        let rows = try await connection.query("""
            SELECT id, member_id, starts_on::text, ends_on::text, reason FROM time_off
            WHERE agency_id = \(connection.agencyID) AND (\(member)::uuid IS NULL OR member_id = \(member)) ORDER BY starts_on, id
            """, logger: logger)
        var records: [TimeOffRecord] = []
        for try await row in rows { records.append(try Self.decodeTimeOff(row)) }
        return records
    }

    public func deleteTimeOff(_ id: UUID, member: UUID, on connection: TenantConnection) async throws {
        let rows = try await connection.query("""
            DELETE FROM time_off WHERE agency_id = \(connection.agencyID) AND id = \(id) AND member_id = \(member) RETURNING id
            """, logger: logger)
        for try await _ in rows { return }
        throw StoreError.notFound("time off")
    }

    static func decodeTimeOff(_ row: PostgresRow) throws -> TimeOffRecord {
        let (id, member, starts, ends, reason) = try row.decode((UUID, UUID, String, String, String?).self)
        guard let startsOn = LocalDate(String(starts)), let endsOn = LocalDate(String(ends)) else {
            throw StoreError.invalid(field: "startsOn", message: "unreadable date in database")
        }
        return TimeOffRecord(id: id, memberId: member, startsOn: startsOn, endsOn: endsOn, reason: reason)
    }
}
