/// An ISO 8601 week (`2026-W10`): weeks start on Monday; week 1 holds the year's first Thursday.
public struct ISOWeek: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let year: Int
    public let week: Int

    public init(containing date: LocalDate) {
        let monday = date.adding(days: 1 - (date.weekday.index + 1))
        let thursday = monday.adding(days: 3)
        self.year = thursday.year
        let jan1 = LocalDate(dayNumber: LocalDate(year: thursday.year, month: 1, day: 1)!.dayNumber)
        self.week = (thursday.dayNumber - jan1.dayNumber) / 7 + 1
    }

    public init?(iso string: some StringProtocol) {
        let parts = string.split(separator: "-")
        guard parts.count == 2, parts[0].count == 4, parts[1].first == "W",
              let y = Int(parts[0]), let w = Int(parts[1].dropFirst()), (1...53).contains(w),
              let jan4 = LocalDate(year: y, month: 1, day: 4)
        else { return nil }
        let candidate = ISOWeek(containing: jan4.adding(days: 1 - (jan4.weekday.index + 1) + (w - 1) * 7))
        guard candidate.year == y, candidate.week == w else { return nil }
        self = candidate
    }

    /// The Monday that starts this week.
    public var monday: LocalDate {
        // A valid (year, week) always has a Jan 4 in its year.
        let jan4 = LocalDate(dayNumber: LocalDate(year: year, month: 1, day: 4)!.dayNumber)
        return jan4.adding(days: 1 - (jan4.weekday.index + 1) + (week - 1) * 7)
    }

    public var next: ISOWeek { ISOWeek(containing: monday.adding(days: 7)) }

    public var iso: String { "\(year)-W\(week < 10 ? "0" : "")\(week)" }
    public var description: String { iso }

    public static func < (a: ISOWeek, b: ISOWeek) -> Bool { (a.year, a.week) < (b.year, b.week) }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let week = ISOWeek(iso: try container.decode(String.self)) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected an ISO week as YYYY-Www")
        }
        self = week
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(iso)
    }
}
