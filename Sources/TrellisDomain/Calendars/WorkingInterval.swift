/// A span of local wall-clock working time within one day, in minutes after local midnight
/// (`[startMinute, endMinute)`, 0...1440). Encoded as `{"start": "09:00", "end": "14:00"}`.
public struct WorkingInterval: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let startMinute: Int
    public let endMinute: Int

    /// Not validated here; `WorkCalendar` validates the intervals it is given.
    public init(startMinute: Int, endMinute: Int) {
        self.startMinute = startMinute
        self.endMinute = endMinute
    }

    /// `WorkingInterval(from: "09:00", to: "14:00")`; nil when a time is malformed or the interval is empty.
    public init?(from start: String, to end: String) {
        guard let s = WorkingInterval.parseClock(start), let e = WorkingInterval.parseClock(end), s < e else { return nil }
        self.init(startMinute: s, endMinute: e)
    }

    public var minutes: Int { endMinute - startMinute }

    public var description: String {
        "\(WorkingInterval.formatClock(startMinute))–\(WorkingInterval.formatClock(endMinute))"
    }

    public static func < (lhs: WorkingInterval, rhs: WorkingInterval) -> Bool {
        (lhs.startMinute, lhs.endMinute) < (rhs.startMinute, rhs.endMinute)
    }

    /// "HH:MM", 00:00 through 24:00.
    static func parseClock(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2,
              let h = Int(parts[0]), let m = Int(parts[1]), (0...24).contains(h), (0...59).contains(m)
        else { return nil }
        let total = h * 60 + m
        return total <= 1440 ? total : nil
    }

    static func formatClock(_ minute: Int) -> String {
        let h = minute / 60, m = minute % 60
        return (h < 10 ? "0" : "") + String(h) + ":" + (m < 10 ? "0" : "") + String(m)
    }
}

extension WorkingInterval: Codable {
    private enum CodingKeys: String, CodingKey { case start, end }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let start = try c.decode(String.self, forKey: .start)
        let end = try c.decode(String.self, forKey: .end)
        guard let s = WorkingInterval.parseClock(start), let e = WorkingInterval.parseClock(end) else {
            throw DecodingError.dataCorruptedError(forKey: .start, in: c, debugDescription: "Expected HH:MM times, got \(start)–\(end)")
        }
        self.init(startMinute: s, endMinute: e)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(WorkingInterval.formatClock(startMinute), forKey: .start)
        try c.encode(WorkingInterval.formatClock(endMinute), forKey: .end)
    }
}

/// A run of whole local dates that are not worked (a person's time off, a shutdown):
/// `start` through `end`, both inclusive.
public struct NonWorkingPeriod: Sendable, Hashable, Codable {
    public var start: LocalDate
    public var end: LocalDate
    public var note: String?

    public init(start: LocalDate, end: LocalDate, note: String? = nil) {
        self.start = start
        self.end = end
        self.note = note
    }

    /// Each date of the period; empty when `end` is before `start`.
    public var dates: [LocalDate] {
        let first = start.dayNumber, last = end.dayNumber
        guard last >= first else { return [] }
        return (first...last).map(LocalDate.init(dayNumber:))
    }
}

/// One problem with a calendar, addressed by a field path such as `weekly.monday[1]`.
public struct CalendarIssue: Sendable, Hashable, Codable, CustomStringConvertible {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}

/// Thrown when a calendar is built from invalid parts; lists every problem found.
public struct WorkCalendarError: Error, Sendable, Hashable {
    public var issues: [CalendarIssue]
}
