import struct Foundation.TimeZone

/// An IANA time zone name (`Europe/Madrid`), checked against the system's tz database.
public struct TimeZoneID: Sendable, Hashable, Codable, CustomStringConvertible {
    public let identifier: String

    private static let known: Set<String> = Set(TimeZone.knownTimeZoneIdentifiers).union(["UTC"])

    public init?(_ identifier: String) {
        // The tz list of this Foundation lags the database (it has Asia/Calcutta, not Asia/Kolkata), so an
        // Area/Location name that the tz database itself resolves is accepted too; abbreviations are not.
        let plausible = TimeZoneID.known.contains(identifier) || (identifier.contains("/") && !identifier.hasPrefix("Etc/GMT"))
        guard plausible, TimeZone(identifier: identifier) != nil else { return nil }
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
