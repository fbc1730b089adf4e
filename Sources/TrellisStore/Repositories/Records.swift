import Foundation
import TrellisDomain

/// Rows as the API shows them. Field names are the JSON contract (camelCase).
public struct ClientRecord: Sendable, Codable, Hashable {
    public var id: UUID
    public var name: String
    public var slug: String
    public var industry: String?
    public var timeZone: String
    public var status: ClientStatus
    public var channels: [Channel]
    public var goals: [Goal]
    public var archivedAt: Date?
    public var version: Int
    public var createdAt: Date
    public var updatedAt: Date
}

public struct MemberRecord: Sendable, Codable, Hashable {
    public var id: UUID
    public var email: String
    public var displayName: String
    public var role: MemberRole
    public var clientId: UUID?
    public var weeklyCapacityHours: Double
    public var canSignIn: Bool
    public var version: Int
    public var createdAt: Date
}

public struct ContactRecord: Sendable, Codable, Hashable {
    public var id: UUID
    public var clientId: UUID
    public var name: String
    public var email: String?
    public var title: String?
    public var weeklyCapacityHours: Double?
    public var createdAt: Date
}

public struct TimeOffRecord: Sendable, Codable, Hashable {
    public var id: UUID
    public var memberId: UUID
    public var startsOn: LocalDate
    public var endsOn: LocalDate
    public var reason: String?
}

public struct RoleRecord: Sendable, Codable, Hashable {
    public var id: UUID
    public var key: String
    public var name: String
    public var description: String
    public var builtIn: Bool
    public var archivedAt: Date?
}

public struct AllocationRecord: Sendable, Codable, Hashable {
    /// `percent` or `hoursPerWeek`.
    public var unit: String
    public var value: Double

    public var allocation: Allocation? {
        switch unit {
        case "percent": return .percent(value)
        case "hoursPerWeek": return .hoursPerWeek(value)
        default: return nil
        }
    }
}

public struct AssignmentRecord: Sendable, Codable, Hashable {
    public var id: UUID
    public var memberId: UUID
    public var clientId: UUID
    public var roleId: UUID
    public var allocation: AllocationRecord
    public var startsOn: LocalDate
    public var endsOn: LocalDate
    public var commitment: Commitment
    public var version: Int
    public var createdAt: Date
}

public struct TokenRecord: Sendable, Codable, Hashable {
    public var id: UUID
    public var memberId: UUID
    public var name: String
    public var prefix: String
    public var createdAt: Date
    public var lastUsedAt: Date?
    public var revokedAt: Date?
    /// After this the token no longer authenticates; nil: until revoked.
    public var expiresAt: Date?
}

public struct AgencyRecord: Sendable, Codable, Hashable {
    public var id: UUID
    public var name: String
    public var slug: String
    public var createdAt: Date
}

/// A page of a keyset-paginated listing; `nextCursor` is nil on the last page.
public struct Page<Item: Sendable & Codable & Hashable>: Sendable, Codable, Hashable {
    public var items: [Item]
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }

    enum CodingKeys: String, CodingKey { case items, nextCursor }

    /// `nextCursor` is always present: null on the last page.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        try container.encode(nextCursor, forKey: .nextCursor)
    }
}

/// A keyset cursor: the (created_at in microseconds, id) of the last row of a page, kept exact so no row is
/// skipped or repeated between pages. Written `<micros>_<uuid>`: any value of that form names a position, so
/// the contract can say exactly which cursors are valid (a pattern), not "one this API returned".
public struct Cursor: Sendable, Hashable {
    public var micros: Int64
    public var id: UUID

    public init(micros: Int64, id: UUID) {
        self.micros = micros
        self.id = id
    }

    public var encoded: String { "\(micros)_\(id.uuidString.lowercased())" }

    public init?(encoded: String) {
        let parts = encoded.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count <= 18, parts[0].allSatisfy(\.isASCII), let micros = Int64(parts[0]), micros >= 0,
              let id = UUID(uuidString: String(parts[1])) else { return nil }
        self.micros = micros
        self.id = id
    }
}

enum JSONText {
    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}
