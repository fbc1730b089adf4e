import struct Foundation.UUID

/// Typed identifiers, so a member id can never be passed where a client id is expected.
public struct AgencyID: Sendable, Hashable, Codable, CustomStringConvertible {
    public let rawValue: UUID
    public init(_ rawValue: UUID) { self.rawValue = rawValue }
    public var description: String { rawValue.uuidString.lowercased() }
    public init(from decoder: any Decoder) throws { rawValue = try UUID(from: decoder) }
    public func encode(to encoder: any Encoder) throws { var c = encoder.singleValueContainer(); try c.encode(description) }
}

public struct MemberID: Sendable, Hashable, Codable, CustomStringConvertible {
    public let rawValue: UUID
    public init(_ rawValue: UUID) { self.rawValue = rawValue }
    public var description: String { rawValue.uuidString.lowercased() }
    public init(from decoder: any Decoder) throws { rawValue = try UUID(from: decoder) }
    public func encode(to encoder: any Encoder) throws { var c = encoder.singleValueContainer(); try c.encode(description) }
}

public struct ClientID: Sendable, Hashable, Codable, CustomStringConvertible {
    public let rawValue: UUID
    public init(_ rawValue: UUID) { self.rawValue = rawValue }
    public var description: String { rawValue.uuidString.lowercased() }
    public init(from decoder: any Decoder) throws { rawValue = try UUID(from: decoder) }
    public func encode(to encoder: any Encoder) throws { var c = encoder.singleValueContainer(); try c.encode(description) }
}

public struct PlanID: Sendable, Hashable, Codable, CustomStringConvertible {
    public let rawValue: UUID
    public init(_ rawValue: UUID) { self.rawValue = rawValue }
    public var description: String { rawValue.uuidString.lowercased() }
    public init(from decoder: any Decoder) throws { rawValue = try UUID(from: decoder) }
    public func encode(to encoder: any Encoder) throws { var c = encoder.singleValueContainer(); try c.encode(description) }
}

/// A task of a plan; the scheduling engine knows it by `description` (the lowercase UUID).
public struct TaskID: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let rawValue: UUID
    public init(_ rawValue: UUID) { self.rawValue = rawValue }
    public init?(engineID: String) {
        guard let uuid = UUID(uuidString: engineID) else { return nil }
        rawValue = uuid
    }
    public var description: String { rawValue.uuidString.lowercased() }
    public init(from decoder: any Decoder) throws { rawValue = try UUID(from: decoder) }
    public func encode(to encoder: any Encoder) throws { var c = encoder.singleValueContainer(); try c.encode(description) }
    public static func < (a: TaskID, b: TaskID) -> Bool { a.description < b.description }
}
