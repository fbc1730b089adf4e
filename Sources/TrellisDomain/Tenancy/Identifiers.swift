import struct Foundation.UUID

/// Typed identifiers, so a member id can never be passed where a client id is expected.
public struct AgencyID: Sendable, Hashable, Codable, CustomStringConvertible {
    public let rawValue: UUID
    public init(_ rawValue: UUID) { self.rawValue = rawValue }
    public var description: String { rawValue.lowercasedString }
    public init(from decoder: any Decoder) throws { rawValue = try UUID(from: decoder) }
    public func encode(to encoder: any Encoder) throws { var c = encoder.singleValueContainer(); try c.encode(description) }
}

public struct MemberID: Sendable, Hashable, Codable, CustomStringConvertible {
    public let rawValue: UUID
    public init(_ rawValue: UUID) { self.rawValue = rawValue }
    public var description: String { rawValue.lowercasedString }
    public init(from decoder: any Decoder) throws { rawValue = try UUID(from: decoder) }
    public func encode(to encoder: any Encoder) throws { var c = encoder.singleValueContainer(); try c.encode(description) }
}

public struct ClientID: Sendable, Hashable, Codable, CustomStringConvertible {
    public let rawValue: UUID
    public init(_ rawValue: UUID) { self.rawValue = rawValue }
    public var description: String { rawValue.lowercasedString }
    public init(from decoder: any Decoder) throws { rawValue = try UUID(from: decoder) }
    public func encode(to encoder: any Encoder) throws { var c = encoder.singleValueContainer(); try c.encode(description) }
}

public struct PlanID: Sendable, Hashable, Codable, CustomStringConvertible {
    public let rawValue: UUID
    public init(_ rawValue: UUID) { self.rawValue = rawValue }
    public var description: String { rawValue.lowercasedString }
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
    public var description: String { rawValue.lowercasedString }
    public init(from decoder: any Decoder) throws { rawValue = try UUID(from: decoder) }
    public func encode(to encoder: any Encoder) throws { var c = encoder.singleValueContainer(); try c.encode(description) }
    /// The order of `description`: lowercase hex with dashes in fixed places sorts as the bytes do.
    public static func < (a: TaskID, b: TaskID) -> Bool {
        withUnsafeBytes(of: a.rawValue.uuid) { x in withUnsafeBytes(of: b.rawValue.uuid) { y in x.lexicographicallyPrecedes(y) } }
    }
}

extension UUID {
    /// The lowercase text form (`8-4-4-4-12` hex digits), written directly. `uuidString` formats through `snprintf` on
    /// Linux and `lowercased()` copies it again: with the engine knowing tasks by text, that was ~17 % of the API's CPU
    /// for a 500-task timeline read from the database (perf, 2026-12-02).
    public var lowercasedString: String {
        withUnsafeBytes(of: uuid) { bytes in
            String(unsafeUninitializedCapacity: 36) { out in
                var i = 0
                for (n, byte) in bytes.enumerated() {
                    if n == 4 || n == 6 || n == 8 || n == 10 { out[i] = UInt8(ascii: "-"); i += 1 }
                    out[i] = Self.hexDigit(byte >> 4)
                    out[i + 1] = Self.hexDigit(byte & 0x0F)
                    i += 2
                }
                return i
            }
        }
    }

    @inline(__always) private static func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 48 + nibble : 87 + nibble }
}
