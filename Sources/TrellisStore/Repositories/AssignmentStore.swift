import Foundation
import PostgresNIO
import TrellisDomain

/// Hybrid-role assignments: a person holds a role for a client at an allocation between two dates.
public struct AssignmentStore: Sendable {
    public let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    static let columns = """
        id, member_id, client_id, role_id, allocation_unit::text, allocation_value::float8, starts_on::text, ends_on::text,
        commitment::text, version::int8, created_at
        """
    static let foreignKeys = [
        "assignments_agency_id_member_id_fkey": "memberId",
        "assignments_agency_id_client_id_fkey": "clientId",
        "assignments_agency_id_role_id_fkey": "roleId",
    ]

    public struct Refs: Sendable {
        public var member: UUID
        public var client: UUID
        public var role: UUID

        public init(member: UUID, client: UUID, role: UUID) {
            self.member = member
            self.client = client
            self.role = role
        }
    }

    public func create(id: UUID, refs: Refs, _ draft: AssignmentDraft, on connection: TenantConnection) async throws -> AssignmentRecord {
        let (unit, value) = Self.columns(draft.allocation)
        return try await translatingConstraints(foreignKeys: Self.foreignKeys) {
            try await Self.one(try await connection.query("""
                WITH written AS (
                    INSERT INTO assignments (agency_id, id, member_id, client_id, role_id, allocation_unit, allocation_value, starts_on, ends_on, commitment)
                    VALUES (\(connection.agencyID), \(id), \(refs.member), \(refs.client), \(refs.role), \(unit)::allocation_unit, \(value)::float8::numeric,
                            \(draft.startsOn.description)::date, \(draft.endsOn.description)::date, \(draft.commitment.rawValue)::commitment)
                    RETURNING *
                )
                SELECT \(unescaped: Self.columns) FROM written
                """, logger: logger))
        }
    }

    public func list(member: UUID?, client: UUID?, on connection: TenantConnection) async throws -> [AssignmentRecord] {
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.columns) FROM assignments
            WHERE agency_id = \(connection.agencyID) AND (\(member)::uuid IS NULL OR member_id = \(member))
              AND (\(client)::uuid IS NULL OR client_id = \(client))
            ORDER BY starts_on, id
            """, logger: logger)
        var records: [AssignmentRecord] = []
        for try await row in rows { records.append(try Self.decode(row)) }
        return records
    }

    public func get(_ id: UUID, on connection: TenantConnection) async throws -> AssignmentRecord {
        try await Self.one(try await connection.query("""
            SELECT \(unescaped: Self.columns) FROM assignments WHERE agency_id = \(connection.agencyID) AND id = \(id)
            """, logger: logger))
    }

    public func update(_ id: UUID, refs: Refs, _ draft: AssignmentDraft, expectedVersion: Int?, on connection: TenantConnection) async throws -> AssignmentRecord {
        try await lockForEdit(table: "assignments", id: id, expected: expectedVersion, notFound: "assignment", on: connection, logger: logger)
        let (unit, value) = Self.columns(draft.allocation)
        return try await translatingConstraints(foreignKeys: Self.foreignKeys) {
            try await Self.one(try await connection.query("""
                WITH written AS (
                    UPDATE assignments SET member_id = \(refs.member), client_id = \(refs.client), role_id = \(refs.role),
                        allocation_unit = \(unit)::allocation_unit, allocation_value = \(value)::float8::numeric,
                        starts_on = \(draft.startsOn.description)::date, ends_on = \(draft.endsOn.description)::date,
                        commitment = \(draft.commitment.rawValue)::commitment, version = version + 1
                    WHERE agency_id = \(connection.agencyID) AND id = \(id) RETURNING *
                )
                SELECT \(unescaped: Self.columns) FROM written
                """, logger: logger))
        }
    }

    public func delete(_ id: UUID, on connection: TenantConnection) async throws {
        let rows = try await connection.query("""
            DELETE FROM assignments WHERE agency_id = \(connection.agencyID) AND id = \(id) RETURNING id
            """, logger: logger)
        for try await _ in rows { return }
        throw StoreError.notFound("assignment")
    }

    /// The member holding `roleKey` for `client` on `date` (hard before soft, larger allocation first):
    /// how a plan's task finds its assignee.
    public func holder(roleKey: String, client: UUID, on date: LocalDate, connection: TenantConnection) async throws -> UUID? {
        let rows = try await connection.query("""
            SELECT a.member_id FROM assignments a JOIN roles r ON r.agency_id = \(connection.agencyID) AND r.id = a.role_id
            WHERE a.agency_id = \(connection.agencyID) AND r.key = \(roleKey)
              AND a.client_id = \(client) AND a.starts_on <= \(date.description)::date AND a.ends_on >= \(date.description)::date
            ORDER BY a.commitment, a.allocation_value DESC, a.id LIMIT 1
            """, logger: logger)
        for try await member in rows.decode(UUID.self) { return member }
        return nil
    }

    /// Everyone's capacity, time off and assignments overlapping [from, through], for the workload report.
    public func workloadInputs(from: LocalDate, through: LocalDate, member: UUID?, on connection: TenantConnection) async throws -> [WorkloadPerson] {
        var people: [UUID: WorkloadPerson] = [:]
        var order: [UUID] = []
        let members = try await connection.query("""
            SELECT id, display_name, weekly_capacity_hours::float8 FROM members
            WHERE agency_id = \(connection.agencyID) AND role <> 'client_viewer'
              AND (\(member)::uuid IS NULL OR id = \(member)) ORDER BY display_name, id
            """, logger: logger)
        for try await (id, name, capacity) in members.decode((UUID, String, Double).self) {
            people[id] = WorkloadPerson(memberID: MemberID(id), name: name, weeklyCapacityHours: capacity, timeOff: [], assignments: [])
            order.append(id)
        }
        let timeOff = try await connection.query("""
            SELECT member_id, starts_on::text, ends_on::text FROM time_off
            WHERE agency_id = \(connection.agencyID) AND ends_on >= \(from.description)::date AND starts_on <= \(through.description)::date
            """, logger: logger)
        for try await (memberID, starts, ends) in timeOff.decode((UUID, String, String).self) {
            if let s = LocalDate(String(starts)), let e = LocalDate(String(ends)) { people[memberID]?.timeOff.append(TimeOff(startsOn: s, endsOn: e)) }
        }
        let assignments = try await connection.query("""
            SELECT a.id, a.member_id, c.name, r.name, a.allocation_unit::text, a.allocation_value::float8,
                   a.starts_on::text, a.ends_on::text, a.commitment::text
            FROM assignments a
            JOIN clients c ON c.agency_id = \(connection.agencyID) AND c.id = a.client_id
            JOIN roles r ON r.agency_id = \(connection.agencyID) AND r.id = a.role_id
            WHERE a.agency_id = \(connection.agencyID) AND a.ends_on >= \(from.description)::date
              AND a.starts_on <= \(through.description)::date
            """, logger: logger)
        for try await (id, memberID, clientName, roleName, unit, value, starts, ends, commitment)
            in assignments.decode((UUID, UUID, String, String, String, Double, String, String, String).self) {
            guard let s = LocalDate(String(starts)), let e = LocalDate(String(ends)) else { continue }
            let allocation: Allocation = try Self.allocation(unit, value)
            let draft = AssignmentDraft(allocation: allocation, startsOn: s, endsOn: e, commitment: try stored(Commitment.self, commitment, column: "assignments.commitment"))
            people[memberID]?.assignments.append(
                WorkloadAssignment(assignmentID: id.uuidString.lowercased(), clientName: clientName, roleName: roleName, draft: draft))
        }
        return order.compactMap { people[$0] }
    }

    static func columns(_ allocation: Allocation) -> (String, Double) {
        switch allocation {
        case .percent(let p): return ("percent", p)
        case .hoursPerWeek(let h): return ("hours_per_week", h)
        }
    }

    static func one(_ rows: PostgresRowSequence) async throws -> AssignmentRecord {
        for try await row in rows { return try decode(row) }
        throw StoreError.notFound("assignment")
    }

    static func decode(_ row: PostgresRow) throws -> AssignmentRecord {
        let (id, member, client, role, unit, value, starts, ends, commitment, version, createdAt) =
            try row.decode((UUID, UUID, UUID, UUID, String, Double, String, String, String, Int, Date).self)
        guard let s = LocalDate(String(starts)), let e = LocalDate(String(ends)) else {
            throw StoreError.invalid(field: "startsOn", message: "unreadable date in database")
        }
        return AssignmentRecord(
            id: id, memberId: member, clientId: client, roleId: role,
            allocation: AllocationRecord(unit: try Self.allocationUnit(unit), value: value),
            startsOn: s, endsOn: e, commitment: try stored(Commitment.self, commitment, column: "assignments.commitment"), version: version, createdAt: createdAt)
    }

    /// The stored allocation unit (`allocation_unit` enum: percent, hours_per_week) as the API names it.
    static func allocationUnit(_ raw: String) throws -> String {
        switch raw {
        case "percent": "percent"
        case "hours_per_week": "hoursPerWeek"
        default: throw UnknownStoredValue(column: "assignments.allocation_unit", value: raw)
        }
    }

    static func allocation(_ unit: String, _ value: Double) throws -> Allocation {
        try allocationUnit(unit) == "percent" ? .percent(value) : .hoursPerWeek(value)
    }
}
