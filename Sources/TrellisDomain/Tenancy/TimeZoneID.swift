import struct Foundation.TimeZone

/// An IANA time zone name (`Europe/Madrid`), checked against the system's tz database.
public struct TimeZoneID: Sendable, Hashable, Codable, CustomStringConvertible {
    public let identifier: String

    private static let known: Set<String> = Set(TimeZone.knownTimeZoneIdentifiers).union(["UTC"])

    public init?(_ identifier: String) {
        guard TimeZoneID.known.contains(identifier), TimeZone(identifier: identifier) != nil else { return nil }
        self.identifier = identifier
    }

    public var timeZone: TimeZone {
        // Only constructed from identifiers the tz database knows.
        TimeZone(identifier: identifier) ?? TimeZone(secondsFromGMT: 0)!
    }

    public var description: String { identifier }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        guard let zone = TimeZoneID(raw) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an IANA time zone: \(raw)")
        }
        self = zone
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(identifier)
    }
}
